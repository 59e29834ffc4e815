"""``evault trust export``: write the trust bundle auditors pin (see docs/verification.md).

The certificates come from PEM/DER files given on the command line. The vault's own seal
certificate can be supplied by another module through :func:`set_default_sources` (the
vault wires its configured seal there), so ``evault trust export`` with no certificate
options exports the running vault's bundle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import typer

from vault.cli.output import EXIT_USAGE, fail

__all__ = ["BundleSources", "register", "set_default_sources"]


@dataclass(frozen=True)
class BundleSources:
    """Certificates (DER or PEM bytes) to put into a bundle."""

    roots: tuple[bytes, ...] = ()
    intermediates: tuple[bytes, ...] = ()
    vault_seal: bytes | None = None
    crls: tuple[bytes, ...] = field(default=())


_default_sources: Callable[[], BundleSources] | None = None


def set_default_sources(provider: Callable[[], BundleSources] | None) -> None:
    """Let the vault supply its configured roots and seal when no files are given."""
    global _default_sources
    _default_sources = provider


def _read_all(paths: list[Path], what: str) -> tuple[bytes, ...]:
    out = []
    for p in paths:
        try:
            out.append(p.read_bytes())
        except OSError as exc:
            fail(f"{what} {p}: {exc.strerror or exc}", EXIT_USAGE)
    return tuple(out)


def register(app: typer.Typer) -> None:
    trust_app = typer.Typer(help="Trust bundles that auditors pin for offline verification.")
    app.add_typer(trust_app, name="trust")

    @trust_app.command("export")
    def export(
        out: Path | None = typer.Option(None, "--out", help="write here (default: stdout)"),
        root: list[Path] = typer.Option([], "--root", help="trusted root certificate (PEM/DER)"),
        intermediate: list[Path] = typer.Option(
            [], "--intermediate", help="intermediate CA certificate (PEM/DER)"
        ),
        vault_seal: Path | None = typer.Option(
            None, "--vault-seal", help="the vault's seal certificate (PEM/DER)"
        ),
        crl: list[Path] = typer.Option([], "--crl", help="a CRL to ship with the bundle"),
    ) -> None:
        """Write the trust bundle (JSON, with its SHA-256 fingerprint) and print the
        fingerprint on stderr."""
        from signing.errors import TrustError
        from signing.trust import TrustBundle

        sources = BundleSources(
            roots=_read_all(root, "--root"),
            intermediates=_read_all(intermediate, "--intermediate"),
            vault_seal=_read_all([vault_seal], "--vault-seal")[0] if vault_seal else None,
            crls=_read_all(crl, "--crl"),
        )
        if not sources.roots and _default_sources is not None:
            sources = _default_sources()
        if not sources.roots:
            fail("give at least one --root certificate", EXIT_USAGE)
        try:
            bundle = TrustBundle.from_certificates(
                roots=sources.roots,
                intermediates=sources.intermediates,
                vault_seal=sources.vault_seal,
                crls=sources.crls,
            )
        except TrustError as exc:
            fail(str(exc), EXIT_USAGE)
        data = bundle.dump()
        if out is None:
            typer.echo(data.decode("utf-8"), nl=False)
        else:
            try:
                out.write_bytes(data)
            except OSError as exc:
                fail(f"cannot write {out}: {exc.strerror or exc}", EXIT_USAGE)
        typer.echo(f"fingerprint {bundle.fingerprint}", err=True)
