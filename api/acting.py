"""Acting for a company (法人空间): the ``X-Acting-For`` header of the holder routes.

A person signed in through the identity provider sends the company space's opaque id
(from ``GET /v1/me/companies``) to act for the company; the route then works on the
company's licenses, consent and log, if the person is its legal representative or a live
agent with the route's scope, and every access-log row written names both.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Annotated

from fastapi import Header
from sqlalchemy.orm import Session

from api.auth.holders import HolderPrincipal
from vault.crypto import HolderCrypto
from vault.log.access_log import acting_person
from vault.services.agents import Acting, Look, act_for_company, record_look
from vault.services.holders import find_holder
from vault.services.views import HolderRef

__all__ = ["ActingFor", "acting_for", "signed_in", "subject"]

ActingFor = Annotated[
    str | None,
    Header(
        alias="X-Acting-For",
        min_length=1,
        max_length=40,
        description="act for a company: its opaque id from GET /v1/me/companies",
    ),
]


def signed_in(
    session: Session, crypto: HolderCrypto, principal: HolderPrincipal
) -> HolderRef | None:
    """The signed-in person's (or company's) own holder row, if the vault has one."""
    return find_holder(
        session=session,
        crypto=crypto,
        holder_id=principal.holder_id,
        id_type=principal.holder_id_type,
    )


def acting_for(
    session: Session, crypto: HolderCrypto, principal: HolderPrincipal, space_id: str, scope: str
) -> Acting:
    """The company ``space_id`` names, if the signed-in person may act for it with ``scope``."""
    person = signed_in(session, crypto, principal)
    return act_for_company(session=session, person=person, space_public_id=space_id, scope=scope)


@contextlib.contextmanager
def subject(
    session: Session,
    crypto: HolderCrypto,
    principal: HolderPrincipal,
    acting: str | None,
    scope: str,
    *,
    look: Look | None = None,
) -> Iterator[HolderRef | None]:
    """The holder a route works on: the caller itself, or the company it acts for.

    When acting, the block runs inside :func:`acting_person`, so what the services log
    names the person too; ``look`` records a look at the company's licenses, grants, log
    or materials.
    """
    if acting is None:
        yield signed_in(session, crypto, principal)
        return
    act = acting_for(session, crypto, principal, acting, scope)
    if look is not None:
        record_look(session=session, acting=act, what=look)
    with acting_person(act.person.id):
        yield act.company
