"""``evault pki init DIR`` (a demo PKI) and ``evault seal IN -o OUT`` (a PAdES seal).

Passwords come from environment variables, never from the command line. In demo mode
(``EVAULT_MODE=demo``, which ``./dev`` sets when ``var/demo`` exists) ``evault seal`` seals
with the demo's own PKI and reads its password from the data directory, so an issuer can
try the flow with nothing but ``./dev seal IN -o OUT --department CODE``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from vault.cli.output import EXIT_USAGE, fail

if TYPE_CHECKING:
    from vault.settings import Settings

__all__ = ["app", "seal"]

_LEVELS = ("B-B", "B-T", "B-LT", "B-LTA")


def _password(variable: str) -> str:
    value = os.environ.get(variable, "")
    if not value:
        fail(f"set the password in the environment variable {variable}", EXIT_USAGE)
    return value


def _demo_settings() -> Settings | None:
    """The settings when they are demo mode's, else None (production never guesses)."""
    from vault.errors import ConfigError
    from vault.settings import load_settings

    try:
        settings = load_settings()
    except ConfigError:
        return None
    return settings if settings.is_demo else None


def _seal_pki_and_password(
    demo_pki: Path | None, p12: Path | None, variable: str
) -> tuple[Path | None, str]:
    """The demo PKI to seal with (None: ``p12``) and the PKCS#12 password.

    Without ``--demo-pki`` and ``--p12`` in demo mode: the demo's PKI. Without the password
    variable, for the demo's own PKI: the password the demo generated.
    """
    given = os.environ.get(variable, "")
    demo = _demo_settings() if p12 is None else None
    if demo_pki is None and p12 is None and demo is not None:
        demo_pki = demo.demo_pki_dir
    if (demo_pki is None) == (p12 is None):
        fail("give exactly one of --demo-pki and --p12", EXIT_USAGE)
    if given:
        return demo_pki, given
    if demo is None or demo_pki is None or demo_pki.resolve() != demo.demo_pki_dir.resolve():
        return demo_pki, _password(variable)
    try:
        return demo_pki, demo.demo_pki_password_file.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read the demo PKI's password {demo.demo_pki_password_file}: {exc}")


app = typer.Typer(help="Demo PKI: root CA, issuing CA, seals, TSA, CRLs.")


@app.command("init")
def init(
    directory: Path = typer.Argument(..., help="where to write the PKI (created)"),
    department: list[str] = typer.Option(
        [], "--department", "-d", help="NAME=统一社会信用代码 (repeat for more)"
    ),
    vault_name: str = typer.Option("evault 电子证照库", help="the vault's name in its seal"),
    vault_code: str = typer.Option("12350000MB00000359", help="the vault's credit code"),
    password_env: str = typer.Option(
        "EVAULT_PKI_PASSWORD", help="environment variable holding the PKCS#12 password"
    ),
    force: bool = typer.Option(False, help="overwrite a PKI already in DIRECTORY"),
) -> None:
    """Generate a demo PKI (random seed) and write PKCS#12 files, PEMs and CRLs."""
    import datetime as dt
    import secrets

    from cryptography.hazmat.primitives import hashes

    from schemas.errors import SchemaError
    from schemas.identifiers import CreditCode
    from signing.errors import SigningError
    from signing.pki import DemoPKI

    password = _password(password_env)
    if (directory / "pki.json").exists() and not force:
        fail(f"{directory} already holds a PKI (use --force to replace it)", EXIT_USAGE)
    departments: list[tuple[str, str]] = []
    try:
        for item in department:
            name, sep, code = item.rpartition("=")
            if not sep or not name.strip():
                fail(f"--department wants NAME=CODE, got {item!r}", EXIT_USAGE)
            departments.append((name.strip(), str(CreditCode.parse(code.strip()))))
        vault = (vault_name, str(CreditCode.parse(vault_code)))
    except SchemaError as exc:
        fail(str(exc), EXIT_USAGE)
    try:
        pki = DemoPKI.generate(
            seed=secrets.token_bytes(32),
            departments=departments,
            now=dt.datetime.now(dt.UTC),
            vault=vault,
        )
        pki.save(directory, password)
    except (SigningError, OSError) as exc:
        fail(str(exc))
    fingerprint = pki.root.certificate.fingerprint(hashes.SHA256()).hex()
    typer.echo(f"demo PKI written to {directory}")
    typer.echo(f"root: {pki.root.certificate.subject.rfc4514_string()}")
    typer.echo(f"root SHA-256: {fingerprint}")
    for code, name in pki.department_names.items():
        typer.echo(f"seal: {name} {code} -> {directory / f'seal-{code}.p12'}")
    typer.echo(f"seal: {vault[0]} {vault[1]} -> {directory / 'vault-seal.p12'}")


