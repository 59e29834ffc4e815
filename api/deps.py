"""FastAPI dependencies: the context, a database session, and who is calling.

Typed aliases (``SessionDep``, ``HolderDep``...) keep route signatures short, as in Dispatch.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, OAuth2
from sqlalchemy.orm import Session
from starlette.types import Scope

from api.auth.holders import HolderPrincipal
from api.auth.tokens import DepartmentPrincipal
from api.context import ApiContext
from api.errors import ApiError, Unauthorized
from vault.errors import NotFound, PermissionDenied

__all__ = [
    "CtxDep",
    "HolderDep",
    "LicenseIdPath",
    "SessionDep",
    "admit_department",
    "bearer_token",
    "get_ctx",
    "get_session",
    "known_query_only",
    "limit_by_ip",
    "require_department",
]

_department_scheme = OAuth2(
    flows=OAuthFlows(
        clientCredentials=OAuthFlowClientCredentials(
            tokenUrl="/v1/oauth/token",
            scopes={
                "licenses:issue": "push licenses and change their status (issuers)",
                "licenses:use": "find and use holders' licenses (using departments)",
                "audit:read": "read the transparency log and its proofs (auditors)",
                "materials:deposit": "deposit holders' materials checked against the original "
                "(receiving windows)",
            },
        )
    ),
    scheme_name="DepartmentOAuth",
    description="OAuth 2.0 client credentials; the token is a short-lived EdDSA JWT.",
    auto_error=False,
)
_holder_scheme = HTTPBearer(
    scheme_name="HolderOIDC",
    description="an ID token of the holders' OpenID Connect provider (demo: evault dev-token)",
    auto_error=False,
)


#: A license's id in a path: the random public id the API gave (row ids stay inside).
LicenseIdPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=40,
        description="the license's id, as the API gave it (random, e.g. l_Hq3V0m1j9v8kP2aQx7tYbw)",
    ),
]


_QUERY_NAMES: dict[int, frozenset[str]] = {}


def _query_names(dependant: Any) -> set[str]:
    """The query parameters of a route and of all its dependencies."""
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


async def known_query_only(request: Request) -> None:
    """Refuse a query parameter the route does not declare (422), as the OpenAPI document
    says: a misspelt ``ofset`` or ``case-no`` is an error, not silently ignored."""
    if not request.query_params:
        return
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    names = _QUERY_NAMES.get(id(route))
    if names is None:
        names = _QUERY_NAMES[id(route)] = frozenset(_query_names(dependant))
    unknown = sorted(set(request.query_params) - names)
    if unknown:
        where = ("query", unknown[0])
        msg = "not a parameter of this call"
        raise RequestValidationError([{"loc": where, "msg": msg, "type": "extra_forbidden"}])


async def get_ctx(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.ctx
    return ctx


CtxDep = Annotated[ApiContext, Depends(get_ctx)]


def get_session(ctx: CtxDep) -> Iterator[Session]:
    """A session committed when the route succeeds: the edge that commits what the
    services flushed, before the answer is sent (``scope="function"``), so a client that
    got the answer finds its writes in its next request.

    A refusal (NotFound, PermissionDenied) also commits: services write nothing before a
    refusal except the access-log row that records it, and that row must survive.
    """
    session = ctx.sessions()
    try:
        yield session
        session.commit()
    except (NotFound, PermissionDenied):
        session.commit()
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def limit_by_ip(request: Request, ctx: CtxDep) -> None:
    """Rate limit an unauthenticated route by client address."""
    await ctx.limiter.acquire(f"ip:{_client_ip(request)}")


def _label(request: Request, label: str) -> None:
    request.scope.setdefault("state", {})["principal_label"] = label


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization`` header as the department scheme reads it
    (``Bearer <token>``, or the bare token); :class:`Unauthorized` when there is none."""
    if not authorization:
        raise Unauthorized("a department access token is required", error="invalid_request")
    if authorization.startswith("Bearer "):
        return authorization.removeprefix("Bearer ").strip()
    return authorization


async def admit_department(
    scope: Scope, ctx: ApiContext, principal: DepartmentPrincipal, needed: str
) -> DepartmentPrincipal:
    """Let a verified department in: named in the request's log line, rate limited, and
    refused (403) without the scope ``needed``."""
    scope.setdefault("state", {})["principal_label"] = principal.label
    await ctx.limiter.acquire(principal.label)
    if needed not in principal.scopes:
        raise ApiError(
            403,
            "insufficient-scope",
            "Insufficient scope",
            f"this call needs the scope {needed}",
            headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{needed}"'},
        )
    return principal


def require_department(scope: str) -> Callable[..., Awaitable[DepartmentPrincipal]]:
    """A dependency: a department token holding ``scope``.

    Async, like the other cheap dependencies (no I/O: a signature check and a counter), so
    FastAPI runs it on the event loop rather than handing it to a worker thread.
    """

    async def dependency(
        request: Request, ctx: CtxDep, token: str | None = Depends(_department_scheme)
    ) -> DepartmentPrincipal:
        principal = ctx.tokens.verify(bearer_token(token))
        return await admit_department(request.scope, ctx, principal, scope)

    dependency.__name__ = f"department_{scope.replace(':', '_')}"
    return dependency


async def get_holder(
    request: Request,
    ctx: CtxDep,
    credentials: HTTPAuthorizationCredentials | None = Depends(_holder_scheme),
) -> HolderPrincipal:
    if credentials is None:
        raise Unauthorized("a holder token is required", error="invalid_request")
    principal = await ctx.holders.authenticate(credentials.credentials)
    _label(request, principal.label)
    bucket = ctx.crypto.blind_index(principal.holder_id_type, principal.holder_id)
    await ctx.limiter.acquire("holder:" + bucket.hex()[:32])
    return principal


HolderDep = Annotated[HolderPrincipal, Depends(get_holder)]
IssuerDep = Annotated[DepartmentPrincipal, Depends(require_department("licenses:issue"))]
UserDep = Annotated[DepartmentPrincipal, Depends(require_department("licenses:use"))]
AuditorDep = Annotated[DepartmentPrincipal, Depends(require_department("audit:read"))]
WindowDep = Annotated[DepartmentPrincipal, Depends(require_department("materials:deposit"))]
