"""Fixtures for fault tests: an API whose storage can be taken away and given back.

Each fault is real at the OS or network level: the S3 API server (moto, on loopback) is
stopped, its port closed, then started again on the same port; the local blob folder is a
tiny tmpfs that is filled to the last byte. Nothing of ours is mocked.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.api.conftest import Api, _make_api
from tests.conftest import free_port
from tests.vault.conftest import sqlite_template  # noqa: F401

#: Tables whose rows an acknowledged write leaves and a refused one must not.
WRITTEN_TABLES = ("licenses", "license_versions", "log_entries", "certified_copies")


def row_counts(api: Api) -> dict[str, int]:
    """How many rows each table an intake or a copy writes holds now."""
    with api.ctx.engine.connect() as conn:
        return {
            t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in WRITTEN_TABLES
        }


class RestartableS3:
    """A moto S3 server on a fixed loopback port that can go away and come back.

    ``stop`` closes the listening socket (connections are refused at once, as when the
    store's host is down); ``start`` listens on the same port again. moto keeps its
    buckets in this process, so what was stored before the outage is there after it.
    """

    def __init__(self) -> None:
        self._server: Any = None
        self.port = 0

    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        server.start()
        self.port = server.get_host_and_port()[1]
        self._server = server

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.stop()
        self._server._server.server_close()  # shutdown() alone leaves the socket listening
        self._server = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"


@pytest.fixture
def s3_server() -> Iterator[RestartableS3]:
    server = RestartableS3()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_api(
    sqlite_template: Path,  # noqa: F811
    s3_server: RestartableS3,
    tmp_path: Path,
) -> Iterator[Api]:
    """The API on SQLite with its blobs in a bucket of ``s3_server`` (settings: blob_backend=s3)."""
    target = tmp_path / "evault.db"
    shutil.copyfile(sqlite_template, target)
    s3 = {
        "blob_backend": "s3",
        "s3_endpoint": s3_server.endpoint,
        "s3_access_key": "testing",
        "s3_secret_key": "testing",  # moto accepts any credentials
        "s3_bucket": f"evault-{os.urandom(4).hex()}",
        "s3_secure": False,
        "s3_region": "us-east-1",
    }
    with _make_api(f"sqlite:///{target}", tmp_path, **s3) as state:
        yield state


@dataclass
class TinyDisk:
    """A 1 MiB tmpfs mounted on ``root``; :meth:`fill` takes its last free byte."""

    root: Path
    filler: Path

    def fill(self) -> None:
        with self.filler.open("ab") as out:
            chunk = b"\0" * 65536
            while True:
                try:
                    out.write(chunk)
                    out.flush()
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
        # small writes can still fit in the last partial page: take it too
        with contextlib.suppress(OSError), self.filler.open("ab", buffering=0) as out:
            while out.write(b"\0") == 1:
                pass

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[TinyDisk]:
    """A real, tiny filesystem (root only: mount); skipped where it cannot be mounted."""
    root = tmp_path / "data" / "blobs"
    root.mkdir(parents=True)
    mount = shutil.which("mount")
    if os.geteuid() != 0 or mount is None:
        pytest.skip("a tiny filesystem needs root and mount(8)")
    made = subprocess.run(
        [mount, "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(root)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
    try:
        yield TinyDisk(root, root / "filler")
    finally:
        subprocess.run(["umount", "-l", str(root)], check=False, timeout=30)


# -- a PostgreSQL server of the test's own ------------------------------------------------------
def _pg_bin() -> Path:
    """Where Debian puts the server's programs (the newest installed version), or
    ``EVAULT_PG_BIN``."""
    given = os.environ.get("EVAULT_PG_BIN")
    if given:
        return Path(given)
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return versions[-1].parent if versions else Path("/usr/lib/postgresql/15/bin")


PG_BIN = _pg_bin()
#: Seconds a cluster may take to start, stop or restart.
PG_TIMEOUT = 120


class PrivatePostgres:
    """A PostgreSQL cluster of one test: ``initdb`` in a fresh directory, ``pg_ctl`` to start,
    restart (``-m immediate``: the server is killed, every connection cut, as in a crash)
    and stop it. Never the shared server on 5432, which other tests use.

    PostgreSQL refuses to run as root: as root (CI), the programs run as the ``postgres``
    user, in a directory that user owns.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        self._user: str | None = None
        self._options = ""
        if os.geteuid() == 0:
            import pwd

            try:
                pwd.getpwnam("postgres")
            except KeyError:
                pytest.fail("running as root needs a 'postgres' user to run the server")
            self._user = "postgres"
            shutil.chown(root, user="postgres")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        done = subprocess.run(
            [str(PG_BIN / args[0]), *args[1:]],
            user=self._user,
            capture_output=True,
            text=True,
            timeout=PG_TIMEOUT,
            check=False,
            cwd=self.root,
        )
        if done.returncode != 0:
            server_log = self.root / "server.log"
            log = server_log.read_text(errors="replace")[-2000:] if server_log.exists() else ""
            pytest.fail(f"{args[0]} {args[1:]} failed: {done.stderr.strip()}\n{log}")

    def init(self) -> None:
        self._run(
            "initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
            "--no-sync", "-E", "UTF8", "--locale=C",
        )  # fmt: skip
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' "
            "-c fsync=off -c max_connections=60"
        )
        self._options = options

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"),
                  "-o", self._options, "-w", "-t", str(PG_TIMEOUT), "start")  # fmt: skip

    def kill(self) -> None:
        """Stop the server at once: every connection is cut, nothing is shut down cleanly."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def restart(self) -> None:
        """:meth:`kill` the server and start it again on the same port."""
        self.kill()
        self.start()

    def stop(self) -> None:
        subprocess.run(
            [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"],
            user=self._user,
            capture_output=True,
            timeout=PG_TIMEOUT,
            check=False,
        )


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """A running PostgreSQL cluster of this test's own (skipped, outside CI, where the
    server's programs are not installed)."""
    import tempfile

    if not (PG_BIN / "initdb").is_file() or not (PG_BIN / "pg_ctl").is_file():
        reason = f"PostgreSQL's initdb and pg_ctl are not in {PG_BIN} (apt-get install postgresql)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    # not under pytest's tmp_path: its parents are private to root, and the server runs as
    # the postgres user
    root = Path(tempfile.mkdtemp(prefix="evault-pg-"))
    cluster = PrivatePostgres(root)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
