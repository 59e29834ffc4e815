"""法人空间: a company acts through its legal representative and the agents they designate.

The vault learns who a company's legal representative (法定代表人) is from an operator
(``evault holders set-representative``), who checks it against the business licence: a
token from the identity provider names a person, never the companies they represent. The
representative designates agents (经办人), each with scopes (:data:`AGENT_SCOPES`) and an
expiry, and revokes them. A person acting for a company names it by the company space's
opaque ``public_id``; :func:`act_for_company` decides, and every access-log row written
while acting names the company (``holder_id``) and the person (``agent_id``).

Refusals do not leak: a space that does not exist, one the person has no part in, and a
designation that expired or was revoked are all the same :class:`NotFound`. Only a person
with a live designation is told that a scope is missing (:class:`PermissionDenied`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.identifiers import HolderIdType, parse_holder_id
from vault.crypto import HolderCrypto
from vault.db.base import utcnow
from vault.errors import InvalidInput, NotFound, PermissionDenied
from vault.log.access_log import acting_person, record_event
from vault.models import CompanyAgent, CompanySpace, Holder
from vault.services.holders import (
    HolderView,
    describe_holder,
    find_holder,
    get_or_create_holder,
)

__all__ = [
    "AGENT_SCOPES",
    "REPRESENTATIVE",
    "Acting",
    "AgentView",
    "CompanyRole",
    "Look",
    "Representation",
    "act_as",
    "act_for_company",
    "designate_agent",
    "list_agents",
    "my_companies",
    "people",
    "record_look",
    "revoke_agent",
    "set_representative",
]

#: What an agent may be allowed: see and download the company's licenses, make certified
#: copies, give and withdraw consent, read the access log, see and withdraw the company's
#: materials (电子材料).
AGENT_SCOPES = ("licenses", "copies", "consent", "log", "materials")
#: What a person acting for a company may look at (each look is in the company's log).
Look = Literal["licenses", "grants", "log", "materials"]
#: The legal representative's role; they hold every scope and manage the agents.
REPRESENTATIVE = "representative"
_NO_COMPANY = "no company of yours with that id"


@dataclass(frozen=True)
class Acting:
    """A person allowed to act for a company now, and how (``representative`` or ``agent``)."""

    company: Holder
    person: Holder
    space: CompanySpace
    role: str
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class CompanyRole:
    """A company a person may act for, as they see it in their list."""

    space_id: str
    company: HolderView
    role: str
    scopes: tuple[str, ...]
    expires_at: dt.datetime | None


@dataclass(frozen=True)
class Representation:
    """A company and its legal representative, as recorded (shown masked)."""

    space_id: str
    company: HolderView
    representative: HolderView


@dataclass(frozen=True)
class AgentView:
    """One designation, as the representative sees it."""

    agent_id: str
    person: HolderView
    scopes: tuple[str, ...]
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    created_at: dt.datetime

    def status(self, now: dt.datetime) -> Literal["active", "expired", "revoked"]:
        """``revoked``, ``expired`` (at ``now``) or ``active``."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "active"


def set_representative(
    *,
    session: Session,
    crypto: HolderCrypto,
    company_code: str,
    person_id: str,
    person_name: str,
) -> Representation:
    """Record (or replace) a company's legal representative; logged, not committed.

    The company must be a holder in the vault. Agents designated before stay until they
    expire or are revoked (by the new representative, who sees them).
    """
    company = find_holder(
        session=session, crypto=crypto, holder_id=company_code, id_type=HolderIdType.CREDIT_CODE
    )
    if company is None:
        raise NotFound("the vault holds no company with that 统一社会信用代码")
    person = get_or_create_holder(
        session=session,
        crypto=crypto,
        holder_id=parse_holder_id(person_id, HolderIdType.CITIZEN_ID),
        name=person_name,
    )
    space = session.scalars(
        select(CompanySpace).where(CompanySpace.company_id == company.id)
    ).first()
    changed = space is None or space.representative_id != person.id
    if space is None:
        space = CompanySpace(
            company_id=company.id,
            holder_blind_index=company.blind_index,
            representative_id=person.id,
        )
        session.add(space)
    elif changed:
        space.representative_id = person.id
        space.updated_at = utcnow()
    session.flush()
    if changed:
        with acting_person(person.id):
            record_event(
                session=session,
                action="representative_set",
                outcome="allowed",
                actor="operator",
                holder_id=company.id,
            )
    return Representation(
        space.public_id,
        describe_holder(crypto=crypto, holder=company),
        describe_holder(crypto=crypto, holder=person),
    )


