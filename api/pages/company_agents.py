"""The company space's agents page (经办人管理): the legal representative designates and
revokes agents, each with scopes and an expiry.

Only the company's legal representative gets here (scope ``representative`` of
:func:`vault.services.agents.act_for_company`); an agent is refused with a page. The rules
(scopes known, expiry in the future and at most three years away, not oneself) are
:func:`vault.services.agents.designate_agent`'s; both actions are in the company's log.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import Response

from api.deps import CtxDep, SessionDep, limit_by_ip
from api.pages.company_space import CompanyIdPath, Space, in_company
from api.pages.portal import LoginDep
from api.pages.web import check_csrf
from vault.errors import InvalidInput
from vault.services.agents import (
    AGENT_SCOPES,
    REPRESENTATIVE,
    designate_agent,
    list_agents,
    revoke_agent,
)

__all__ = ["router"]

router = APIRouter(prefix="/me", include_in_schema=False, dependencies=[Depends(limit_by_ip)])
_CST = dt.timezone(dt.timedelta(hours=8))
_DONE = {"agent": "co.agents.created", "revoke": "co.agents.revoked"}


def _end_of(day: str) -> dt.datetime:
    """The end of ``day`` (YYYY-MM-DD) in 北京时间: a designation lasts through that day."""
    try:
        parsed = dt.date.fromisoformat(day.strip())
    except ValueError:
        raise InvalidInput("the expiry must be a date, YYYY-MM-DD") from None
    return dt.datetime.combine(parsed + dt.timedelta(days=1), dt.time(), _CST)


@router.get("/co/{company_id}/agents", response_model=None)
def agents_page(
    company_id: CompanyIdPath, request: Request, who: LoginDep, ctx: CtxDep, session: SessionDep
) -> Response:
    done = request.query_params.get("done", "")

    def act(space: Space) -> Response:
        now = dt.datetime.now(dt.UTC)
        return space.page(
            "co_agents.html",
            agents=list_agents(session=session, crypto=ctx.crypto, acting=space.acting),
            scopes=AGENT_SCOPES,
            now=now,
            default_until=(now.astimezone(_CST) + dt.timedelta(days=365)).date().isoformat(),
            done=_DONE.get(done),
        )

    return in_company(request, ctx, session, who, company_id, REPRESENTATIVE, act)


@router.post("/co/{company_id}/agents", response_model=None)
def designate(
    company_id: CompanyIdPath,
    request: Request,
    who: LoginDep,
    ctx: CtxDep,
    session: SessionDep,
    name: Annotated[str, Form(min_length=1, max_length=100)],
    id_number: Annotated[str, Form(min_length=1, max_length=40)],
    until: Annotated[str, Form(min_length=1, max_length=10)],
    scopes: Annotated[list[str] | None, Form()] = None,
    csrf_token: Annotated[str | None, Form()] = None,
) -> Response:
    check_csrf(request, ctx, csrf_token)

    def act(space: Space) -> Response:
        designate_agent(
            session=session,
            crypto=ctx.crypto,
            acting=space.acting,
            agent_id=id_number.strip(),
            agent_name=name,
            scopes=scopes or [],
            expires_at=_end_of(until),
        )
        return space.done("/agents?done=agent")

    return in_company(request, ctx, session, who, company_id, REPRESENTATIVE, act)


@router.post("/co/{company_id}/agents/{agent_id}/revoke", response_model=None)
def revoke(
    company_id: CompanyIdPath,
    agent_id: Annotated[str, Path(min_length=1, max_length=40)],
    request: Request,
    who: LoginDep,
    ctx: CtxDep,
    session: SessionDep,
    csrf_token: Annotated[str | None, Form()] = None,
) -> Response:
    check_csrf(request, ctx, csrf_token)

    def act(space: Space) -> Response:
        revoke_agent(
            session=session, crypto=ctx.crypto, acting=space.acting, agent_public_id=agent_id
        )
        return space.done("/agents?done=revoke")

    return in_company(request, ctx, session, who, company_id, REPRESENTATIVE, act)
