"""The only place where errors become HTTP answers: RFC 9457 problem+json.

Every error answer of the API has the media type ``application/problem+json`` and the members
``type`` (a stable URN naming the problem), ``title``, ``status``, ``detail``, ``instance`` (the
request path) and ``request_id`` (also sent as ``X-Request-ID``). Errors of ``vault``,
``signing`` and ``schemas`` are mapped here and nowhere else; services never raise HTTP errors.

Messages never carry a holder ID number: validation errors drop the offending input and
keep only where it was and which rule it broke.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.request_id import current_request_id
from schemas.errors import InvalidValue, SchemaError
from signing.errors import (
    KeySourceError,
    NoBlankSpace,
    RevocationDataError,
    SealingError,
    SealUnavailable,
    SigningError,
    TimestampError,
    TrustError,
    VerificationError,
)
from vault.errors import (
    BlobIntegrityError,
    BlobNotFound,
    BlobStoreError,
    ConfigError,
    ConflictError,
    DatabaseUnavailable,
    IdempotencyKeyReused,
    IntakeRefused,
    InvalidInput,
    NotFound,
    PermissionDenied,
    VaultError,
)

__all__ = [
    "PROBLEM_JSON",
    "PROBLEM_RESPONSES",
    "ApiError",
    "Problem",
    "RateLimited",
    "Unauthorized",
    "UploadTooLarge",
    "install_error_handlers",
    "install_problem_schema",
    "problem_response",
    "problems",
]

PROBLEM_JSON = "application/problem+json"
_TYPE_PREFIX = "urn:evault:problem:"
log = logging.getLogger("evault.api")


class Problem(BaseModel):
    """RFC 9457 problem details, as every error answer of the API carries them."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="URN naming the problem, e.g. urn:evault:problem:forbidden")
    title: str = Field(description="short summary of the kind of problem")
    status: int = Field(description="the HTTP status code")
    detail: str = Field(description="what went wrong with this request")
    instance: str | None = Field(default=None, description="the request path")
    request_id: str | None = Field(default=None, description="also in the X-Request-ID header")


#: For ``responses=`` of routes: documents the problem+json answers in the OpenAPI schema.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": desc}
    for code, desc in (
        (400, "bad request"),
        (401, "missing or invalid credentials"),
        (403, "not allowed"),
        (404, "not found"),
        (409, "conflict"),
        (413, "upload too large"),
        (422, "invalid input or refused content"),
        (429, "rate limited"),
    )
}


@dataclass
class ApiError(Exception):
    """An HTTP-level refusal decided in ``api`` itself (authentication, limits)."""

    status: int
    slug: str
    title: str
    detail: str
    headers: Mapping[str, str] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.detail


class Unauthorized(ApiError):
    def __init__(self, detail: str, *, scheme: str = "Bearer", error: str = "invalid_token"):
        super().__init__(
            401,
            "unauthorized",
            "Unauthorized",
            detail,
            headers={"WWW-Authenticate": f'{scheme} error="{error}"'},
        )


#: What a 503 answer (blob store, TSA or the vault's seal unavailable) asks clients to wait.
RETRY_AFTER_SECONDS = 30


class RateLimited(ApiError):
    def __init__(self, retry_after: float) -> None:
        seconds = max(1, round(retry_after + 0.5))
        super().__init__(
            429,
            "rate-limited",
            "Too Many Requests",
            f"rate limit exceeded; retry after {seconds} s",
            headers={"Retry-After": str(seconds)},
        )


class UploadTooLarge(StarletteHTTPException):
    """Raised while the body streams in, as soon as it passes the configured limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the limit of {limit} bytes")
        self.limit = limit


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: the problem+json answers it may give."""
    return {code: PROBLEM_RESPONSES[code] for code in codes}