def _live_designation(
    session: Session, space: CompanySpace, person: Holder, now: dt.datetime
) -> CompanyAgent | None:
    return session.scalars(
        select(CompanyAgent)
        .where(
            CompanyAgent.space_id == space.id,
            CompanyAgent.agent_id == person.id,
            CompanyAgent.revoked_at.is_(None),
            CompanyAgent.expires_at > now,
        )
        .order_by(CompanyAgent.id.desc())
        .limit(1)
    ).first()


def act_for_company(
    *,
    session: Session,
    person: Holder | None,
    space_public_id: str,
    scope: str,
    now: dt.datetime | None = None,
) -> Acting:
    """Whether ``person`` may act for the company of ``space_public_id`` with ``scope``.

    Raises :class:`NotFound` (no such space, not theirs, designation expired or revoked)
    or :class:`PermissionDenied` (a live designation without ``scope``); a refusal about a
    company the vault holds is logged in its access log, flushed: the edge commits it with
    the refusal (the API's session dependency does for these two errors).
    """
    now = now or utcnow()
    space = session.scalars(
        select(CompanySpace).where(CompanySpace.public_id == space_public_id)
    ).first()
    if space is None or person is None:
        raise NotFound(_NO_COMPANY)
    company = session.get(Holder, space.company_id)
    assert company is not None  # the foreign key cascades
    if space.representative_id == person.id:
        return Acting(company, person, space, REPRESENTATIVE, (*AGENT_SCOPES, REPRESENTATIVE))
    designation = _live_designation(session, space, person, now)
    scopes = tuple(designation.scopes.split()) if designation is not None else ()
    if scope in scopes:
        return Acting(company, person, space, "agent", scopes)
    ever = session.scalars(
        select(CompanyAgent.id).where(
            CompanyAgent.space_id == space.id, CompanyAgent.agent_id == person.id
        )
    ).first()
    if ever is not None:  # someone the company once trusted: its log shows the attempt
        with acting_person(person.id):
            record_event(
                session=session,
                action="act_for",
                outcome="denied",
                actor="agent",
                holder_id=company.id,
                reason=f"scope {scope}" if designation is not None else "no live designation",
            )
    if designation is None:
        raise NotFound(_NO_COMPANY)
    raise PermissionDenied(f"your designation as agent does not include {scope}")


def act_as(
    *,
    session: Session,
    crypto: HolderCrypto,
    holder_id: str,
    id_type: HolderIdType | str | None,
    space_public_id: str,
    scope: str,
) -> Acting:
    """:func:`act_for_company` for the signed-in person named by their ID number."""
    person = find_holder(session=session, crypto=crypto, holder_id=holder_id, id_type=id_type)
    return act_for_company(
        session=session, person=person, space_public_id=space_public_id, scope=scope
    )


def record_look(*, session: Session, acting: Acting, what: Look) -> None:
    """Record that the person acting for the company looked at its ``what`` (flushed; the
    edge commits it with the answer).

    A holder's own looks are not logged; a company's log shows every look by a person
    acting for it (``list``, ``grant_list``, ``log_read``, ``material_list``).
    """
    if what == "licenses":
        _look(session, acting, action="list")
    elif what == "grants":
        _look(session, acting, action="grant_list")
    elif what == "log":
        _look(session, acting, action="log_read")
    else:
        _look(session, acting, action="material_list")


def _look(session: Session, acting: Acting, *, action: str) -> None:
    with acting_person(acting.person.id):
        record_event(
            session=session,
            action=action,
            outcome="allowed",
            actor="agent" if acting.role == "agent" else "holder",
            holder_id=acting.company.id,
            basis=acting.role,
        )


def my_companies(
    *, session: Session, crypto: HolderCrypto, person: Holder | None, now: dt.datetime | None = None
) -> list[CompanyRole]:
    """The companies ``person`` represents or is a live agent of."""
    if person is None:
        return []
    now = now or utcnow()
    roles: list[CompanyRole] = []
    for space in session.scalars(
        select(CompanySpace).where(CompanySpace.representative_id == person.id)
    ):
        company = session.get(Holder, space.company_id)
        assert company is not None
        view = describe_holder(crypto=crypto, holder=company)
        roles.append(CompanyRole(space.public_id, view, REPRESENTATIVE, AGENT_SCOPES, None))
    rows = session.execute(
        select(CompanyAgent, CompanySpace)
        .join(CompanySpace, CompanyAgent.space_id == CompanySpace.id)
        .where(
            CompanyAgent.agent_id == person.id,
            CompanyAgent.revoked_at.is_(None),
            CompanyAgent.expires_at > now,
        )
        .order_by(CompanyAgent.id)
    ).all()
    for agent, space in rows:
        if space.representative_id == person.id:
            continue
        company = session.get(Holder, space.company_id)
        assert company is not None
        view = describe_holder(crypto=crypto, holder=company)
        scopes = tuple(agent.scopes.split())
        roles.append(CompanyRole(space.public_id, view, "agent", scopes, agent.expires_at))
    return roles


