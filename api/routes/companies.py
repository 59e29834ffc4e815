"""法人空间: the companies a person acts for, and the agents (经办人) a representative manages.

A company is named by its space's opaque id (``co_...``), never by its 统一社会信用代码;
the agent's 公民身份号码 travels in the request body only.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path

from api.acting import acting_for, signed_in
from api.agent_models import AgentIn, AgentList, AgentOut, CompanyList, CompanyOut, PersonOut
from api.deps import CtxDep, HolderDep, SessionDep
from api.errors import problems
from vault.log.access_log import acting_person
from vault.services.agents import (
    REPRESENTATIVE,
    AgentView,
    designate_agent,
    list_agents,
    my_companies,
    revoke_agent,
)

__all__ = ["router"]

router = APIRouter(tags=["companies"])
_COMMON = problems(401, 403, 404, 422, 429)
CompanyIdPath = Annotated[
    str, Path(min_length=1, max_length=40, description="the company's opaque id (co_...)")
]
AgentIdPath = Annotated[
    str, Path(min_length=1, max_length=40, description="the designation's opaque id (ag_...)")
]


def _agent_out(view: AgentView) -> AgentOut:
    status = view.status(dt.datetime.now(dt.UTC))
    return AgentOut(
        agent_id=view.agent_id,
        person=PersonOut(masked_id=view.person.masked_id, name=view.person.name),
        scopes=list(view.scopes),
        expires_at=view.expires_at,
        revoked_at=view.revoked_at,
        created_at=view.created_at,
        status=status,
    )


@router.get(
    "/v1/me/companies",
    response_model=CompanyList,
    summary="Companies I represent or am an agent of (法人空间)",
    responses=_COMMON,
)
def my_company_list(principal: HolderDep, ctx: CtxDep, session: SessionDep) -> CompanyList:
    person = signed_in(session, ctx.crypto, principal)
    roles = my_companies(session=session, crypto=ctx.crypto, person=person)
    return CompanyList(
        companies=[
            CompanyOut(
                company_id=r.space_id,
                name=r.company.name,
                masked_id=r.company.masked_id,
                role="representative" if r.role == REPRESENTATIVE else "agent",
                scopes=list(r.scopes),
                expires_at=r.expires_at,
            )
            for r in roles
        ]
    )


@router.get(
    "/v1/me/companies/{company_id}/agents",
    response_model=AgentList,
    summary="The company's agents (legal representative only)",
    responses=_COMMON,
)
def company_agents(
    company_id: CompanyIdPath, principal: HolderDep, ctx: CtxDep, session: SessionDep
) -> AgentList:
    acting = acting_for(session, ctx.crypto, principal, company_id, REPRESENTATIVE)
    views = list_agents(session=session, crypto=ctx.crypto, acting=acting)
    return AgentList(agents=[_agent_out(v) for v in views])


@router.post(
    "/v1/me/companies/{company_id}/agents",
    response_model=AgentOut,
    status_code=201,
    summary="Designate an agent (经办人) with scopes and an expiry (legal representative only)",
    responses=_COMMON,
)
def add_company_agent(
    company_id: CompanyIdPath,
    body: AgentIn,
    principal: HolderDep,
    ctx: CtxDep,
    session: SessionDep,
) -> AgentOut:
    acting = acting_for(session, ctx.crypto, principal, company_id, REPRESENTATIVE)
    with acting_person(acting.person.id):
        view = designate_agent(
            session=session,
            crypto=ctx.crypto,
            acting=acting,
            agent_id=body.id_number,
            agent_name=body.name,
            scopes=body.scopes,
            expires_at=body.expires_at,
        )
    return _agent_out(view)


@router.delete(
    "/v1/me/companies/{company_id}/agents/{agent_id}",
    response_model=AgentOut,
    summary="Revoke an agent's designation (legal representative only)",
    responses=_COMMON,
)
def delete_company_agent(
    company_id: CompanyIdPath,
    agent_id: AgentIdPath,
    principal: HolderDep,
    ctx: CtxDep,
    session: SessionDep,
) -> AgentOut:
    acting = acting_for(session, ctx.crypto, principal, company_id, REPRESENTATIVE)
    with acting_person(acting.person.id):
        view = revoke_agent(
            session=session, crypto=ctx.crypto, acting=acting, agent_public_id=agent_id
        )
    return _agent_out(view)