def problem_response(
    request: Request | None,
    *,
    status: int,
    slug: str,
    title: str,
    detail: str,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
    path: str | None = None,
) -> JSONResponse:
    """Build one problem+json answer."""
    body: dict[str, Any] = {
        "type": _TYPE_PREFIX + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": path if path is not None else (request.url.path if request else None),
        "request_id": current_request_id(),
    }
    if extra:
        body.update(extra)
    all_headers = dict(headers or {})
    if body["request_id"]:
        all_headers.setdefault("X-Request-ID", body["request_id"])
    return JSONResponse(body, status_code=status, headers=all_headers, media_type=PROBLEM_JSON)


_HTTP_SLUGS = {
    400: ("bad-request", "Bad Request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not Found"),
    405: ("method-not-allowed", "Method Not Allowed"),
    406: ("not-acceptable", "Not Acceptable"),
    409: ("conflict", "Conflict"),
    413: ("too-large", "Content Too Large"),
    415: ("unsupported-media-type", "Unsupported Media Type"),
    422: ("invalid-request", "Unprocessable Content"),
    429: ("rate-limited", "Too Many Requests"),
    500: ("internal", "Internal Server Error"),
    503: ("unavailable", "Service Unavailable"),
}


def _report_json(report: object | None) -> Any:
    if report is None:
        return None
    if isinstance(report, BaseModel):
        return report.model_dump(mode="json")
    to_wire = getattr(report, "to_wire", None)
    if callable(to_wire):
        wire = to_wire()
        if isinstance(wire, BaseModel):
            return wire.model_dump(mode="json")
    return None


_STORAGE_DOWN = "the blob store is unavailable; try again later"


def classify(exc: BaseException) -> tuple[int, str, str, str, dict[str, Any]]:
    """Map an error of ours to (status, slug, title, detail, extra members). One table."""
    detail = str(exc)
    if isinstance(exc, IntakeRefused):
        extra: dict[str, Any] = {"reason": exc.reason}
        report = _report_json(exc.report)
        if report is not None:
            extra["report"] = report
        return 422, "intake-refused", "License refused", detail, extra
    if isinstance(exc, BlobNotFound):  # before NotFound: the record exists, its file is lost
        return 500, "blob-missing", "Stored file missing", "a stored file is missing", {}
    if isinstance(exc, NotFound):
        return 404, "not-found", "Not Found", detail or "not found", {}
    if isinstance(exc, PermissionDenied):
        return 403, "forbidden", "Forbidden", detail or "not allowed", {}
    if isinstance(exc, ConflictError):
        return 409, "conflict", "Conflict", detail, {}
    if isinstance(exc, BlobIntegrityError):
        return 500, "integrity", "Stored data failed its integrity check", "internal error", {}
    if isinstance(exc, BlobStoreError):
        return 503, "storage-unavailable", "Storage unavailable", _STORAGE_DOWN, {}
    if isinstance(exc, DatabaseUnavailable):
        return 503, "database-unavailable", "Database unavailable", str(exc), {}
    if isinstance(exc, InvalidInput):
        return 422, "invalid-input", "Invalid input", detail, {}
    if isinstance(exc, IdempotencyKeyReused):
        return 422, "idempotency-key-reused", "Idempotency-Key reused", detail, {}
    if isinstance(exc, ConfigError):
        return 500, "configuration", "Server misconfigured", "internal error", {}
    if isinstance(exc, VaultError):
        return 400, "refused", "Refused", detail, {}
    if isinstance(exc, TimestampError):
        return 503, "tsa-unavailable", "Timestamp authority unavailable", detail, {}
    if isinstance(exc, SealUnavailable | RevocationDataError):
        return 503, "seal-unavailable", "The vault's seal is unavailable", detail, {}
    if isinstance(exc, NoBlankSpace):
        title = "The original has no blank space for the annotation"
        return 422, "no-blank-space", title, detail, {}
    if isinstance(exc, SealingError):
        return 422, "cannot-seal", "The PDF cannot be sealed", detail, {}
    if isinstance(exc, VerificationError):
        return 422, "cannot-verify", "The file cannot be verified", detail, {}
    if isinstance(exc, KeySourceError | TrustError):
        return 500, "configuration", "Server misconfigured", "internal error", {}
    if isinstance(exc, SigningError):
        return 422, "signing", "Signing error", detail, {}
    if isinstance(exc, InvalidValue):
        return 422, "invalid-value", "Invalid value", detail, {"rule": exc.rule}
    if isinstance(exc, SchemaError):
        return 422, "invalid-value", "Invalid value", detail, {}
    return 500, "internal", "Internal Server Error", "internal error", {}


