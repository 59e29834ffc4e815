"""Operations: liveness, readiness (database and blob store reachable), Prometheus metrics."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from api.context import ApiContext
from api.deps import CtxDep

__all__ = ["router"]

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    database: bool
    blob_store: bool


@router.get("/healthz", response_model=Health, summary="Liveness: the process answers")
def healthz() -> Health:
    return Health(status="ok")


def _check(ctx: ApiContext) -> tuple[bool, bool]:
    try:
        with ctx.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        db = True
    except Exception:
        db = False
    try:
        ctx.blobs.check_ready()
        blobs = True
    except Exception:
        blobs = False
    return db, blobs


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Readiness: the database and the blob store answer",
    responses={503: {"model": Readiness, "description": "a dependency is unreachable"}},
)
async def readyz(ctx: CtxDep) -> JSONResponse:
    db, blobs = await run_in_threadpool(_check, ctx)
    ready = db and blobs
    body = Readiness(status="ready" if ready else "unavailable", database=db, blob_store=blobs)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "exposition format"}},
)
def metrics(ctx: CtxDep) -> Response:
    body, content_type = ctx.metrics.render()
    return Response(body, media_type=content_type)
