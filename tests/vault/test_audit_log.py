"""The transparency log in the database (SQLite and PostgreSQL) and ``evault log``.

Tampering is done the way an attacker with database access would: plain SQL on the rows.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from signing.errors import LogVerificationError
from signing.transparency import (
    CopyLogProof,
    LogEvent,
    LogSigner,
    canonical_json,
    verify_consistency,
    verify_inclusion,
)
from vault.cli import build_app
from vault.errors import ConfigError, InvalidInput, LogCorrupted, NotFound
from vault.log.append import append_event
from vault.log.checkpoints import (
    checkpoint_if_due,
    copy_log_proof,
    latest_checkpoint,
    make_checkpoint,
)
from vault.log.keys import load_log_key, log_origin
from vault.log.proofs import (
    LogTreeCache,
    consistency_proof,
    entries,
    inclusion_proof,
    log_size,
    root_hash,
)
from vault.models.log import LogCheckpoint, LogEntry
from vault.settings import load_settings

T0 = dt.datetime(2025, 5, 1, 9, 0, 0, 250001, tzinfo=dt.UTC)
runner = CliRunner()


@pytest.fixture
def signer(tmp_path: Path) -> LogSigner:
    return load_log_key(load_settings(mode="demo", data_dir=tmp_path / "data"))


def fill(sessions: sessionmaker[Session], n: int, start: int = 0) -> None:
    with sessions() as s:
        for i in range(start, start + n):
            append_event(
                session=s,
                event_type="license.read" if i % 3 else "copy.issued",
                payload={"holder_bi": f"bi{i:05d}", "case": f"办件-{i}", "n": i},
                now=T0 + dt.timedelta(seconds=i),
            )
        s.commit()


def checkpoint(sessions: sessionmaker[Session], signer: LogSigner) -> LogCheckpoint:
    with sessions() as s:
        row = make_checkpoint(session=s, log_key=signer, now=T0)
        s.commit()
        return row


# --- Service ---------------------------------------------------------------------------------


def test_append_is_contiguous_and_rows_hold_canonical_leaves(
    sessions: sessionmaker[Session],
) -> None:
    fill(sessions, 7)
    with sessions() as s:
        rows = s.scalars(select(LogEntry).order_by(LogEntry.idx)).all()
        assert [r.idx for r in rows] == list(range(7))
        r = rows[4]
        assert r.payload == canonical_json({"holder_bi": "bi00004", "case": "办件-4", "n": 4})
        event = LogEvent(idx=4, time=r.created_at, event_type=r.event_type, payload={})
        assert r.created_at == T0 + dt.timedelta(seconds=4)
        assert event.time.tzinfo is not None
        page = entries(session=s, start=2, end=5)
        assert [e.event.idx for e in page] == [2, 3, 4]
        assert page[2].recorded_leaf_hash == r.leaf_hash == page[2].event.leaf_hash()
        assert log_size(session=s) == 7


def test_append_refuses_floats_and_bad_types(session: Session) -> None:
    with pytest.raises(InvalidInput, match="floats are not canonical"):
        append_event(session=session, event_type="license.read", payload={"x": 0.5})
    with pytest.raises(InvalidInput, match="event type 'Read'"):
        append_event(session=session, event_type="Read", payload={})


def test_proofs_from_the_database_verify(
    sessions: sessionmaker[Session], signer: LogSigner
) -> None:
    fill(sessions, 13)
    first = checkpoint(sessions, signer)
    fill(sessions, 9, start=13)
    second = checkpoint(sessions, signer)
    verifier = signer.verifier()
    cp1 = verifier.verify(first.signed_note).checkpoint
    cp2 = verifier.verify(second.signed_note).checkpoint
    assert (cp1.size, cp2.size) == (13, 22)
    cache = LogTreeCache()
    with sessions() as s:
        for use in (None, cache, cache):
            path = inclusion_proof(session=s, index=11, size=22, cache=use)
            leaf = s.get(LogEntry, 11)
            assert leaf is not None
            verify_inclusion(
                leaf_index=11,
                tree_size=22,
                leaf_hash=leaf.leaf_hash,
                inclusion_path=path,
                root_hash=cp2.root_hash,
            )
            verify_consistency(
                first=13,
                second=22,
                first_hash=cp1.root_hash,
                second_hash=cp2.root_hash,
                consistency_path=consistency_proof(session=s, first=13, second=22, cache=use),
            )
            assert root_hash(session=s, size=13, cache=use) == cp1.root_hash
        with pytest.raises(NotFound, match="the log has 22 entries, not 23"):
            inclusion_proof(session=s, index=3, size=23, cache=cache)
        with pytest.raises(NotFound, match="entry 5 is not in a tree of size 5"):
            inclusion_proof(session=s, index=5, size=5)


def test_cache_notices_a_rollback(sessions: sessionmaker[Session]) -> None:
    fill(sessions, 4)
    cache = LogTreeCache()
    with sessions() as s:
        append_event(session=s, event_type="license.read", payload={"n": 99}, now=T0)
        assert cache.tree(s).size == 5
        s.rollback()
    fill(sessions, 2, start=4)
    with sessions() as s:
        tree = cache.tree(s)
        assert tree.size == 6
        fresh = LogTreeCache().tree(s)
        assert tree.root() == fresh.root()


def test_concurrent_appends_stay_contiguous(sessions: sessionmaker[Session]) -> None:
    errors: list[BaseException] = []

    def worker(w: int) -> None:
        try:
            for i in range(15):
                with sessions() as s:
                    append_event(session=s, event_type="license.read", payload={"w": w, "i": i})
                    s.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with sessions() as s:
        idxs = s.scalars(select(LogEntry.idx).order_by(LogEntry.idx)).all()
        assert idxs == list(range(90))
        assert LogTreeCache().tree(s).size == 90
        for start in (0, 50):
            for e in entries(session=s, start=start, end=start + 50):
                assert e.event.leaf_hash() == e.recorded_leaf_hash


def test_checkpoint_refuses_to_sign_over_a_rewritten_history(
    sessions: sessionmaker[Session], signer: LogSigner
) -> None:
    fill(sessions, 6)
    checkpoint(sessions, signer)
    with sessions() as s, pytest.raises(LogCorrupted, match="checkpoint does not verify"):
        make_checkpoint(session=s, log_key=LogSigner.generate(signer.name))
    fill(sessions, 2, start=6)
    with sessions() as s:
        # rewrite entry 3 and fix its leaf hash, as a careful attacker would
        row = s.get(LogEntry, 3)
        assert row is not None
        forged = LogEvent(idx=3, time=row.created_at, event_type=row.event_type, payload={})
        row.payload, row.leaf_hash = forged.payload_bytes(), forged.leaf_hash()
        s.commit()
    with (
        sessions() as s,
        pytest.raises(LogCorrupted, match="no longer reproduces its checkpoint of size 6"),
    ):
        make_checkpoint(session=s, log_key=signer)
    with sessions() as s:
        s.execute(delete(LogEntry).where(LogEntry.idx == 5))
        s.commit()
    with (
        sessions() as s,
        pytest.raises(LogCorrupted, match="log entry 5 is missing \\(next is 6\\)"),
    ):
        make_checkpoint(session=s, log_key=signer)


def test_checkpoint_if_due(sessions: sessionmaker[Session], signer: LogSigner) -> None:
    fill(sessions, 3)
    with sessions() as s:
        first = checkpoint_if_due(
            session=s, log_key=signer, max_age=dt.timedelta(seconds=60), now=T0
        )
        s.commit()
    fill(sessions, 1, start=3)
    with sessions() as s:
        soon = T0 + dt.timedelta(seconds=30)
        same = checkpoint_if_due(
            session=s, log_key=signer, max_age=dt.timedelta(seconds=60), now=soon
        )
        assert same.id == first.id
        later = T0 + dt.timedelta(seconds=61)
        new = checkpoint_if_due(
            session=s, log_key=signer, max_age=dt.timedelta(seconds=60), now=later
        )
        assert (first.tree_size, new.tree_size) == (3, 4)
        s.commit()
        latest = latest_checkpoint(session=s)
        assert latest is not None and latest.id == new.id


def test_copy_log_proof_verifies_offline(
    sessions: sessionmaker[Session], signer: LogSigner
) -> None:
    fill(sessions, 10)
    with sessions() as s:
        proof = copy_log_proof(session=s, index=9, log_key=signer)
        s.commit()
    carried = CopyLogProof.from_json(proof.to_json())
    verified = carried.verify(signer.verifier(), origin=signer.name)
    assert verified.event.payload["holder_bi"] == "bi00009"
    assert verified.checkpoint.checkpoint.size == 10
    with pytest.raises(LogVerificationError, match="no signature by the log key"):
        carried.verify(LogSigner.generate(signer.name).verifier())
    with sessions() as s:
        _edit_payload_at(s, 4)
        s.commit()
    with sessions() as s, pytest.raises(LogCorrupted, match="entry 4 does not match its recorded"):
        copy_log_proof(session=s, index=4, log_key=signer)


def test_log_key_settings(tmp_path: Path) -> None:
    demo = load_settings(mode="demo", data_dir=tmp_path)
    key = load_log_key(demo)
    assert (tmp_path / "log_key.pem").stat().st_mode & 0o777 == 0o600
    assert load_log_key(demo).verifier().vkey() == key.verifier().vkey()
    assert log_origin(demo) == "127.0.0.1:8000/log" == key.name
    prod = load_settings(mode="production", data_dir=tmp_path)
    with pytest.raises(ConfigError, match="EVAULT_LOG_KEY is not set"):
        load_log_key(prod)
    with pytest.raises(ConfigError, match="EVAULT_LOG_KEY is not set"):
        prod.check_production()
    given = load_settings(mode="production", log_key=tmp_path / "log_key.pem")
    assert load_log_key(given).verifier().vkey() == key.verifier().vkey()
    (tmp_path / "bad.pem").write_text("nope")
    with pytest.raises(ConfigError, match="not a readable PEM private key"):
        load_log_key(load_settings(mode="production", log_key=tmp_path / "bad.pem"))


# --- evault log export / verify --------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path: Path, db_url: str) -> dict[str, str]:
    return {
        "EVAULT_MODE": "demo",
        "EVAULT_DATA_DIR": str(tmp_path / "data"),
        "EVAULT_DATABASE_URL": db_url,
    }


def export_and_verify(
    env: dict[str, str], out: Path, *extra: str, checkpoints: tuple[Path, ...] = ()
) -> tuple[int, str]:
    exported = runner.invoke(build_app(), ["log", "export", "--out", str(out)], env=env)
    assert exported.exit_code == 0, exported.output
    args = ["log", "verify", "--entries", str(out), "--log-key", str(out / "log-key.vkey")]
    for cp in (out / "checkpoint.txt", *checkpoints):
        args += ["--checkpoint", str(cp)]
    result = runner.invoke(build_app(), [*args, *extra], env=env)
    return result.exit_code, result.output


@pytest.fixture
def logged(
    sessions: sessionmaker[Session], signer: LogSigner, cli_env: dict[str, str]
) -> sessionmaker[Session]:
    """30 entries with checkpoints at 8, 20 and 30 (signed by the demo key in data_dir)."""
    fill(sessions, 8)
    checkpoint(sessions, signer)
    fill(sessions, 12, start=8)
    checkpoint(sessions, signer)
    fill(sessions, 10, start=20)
    checkpoint(sessions, signer)
    return sessions


def test_untouched_log_verifies(
    logged: sessionmaker[Session], cli_env: dict[str, str], tmp_path: Path
) -> None:
    code, output = export_and_verify(cli_env, tmp_path / "export")
    assert code == 0, output
    assert "log verified: 30 entries re-hashed; checkpoints of size 8, 20, 30" in output
    assert (tmp_path / "export" / "log-key.pem").read_bytes().startswith(b"-----BEGIN PUBLIC")
    code, output = export_and_verify(cli_env, tmp_path / "again", "--json")
    assert code == 0 and '"first_bad_index": null' in output


def _edit_payload_at(s: Session, idx: int) -> None:
    s.execute(update(LogEntry).where(LogEntry.idx == idx).values(payload=b'{"n":13}'))


def _edit_payload(s: Session) -> None:
    _edit_payload_at(s, 13)


def _edit_payload_and_hash(s: Session) -> None:
    row = s.get(LogEntry, 13)
    assert row is not None
    forged = LogEvent(idx=13, time=row.created_at, event_type="license.read", payload={"n": 1})
    row.payload, row.leaf_hash, row.event_type = (
        forged.payload_bytes(),
        forged.leaf_hash(),
        "license.read",
    )


def _edit_time(s: Session) -> None:
    s.execute(update(LogEntry).where(LogEntry.idx == 13).values(created_at=T0))


def _delete(s: Session) -> None:
    s.execute(delete(LogEntry).where(LogEntry.idx == 13))


def _reorder(s: Session) -> None:
    s.execute(update(LogEntry).where(LogEntry.idx == 13).values(idx=-1))
    s.execute(update(LogEntry).where(LogEntry.idx == 14).values(idx=13))
    s.execute(update(LogEntry).where(LogEntry.idx == -1).values(idx=14))


def _truncate_tail(s: Session) -> None:
    s.execute(delete(LogEntry).where(LogEntry.idx >= 27))


def _unreadable(s: Session) -> None:
    s.execute(update(LogEntry).where(LogEntry.idx == 13).values(payload=b"\xff garbage"))


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (_edit_payload, "entry 13 was altered: its content does not give its recorded leaf hash"),
        (
            _edit_payload_and_hash,
            "entries 8..19 do not reproduce the signed root of the checkpoint of size 20",
        ),
        (_edit_time, "entry 13 was altered"),
        (_delete, "entry 13 is missing (next is 14)"),
        (_reorder, "entry 13 was altered"),
        (_truncate_tail, "entry 27 is missing: a signed checkpoint covers 30 entries"),
        (_unreadable, "entry 13 is unreadable"),
    ],
    ids=["payload", "payload+hash", "time", "delete", "reorder", "truncate", "unreadable"],
)
def test_tampered_rows_are_detected(
    logged: sessionmaker[Session],
    cli_env: dict[str, str],
    tmp_path: Path,
    tamper: object,
    message: str,
) -> None:
    with logged() as s:
        tamper(s)  # type: ignore[operator]
        s.commit()
    code, output = export_and_verify(cli_env, tmp_path / "export")
    assert code == 1
    assert output.startswith("evault: log verification failed: ")
    assert message in output
    assert len(output.strip().splitlines()) == 1


def test_forged_checkpoint_row_is_detected(
    logged: sessionmaker[Session], cli_env: dict[str, str], tmp_path: Path
) -> None:
    with logged() as s:
        row = s.scalars(select(LogCheckpoint).where(LogCheckpoint.tree_size == 20)).one()
        row.signed_note = row.signed_note.replace("\n20\n", "\n19\n", 1)
        s.commit()
    code, output = export_and_verify(cli_env, tmp_path / "export")
    assert code == 1
    assert "is forged or broken: checkpoint signature of 127.0.0.1:8000/log is invalid" in output


def test_rewritten_history_fails_against_an_auditors_saved_checkpoint(
    logged: sessionmaker[Session], cli_env: dict[str, str], tmp_path: Path
) -> None:
    """The attacker drops the checkpoints and rewrites an entry: the auditor's copy catches it."""
    saved = tmp_path / "saved-20.txt"
    with logged() as s:
        row = s.scalars(select(LogCheckpoint).where(LogCheckpoint.tree_size == 20)).one()
        saved.write_text(row.signed_note, encoding="utf-8")
        s.execute(delete(LogCheckpoint))
        _edit_payload_and_hash(s)
        s.commit()
    out = tmp_path / "export"
    exported = runner.invoke(build_app(), ["log", "export", "--out", str(out)], env=cli_env)
    assert exported.exit_code == 0, exported.output
    args = ["log", "verify", "--entries", str(out), "--log-key", str(out / "log-key.pem")]
    result = runner.invoke(build_app(), [*args, "--checkpoint", str(saved)], env=cli_env)
    assert result.exit_code == 1
    assert "entries 0..19 do not reproduce the signed root of the checkpoint of size 20" in (
        result.output
    )