def seal(
    source: Path = typer.Argument(..., help="the PDF to seal"),
    output: Path = typer.Option(..., "--output", "-o", help="where to write the sealed PDF"),
    level: str = typer.Option("B-LT", help="PAdES level: " + ", ".join(_LEVELS)),
    demo_pki: Path | None = typer.Option(
        None, help="seal with a demo PKI directory (its TSA and CRLs); demo mode: the demo's"
    ),
    credit_code: str | None = typer.Option(
        None, "--department", help="with --demo-pki: the department's seal (default: vault)"
    ),
    p12: Path | None = typer.Option(None, help="seal with this PKCS#12 file"),
    tsa: str | None = typer.Option(None, help="with --p12: RFC 3161 TSA URL (B-T and up)"),
    crl: list[Path] = typer.Option([], help="with --p12: DER CRL to embed (B-LT and up)"),
    password_env: str = typer.Option(
        "EVAULT_PKI_PASSWORD",
        help="environment variable holding the PKCS#12 password (demo mode: not needed "
        "for the demo's PKI)",
    ),
    field: str | None = typer.Option(None, help="signature field name"),
    reason: str | None = typer.Option(None, help="/Reason of the seal"),
    location: str | None = typer.Option(None, help="/Location of the seal"),
) -> None:
    """Seal a PDF (PAdES) with a demo PKI seal or a PKCS#12 key; offline but the TSA."""
    from signing.errors import SigningError
    from signing.keys import LocalKeySource, Pkcs12KeySource
    from signing.pki import DemoPKI
    from signing.seal import PadesLevel, Sealer
    from signing.timestamps import EmbeddedTSA, HttpTSA

    if level not in _LEVELS:
        fail(f"unknown level {level!r}: use one of {', '.join(_LEVELS)}", EXIT_USAGE)
    demo_pki, password = _seal_pki_and_password(demo_pki, p12, password_env)
    try:
        data = source.read_bytes()
    except OSError as exc:
        fail(f"cannot read {source}: {exc.strerror}")
    try:
        if demo_pki is not None:
            pki = DemoPKI.load(demo_pki, password)
            try:
                identity = (
                    pki.vault_seal
                    if credit_code is None
                    else pki.issuing_department_seal(credit_code)
                )
            except KeyError:
                fail(f"no department {credit_code} in {demo_pki}", EXIT_USAGE)
            key_source = LocalKeySource(
                certificate=identity.certificate,
                private_key=identity.private_key,
                chain=pki.chain,
            )
            timestamper = EmbeddedTSA(
                certificate=pki.tsa.certificate,
                private_key=pki.tsa.private_key,
                chain=pki.chain,
            )
            sealer = Sealer(key_source, timestamper=timestamper, crls=pki.crls())
        else:
            assert p12 is not None
            crls = [path.read_bytes() for path in crl]
            sealer = Sealer(
                Pkcs12KeySource.load(p12, password),
                timestamper=HttpTSA(tsa) if tsa else None,
                crls=crls,
            )
        sealed = sealer.seal(
            data,
            level=PadesLevel(level),
            field_name=field,
            reason=reason,
            location=location,
        )
        output.write_bytes(sealed)
    except SigningError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{exc.filename or 'file'}: {exc.strerror}")
    typer.echo(f"sealed ({level}) -> {output}")
