"""The using departments' two reads served by a thin ASGI handler in front of FastAPI.

``GET /v1/licenses/{license_id}`` and ``POST /v1/licenses/search`` are the hot path; through
FastAPI each spends more CPU on routing over every route and on resolving its dependency
tree than on its database work. :class:`DepartmentReads` answers them when the request is
a plain one it can check cheaply, and hands every other request, untouched, to the app:

- it takes a request only when FastAPI would run the route's body: the path is the route's,
  the query (GET) or the JSON body (search) is exactly what the route declares and valid,
  and the bearer token verifies with the scope ``licenses:use``. Deciding that has no side
  effect, so anything else (no token, a bad token, a missing scope, an unknown or invalid
  parameter, HEAD...) goes to FastAPI, which answers as it always did;
- a request it takes is admitted and answered by the very functions the FastAPI routes call
  (:func:`api.deps.admit_department`: named in the log line, rate limited;
  :func:`api.routes.departments.license_json` / ``search_json``: authorized, read and
  logged by the vault's services, in a worker thread), and an error they raise is answered
  by the app's own exception handlers (problem+json), as FastAPI's exception middleware
  would; an error no handler takes goes up to the request middleware, as from a route.

It sits inside the request-id and body-limit middlewares, which see both paths alike, and
it sets ``scope["route"]`` to the FastAPI route it stands for, so logs and metrics name
the route template as before.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth.tokens import DepartmentPrincipal
from api.context import ApiContext
from api.deps import admit_department, bearer_token
from api.errors import ApiError
from api.models import SearchIn
from api.routes import departments

__all__ = ["DepartmentReads"]

_SCOPE = "licenses:use"
#: The GET route's query parameters and their length bounds (its ``Query(...)``).
_QUERY_BOUNDS = {"purpose": (1, 120), "case_no": (1, 100)}
#: The path parameter's bounds (:data:`api.deps.LicenseIdPath`).
_ID_BOUNDS = (1, 40)
_PROBE = "l_probe0"
_NO_ROUTE = "no route"


class DepartmentReads:
    """Pure ASGI middleware: the two department reads without FastAPI's routing and
    dependency resolution; see the module's docstring."""

    def __init__(self, app: ASGIApp, *, fastapi: FastAPI) -> None:
        self.app = app
        self.fastapi = fastapi
        self._get: APIRoute | None = None
        self._search: APIRoute | None = None
        self._get_regex: Any = None
        self._shadowed: frozenset[str] = frozenset()
        self._handlers: dict[Any, Callable[..., Any]] | None = None

    def _routes(self) -> None:
        """Find the two routes and the GET paths an earlier route would take (once, on the
        first request: routers are all included by then)."""
        routes = list(iter_route_contexts(self.fastapi.router.routes))
        get = _position(routes, departments.get_license)
        search = _position(routes, departments.search)
        shadowed: set[str] = set()
        for earlier in routes[:get]:
            shadowed |= _takes_before(earlier, routes[get])
        for earlier in routes[:search]:
            if _full_match(earlier, "POST", routes[search].path or ""):
                raise RuntimeError(f"{earlier!r} answers POST {routes[search].path} first")
        self._get, self._search = _api_route(routes[get]), _api_route(routes[search])
        self._get_regex = routes[get].path_regex
        self._shadowed = frozenset(shadowed)
        # As Starlette's exception middleware has them: 500 and Exception are the server
        # error middleware's, outside this one (an error they take goes up from here).
        self._handlers = {
            key: handler
            for key, handler in self.fastapi.exception_handlers.items()
            if key not in (500, Exception)
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("root_path"):
            # (under a root path, Starlette's routing strips it from the path: FastAPI's)
            await self.app(scope, receive, send)
            return
        if self._handlers is None:
            self._routes()
        method, path = scope["method"], scope["path"]
        if method == "GET" and path.startswith("/v1/licenses/"):
            await self._read(scope, receive, send)
        elif method == "POST" and self._search is not None and path == self._search.path:
            await self._find(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _read(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self._get
        assert route is not None
        path = scope["path"]
        matched = self._get_regex.match(path)
        query = _query(scope, _QUERY_BOUNDS)
        license_id = matched.group("license_id") if matched else ""
        ok = _ID_BOUNDS[0] <= len(license_id) <= _ID_BOUNDS[1] and path not in self._shadowed
        principal = self._principal(scope) if ok and query is not None else None
        if principal is None or query is None:
            await self.app(scope, receive, send)
            return
        _enter(scope, route, {"license_id": license_id})
        ctx = self._ctx(scope)
        try:
            await admit_department(scope, ctx, principal, _SCOPE)
            body = await departments.license_json(
                ctx,
                department_id=principal.department_id,
                license_id=license_id,
                purpose=query["purpose"],
                case_no=query["case_no"],
            )
        except Exception as exc:
            await self._refuse(exc, scope, receive, send)
            return
        await departments.json_response(body)(scope, receive, send)

    async def _find(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self._search
        assert route is not None
        try:
            raw, more = await _read_body(receive)
        except Exception as exc:
            # FastAPI's router takes this path to the search whatever follows (checked
            # when the routes were found), and the route reads the body first: an error
            # reading it (past the upload limit) is the search's, answered by its handler.
            _enter(scope, route, {})
            await self._refuse(exc, scope, receive, send)
            return
        replay = _replaying(raw, more, receive)
        found = _search_body(scope, raw) if not more and not scope["query_string"] else None
        principal = self._principal(scope) if found is not None else None
        if principal is None or found is None:
            await self.app(scope, replay, send)
            return
        _enter(scope, route, {})
        ctx = self._ctx(scope)
        try:
            await admit_department(scope, ctx, principal, _SCOPE)
            body = await departments.search_json(
                ctx, department_id=principal.department_id, body=found
            )
        except Exception as exc:
            await self._refuse(exc, scope, replay, send)
            return
        await departments.json_response(body)(scope, replay, send)

    def _ctx(self, scope: Scope) -> ApiContext:
        ctx: ApiContext = self.fastapi.state.ctx
        return ctx

    def _principal(self, scope: Scope) -> DepartmentPrincipal | None:
        """The caller, if its token verifies and holds the scope; else ``None`` (FastAPI's
        dependency answers it). No side effect."""
        authorization = _header(scope, b"authorization")
        try:
            principal = self._ctx(scope).tokens.verify(bearer_token(authorization))
        except ApiError:
            return None
        return principal if _SCOPE in principal.scopes else None

    async def _refuse(self, exc: Exception, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer ``exc`` with the app's handler for it, or let it go up (no handler)."""
        assert self._handlers is not None
        handler = _handler_for(self._handlers, exc)
        if handler is None:
            raise exc
        response = await handler(Request(scope, receive, send), exc)
        await response(scope, receive, send)


def _position(routes: list[RouteContext], endpoint: Callable[..., Any]) -> int:
    for k, route in enumerate(routes):
        if isinstance(route.original_route, APIRoute) and route.endpoint is endpoint:
            return k
    raise RuntimeError(f"{endpoint.__name__} is not a route of the app")


def _api_route(route: RouteContext) -> APIRoute:
    original = route.original_route
    assert isinstance(original, APIRoute)
    return original


def _full_match(route: RouteContext, method: str, path: str) -> bool:
    """Whether ``route`` (as the app has it) takes ``method path``: its path pattern
    matches and it has the method or none (a mount)."""
    if route.path_regex is None or not route.path_regex.match(path):
        return False
    methods = route.methods
    return methods is None or method in methods


def _takes_before(route: RouteContext, get: RouteContext) -> set[str]:
    """The GET paths of ``get``'s shape that ``route``, earlier in the app, takes first: a
    route with a literal path takes that path; one with parameters would take them all,
    which the app must not have (refused)."""
    path = route.path or ""
    if not route.param_convertors:
        return {path} if _full_match(route, "GET", path) and get.path_regex.match(path) else set()
    if _full_match(route, "GET", (get.path or "").replace("{license_id}", _PROBE)):
        raise RuntimeError(f"{route!r} answers GET {get.path} before the department read")
    return set()


def _enter(scope: Scope, route: APIRoute, path_params: dict[str, str]) -> None:
    """What FastAPI's router puts in the scope of a request it routes to ``route``."""
    scope["route"] = route
    scope["endpoint"] = route.endpoint
    scope["path_params"] = path_params


def _header(scope: Scope, name: bytes) -> str | None:
    """The first header ``name`` (lower case), as Starlette's ``request.headers`` gives it."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _query(scope: Scope, bounds: Mapping[str, tuple[int, int]]) -> dict[str, str] | None:
    """The query's parameters, when it has each of ``bounds`` once, within its length
    bounds, and nothing else; else ``None``."""
    from urllib.parse import parse_qsl

    raw = scope["query_string"].decode("latin-1")
    pairs = parse_qsl(raw, keep_blank_values=True)
    found = dict(pairs)
    if len(pairs) != len(bounds) or found.keys() != bounds.keys():
        return None
    for name, (least, most) in bounds.items():
        if not least <= len(found[name]) <= most:
            return None
    return found


def _search_body(scope: Scope, raw: bytes) -> SearchIn | None:
    """The search's body, when it is JSON of a valid :class:`SearchIn` sent as
    ``application/json``; else ``None`` (FastAPI reads and refuses it)."""
    if _header(scope, b"content-type") != "application/json" or not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    try:
        return SearchIn.model_validate(value)
    except ValidationError:
        return None


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The body's first message(s) up to a small size: (bytes, whether more follows)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), True
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), False
        if size > 64 * 1024:
            return b"".join(chunks), True


def _replaying(raw: bytes, more: bool, receive: Receive) -> Receive:
    """A ``receive`` that gives the body read so far, then the rest from ``receive``."""
    pending: list[Message] = [{"type": "http.request", "body": raw, "more_body": more}]

    async def replay() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return replay


def _handler_for(
    handlers: Mapping[Any, Callable[..., Any]], exc: Exception
) -> Callable[..., Any] | None:
    """The handler Starlette's exception middleware would pick for ``exc``."""
    for cls in type(exc).__mro__:
        if cls in handlers:
            return handlers[cls]
    return None
