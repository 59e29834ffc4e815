"""The FastAPI application factory. No module-level app or settings.

Run with uvicorn's factory mode (``uvicorn --factory api.app:create_app``) or ``evault serve``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Depends, FastAPI
from fastapi_offline import FastAPIOffline
from starlette.concurrency import run_in_threadpool

from api.context import ApiContext, build_context
from api.department_reads import DepartmentReads
from api.deps import known_query_only
from api.errors import install_error_handlers, install_problem_schema
from api.limits import BodyLimitMiddleware
from api.observability import RequestContextMiddleware, configure_logging
from vault.settings import Settings, load_settings

__all__ = ["create_app"]

_DESCRIPTION = """\
evault: the electronic license vault (电子证照库).

- Issuing departments push sealed licenses and change their status (`licenses:issue`).
- Using departments find a holder's licenses inside a case and get certified copies
  (`licenses:use`); every call carries `purpose` (申请事由) and `case_no` (办件编号).
- Holders see their licenses, grant consent and read their access log (用证记录).
- Anyone verifies a PDF or OFD file or a copy; auditors read the transparency log (`audit:read`).

Errors are RFC 9457 `application/problem+json`.
"""


def create_app(
    settings: Settings | None = None, *, vault: Any | None = None, department_reads: bool = True
) -> FastAPI:
    """Build the application for ``settings`` (default: from the environment).

    ``vault``: an open :class:`vault.bootstrap.Vault` to serve (tests share one database
    between apps this way); default: opened from the settings. ``department_reads``: serve
    the department reads by their fast path (:mod:`api.department_reads`); ``False``:
    through FastAPI like every route (its tests compare the two).
    """
    settings = settings or load_settings()
    settings.check_production()
    configure_logging()
    ctx = build_context(settings, vault)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # A verification worker process starts and the vault's seal is loaded in the
        # background, so the first push, check or copy does not wait a second or two for them.
        prestart = asyncio.create_task(run_in_threadpool(_prestart, ctx))
        checkpointer = None
        if settings.checkpoint_interval_seconds > 0:
            from api.checkpoints import run_periodically

            checkpointer = asyncio.create_task(run_periodically(ctx))
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                await prestart
            if checkpointer is not None:
                checkpointer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await checkpointer
            ctx.close()

    # /docs from the Swagger UI that fastapi-offline ships (under /static-offline-docs):
    # government networks are often closed, and no page loads anything from another host.
    # No /redoc: ReDoc fetches its logo from its vendor's CDN.
    app = FastAPIOffline(
        redoc_url=None,
        title="evault",
        version="1",
        description=_DESCRIPTION,
        lifespan=lifespan,
        favicon_url="/static/favicon.svg",
        swagger_ui_parameters={"validatorUrl": None},
    )
    app.state.ctx = ctx
    install_error_handlers(app)

    from api.routes import oauth, ops

    # API routes refuse query parameters they do not declare (the pages read ``lang``).
    strict = [Depends(known_query_only)]
    app.include_router(ops.router, dependencies=strict)
    app.include_router(oauth.router, dependencies=strict)
    _include_optional(app, strict)
    from api.pages import install as install_pages

    install_pages(app, demo=settings.is_demo)
    if settings.is_demo:
        from api.routes import demo

        app.include_router(demo.router, dependencies=strict)

    install_problem_schema(app)
    # Innermost first: the department reads' fast path sees the body through the limit.
    if department_reads:
        app.add_middleware(DepartmentReads, fastapi=app)
    app.add_middleware(BodyLimitMiddleware, limit=settings.upload_limit_bytes)
    app.add_middleware(RequestContextMiddleware, metrics=ctx.metrics)
    return app


def _prestart(ctx: ApiContext) -> None:
    """Start the verifier's worker process and load the vault's seal (its keys, certificates
    and font) ahead of the first verification and the first copy (best effort: a request
    arriving meanwhile waits for the same work, and one that finds it failed says why)."""
    log = logging.getLogger("evault.api")
    try:
        prestart = getattr(ctx.verifier.get(), "prestart", None)
        if callable(prestart):
            prestart()
    except Exception as exc:
        log.warning("could not start a verification worker ahead: %s: %s", type(exc).__name__, exc)
    try:
        ctx.renderer.get()
    except Exception as exc:
        log.warning("could not load the vault's seal ahead: %s: %s", type(exc).__name__, exc)


def _include_optional(app: FastAPI, dependencies: list[Any]) -> None:
    """Routers of the license flows."""
    from api.routes import (
        audit,
        companies,
        departments,
        fields,
        holders,
        issuers,
        materials,
        public,
        wallet,
    )

    for module in (
        issuers,
        departments,
        holders,
        public,
        audit,
        wallet,
        materials,
        companies,
        fields,
    ):
        app.include_router(module.router, dependencies=dependencies)
