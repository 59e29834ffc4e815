"""Issue 14, faults: PostgreSQL restarted while pushes and reads are under way.

The API is served by uvicorn on loopback against a PostgreSQL cluster of the test's own
(never the shared server), driven by pushing and reading threads; mid-way the cluster is
killed and started again (``pg_ctl -m immediate``). Checked afterwards:

- every request during the outage got an answer: 2xx, or 503 problem+json with Retry-After
  (never a 500, never a hang);
- the API recovers by itself: pushes and reads succeed after the restart, nothing restarted
  on our side;
- acknowledged ⇒ present: every push answered 201 is stored, its file served, its intake
  logged; refused ⇒ absent or whole: a pusher pushes a refused license again (as a client
  following Retry-After would) and it is stored exactly once (a commit whose answer was
  lost is found as the same license, ``200 created: false``);
- nothing half-written: every license has its version and its file, every intake one log
  leaf, the log's indices have no gap, and ``evault log verify --url`` reproduces the
  tree and its signed checkpoint.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from api.checkpoints import log_key
from tests.api.conftest import Api, _make_api
from tests.conftest import free_port
from tests.faults.conftest import PrivatePostgres
from tests.vault.conftest import postgres_schema, schema_url  # noqa: F401
from tests.vault.licenses import license_pdf, metadata
from vault.cli.app import build_app
from vault.db import make_engine, make_session_factory
from vault.db.base import utcnow
from vault.errors import DatabaseUnavailable
from vault.log.access_log import EventValues, record_and_commit
from vault.migrations import upgrade

PROBLEM = "application/problem+json"
PUSHERS = 2
READERS = 2
#: Pushes acknowledged before the restart, and after it, before the load stops.
BEFORE, AFTER = 3, 3
#: A bound on the whole load (a hang fails the test instead of blocking CI).
LOAD_BOUND = 240.0
#: Seconds a pusher waits before pushing a refused license again.
RETRY_PAUSE = 0.2


@dataclass
class Outcomes:
    """What each push and read was answered (appended from the load's threads)."""

    pushes: dict[int, list[httpx.Response]] = field(default_factory=dict)
    """Every answer to each license's push (a refused push is retried, as a client would)."""
    reads: list[httpx.Response] = field(default_factory=list)
    acknowledged: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def acked(self) -> int:
        with self.lock:
            return len(self.acknowledged)


@contextlib.contextmanager
def served(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn on a free loopback port (its lifespan already ran)."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-faults", daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            pytest.fail("uvicorn did not start", pytrace=False)
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _push(client: httpx.Client, api: Api, n: int, pdf: bytes) -> httpx.Response:
    return client.post(
        "/v1/licenses",
        headers=api.dept("market"),
        files={"pdf": (f"license-{n}.pdf", pdf, "application/pdf")},
        data={"metadata": metadata(n).model_dump_json()},
    )


class Load:
    """Pushing threads (each its own licenses) and reading threads (acknowledged ones)."""

    def __init__(self, base: str, api: Api, pdfs: dict[int, bytes]) -> None:
        self.base, self.api, self.pdfs = base, api, pdfs
        self.out = Outcomes()
        self.stop = threading.Event()
        self._next = iter(sorted(pdfs))
        self._threads = [
            threading.Thread(target=self._pusher, daemon=True) for _ in range(PUSHERS)
        ] + [threading.Thread(target=self._reader, daemon=True) for _ in range(READERS)]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout=60)
        assert not any(t.is_alive() for t in self._threads), "a request hung"

    def _take(self) -> int | None:
        with self.out.lock:
            return next(self._next, None)

    def _pusher(self) -> None:
        with httpx.Client(base_url=self.base, timeout=60) as client:
            while not self.stop.is_set() and (n := self._take()) is not None:
                while not self.stop.is_set():
                    answer = _push(client, self.api, n, self.pdfs[n])
                    with self.out.lock:
                        self.out.pushes.setdefault(n, []).append(answer)
                        if answer.status_code in (200, 201):  # 200: it was kept after all
                            self.out.acknowledged.append((n, answer.json()["license"]))
                            break
                    time.sleep(RETRY_PAUSE)

    def _reader(self) -> None:
        holder = self.api.holder()
        with httpx.Client(base_url=self.base, timeout=60) as client:
            while not self.stop.is_set():
                with self.out.lock:
                    known = [lic["id"] for _, lic in self.out.acknowledged[-3:]]
                for license_id in known or [None]:
                    path = f"/v1/me/licenses/{license_id}/pdf" if license_id else "/v1/me/licenses"
                    answer = client.get(path, headers=holder)
                    with self.out.lock:
                        self.out.reads.append(answer)
                time.sleep(0.02)

    def wait_for(self, acknowledged: int, deadline: float) -> None:
        while self.out.acked() < acknowledged:
            if time.monotonic() > deadline:
                pytest.fail(f"only {self.out.acked()} pushes acknowledged (wanted {acknowledged})")
            time.sleep(0.05)


def _assert_unavailable_or_ok(answer: httpx.Response, ok: tuple[int, ...]) -> None:
    if answer.status_code in ok:
        return
    assert answer.status_code == 503, (answer.status_code, answer.text)
    assert answer.headers["content-type"] == PROBLEM
    assert answer.headers.get("retry-after"), answer.headers
    assert answer.json()["type"] == "urn:evault:problem:database-unavailable", answer.text
    assert "127.0.0.1" not in answer.text and "postgres" not in answer.text.lower()


def _db_invariants(api: Api) -> dict[str, int]:
    """Nothing half-written: versions, files and log leaves of every license; no log gap."""
    with api.ctx.engine.connect() as conn:
        scalar = lambda sql: conn.execute(text(sql)).scalar_one()  # noqa: E731
        licenses = scalar("SELECT count(*) FROM licenses")
        without_version = scalar(
            "SELECT count(*) FROM licenses l WHERE NOT EXISTS "
            "(SELECT 1 FROM license_versions v WHERE v.license_id = l.id)"
        )
        shas = conn.execute(text("SELECT blob_sha256 FROM license_versions")).scalars().all()
        leaves = scalar("SELECT count(*) FROM log_entries WHERE event_type = 'license.ingested'")
        size, top = conn.execute(text("SELECT count(*), max(idx) FROM log_entries")).one()
    assert without_version == 0
    stored = {blob.sha256 for blob in api.ctx.blobs.iter()}
    assert set(shas) <= stored, "a version whose file is missing"
    assert stored <= set(shas), "a file no license refers to"  # only licenses are pushed here
    assert leaves == licenses, "an intake without its log leaf, or a leaf without its license"
    assert top == size - 1, "the log has a gap"
    return {"licenses": licenses, "log_size": size}


def _verify_log(base: str, api: Api) -> None:
    vkey = log_key(api.ctx).verifier().vkey()
    token = api.tokens["audit"]
    result = CliRunner().invoke(
        build_app(), ["log", "verify", "--url", base, "--log-key", vkey, "--token", token]
    )
    assert result.exit_code == 0, result.output
    assert "log verified" in result.output


def test_postgres_restarted_under_load(private_postgres: PrivatePostgres, tmp_path: Path) -> None:
    upgrade(private_postgres.url)
    pdfs = {n: license_pdf(n) for n in range(1, 41)}  # made before the load: only I/O in it
    late = (99, license_pdf(99))
    with _make_api(private_postgres.url, tmp_path) as api, served(api.client.app) as base:
        deadline = time.monotonic() + LOAD_BOUND
        with Load(base, api, pdfs) as load:
            load.wait_for(BEFORE, deadline)
            private_postgres.restart()
            restarted_at = load.out.acked()
            load.wait_for(restarted_at + AFTER, deadline)
        out = load.out

        for answers in out.pushes.values():
            for answer in answers:
                _assert_unavailable_or_ok(answer, ok=(200, 201))
        for answer in out.reads:
            _assert_unavailable_or_ok(answer, ok=(200,))
        assert len(out.acknowledged) >= BEFORE + AFTER
        answers = [*(a for tries in out.pushes.values() for a in tries), *out.reads]
        assert any(a.status_code == 503 for a in answers), "the load never met the outage"

        with httpx.Client(base_url=base, timeout=60) as client:
            for n, stored in out.acknowledged:  # acknowledged ⇒ present
                pdf = client.get(f"/v1/me/licenses/{stored['id']}/pdf", headers=api.holder())
                assert pdf.status_code == 200, pdf.text
                assert pdf.content == pdfs[n]
            acked = {n for n, _ in out.acknowledged}
            for n in set(out.pushes) - acked:  # stopped while refused: absent, or whole
                again = _push(client, api, n, pdfs[n])
                assert again.status_code in (200, 201), again.text
        counts = _db_invariants(api)
        assert counts["licenses"] == len(out.pushes)  # each pushed license exactly once
        _verify_log(base, api)
        _while_the_server_is_down(private_postgres, base, api, late)


def _while_the_server_is_down(
    cluster: PrivatePostgres, base: str, api: Api, pdf: tuple[int, bytes]
) -> None:
    """Down for longer: not ready, pushes refused and absent; back: ready, pushes stored."""
    before = _db_invariants(api)
    blobs = {blob.sha256 for blob in api.ctx.blobs.iter()}
    cluster.kill()
    with httpx.Client(base_url=base, timeout=60) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["database"] is False
        _assert_unavailable_or_ok(refused := _push(client, api, *pdf), ok=())
        assert refused.status_code == 503
        cluster.start()
        assert client.get("/readyz").status_code == 200
        assert _db_invariants(api) == before  # refused ⇒ absent
        assert {blob.sha256 for blob in api.ctx.blobs.iter()} == blobs  # not even its file
        pushed = _push(client, api, *pdf)
        assert pushed.status_code == 201, pushed.text
    assert _db_invariants(api)["licenses"] == before["licenses"] + 1


@pytest.mark.postgres
def test_a_connection_cut_during_the_access_log_append_is_database_unavailable(
    postgres_schema: str,  # noqa: F811
) -> None:
    """The access log's append goes to the driver directly (one round trip): a connection
    cut there is the same 503 as anywhere else, and the dead connection is not reused."""
    engine = make_engine(schema_url(postgres_schema))
    sessions = make_session_factory(engine)
    event = EventValues(action="read", outcome="denied", actor="department", at=utcnow())
    try:
        with sessions() as session:
            pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with engine.connect() as other:  # another connection of the pool cuts this one
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            with pytest.raises(DatabaseUnavailable, match=r"^the database is unavailable"):
                record_and_commit(session, event)
        with sessions() as session:  # the next request gets a live connection
            assert session.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
            recorded = record_and_commit(session, event)
            assert recorded.id > 0
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("path", ["lone append", "read and log", "search read"])
def test_a_connection_cut_before_a_one_round_trip_write_is_database_unavailable(
    postgres_schema: str,  # noqa: F811
    path: str,
) -> None:
    """The paths that send no BEGIN (an append alone, a read with its log row, a search's
    read) meet a cut connection as the others do: 503, and the dead connection is not
    reused."""
    from vault.services.license_records import OF_HOLDER_FOR_DEPARTMENT
    from vault.services.logged_read import HOLDER, LICENSE, read_one_and_record, read_rows

    engine = make_engine(schema_url(postgres_schema))
    sessions = make_session_factory(engine)
    now = utcnow()
    event = EventValues(action="read", outcome="denied", actor="department", at=now)
    ids = {"holder_id": HOLDER, "license_id": LICENSE}
    allowed = EventValues(
        action="read",
        outcome="allowed",
        actor="department",
        at=now,
        basis="standing_permission",
        **ids,
    )
    denied = EventValues(action="read", outcome="denied", actor="department", at=now, **ids)

    def act(session: Any) -> object:
        if path == "lone append":
            return record_and_commit(session, event)
        if path == "search read":  # on the driver's cursor, past SQLAlchemy
            found = {"department_id": 1, "blind_indexes": [b"\x00" * 32], "now": now}
            return read_rows(session, OF_HOLDER_FOR_DEPARTMENT, found)
        params = {"department_id": 1, "public_id": "l_none", "now": now}
        return read_one_and_record(session, params, allowed=allowed, denied=denied, missing=event)

    try:
        with sessions() as session:
            raw = session.connection().connection.driver_connection
            raw.autocommit = True  # the pid without opening a transaction: still idle
            pid = raw.execute("SELECT pg_backend_pid()").fetchone()[0]
            raw.autocommit = False
            with engine.connect() as other:  # another connection of the pool cuts this one
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            with pytest.raises(DatabaseUnavailable, match=r"^the database is unavailable"):
                act(session)
        with sessions() as session:  # the next request gets a live connection
            assert session.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
            session.commit()
            assert act(session) is not None
    finally:
        engine.dispose()
