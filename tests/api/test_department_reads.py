"""The department reads' fast path (api.department_reads) answers as FastAPI does.

Two apps serve one database: the usual one, whose thin ASGI handler takes the plain
department reads, and one built without it (every request through FastAPI's routing and
dependencies, as before the fast path). Each request goes to both, with the same
``X-Request-ID``, and the answers must be the same: status, headers, body; every read is
in the access log whichever app served it, and the log line names the route template and
the department, never the holder ID.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

import api.department_reads as department_reads
from api.app import create_app
from tests.api.conftest import HOLDER, OTHER_HOLDER, Api, _make_api
from tests.vault.conftest import db_url, postgres_schema, sqlite_template  # noqa: F401
from tests.vault.licenses import CITIZEN_TYPE
from vault.models.access import AccessEvent

USE = {"purpose": "办理公积金提取", "case_no": "FAST-1"}


@pytest.fixture
def pair(db_url: str, tmp_path: Path) -> Iterator[tuple[Api, TestClient]]:  # noqa: F811
    with _make_api(db_url, tmp_path) as state, TestClient(_plain_app(state)) as plain:
        yield state, plain


def _plain_app(state: Api) -> Any:
    """The same vault served without the fast path."""
    ctx = state.ctx
    shared = {name: getattr(ctx, name) for name in ("engine", "sessions", "blobs", "crypto")}
    vault = SimpleNamespace(**shared, verifier=ctx.verifier.get(), copy_renderer=ctx.renderer.get())
    return create_app(ctx.settings, vault=vault, department_reads=False)


def _log_count(state: Api) -> int:
    with state.ctx.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(AccessEvent)) or 0)


def _answer(response: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    return response.status_code, sorted(response.headers.multi_items()), response.content


def _same(
    state: Api, plain: TestClient, call: Callable[[TestClient, dict[str, str]], Any], rid: str
) -> tuple[Any, Any]:
    """``call`` on the fast app, then on the plain one; both answers, checked equal."""
    headers = {"X-Request-ID": rid}
    fast = call(state.client, headers)
    slow = call(plain, headers)
    assert _answer(fast) == _answer(slow), (fast.text, slow.text)
    return fast, slow


def _push(state: Api, n: int, **overrides: Any) -> str:
    r = state.push(n, **overrides)
    assert r.status_code == 201, r.text
    return str(r.json()["license"]["id"])


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Paths of the requests the fast path took (it enters a route's scope for them)."""
    seen: list[str] = []
    enter = department_reads._enter

    def counting(scope: Any, route: Any, path_params: dict[str, str]) -> None:
        seen.append(route.path)
        enter(scope, route, path_params)

    monkeypatch.setattr(department_reads, "_enter", counting)
    return seen


