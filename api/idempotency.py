"""``Idempotency-Key`` on the creating calls (pushes, copies, grants).

A client that may send a call twice (a retry after a timeout, a double click, two workers)
sends the same key with it: the same key and request from the same caller within 24 hours
get the first answer again (``Idempotency-Replayed: true``), without acting again, even
when both arrive at once; the same key with another request is a ``422``
(``idempotency-key-reused``). The rules are in :mod:`vault.services.idempotency`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated

from fastapi import Header, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from api.auth.holders import HolderPrincipal
from api.auth.tokens import DepartmentPrincipal
from api.context import ApiContext
from api.models import CopyOut
from api.views import copy_out
from vault.services.copies import MadeCopy
from vault.services.idempotency import Answer, fingerprint, run_once

__all__ = ["IdempotencyKey", "answer_once", "copy_made", "department_caller", "holder_caller"]

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[!-~]+$",
        description="any printable ASCII (e.g. a UUID): the same key and request within 24 h "
        "get the first answer again; the same key with another request is a 422",
    ),
]


def department_caller(principal: DepartmentPrincipal) -> str:
    return f"department:{principal.department_id}"


def copy_made(ctx: ApiContext, made: MadeCopy) -> tuple[int, CopyOut]:
    """A copy call's answer (counted in the metrics): 201 and the new copy, or 200 and the
    earlier one (one rule for "already existed", as for an identical push)."""
    ctx.metrics.copies.labels(str(made.reused).lower()).inc()
    return (200 if made.reused else 201), copy_out(made, base_url=ctx.settings.public_base_url)


def holder_caller(ctx: ApiContext, principal: HolderPrincipal) -> str:
    """A holder as a caller: a prefix of its blind index (never the ID number)."""
    index = ctx.crypto.blind_index(principal.holder_id_type, principal.holder_id)
    return "holder:" + index.hex()[:32]


def answer_once(
    ctx: ApiContext,
    session: Session,
    request: Request,
    *,
    caller: str,
    key: str | None,
    body: Iterable[str | bytes],
    act: Callable[[Session], tuple[int, BaseModel]],
) -> Response:
    """``act``'s answer as JSON; with a ``key``, the first answer to it (see the module).

    ``body`` is what makes two requests the same besides method and path (the parsed body).
    """

    def run(db: Session) -> Answer:
        status, model = act(db)
        return Answer(status, model.model_dump_json().encode("utf-8"))

    if key is None:
        answer = run(session)
    else:
        answer = run_once(
            session=session,
            crypto=ctx.crypto,
            caller=caller,
            key=key,
            request=fingerprint([request.method, request.url.path, *body]),
            act=run,
        )
    headers = {"Idempotency-Replayed": "true"} if answer.replayed else None
    return Response(
        answer.body, status_code=answer.status, media_type="application/json", headers=headers
    )
