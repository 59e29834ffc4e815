"""The transparency log: its checkpoint for anyone; proofs and entries for ``audit:read``.

Shapes follow docs/audit.md: hashes are standard base64; the checkpoint is the signed note
as text (C2SP tlog-checkpoint), public because it reveals only the log's size and root
(entries describe uses of people's licenses and stay with auditors). It is made fresh when
the log grew and the latest is older than the checkpoint interval
(``EVAULT_CHECKPOINT_INTERVAL_SECONDS``, default 60; the application also signs one that
often in the background, see :mod:`api.checkpoints`), so anonymous callers can cause at
most one signature per interval.

The same log is served as C2SP tlog-tiles under the prefix ``<public base URL>/log`` (the
checkpoint's origin with a scheme): ``/log/checkpoint``, hash tiles ``/log/tile/<L>/<N>``
for anyone, entry bundles ``/log/tile/entries/<N>`` for ``audit:read``.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, Field

from api.checkpoints import log_cache, publisher
from api.deps import AuditorDep, CtxDep, SessionDep, limit_by_ip
from api.errors import problems
from vault.log import tiles as log_tiles
from vault.log.proofs import consistency_proof, entries, inclusion_proof, log_size, root_hash

__all__ = ["router"]

router = APIRouter(tags=["audit"])
_COMMON = problems(401, 403, 404, 422, 429)
_Size = Annotated[int, Query(ge=0, le=2**62)]
_PUBLIC = [Depends(limit_by_ip)]
_TEXT = "text/plain; charset=utf-8"
_OCTETS = "application/octet-stream"
#: Tiles and bundles never change (a partial one is addressed by its width).
_IMMUTABLE = "max-age=31536000, immutable"


class InclusionProof(BaseModel):
    index: int
    size: int = Field(description="tree size the proof is against")
    root_hash: str = Field(description="base64 RFC 9162 root of that tree")
    hashes: list[str] = Field(description="base64 audit path, leaf to root")


class ConsistencyProof(BaseModel):
    first: int = Field(alias="from")
    second: int = Field(alias="to")
    hashes: list[str]

    model_config = {"populate_by_name": True}


class Entries(BaseModel):
    entries: list[dict[str, Any]]
    size: int = Field(description="current number of entries in the log")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _checkpoint_text(ctx: CtxDep, session: SessionDep) -> PlainTextResponse:
    row = publisher(ctx).served_checkpoint_and_commit(session)
    return PlainTextResponse(
        row.signed_note, media_type=_TEXT, headers={"Cache-Control": "no-cache"}
    )


@router.get(
    "/v1/log/checkpoint",
    response_class=PlainTextResponse,
    summary="The latest signed checkpoint (C2SP tlog-checkpoint), public",
    responses={200: {"content": {"text/plain": {}}}, **problems(429)},
    dependencies=_PUBLIC,
)
def checkpoint(ctx: CtxDep, session: SessionDep) -> PlainTextResponse:
    return _checkpoint_text(ctx, session)


@router.get(
    "/log/checkpoint",
    response_class=PlainTextResponse,
    summary="tlog-tiles: the latest signed checkpoint, public",
    responses={200: {"content": {"text/plain": {}}}, **problems(429)},
    dependencies=_PUBLIC,
)
def tiles_checkpoint(ctx: CtxDep, session: SessionDep) -> PlainTextResponse:
    return _checkpoint_text(ctx, session)


@router.get(
    "/log/tile/entries/{rest:path}",
    response_class=Response,
    summary="tlog-tiles: entry bundle `<N>[.p/<W>]` (audit:read)",
    responses={200: {"content": {_OCTETS: {}}}, **_COMMON},
)
def entry_bundle(_: AuditorDep, session: SessionDep, rest: str) -> Response:
    address = log_tiles.parse_address("entries", rest)
    body = log_tiles.entry_bundle(session=session, address=address)
    return Response(body, media_type=_OCTETS, headers={"Cache-Control": f"private, {_IMMUTABLE}"})


@router.get(
    "/log/tile/{level}/{rest:path}",
    response_class=Response,
    summary="tlog-tiles: hash tile `<L>/<N>[.p/<W>]`, public",
    responses={200: {"content": {_OCTETS: {}}}, **problems(404, 429)},
    dependencies=_PUBLIC,
)
def hash_tile(ctx: CtxDep, session: SessionDep, level: str, rest: str) -> Response:
    address = log_tiles.parse_address(level, rest)
    body = log_tiles.tile(session=session, address=address, cache=log_cache(ctx))
    return Response(body, media_type=_OCTETS, headers={"Cache-Control": f"public, {_IMMUTABLE}"})


@router.get(
    "/v1/log/proof/inclusion",
    response_model=InclusionProof,
    summary="RFC 9162 inclusion proof of entry `index` in the tree of `size` entries",
    responses=_COMMON,
)
def inclusion(
    _: AuditorDep, ctx: CtxDep, session: SessionDep, index: _Size, size: _Size
) -> InclusionProof:
    cache = log_cache(ctx)
    hashes = inclusion_proof(session=session, index=index, size=size, cache=cache)
    root = root_hash(session=session, size=size, cache=cache)
    return InclusionProof(
        index=index, size=size, root_hash=_b64(root), hashes=[_b64(h) for h in hashes]
    )


@router.get(
    "/v1/log/proof/consistency",
    response_model=ConsistencyProof,
    response_model_by_alias=True,
    summary="RFC 9162 consistency proof between tree sizes `from` and `to`",
    responses=_COMMON,
)
def consistency(
    _: AuditorDep,
    ctx: CtxDep,
    session: SessionDep,
    first: Annotated[int, Query(alias="from", ge=0, le=2**62)],
    second: Annotated[int, Query(alias="to", ge=0, le=2**62)],
) -> ConsistencyProof:
    hashes = consistency_proof(session=session, first=first, second=second, cache=log_cache(ctx))
    return ConsistencyProof(first=first, second=second, hashes=[_b64(h) for h in hashes])


@router.get(
    "/v1/log/entries",
    response_model=Entries,
    summary="Entries `start` (included) to `end` (excluded), at most 1000 per page",
    responses=_COMMON,
)
def log_entries(_: AuditorDep, session: SessionDep, start: _Size, end: _Size) -> Entries:
    rows = entries(session=session, start=start, end=end)
    return Entries(entries=[row.to_json() for row in rows], size=log_size(session=session))
