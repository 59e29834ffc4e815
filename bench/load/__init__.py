"""Service load: ``evault serve`` on PostgreSQL (2 workers) under wrk, on loopback.

One run prepares the demo dataset (``evault demo --no-serve``) in a fresh PostgreSQL
database ``evault_load``, starts ``evault serve --workers 2``, gets a token for the demo's
using department (住房和城乡建设局, standing permission for two license types) and drives

- the read path: ``POST /v1/licenses/search`` and ``GET /v1/licenses/{id}``, alternating;
- the copy path: ``POST /v1/licenses/{id}/copies``, each with a new case number, so every
  request makes and seals a new certified copy (no reuse).

wrk (Debian package ``wrk``) is closed-loop: N connections each send the next request as
soon as the answer arrives, so the figures are the throughput the service sustains and the
latency at that throughput. Every request is logged by the vault as in production (access
log and transparency log); only the per-client rate limit is raised, since one client
sends all the load. The harness's ``rounds`` is the duration of each path in seconds
(at least 2, at most 60). Everything runs on this one machine: wrk, both workers and
PostgreSQL share its cores.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import Row, Stats

__all__ = [
    "READ_TARGET_P99_MS",
    "READ_TARGET_RPS",
    "LoadResult",
    "LoadServer",
    "export_baseline",
    "requests_split",
    "run",
    "serve",
    "worker_split",
]

ROOT = Path(__file__).resolve().parents[2]
LUA = Path(__file__).resolve().with_name("paths.lua")
DEFAULT_DATA = ROOT / "var" / "bench" / "load"
#: The benchmark's database (a prefix with ``--baseline``): ``EVAULT_LOAD_DATABASE`` names
#: another, so that two checkouts benchmarking at once on one PostgreSQL do not share one.
DATABASE = os.environ.get("EVAULT_LOAD_DATABASE", "evault_load")
READ_TARGET_RPS = 300
READ_TARGET_P99_MS = 50.0


@dataclass(frozen=True)
class LoadResult:
    """One wrk run: requests, errors of every kind, throughput and latency percentiles."""

    path: str
    connections: int
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    first_error: str | None = None  # status and body of the first 4xx/5xx answer
    #: CPU time (user + system) the server's processes spent per request, in ms: what the
    #: service costs whatever else runs on the machine (PostgreSQL's share not included).
    server_cpu_ms: float = 0.0
    #: The same for PostgreSQL: the backends of the benchmark's database and the server's
    #: shared writers (see :func:`_postgres_cpu_seconds`).
    db_cpu_ms: float = 0.0
    load_average: float = 0.0  # the 1-minute load average when the run started
    #: Share of the run's CPU time the hypervisor gave to other guests (/proc/stat
    #: "steal", in %): a shared VM's cores are not always ours.
    steal_percent: float = 0.0
    #: Each worker process's share of the server's CPU time in the run, in %: wrk's
    #: connections are persistent, and each stays with the worker that accepted it, so
    #: an uneven split (e.g. 3 of 4 connections on one worker) shows here and in the p99.
    worker_shares: tuple[float, ...] = ()
    #: Answers by worker, as wrk counted them by their ``X-Evault-Worker`` header
    #: (``evault serve --worker-header``; empty for code without it), largest first.
    worker_requests: tuple[int, ...] = ()

    def with_run(self, **figures: object) -> LoadResult:
        """This result with figures of the whole run (load, steal, the workers' split)."""
        return dataclasses.replace(self, **figures)  # type: ignore[arg-type]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _evault() -> str:
    local = ROOT / ".venv" / "bin" / "evault"
    found = str(local) if local.exists() else shutil.which("evault")
    if not found:
        raise RuntimeError("the evault console script is not installed (pip install -e .)")
    return found


def _command(source: Path | None) -> list[str]:
    """The ``evault`` command: this tree's, or the tree exported at ``source`` (a baseline)."""
    if source is None:
        return [_evault()]
    python = str(ROOT / ".venv" / "bin" / "python")
    return [python if Path(python).exists() else "python3", "-c", _BASELINE_MAIN]


#: ``evault`` from the tree on PYTHONPATH, run in that tree (it comes before the editable
#: install's; the current directory, first on ``sys.path``, would not).
_BASELINE_MAIN = (
    "import os, sys, api.cli; sys.argv[0] = 'evault'; "
    "assert api.cli.__file__.startswith(os.environ['PYTHONPATH']), api.cli.__file__; "
    "api.cli.main()"
)


def export_baseline(ref: str, into: Path = ROOT / "var" / "bench") -> tuple[Path, str]:
    """Export commit ``ref`` (e.g. ``main``) of this repository to a directory: the code the
    load benchmark runs as its baseline, beside this tree's. Returns the directory and the
    commit."""
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--verify", f"{ref}^{{commit}}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    target = into / f"baseline-{commit[:12]}"
    if not (target / "api" / "cli.py").exists():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", commit], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target, commit


def _http(method: str, url: str, *, data: bytes | None = None, headers: dict[str, str]) -> object:
    return _http_answer(method, url, data=data, headers=headers)[0]


def _http_answer(
    method: str, url: str, *, data: bytes | None = None, headers: dict[str, str]
) -> tuple[object, str | None]:
    """The decoded JSON answer and the worker that gave it (``X-Evault-Worker``, if named)."""
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read()), resp.headers.get("x-evault-worker")