def _clean_validation_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Validation errors without the offending input (it may be a holder ID number)."""
    cleaned = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        msg = str(err.get("msg", "invalid"))
        cleaned.append({"loc": loc, "msg": msg, "type": str(err.get("type", "value_error"))})
    return cleaned


_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def _allowed_methods(request: Request) -> str | None:
    """Every method the OpenAPI document gives the request's path (None: not documented).

    Starlette's 405 names only the first matching route's methods, though a path may have
    several routes (GET and POST /v1/me/grants).
    """
    state = request.app.state
    paths: list[tuple[re.Pattern[str], frozenset[str]]] | None = getattr(
        state, "evault_allow", None
    )
    if paths is None:
        paths = []
        for template, item in request.app.openapi().get("paths", {}).items():
            regex = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
            methods = frozenset(m.upper() for m in item if m in _METHODS)
            paths.append((re.compile(f"^{regex}$"), methods))
        state.evault_allow = paths
    found: set[str] = set()
    for pattern, methods in paths:
        if pattern.match(request.url.path):
            found |= methods
    return ", ".join(sorted(found)) if found else None


def install_error_handlers(app: FastAPI) -> None:
    """Register the one mapping on ``app``."""

    async def on_api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return problem_response(
            request,
            status=exc.status,
            slug=exc.slug,
            title=exc.title,
            detail=exc.detail,
            headers=exc.headers,
            extra=exc.extra,
        )

    async def on_ours(request: Request, exc: Exception) -> JSONResponse:
        status, slug, title, detail, extra = classify(exc)
        if status >= 500:
            log.error("request failed: %s", type(exc).__name__, exc_info=(type(exc), exc, None))
        # a store, TSA or seal that is down: say when to try again
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else None
        return problem_response(
            request,
            status=status,
            slug=slug,
            title=title,
            detail=detail,
            headers=headers,
            extra=extra,
        )

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = _clean_validation_errors(exc.errors())
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(first["loc"])
        return problem_response(
            request,
            status=422,
            slug="invalid-request",
            title="Invalid request",
            detail=f"{where}: {first['msg']}" if where else str(first["msg"]),
            extra={"errors": errors},
        )

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        slug, title = _HTTP_SLUGS.get(exc.status_code, ("http-error", "HTTP error"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        if exc.status_code == 404 and detail == "Not Found":
            detail = "not found"
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
        return problem_response(
            request,
            status=exc.status_code,
            slug=slug,
            title=title,
            detail=detail,
            headers=headers,
        )

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled %s", type(exc).__name__, exc_info=(type(exc), exc, None))
        return problem_response(
            request,
            status=500,
            slug="internal",
            title="Internal Server Error",
            detail="internal error",
        )

    app.add_exception_handler(ApiError, on_api_error)
    for cls in (VaultError, SigningError, SchemaError):
        app.add_exception_handler(cls, on_ours)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)


def install_problem_schema(app: FastAPI) -> None:
    """Make the OpenAPI schema say what the API does: every error is problem+json.

    FastAPI documents validation errors as its own JSON shape; this replaces them, and adds
    the answers any operation may give (400 a request that cannot be parsed, 413 upload too
    large, 422, 429 rate limited).
    """
    from fastapi.openapi.utils import get_openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = Problem.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        problem = {
            "description": "problem details (RFC 9457)",
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                responses = operation["responses"]
                for code in list(responses):
                    declared = set(responses[code].get("content", {})) - {"application/json"}
                    if code.isdigit() and int(code) >= 400 and not declared - {PROBLEM_JSON}:
                        description = responses[code].get("description") or problem["description"]
                        responses[code] = {**problem, "description": description}
                for code in ("400", "413", "422", "429"):
                    responses.setdefault(code, dict(problem))
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
