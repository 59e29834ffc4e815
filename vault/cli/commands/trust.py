"""``evault trust export``: write the trust bundle auditors pin (see docs/verification.md).

The certificates come from PEM/DER files given on the command line; with none, the
command exports the vault's configured bundle (``EVAULT_TRUST_BUNDLE``, or the demo's in
demo mode), the same bytes ``GET /v1/trust-bundle`` serves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from vault.cli.output import EXIT_USAGE, fail

if TYPE_CHECKING:  # pragma: no cover - typing only
    from signing.trust import TrustBundle

__all__ = ["BundleSources", "app"]


@dataclass(frozen=True)
class BundleSources:
    """Certificates (DER or PEM bytes) to put into a bundle."""

    roots: tuple[bytes, ...] = ()
    intermediates: tuple[bytes, ...] = ()
    vault_seal: bytes | None = None
    crls: tuple[bytes, ...] = field(default=())
    previous_vault_seals: tuple[bytes, ...] = ()
    log_keys: tuple[str, ...] = ()
    seal_makers: tuple[bytes, ...] = ()
    ofd_vault_seals: tuple[bytes, ...] = ()


def _read_all(paths: list[Path], what: str) -> tuple[bytes, ...]:
    out = []
    for p in paths:
        try:
            out.append(p.read_bytes())
        except OSError as exc:
            fail(f"{what} {p}: {exc.strerror or exc}", EXIT_USAGE)
    return tuple(out)


def _vkey(value: str) -> str:
    """A log vkey given as such or in a file (a PEM public key is refused: it has no name)."""
    from signing.errors import KeySourceError, LogFormatError
    from signing.transparency import LogVerifier

    path = Path(value)
    try:
        text = path.read_text(encoding="utf-8").strip() if path.is_file() else value.strip()
        return LogVerifier.from_vkey(text).vkey()
    except (OSError, UnicodeDecodeError, KeySourceError, LogFormatError) as exc:
        fail(f"--log-key {value}: {exc}", EXIT_USAGE)


def _configured_bundle() -> Path:
    """The vault's configured bundle, from the settings (one line and exit 2 if none)."""
    from vault.errors import ConfigError
    from vault.settings import load_settings

    try:
        path = load_settings().resolved_trust_bundle
    except ConfigError as exc:
        fail(str(exc), EXIT_USAGE)
    if path is None or not path.is_file():
        fail(
            "no trust bundle configured (set EVAULT_TRUST_BUNDLE) and no --root given",
            EXIT_USAGE,
        )
    return path


def _with_credential_key(bundle: TrustBundle) -> TrustBundle:
    """``bundle`` with the configured credential key's public JWK added (once)."""
    import dataclasses

    from vault.credential_key import load_credential_key
    from vault.errors import ConfigError
    from vault.settings import load_settings

    try:
        key = load_credential_key(load_settings())
    except ConfigError as exc:
        fail(str(exc), EXIT_USAGE)
    if key is None:
        fail("--credential-key: EVAULT_CREDENTIAL_KEY is not set", EXIT_USAGE)
    jwk = key.public_jwk()
    kept = [k for k in bundle.credential_keys if k["kid"] != jwk["kid"]]
    return dataclasses.replace(bundle, credential_keys=(*kept, jwk))


def _bundle(sources: BundleSources) -> TrustBundle:
    """The bundle of ``trust export``'s certificates, or the configured one with the seal
    makers and OFD vault seals added; exit 2 when only some certificates but no root are
    given."""
    import dataclasses

    from signing.trust import TrustBundle

    if sources.roots:
        return TrustBundle.from_certificates(
            roots=sources.roots,
            intermediates=sources.intermediates,
            vault_seal=sources.vault_seal,
            crls=sources.crls,
            previous_vault_seals=sources.previous_vault_seals,
            log_keys=sources.log_keys,
            seal_makers=sources.seal_makers,
            ofd_vault_seals=sources.ofd_vault_seals,
        )
    if dataclasses.replace(sources, seal_makers=(), ofd_vault_seals=()) != BundleSources():
        fail("give at least one --root certificate", EXIT_USAGE)
    # the configured bundle, with the --seal-maker / --ofd-vault-seal added
    bundle = TrustBundle.load(_configured_bundle())
    bundle = bundle.with_seal_makers(sources.seal_makers)
    return bundle.with_ofd_vault_seals(sources.ofd_vault_seals)


app = typer.Typer(help="Trust bundles that auditors pin for offline verification.")


@app.command("export")
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
    previous_vault_seal: list[Path] = typer.Option(
        [], "--previous-vault-seal", help="an earlier seal certificate of the vault (PEM/DER)"
    ),
    log_key: list[str] = typer.Option(
        [], "--log-key", help="the log's public key (vkey, or a file with it), current first"
    ),
    seal_maker: list[Path] = typer.Option(
        [],
        "--seal-maker",
        help="the certificate (PEM/DER) of an OFD seal maker (印章制作单位) whose seals "
        "are trusted; without one, no OFD seal verifies as trusted",
    ),
    ofd_vault_seal: list[Path] = typer.Option(
        [],
        "--ofd-vault-seal",
        help="the certificate (PEM/DER) of the vault's OFD (SM2) copy seal: the only seal "
        "that may add a certified copy's 加注 to an issuer-sealed OFD, and whose log proof "
        "evault verify --log-key accepts on an OFD copy",
    ),
    credential_key: bool = typer.Option(
        False,
        "--credential-key",
        help="add the vault's credential key (EVAULT_CREDENTIAL_KEY: what signs holders' "
        "SD-JWT credentials and their status lists)",
    ),
) -> None:
    """Write the trust bundle (JSON, with its SHA-256 fingerprint) and print the
    fingerprint on stderr."""
    from signing.errors import TrustError

    sources = BundleSources(
        roots=_read_all(root, "--root"),
        intermediates=_read_all(intermediate, "--intermediate"),
        vault_seal=_read_all([vault_seal], "--vault-seal")[0] if vault_seal else None,
        crls=_read_all(crl, "--crl"),
        previous_vault_seals=_read_all(previous_vault_seal, "--previous-vault-seal"),
        log_keys=tuple(_vkey(value) for value in log_key),
        seal_makers=_read_all(seal_maker, "--seal-maker"),
        ofd_vault_seals=_read_all(ofd_vault_seal, "--ofd-vault-seal"),
    )
    try:
        bundle = _bundle(sources)
        if credential_key:
            bundle = _with_credential_key(bundle)
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