class LoadServer:
    """A running ``evault serve`` with a demo dataset and a department token."""

    def __init__(
        self,
        base_url: str,
        token: str,
        holders: list[str],
        license_ids: list[str],
        pid: int,
        database: str = DATABASE,
    ):
        self.pid = pid
        self.database = database
        self.base_url = base_url
        self.token = token
        self.holders = holders
        self.license_ids = license_ids

    def cpu_seconds(self) -> float:
        """User + system CPU seconds of the server process and its workers so far."""
        return _cpu(self.pid) + sum(self.worker_cpu_seconds().values())

    def worker_cpu_seconds(self) -> dict[int, float]:
        """CPU seconds so far of each worker process, with the processes it started
        (its verification workers), by the worker's pid."""
        parents = _parents()
        workers = [pid for pid, ppid in parents.items() if ppid == self.pid]
        return {w: sum(_cpu(pid) for pid in _tree(w, parents)) for w in workers}

    def _call(self, method: str, path: str, body: dict[str, str] | None = None) -> str | None:
        """Call the API as the department; the worker that answered (if answers name it)."""
        return _http_answer(
            method,
            f"{self.base_url}{path}",
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )[1]

    def warm_up(self, *, concurrency: int = 4, workers: int = 0, timeout: float = 60) -> None:
        """Send reads and copies a few at once, so the workers load their code and keys.

        With ``workers`` (answers naming their worker), go on until each of that many
        workers has answered a read and a copy: a worker that has not yet, busy loading
        at a run's start, would leave its share of the run's connections to the others.
        """
        from concurrent.futures import ThreadPoolExecutor

        def one(k: int) -> tuple[str | None, str | None]:
            lid = self.license_ids[k % len(self.license_ids)]
            query = f"purpose=warm%20up&case_no=WARM-{k}"
            read_by = self._call("GET", f"/v1/licenses/{lid}?{query}")
            body = {"purpose": "warm up", "case_no": f"WARM-{k}"}
            return read_by, self._call("POST", f"/v1/licenses/{lid}/copies", body)

        read_by: set[str | None] = set()
        copy_by: set[str | None] = set()
        deadline = time.monotonic() + timeout
        done = 0
        while True:
            with ThreadPoolExecutor(concurrency) as pool:
                for reader, copier in pool.map(one, range(done, done + concurrency)):
                    read_by.add(reader)
                    copy_by.add(copier)
            done += concurrency
            warm = min(len(read_by - {None}), len(copy_by - {None})) >= workers
            if warm or time.monotonic() > deadline:
                return

    def wrk(self, path: str, *, seconds: int, connections: int, threads: int = 2) -> LoadResult:
        """Drive ``path`` ("read" or "copy") for ``seconds`` with wrk."""
        return self.wrk_together([(path, connections)], seconds=seconds, threads=threads)[0]

    def wrk_together(
        self, paths: list[tuple[str, int]], *, seconds: int, threads: int = 2
    ) -> list[LoadResult]:
        """Drive several paths at once, one wrk each (``[("read", 8), ("copy", 2)]``).

        The server's and the database's CPU and the workers' split are those of the whole
        run: with several paths, CPU per request is over all their requests together.
        """
        wrk = shutil.which("wrk")
        if wrk is None:
            raise RuntimeError("wrk is not installed (Debian: apt-get install wrk)")
        load_average = os.getloadavg()[0]
        supervisor_before = _cpu(self.pid)
        workers_before = self.worker_cpu_seconds()
        db_before = _postgres_cpu_seconds(self.database)
        stat_before = _cpu_times()
        running = [
            subprocess.Popen(
                self._wrk_command(wrk, path, seconds, connections, threads),
                env=self._wrk_env(path),
                stdout=subprocess.PIPE,
                text=True,
            )
            for path, connections in paths
        ]
        outputs = [proc.communicate(timeout=seconds + 60)[0] for proc in running]
        for proc in running:
            if proc.returncode:
                raise RuntimeError(f"wrk exited with {proc.returncode}")
        workers = {
            pid: seconds - workers_before.get(pid, 0.0)
            for pid, seconds in self.worker_cpu_seconds().items()
        }
        cpu = _cpu(self.pid) - supervisor_before + sum(workers.values())
        db_cpu = _postgres_cpu_seconds(self.database) - db_before
        shared = {
            "load_average": load_average,
            "steal_percent": _steal_percent(stat_before, _cpu_times()),
            "worker_shares": _shares(workers),
        }
        parsed = [_parse_wrk(out) for out in outputs]
        total = max(1, sum(int(d["requests"]) for d, _ in parsed))
        return [
            _result(
                path, connections, d, first_error, cpu * 1000 / total, db_cpu * 1000 / total
            ).with_run(**shared)
            for (path, connections), (d, first_error) in zip(paths, parsed, strict=True)
        ]

    def _wrk_command(
        self, wrk: str, path: str, seconds: int, connections: int, threads: int
    ) -> list[str]:
        return [
            wrk,
            f"-t{min(threads, connections)}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(LUA),
            self.base_url,
        ]

    def _wrk_env(self, path: str) -> dict[str, str]:
        return dict(
            os.environ,
            EVAULT_LOAD_TOKEN=self.token,
            EVAULT_LOAD_MODE=path,
            EVAULT_LOAD_HOLDERS=",".join(self.holders),
            EVAULT_LOAD_IDS=",".join(str(i) for i in self.license_ids),
        )