def test_verify_usage_errors(tmp_path: Path) -> None:
    result = runner.invoke(build_app(), ["log", "verify", "--log-key", "nonsense"])
    assert result.exit_code == 2
    assert "--log-key nonsense: a log vkey is <name>+<hex key hash>+<base64 key>" in result.output
    vkey = LogSigner.generate("x.log").verifier().vkey()
    result = runner.invoke(build_app(), ["log", "verify", "--log-key", vkey])
    assert result.exit_code == 2
    assert "no checkpoint to verify against" in result.output


# --- evault log verify --url (a stand-in for the API, in the shapes of docs/audit.md) ------


@pytest.fixture
def log_server(logged: sessionmaker[Session]) -> Iterator[str]:
    """Serves /v1/log/checkpoint (public) and /v1/log/entries (token) from the database."""
    import json
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs, urlsplit

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path != "/v1/log/checkpoint" and (
                self.headers.get("Authorization") != "Bearer t0ken"
            ):
                self.send_response(401)
                self.end_headers()
                return
            with logged() as s:
                if parts.path == "/v1/log/checkpoint":
                    cp = latest_checkpoint(session=s)
                    assert cp is not None
                    body, kind = cp.signed_note.encode(), "text/plain; charset=utf-8"
                elif parts.path == "/v1/log/entries":
                    q = parse_qs(parts.query)
                    start, end = int(q["start"][0]), int(q["end"][0])
                    page = entries(session=s, start=start, end=min(end, start + 7))
                    doc = {"entries": [e.to_json() for e in page], "size": log_size(session=s)}
                    body, kind = json.dumps(doc).encode(), "application/json"
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_verify_against_a_server(
    log_server: str, logged: sessionmaker[Session], signer: LogSigner, tmp_path: Path
) -> None:
    vkey = signer.verifier().vkey()
    args = ["log", "verify", "--url", log_server, "--log-key", vkey, "--token", "t0ken"]
    result = runner.invoke(build_app(), args)
    assert result.exit_code == 0, result.output
    assert "log verified: 30 entries re-hashed; checkpoints of size 30" in result.output
    with logged() as s:
        _edit_payload(s)
        s.commit()
    result = runner.invoke(build_app(), args)
    assert result.exit_code == 1
    assert "entry 13 was altered" in result.output
    result = runner.invoke(build_app(), args[:-2])
    assert result.exit_code == 1
    assert "/v1/log/entries?start=0&end=30: HTTP 401" in result.output


def test_the_demo_keeps_its_first_log_origin(tmp_path: Path) -> None:
    """A checkpoint names its origin and the next must name the same: the demo served again
    on another port keeps its log's origin (it signed nothing before this fix)."""
    from vault.log.keys import log_origin
    from vault.settings import load_settings

    first = load_settings(mode="demo", data_dir=tmp_path, public_base_url="http://a.test:8000")
    again = load_settings(mode="demo", data_dir=tmp_path, public_base_url="http://b.test:9000")
    assert log_origin(first) == "a.test:8000/log"
    assert log_origin(again) == "a.test:8000/log"
    named = load_settings(mode="demo", data_dir=tmp_path, log_origin="vault.example/log")
    assert log_origin(named) == "vault.example/log"
