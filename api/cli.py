"""Entry point of the ``evault`` console script: vault's CLI plus the commands that serve the API.

It lives in ``api`` because ``serve``, ``demo`` and ``dev-token`` run or use the web
application, and nothing may import ``api``; the console script is not an import.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from api import witness_cli
from vault.cli.app import add_commands
from vault.cli.app import build_app as build_vault_app
from vault.cli.output import EXIT_USAGE, fail

__all__ = ["COMMANDS", "GROUPS", "build_app", "main"]

DEFAULT_DEMO_DIR = Path("var/demo")


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on"),
    port: int = typer.Option(8000, "--port", help="TCP port"),
    workers: int = typer.Option(1, "--workers", min=1, help="worker processes"),
    server: str = typer.Option(
        "uvicorn", "--server", help="uvicorn, or granian (if installed; for comparison)"
    ),
    reuseport: bool = typer.Option(
        False, "--reuseport", help="a listening socket per worker (SO_REUSEPORT)"
    ),
    balance: bool = typer.Option(
        True,
        "--balance/--no-balance",
        help="on the shared socket, a worker accepts only while it holds the fewest connections",
    ),
    worker_header: bool = typer.Option(
        False, "--worker-header", help="name the answering worker in X-Evault-Worker (load tests)"
    ),
) -> None:
    """Serve the API with uvicorn (settings from EVAULT_* and EVAULT_CONFIG).

    Workers share one listening socket and split the connections evenly (each accepts
    only while it holds no more than any other), or with --reuseport each has its own
    and the kernel spreads connections over them. Rate limits hold across workers (their
    buckets are in the database); set PROMETHEUS_MULTIPROC_DIR for /metrics to
    aggregate them.
    """
    from api.serving import ServeOptions, run_workers
    from vault.errors import VaultError
    from vault.settings import load_settings

    try:
        settings = load_settings()
        settings.check_production()
        if not settings.is_demo:  # the seal and log keys too, before any worker starts
            from api.sealing import copy_renderer_from_settings
            from vault.log.keys import load_log_key

            copy_renderer_from_settings(settings).close()
            load_log_key(settings).close()
    except VaultError as exc:
        fail(str(exc))
    try:
        if server not in ("uvicorn", "granian"):
            fail("--server is uvicorn or granian", EXIT_USAGE)
        options = ServeOptions(
            host=host,
            port=port,
            workers=workers,
            server=server,
            reuseport=reuseport,
            balance=balance,
            worker_header=worker_header,
        )
        if not run_workers(options):
            fail("a worker exited as it started (its log above says why)")
    except ModuleNotFoundError as exc:  # only granian is imported on demand
        fail(f"--server {server} needs {exc.name}: pip install 'evault[granian]'", EXIT_USAGE)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


def demo(
    data: Path = typer.Option(
        DEFAULT_DEMO_DIR, "--data", help="data directory (kept between runs)"
    ),
    port: int = typer.Option(8000, "--port", help="TCP port"),
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on"),
    no_serve: bool = typer.Option(
        False, "--no-serve", help="prepare the data and credentials, then exit"
    ),
    witness_port: int = typer.Option(
        0, "--witness-port", help="TCP port of the demo's witness (default: --port + 1)"
    ),
) -> None:
    """Start the embedded demo: SQLite, local blobs, demo PKI, sample data, the API.

    Prints how to log in and call the API and writes it to DATA/demo-credentials.json.
    Run again on the same directory: it reuses what is there.
    """
    from api.demo.instructions import instructions
    from api.demo.prepare import prepare_demo, serving_settings
    from signing.errors import SigningError
    from vault.errors import VaultError
    from vault.settings import load_settings

    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
    try:
        settings = load_settings(
            mode="demo",
            data_dir=data.resolve(),
            public_base_url=f"http://{shown_host}:{port}",
        )
        summary = prepare_demo(settings)
    except (VaultError, SigningError) as exc:
        fail(str(exc))
    typer.echo(instructions(summary))
    if summary.hsm_note:
        typer.echo(summary.hsm_note, err=True)
    if no_serve:
        return
    import uvicorn

    from api.app import create_app
    from api.witness_cli import demo_witness, start_in_thread
    from vault.log.keys import load_log_key

    try:
        serving = serving_settings(summary)
        # One witness beside the vault, on its own port: it cosigns every checkpoint.
        wport = witness_port or port + 1
        service, spec = demo_witness(
            serving.data_dir, load_log_key(serving).verifier().vkey(), shown_host, wport
        )
        serving = serving.model_copy(update={"witnesses": [spec]})
        app = create_app(serving)
    except VaultError as exc:
        fail(str(exc))
    start_in_thread(service, host, wport)
    typer.echo(f"  witness:      {spec.split()[0]}  (key: {spec.split()[1]})")
    uvicorn.run(app, host=host, port=port, access_log=False)


def dev_token(
    holder: str = typer.Option(..., "--holder", help="公民身份号码 or 统一社会信用代码"),
    data: Path | None = typer.Option(
        None, "--data", help="the demo's data directory (default: from settings)"
    ),
) -> None:
    """Print a holder token from the demo identity provider (demo mode only)."""
    from api.auth.holders import HolderAuthenticator
    from schemas.errors import InvalidValue
    from schemas.identifiers import parse_holder_id
    from vault.errors import VaultError
    from vault.settings import load_settings

    try:
        settings = (
            load_settings(mode="demo", data_dir=data.resolve())
            if data is not None
            else load_settings()
        )
    except VaultError as exc:
        fail(str(exc))
    if not settings.is_demo:
        fail("dev-token exists only in demo mode (give --data DIR of `evault demo`)", EXIT_USAGE)
    try:
        holder_id = parse_holder_id(holder)
    except InvalidValue as exc:
        fail(str(exc), EXIT_USAGE)
    typer.echo(HolderAuthenticator(settings).mint_demo(str(holder_id)))


#: The commands that run or use the web application, by name, after the vault's.
COMMANDS: dict[str, Callable[..., Any]] = {"serve": serve, "demo": demo, "dev-token": dev_token}
#: Their groups, after the vault's.
GROUPS = {"witness": witness_cli.app}


def build_app() -> typer.Typer:
    """Every ``evault`` command: the vault's (:mod:`vault.cli.app`), then the API's."""
    return add_commands(build_vault_app(), COMMANDS, GROUPS)


def main() -> None:
    build_app()(prog_name="evault")


if __name__ == "__main__":  # pragma: no cover
    main()
    sys.exit(0)