def test_reads_and_refusals_are_answered_as_fastapi_answers_them(
    pair: tuple[Api, TestClient], taken: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    state, plain = pair
    own = _push(state, 1)
    other = _push(state, 2, holder_id=OTHER_HOLDER, holder_name="李四")
    revoked = _push(state, 3)
    r = state.client.patch(
        f"/v1/licenses/{revoked}/status",
        headers=state.dept("market"),
        json={"status": "吊销", "reason": "test"},
    )
    assert r.status_code == 200, r.text
    housing, tax, audit = state.dept("housing"), state.dept("tax"), state.dept("audit")

    def get(lid: str, auth: dict[str, str], params: Any = None) -> Callable[..., Any]:
        query = USE if params is None else params
        return lambda client, h: client.get(
            f"/v1/licenses/{lid}", headers={**h, **auth}, params=query
        )

    def search(body: Any, auth: dict[str, str], **kw: Any) -> Callable[..., Any]:
        return lambda client, h: client.post(
            "/v1/licenses/search", headers={**h, **auth, **kw.get("extra", {})}, json=body
        )

    found = {"holder_id": HOLDER, **USE}
    cases: list[tuple[str, Callable[..., Any], int, bool]] = [
        # (name, call, status, logged in the access log)
        ("read", get(own, housing), 200, True),
        ("read a revoked license", get(revoked, housing), 200, True),
        ("search", search(found, housing), 200, True),
        ("search, a type", search({**found, "type_code": CITIZEN_TYPE}, housing), 200, True),
        ("no token", get(own, {}), 401, False),
        ("no token, search", search(found, {}), 401, False),
        ("bad token", get(own, {"Authorization": "Bearer not-a-token"}), 401, False),
        ("bad token, search", search(found, {"Authorization": "Bearer x.y.z"}), 401, False),
        ("another scheme", get(own, {"Authorization": "Basic Zm9vOmJhcg=="}), 401, False),
        ("no scope", get(own, audit), 403, False),
        ("no scope, search", search(found, audit), 403, False),
        ("no permission", get(own, tax), 403, True),
        ("no permission, search", search(found, tax), 403, True),
        ("another holder's license", get(other, housing), 200, True),
        ("unknown id", get("l_NoSuchLicense0000000000", housing), 403, True),
        ("an id too long", get("l_" + "x" * 60, housing), 422, False),
        ("no purpose", get(own, housing, {"case_no": "FAST-1"}), 422, False),
        ("empty purpose", get(own, housing, {**USE, "purpose": ""}), 422, False),
        ("case_no too long", get(own, housing, {**USE, "case_no": "x" * 101}), 422, False),
        ("an unknown parameter", get(own, housing, {**USE, "ofset": "1"}), 422, False),
        ("a parameter twice", get(own, housing, [*USE.items(), ("purpose", "又")]), 200, True),
        ("search, no purpose", search({"holder_id": HOLDER, "case_no": "C"}, housing), 422, False),
        ("search, a bad holder ID", search({**found, "holder_id": "123"}, housing), 422, False),
        ("search, an extra member", search({**found, "x": 1}, housing), 422, False),
        ("search, not an object", search([found], housing), 422, False),
    ]
    for k, (name, call, status, logged) in enumerate(cases):
        before = _log_count(state)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="evault.access"):
            fast, _slow = _same(state, plain, call, f"fast-path-case-{k:04d}")
        assert fast.status_code == status, (name, fast.text)
        if status >= 400:
            assert fast.headers["content-type"] == "application/problem+json", name
        assert _log_count(state) - before == (2 if logged else 0), name
        lines = [(r.route, r.principal, r.status) for r in caplog.records]  # type: ignore[attr-defined]
        assert len(lines) == 2 and lines[0] == lines[1], (name, lines)
        assert all(HOLDER not in r.getMessage() for r in caplog.records)
    # The plain reads took the fast path; a refusal decided before the route (no or a bad
    # token, no scope, an invalid parameter) went to FastAPI, searches after their body.
    assert taken.count("/v1/licenses/{license_id}") == 5
    assert taken.count("/v1/licenses/search") == 3


def test_a_search_with_a_body_not_json_is_answered_as_fastapi_answers_it(
    pair: tuple[Api, TestClient],
) -> None:
    state, plain = pair
    for k, (content, ctype) in enumerate(
        [
            (b"{not json", "application/json"),
            (b'{"holder_id": "x"}', "text/plain"),
            (b"", "application/json"),
        ]
    ):

        def call(client: TestClient, h: dict[str, str], c: bytes = content, t: str = ctype) -> Any:
            headers = {**h, **state.dept("housing"), "Content-Type": t}
            return client.post("/v1/licenses/search", headers=headers, content=c)

        fast, _ = _same(state, plain, call, f"fast-path-body-{k:04d}")
        assert fast.status_code == 422, fast.text


def test_a_rate_limited_read_is_answered_as_fastapi_answers_it(
    sqlite_template: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    import shutil

    target = tmp_path / "evault.db"
    shutil.copyfile(sqlite_template, target)
    with _make_api(
        f"sqlite:///{target}", tmp_path, rate_limit_per_minute=1, rate_limit_burst=1
    ) as state:
        lid = _push(state, 1)
        with TestClient(_plain_app(state)) as plain:
            auth = state.dept("housing")

            def read(client: TestClient, h: dict[str, str]) -> Any:
                return client.get(f"/v1/licenses/{lid}", headers={**h, **auth}, params=USE)

            assert read(state.client, {}).status_code == 200
            fast, slow = (
                read(state.client, {"X-Request-ID": "limited-0001"}),
                read(plain, {"X-Request-ID": "limited-0001"}),
            )
    assert fast.status_code == slow.status_code == 429

    def seconds_out(answer: Any) -> tuple[int, list[tuple[str, str]], bytes]:
        # the wait is counted from each request's own time: it may differ by a second
        status, headers, body = _answer(answer)
        headers = [(k, "N" if k == "retry-after" else v) for k, v in headers]
        return status, headers, re.sub(rb"after \d+ s", b"after N s", body)

    assert seconds_out(fast) == seconds_out(slow)
    assert fast.headers["content-type"] == "application/problem+json"
