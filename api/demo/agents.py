"""The demo's 法人空间: the sample company's legal representative and one agent (经办人).

The representative is the person the company's 营业执照 names as 法定代表人; the agent may
see and download the company's licenses, make copies and read its access log for a year.
Reused on the next run: nothing is recorded twice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from vault.services.agents import (
    act_for_company,
    designate_agent,
    my_companies,
    set_representative,
)
from vault.services.holders import find_holder

__all__ = ["seed_company_agents"]

_AGENT_SCOPES = ("licenses", "copies", "log")


def seed_company_agents(
    vault: Any,
    *,
    company: tuple[str, str, str],
    representative: tuple[str, str, str],
    agent: tuple[str, str, str],
) -> None:
    """Record ``representative`` for ``company`` and designate ``agent`` (if not already)."""
    with vault.session() as session:
        done = set_representative(
            session=session,
            crypto=vault.crypto,
            company_code=company[1],
            person_id=representative[1],
            person_name=representative[0],
        )
        session.commit()
        person = find_holder(session=session, crypto=vault.crypto, holder_id=agent[1])
        roles = my_companies(session=session, crypto=vault.crypto, person=person)
        if any(role.space_id == done.space_id for role in roles):
            return
        rep = find_holder(session=session, crypto=vault.crypto, holder_id=representative[1])
        acting = act_for_company(
            session=session, person=rep, space_public_id=done.space_id, scope="representative"
        )
        designate_agent(
            session=session,
            crypto=vault.crypto,
            acting=acting,
            agent_id=agent[1],
            agent_name=agent[0],
            scopes=_AGENT_SCOPES,
            expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=365),
        )
