"""What every page shares: templates, language, the holder's session cookie, CSRF, headers.

Session: after login the holder's ID number is kept only inside an AES-256-GCM sealed cookie
(the vault's holder key, purpose ``web-session``): the browser cannot read or alter it. The
cookie also carries the random token of a server-side session
(:mod:`vault.services.web_sessions`): logout deletes it, so the cookie opens nothing any
more, even a copy kept elsewhere; it also ends after :data:`SESSION_SECONDS`, or after
``web_session_idle_seconds`` without a request. Every page request checks it once
(:func:`load_page_session`, a dependency of every page route, run before the route opens a
transaction of its own). Cookies are HttpOnly, SameSite=Lax (session) or Strict (CSRF), and
Secure with the ``__Host-`` prefix when the site is served over https.

CSRF: every form carries ``csrf_token``. Logged in, it must equal the random token sealed
inside the session cookie (bound to that session); before login it must equal the
``evault_csrf`` cookie (double submit). A cross-site ``Origin`` is refused as well.

Headers: a strict Content-Security-Policy (nothing but this site's own stylesheet; no
script, no frames, forms post only here), no referrer (copy ids are in URLs), no caching
of pages that show personal data.
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.concurrency import run_in_threadpool

from api.context import ApiContext
from api.deps import CtxDep
from api.pages.i18n import LANGS, STRINGS, Lang, Translator
from schemas.identifiers import HolderIdType, mask
from vault.crypto import HolderDataError
from vault.services.web_sessions import end_web_session, open_web_session, web_session_alive

__all__ = [
    "CSP",
    "SESSION_SECONDS",
    "CsrfFailed",
    "LoginRequired",
    "PageSession",
    "check_csrf",
    "clear_session",
    "fmt_date",
    "fmt_time",
    "load_page_session",
    "page_session",
    "redirect",
    "render",
    "require_login",
    "safe_next",
    "start_session",
]

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
SESSION_SECONDS = 8 * 3600
_SESSION_PURPOSE = "web-session"
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
_CST = dt.timezone(dt.timedelta(hours=8))

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.globals["action_keys"] = frozenset(STRINGS)
# The company space (法人空间) renders the personal pages' templates under its own prefix
# and names the company on every page: outside it, the personal space at /me.
_env.globals["me"] = "/me"
_env.globals["company"] = None


class LoginRequired(Exception):
    """A holder page was asked for without a valid session: go to the login page."""


class CsrfFailed(Exception):
    """A form without the right CSRF token, or posted from another site."""


@dataclass(frozen=True)
class PageSession:
    """A logged-in holder. ``holder_id`` is secret: never rendered, logged or put in a URL."""

    holder_id: str = field(repr=False)
    holder_id_type: HolderIdType
    name: str
    csrf: str = field(repr=False)
    expires: int
    token: str = field(repr=False)  # of the server-side session

    @property
    def masked(self) -> str:
        return mask(self.holder_id)


def _secure(request: Request, ctx: ApiContext) -> bool:
    return request.url.scheme == "https" or ctx.settings.public_base_url.startswith("https://")


def _cookie(base: str, secure: bool) -> str:
    return f"__Host-{base}" if secure else base


def _session_cookie(request: Request, ctx: ApiContext) -> str:
    return _cookie("evault_session", _secure(request, ctx))


def _csrf_cookie(request: Request, ctx: ApiContext) -> str:
    return _cookie("evault_csrf", _secure(request, ctx))


_RESOLVED = "evault_page_session"


def _cookie_session(request: Request, ctx: ApiContext) -> PageSession | None:
    """The session the cookie names (absent, altered or past its lifetime: None)."""
    raw = request.cookies.get(_session_cookie(request, ctx))
    if not raw:
        return None
    try:
        sealed = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
        data = json.loads(ctx.crypto.decrypt(sealed, purpose=_SESSION_PURPOSE))
        session = PageSession(
            holder_id=str(data["h"]),
            holder_id_type=HolderIdType(data["t"]),
            name=str(data["n"]),
            csrf=str(data["c"]),
            expires=int(data["e"]),
            token=str(data["s"]),
        )
    except (ValueError, KeyError, TypeError, HolderDataError):
        return None
    if session.expires <= time.time():
        return None
    return session


def page_session(request: Request, ctx: ApiContext) -> PageSession | None:
    """The holder's live session, or None (no cookie, altered, expired, ended or idle).

    Checked against the server-side session once per request, then remembered.
    """
    state = request.scope.setdefault("state", {})
    if _RESOLVED in state:
        resolved: PageSession | None = state[_RESOLVED]
        return resolved
    session = _cookie_session(request, ctx)
    if session is not None:
        idle = dt.timedelta(seconds=ctx.settings.web_session_idle_seconds)
        with ctx.sessions() as db:
            alive = web_session_alive(session=db, token=session.token, idle=idle)
            db.commit()
        session = session if alive else None
    state[_RESOLVED] = session
    return session


def load_page_session(request: Request, ctx: CtxDep) -> None:
    """A dependency of every page route: check the session before the route's own
    database work begins (on SQLite a second transaction would wait for the first)."""
    page_session(request, ctx)


def require_login(request: Request, ctx: ApiContext) -> PageSession:
    session = page_session(request, ctx)
    if session is None:
        raise LoginRequired
    return session


def _open_session(ctx: ApiContext) -> str:
    with ctx.sessions() as db:
        token = open_web_session(session=db, lifetime=dt.timedelta(seconds=SESSION_SECONDS))
        db.commit()
    return token


async def start_session(
    request: Request,
    ctx: ApiContext,
    response: Response,
    *,
    holder_id: str,
    holder_id_type: HolderIdType,
    name: str,
) -> None:
    """Open a server-side session and set its sealed cookie (a fresh CSRF token with it)."""
    expires = int(time.time()) + SESSION_SECONDS
    token = await run_in_threadpool(_open_session, ctx)
    payload = json.dumps(
        {
            "h": holder_id,
            "t": holder_id_type.value,
            "n": name,
            "c": secrets.token_urlsafe(24),
            "e": expires,
            "s": token,
        },
        ensure_ascii=False,
    )
    sealed = ctx.crypto.encrypt(payload, purpose=_SESSION_PURPOSE)
    response.set_cookie(
        _session_cookie(request, ctx),
        base64.urlsafe_b64encode(sealed).rstrip(b"=").decode(),
        max_age=SESSION_SECONDS,
        path="/",
        secure=_secure(request, ctx),
        httponly=True,
        samesite="lax",
    )


def clear_session(request: Request, ctx: ApiContext, response: Response) -> None:
    """End the session server-side (logout) and delete its cookie."""
    session = _cookie_session(request, ctx)
    if session is not None:
        with ctx.sessions() as db:
            end_web_session(session=db, token=session.token)
            db.commit()
    request.scope.setdefault("state", {})[_RESOLVED] = None
    response.delete_cookie(
        _session_cookie(request, ctx),
        path="/",
        secure=_secure(request, ctx),
        httponly=True,
        samesite="lax",
    )


def check_csrf(request: Request, ctx: ApiContext, token: str | None) -> None:
    """Refuse a form whose token does not match, or that was posted from another origin."""
    origin = request.headers.get("origin")
    if origin and origin != "null":
        host = request.headers.get("host", "")
        if urlsplit(origin).netloc != host:
            raise CsrfFailed
    session = page_session(request, ctx)
    expected = session.csrf if session else request.cookies.get(_csrf_cookie(request, ctx))
    if not token or not expected or not hmac.compare_digest(token, expected):
        raise CsrfFailed


def _lang(request: Request) -> tuple[Lang, bool]:
    """The page's language and whether it was chosen now (to be kept in a cookie)."""
    asked = request.query_params.get("lang")
    for lang in LANGS:
        if asked == lang:
            return lang, True
    kept = request.cookies.get("evault_lang")
    for lang in LANGS:
        if kept == lang:
            return lang, False
    return "zh", False