def _check_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(s.strip() for s in scopes))
    if not chosen:
        raise InvalidInput(f"give at least one scope of {', '.join(AGENT_SCOPES)}")
    unknown = [s for s in chosen if s not in AGENT_SCOPES]
    if unknown:
        raise InvalidInput(
            f"unknown scope {unknown[0]!r}: the scopes are {', '.join(AGENT_SCOPES)}"
        )
    return chosen


def _require_representative(acting: Acting) -> None:
    if acting.role != REPRESENTATIVE:
        raise PermissionDenied("only the company's legal representative manages its agents")


def designate_agent(
    *,
    session: Session,
    crypto: HolderCrypto,
    acting: Acting,
    agent_id: str,
    agent_name: str,
    scopes: Iterable[str],
    expires_at: dt.datetime,
    now: dt.datetime | None = None,
) -> AgentView:
    """The representative designates a person as agent; logged (the edge commits)."""
    _require_representative(acting)
    now = now or utcnow()
    chosen = _check_scopes(scopes)
    if expires_at.tzinfo is None:
        raise InvalidInput("expires_at needs a time zone (e.g. 2026-01-31T18:00:00+08:00)")
    if expires_at <= now:
        raise InvalidInput("expires_at is in the past")
    if expires_at > now + dt.timedelta(days=366 * 3):
        raise InvalidInput("an agent is designated for at most three years")
    parsed = parse_holder_id(agent_id, HolderIdType.CITIZEN_ID)
    person = find_holder(session=session, crypto=crypto, holder_id=parsed)
    if person is None:
        person = get_or_create_holder(
            session=session, crypto=crypto, holder_id=parsed, name=agent_name.strip()
        )
    if person.id == acting.person.id:
        raise InvalidInput("the legal representative acts for the company already")
    agent = CompanyAgent(
        space_id=acting.space.id,
        holder_blind_index=acting.space.holder_blind_index,
        agent_id=person.id,
        scopes=" ".join(chosen),
        expires_at=expires_at,
        created_at=now,
    )
    session.add(agent)
    session.flush()
    record_event(
        session=session,
        action="agent_designate",
        outcome="allowed",
        actor="holder",
        holder_id=acting.company.id,
        basis="owner",
        reason=f"agent {agent.public_id}: {' '.join(chosen)}",
    )
    return _agent_view(crypto, agent, person)


def _agent_view(crypto: HolderCrypto, agent: CompanyAgent, person: Holder) -> AgentView:
    return AgentView(
        agent_id=agent.public_id,
        person=describe_holder(crypto=crypto, holder=person),
        scopes=tuple(agent.scopes.split()),
        expires_at=agent.expires_at,
        revoked_at=agent.revoked_at,
        created_at=agent.created_at,
    )


def list_agents(*, session: Session, crypto: HolderCrypto, acting: Acting) -> list[AgentView]:
    """Every designation of the company, newest first (the representative only)."""
    _require_representative(acting)
    rows = session.execute(
        select(CompanyAgent, Holder)
        .join(Holder, CompanyAgent.agent_id == Holder.id)
        .where(CompanyAgent.space_id == acting.space.id)
        .order_by(CompanyAgent.id.desc())
    ).all()
    return [_agent_view(crypto, agent, person) for agent, person in rows]


def revoke_agent(
    *,
    session: Session,
    crypto: HolderCrypto,
    acting: Acting,
    agent_public_id: str,
    now: dt.datetime | None = None,
) -> AgentView:
    """End a designation now (idempotent); logged (the edge commits)."""
    _require_representative(acting)
    agent = session.scalars(
        select(CompanyAgent).where(
            CompanyAgent.public_id == agent_public_id, CompanyAgent.space_id == acting.space.id
        )
    ).first()
    if agent is None:
        raise NotFound("no agent of this company with that id")
    if agent.revoked_at is None:
        agent.revoked_at = now or utcnow()
        record_event(
            session=session,
            action="agent_revoke",
            outcome="allowed",
            actor="holder",
            holder_id=acting.company.id,
            basis="owner",
            reason=f"agent {agent.public_id}",
        )
    person = session.get(Holder, agent.agent_id)
    assert person is not None
    return _agent_view(crypto, agent, person)


def people(*, session: Session, crypto: HolderCrypto, ids: Iterable[int]) -> dict[int, HolderView]:
    """The persons named in access-log rows (``agent_id``), masked, by row id."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.scalars(select(Holder).where(Holder.id.in_(wanted))).all()
    return {row.id: describe_holder(crypto=crypto, holder=row) for row in rows}
