"""The witness's HTTP interface (C2SP tlog-witness): ``POST /add-checkpoint`` and monitoring.

- ``POST /add-checkpoint``: 200 with the cosignature line(s) (``text/plain``); 400 malformed,
  403 no valid signature of the log's key, 404 unknown log, 409 old size is not the
  witness's (body: its size and a newline, ``text/x.tlog.size``), 422 inconsistent.
- ``GET /<hex SHA-256 of the origin>/checkpoint``: the latest checkpoint it cosigned for
  that log, with the log's signature and the witness's cosignature; 404 if none.
- 503 (``Retry-After: 30``) when the witness cannot read or write its state file.

The submission and monitoring prefixes are the same (the app's root). Requests carry no
authentication beyond the log's signature on the checkpoint, as the spec has it. The app
is plain Starlette: it shares nothing with the vault's API.
"""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from signing.transparency.note import MAX_NOTE_SIZE
from signing.transparency.witness import SIZE_CONTENT_TYPE, Refusal, WitnessRefusal
from vault.log.witness import WitnessService, WitnessStateError

__all__ = ["create_witness_app"]

_log = logging.getLogger("evault.witness")
_MAX_BODY = 2 * MAX_NOTE_SIZE
_TEXT = "text/plain; charset=utf-8"


async def _body(request: Request) -> bytes | None:
    """The request body, or None when it is longer than any valid request."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > _MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def create_witness_app(service: WitnessService) -> Starlette:
    """The witness's ASGI application over ``service``."""

    async def add_checkpoint(request: Request) -> Response:
        body = await _body(request)
        if body is None:
            return PlainTextResponse("request body too large\n", status_code=413)
        try:
            answer = await run_in_threadpool(service.add_checkpoint, body)
        except WitnessRefusal as refusal:
            return _refusal(refusal)
        except WitnessStateError as exc:
            return _unavailable(exc)
        return PlainTextResponse(answer, media_type=_TEXT)

    async def checkpoint(request: Request) -> Response:
        try:
            state = await run_in_threadpool(service.latest_by_hash, request.path_params["origin"])
        except WitnessStateError as exc:
            return _unavailable(exc)
        if state is None:
            return PlainTextResponse("no checkpoint cosigned for that log\n", status_code=404)
        return PlainTextResponse(
            state.note, media_type=_TEXT, headers={"Cache-Control": "no-cache"}
        )

    return Starlette(
        routes=[
            Route("/add-checkpoint", add_checkpoint, methods=["POST"]),
            Route("/{origin:str}/checkpoint", checkpoint, methods=["GET"]),
        ]
    )


def _unavailable(exc: WitnessStateError) -> Response:
    _log.error("%s", exc)
    return PlainTextResponse(
        "the witness cannot read or write its state\n",
        status_code=503,
        headers={"Retry-After": "30"},
    )


def _refusal(refusal: WitnessRefusal) -> Response:
    if refusal.kind is Refusal.CONFLICT:
        # Set as the header itself: a media type would get "; charset=utf-8" appended.
        return Response(
            f"{refusal.size}\n".encode("ascii"),
            status_code=409,
            headers={"Content-Type": SIZE_CONTENT_TYPE},
        )
    _log.info("add-checkpoint refused (%d): %s", refusal.kind.value, refusal)
    return PlainTextResponse(f"{refusal}\n", status_code=refusal.kind.value)