def fmt_time(moment: dt.datetime | None) -> str:
    """A moment in 北京时间, to the minute."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(_CST).strftime("%Y-%m-%d %H:%M")


def fmt_date(day: dt.date | None) -> str:
    return day.isoformat() if day else ""


def _security_headers(response: Response, secure: bool) -> None:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if secure:
        response.headers["Strict-Transport-Security"] = "max-age=31536000"


def safe_next(value: str | None) -> str:
    """Where to go after logging in: only a path on this site (no scheme, no ``//host``, no
    backslash tricks), else the holder's page."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/me"
    return value


def redirect(request: Request, ctx: ApiContext, url: str) -> RedirectResponse:
    """303 See Other (after a form), with the pages' headers."""
    response = RedirectResponse(url, status_code=303)
    _security_headers(response, _secure(request, ctx))
    return response


def render(
    request: Request,
    ctx: ApiContext,
    template: str,
    *,
    status: int = 200,
    session: PageSession | None = None,
    back: str = "/",
    **context: Any,
) -> HTMLResponse:
    """Render ``pages/<template>`` in the request's language with the pages' headers.

    ``back``: for the answer to a form, the page the language switch reloads.
    """
    lang, chosen = _lang(request)
    t = Translator(lang)
    secure = _secure(request, ctx)
    if session is None:
        session = page_session(request, ctx)
    new_csrf: str | None = None
    if session is not None:
        csrf = session.csrf
    else:
        csrf = request.cookies.get(_csrf_cookie(request, ctx)) or ""
        if len(csrf) < 20:
            csrf = new_csrf = secrets.token_urlsafe(24)
    if request.method == "GET":
        switch = urlsplit(str(request.url.include_query_params(lang=t.other)))
        switch_href = f"{switch.path}?{switch.query}"
    else:  # the answer to a form: switching reloads the page the form was on, not the POST
        switch_href = f"{back}?lang={t.other}"
    html = _env.get_template(f"pages/{template}").render(
        t=t,
        lang=lang,
        session=session,
        csrf_token=csrf,
        switch_href=switch_href,
        path=request.url.path,
        demo=ctx.settings.is_demo,
        platform_name=ctx.settings.platform_name,
        operator_name=ctx.settings.operator_name,
        fmt_time=fmt_time,
        fmt_date=fmt_date,
        **context,
    )
    response = HTMLResponse(html, status_code=status)
    _security_headers(response, secure)
    if chosen:
        response.set_cookie(
            "evault_lang",
            lang,
            max_age=365 * 86400,
            path="/",
            secure=secure,
            httponly=True,
            samesite="lax",
        )
    if new_csrf is not None:
        response.set_cookie(
            _csrf_cookie(request, ctx),
            new_csrf,
            path="/",
            secure=secure,
            httponly=True,
            samesite="strict",
        )
    return response