def _parse_wrk(stdout: str) -> tuple[dict[str, Any], str | None]:
    """wrk's JSON line (paths.lua's ``done``) and the first error answer it printed."""
    lines = stdout.splitlines()
    line = [ln for ln in lines if ln.startswith("{")][-1]
    first_error = next(
        (ln[len("first error: ") :] for ln in lines if ln.startswith("first error: ")), None
    )
    return json.loads(line), first_error


def _result(
    path: str,
    connections: int,
    d: dict[str, Any],
    first_error: str | None,
    server_cpu_ms: float,
    db_cpu_ms: float,
) -> LoadResult:
    errors = sum(int(d[k]) for k in ("connect", "read", "write", "status", "timeout"))
    return LoadResult(
        path=path,
        connections=connections,
        requests=int(d["requests"]),
        seconds=float(d["seconds"]),
        errors=errors,
        p50_ms=float(d["p50_ms"]),
        p95_ms=float(d["p95_ms"]),
        p99_ms=float(d["p99_ms"]),
        max_ms=float(d["max_ms"]),
        first_error=first_error,
        worker_requests=tuple(sorted(d.get("workers", {}).values(), reverse=True)),
        server_cpu_ms=server_cpu_ms,
        db_cpu_ms=db_cpu_ms,
    )


def _parents() -> dict[int, int]:
    """Every process's parent (Linux /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return parents


def _tree(root: int, parents: dict[int, int] | None = None) -> list[int]:
    """``root`` and every process descended from it."""
    parents = _parents() if parents is None else parents
    found, frontier = [root], [root]
    while frontier:
        children = [pid for pid, ppid in parents.items() if ppid in frontier]
        found += children
        frontier = children
    return found


def _shares(seconds: dict[int, float]) -> tuple[float, ...]:
    """The busy workers' shares of their summed CPU time, in %, largest first.

    Workers that used (almost) nothing (no connection reached them) are left out.
    """
    busy = [v for v in seconds.values() if v > 0.05]
    total = sum(busy)
    return tuple(sorted((100.0 * v / total for v in busy), reverse=True)) if total else ()


def _cpu_times() -> list[int]:
    """The machine's CPU time counters (the "cpu" line of /proc/stat, in ticks)."""
    with open("/proc/stat", encoding="ascii") as fh:
        return [int(v) for v in fh.readline().split()[1:]]


def _steal_percent(before: list[int], after: list[int]) -> float:
    """Steal time (the 8th counter) as a share of all CPU time between two readings."""
    deltas = [b - a for a, b in zip(before, after, strict=True)]
    # guest and guest_nice (9th, 10th) are already counted in user and nice
    total = sum(deltas[:8])
    return 100.0 * deltas[7] / total if total > 0 and len(deltas) >= 8 else 0.0


#: PostgreSQL's shared background processes that work for every database's writes.
_PG_SHARED = ("walwriter", "checkpointer", "background writer")


def _postgres_cpu_seconds(database: str = DATABASE) -> float:
    """CPU seconds (user + system) so far of PostgreSQL's backends serving ``database``
    and of its shared writers (WAL writer, checkpointer, background writer), from /proc.

    Other databases' backends (a test suite running beside the benchmark) are left out.
    Backends that exit during a run take their time with them: the service keeps its
    connections pooled, so the figure covers them.
    """
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() != "postgres":
                    continue
                title = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if f" {database} " in title or any(name in title for name in _PG_SHARED):
                total += _cpu(int(entry.name))
    return total


def _cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _recreate_database(database: str) -> str:
    from bench.scale import base_conninfo
    from bench.scale.fill import create_database, sqlalchemy_url

    create_database(base_conninfo(), database)
    return sqlalchemy_url(base_conninfo(), database)


@contextmanager
def serve(
    *,
    workers: int = 2,
    data_dir: Path = DEFAULT_DATA,
    database: str = DATABASE,
    drop_after: bool = False,
    source: Path | None = None,
    server: str = "uvicorn",
) -> Iterator[LoadServer]:
    """Prepare the demo dataset on PostgreSQL, serve it, yield a warmed-up :class:`LoadServer`.

    The database is created afresh; ``drop_after`` drops it when the server has stopped.
    ``source``: run the code exported there (:func:`export_baseline`) instead of this tree's.
    ``server``: uvicorn (a shared socket, connections balanced), no-balance (shared, not
    balanced), reuseport (uvicorn, a socket per worker) or granian (this tree's code only).
    This tree's uvicorn names the answering worker in each answer (``--worker-header``),
    and wrk counts the answers by worker.
    """
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    data_dir.mkdir(parents=True, exist_ok=True)
    env = dict(
        os.environ,
        EVAULT_MODE="demo",
        EVAULT_DATA_DIR=str(data_dir),
        EVAULT_DATABASE_URL=_recreate_database(database),
        EVAULT_PUBLIC_BASE_URL=base_url,
        EVAULT_RATE_LIMIT_PER_MINUTE="100000000",
        EVAULT_RATE_LIMIT_BURST="1000000",
        EVAULT_TOKEN_TTL_SECONDS="3600",
    )
    if source is not None:
        env["PYTHONPATH"] = str(source)
    evault = _command(source)
    subprocess.run(
        [*evault, "demo", "--no-serve", "--data", str(data_dir), "--port", str(port)],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
        cwd=source,
    )
    creds = json.loads((data_dir / "demo-credentials.json").read_text(encoding="utf-8"))
    log = (data_dir / "serve.log").open("wb")
    tagged = source is None and server != "granian"
    args = _server_args(server) + (["--worker-header"] if tagged else [])
    proc = subprocess.Popen(
        [*evault, "serve", "--workers", str(workers), "--port", str(port), *args],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=source,
    )
    try:
        _wait_ready(base_url, proc)
        if tagged:
            _wait_workers(base_url, workers)
        # The demo's using department with standing permissions (住房和城乡建设局).
        department = next(
            d for d in creds["departments"] if "user" in d["roles"] and d["standing_permissions"]
        )
        form = urllib.parse.urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": department["client_id"],
                "client_secret": department["client_secret"],
            }
        ).encode()
        answer = _http(
            "POST",
            f"{base_url}/v1/oauth/token",
            data=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert isinstance(answer, dict)
        token = str(answer["access_token"])
        holders: list[str] = []
        ids: list[str] = []
        for holder in creds["holders"]:
            body = json.dumps(
                {"holder_id": holder["holder_id"], "purpose": "load test", "case_no": "LOAD-0"}
            ).encode()
            try:
                found = _http(
                    "POST",
                    f"{base_url}/v1/licenses/search",
                    data=body,
                    headers={
                        "Authorization": f"Bearer {token}",
                        "Content-Type": "application/json",
                    },
                )
            except urllib.error.HTTPError as exc:
                if exc.code == 403:  # nothing this department may use
                    continue
                raise
            assert isinstance(found, dict)
            holders.append(str(holder["holder_id"]))
            ids.extend(str(lic["id"]) for lic in found["licenses"])
        if not ids:
            raise RuntimeError("the demo dataset shows the using department no license")
        server = LoadServer(base_url, token, holders, ids, proc.pid, database)
        server.warm_up(workers=workers if tagged else 0)
        yield server
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
        if drop_after:
            from bench.scale import base_conninfo
            from bench.scale.fill import drop_database

            drop_database(base_conninfo(), database)


def _server_args(server: str) -> list[str]:
    """``evault serve``'s options for a server kind of :func:`serve`."""
    kinds = {"uvicorn": [], "reuseport": ["--reuseport"], "no-balance": ["--no-balance"]}
    return kinds.get(server, ["--server", server])


def _wait_workers(base_url: str, workers: int, timeout: float = 120) -> None:
    """Until every worker has answered (one that has not started yet takes no connection,
    so a run begun earlier would put every connection on those that have)."""
    deadline = time.monotonic() + timeout
    seen: set[str] = set()
    while len(seen) < workers:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only workers {sorted(seen)} of {workers} answered in time")
        with urllib.request.urlopen(f"{base_url}/healthz", timeout=10) as resp:
            seen.add(str(resp.headers.get("x-evault-worker")))
        time.sleep(0.1)


def _wait_ready(base_url: str, proc: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"evault serve exited with {proc.returncode} (see serve.log)")
        try:
            with urllib.request.urlopen(f"{base_url}/readyz", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError("evault serve did not become ready in time")


def _row(result: LoadResult, operation: str, target: str) -> Row:
    verdict = (
        f"{result.rps:.0f} req/s, p99 {result.p99_ms:.0f} ms, {result.errors} errors, "
        f"server CPU {result.server_cpu_ms:.1f} ms/request, "
        f"database {result.db_cpu_ms:.1f} ms/request, steal {result.steal_percent:.0f}%, "
        f"workers' CPU split {worker_split(result)}, answers by worker "
        f"{requests_split(result)}"
    )
    return Row(
        operation=f"{operation} ({result.connections} connections, {result.requests} requests)",
        ours=Stats(result.p50_ms, result.p95_ms, result.requests),
        target=f"{target}: {verdict}",
    )


def worker_split(result: LoadResult) -> str:
    """The workers' CPU shares as ``50/50`` (``?`` when none was busy)."""
    return "/".join(f"{share:.0f}" for share in result.worker_shares) or "?"


def requests_split(result: LoadResult) -> str:
    """The answers by worker as ``5012/4988 (50/50)`` (``?`` when not counted)."""
    counts = result.worker_requests
    if not counts:
        return "?"
    total = sum(counts)
    shares = "/".join(f"{100 * n / total:.0f}" for n in counts)
    return f"{'/'.join(str(n) for n in counts)} ({shares})"


def read_row(result: LoadResult) -> Row:
    ok = result.rps >= READ_TARGET_RPS and result.p99_ms < READ_TARGET_P99_MS and result.errors == 0
    target = (
        f"≥{READ_TARGET_RPS} req/s, p99 <{READ_TARGET_P99_MS:.0f} ms ({'met' if ok else 'NOT met'})"
    )
    return _row(result, "load: read path, search + get metadata", target)


def copy_row(result: LoadResult) -> Row:
    return _row(result, "load: copy path, new certified copy", "0 errors")


def run(rounds: int) -> list[Row]:
    """Harness entry: each path for ``rounds`` seconds (2..60)."""
    seconds = max(2, min(rounds, 60))
    with serve() as server:
        read = server.wrk("read", seconds=seconds, connections=8)
        copy = server.wrk("copy", seconds=seconds, connections=4)
    return [read_row(read), copy_row(copy)]
