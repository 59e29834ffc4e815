"""``evault keys seal-*`` and ``evault keys log-*``: new keys for the vault's seal and the
transparency log, and their rotation (docs/operations.md, "Rotating the seal and log keys").

A rotation is three steps, in this order:

1. a new key: ``seal-new`` (an EC P-256 key in the seal's token and its PKCS#10 request for
   the CA) or ``log-new`` (an Ed25519 key in a file or in a token, and its vkey);
2. ``seal-rotate`` / ``log-rotate``: the configured trust bundle names the new seal
   certificate or log key and keeps the old ones (``previous_vault_seals``, ``log_keys``),
   so that auditors holding the new bundle verify old and new copies and checkpoints;
3. the operator switches the settings to the new key and restarts the workers.

Both rotate commands only write the trust bundle: until the settings change the service
keeps signing with the old key, and the bundle already verifies both.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from vault.cli.output import EXIT_USAGE, fail

if TYPE_CHECKING:  # pragma: no cover - typing only
    from cryptography import x509

    from signing.trust import TrustBundle
    from vault.settings import Settings

__all__ = ["COMMANDS"]

_MAX_CHAIN = 8


def _settings() -> Settings:
    from vault.errors import ConfigError
    from vault.settings import load_settings

    try:
        return load_settings()
    except ConfigError as exc:
        fail(str(exc), EXIT_USAGE)


def _bundle(settings: Settings, given: Path | None) -> tuple[Path, TrustBundle]:
    from signing.errors import TrustError
    from signing.trust import TrustBundle

    path = given or settings.resolved_trust_bundle
    if path is None:
        fail("no trust bundle configured (set EVAULT_TRUST_BUNDLE or give --bundle)", EXIT_USAGE)
    try:
        return path, TrustBundle.load(path)
    except TrustError as exc:
        fail(str(exc), EXIT_USAGE)


def _write(path: Path, bundle: TrustBundle, before: TrustBundle) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_bytes(bundle.dump())
        os.replace(tmp, path)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}")
    typer.echo(f"trust bundle {path}: {before.fingerprint} -> {bundle.fingerprint}")


def _rebuilt(bundle: TrustBundle, **changes: Any) -> TrustBundle:
    values: dict[str, Any] = {
        "roots": bundle.roots,
        "intermediates": bundle.intermediates,
        "vault_seal": bundle.vault_seal,
        "crls": bundle.crls,
        "description": bundle.description,
        "previous_vault_seals": bundle.previous_vault_seals,
        "log_keys": bundle.log_keys,
    }
    values.update(changes)
    from signing.trust import TrustBundle

    return TrustBundle.from_certificates(**values)


def _read_chain(path: Path) -> list[x509.Certificate]:
    from cryptography import x509

    try:
        certificates = x509.load_pem_x509_certificates(path.read_bytes())
    except OSError as exc:
        fail(f"--certificates {path}: {exc.strerror or exc}", EXIT_USAGE)
    except ValueError:
        certificates = []
    if not certificates:
        fail(f"--certificates {path} holds no PEM certificate", EXIT_USAGE)
    return certificates


def _chain_problem(chain: list[x509.Certificate], bundle: TrustBundle) -> str | None:
    """Why the new seal certificate ``chain[0]`` cannot be the vault's, or None: it must be
    valid now and chain, through ``chain`` and the bundle's intermediates, to a bundle root."""
    from cryptography import x509

    leaf = chain[0]
    now = dt.datetime.now(dt.UTC)
    if not leaf.not_valid_before_utc <= now < leaf.not_valid_after_utc:
        return f"the new seal certificate is not valid now (valid until {leaf.not_valid_after_utc})"
    roots = [x509.load_der_x509_certificate(d) for d in bundle.roots]
    cas = [*chain[1:], *(x509.load_der_x509_certificate(d) for d in bundle.intermediates)]
    current = leaf
    for _ in range(_MAX_CHAIN):
        for candidate in [*roots, *cas]:
            if candidate.subject != current.issuer:
                continue
            try:
                current.verify_directly_issued_by(candidate)
            except Exception:  # noqa: S112 - not its issuer (InvalidSignature, ValueError...)
                continue
            if candidate in roots:
                return None
            current = candidate
            break
        else:
            break
    return "the new seal certificate does not chain to a root of the trust bundle"


def _der(certificate: x509.Certificate) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding

    return certificate.public_bytes(Encoding.DER)


def _seal_token(settings: Settings) -> Any:
    from signing.errors import KeySourceError
    from signing.hsm import open_token
    from vault.errors import ConfigError

    if not (settings.seal_pkcs11_module and settings.seal_pkcs11_token):
        fail("the seal key is not in an HSM (set EVAULT_SEAL_PKCS11_MODULE and _TOKEN)", 2)
    try:
        return open_token(
            module=settings.seal_pkcs11_module,
            token_label=settings.seal_pkcs11_token,
            pin=settings.seal_pin(),
        )
    except (KeySourceError, ConfigError) as exc:
        fail(str(exc))


def _seal_subject(settings: Settings, bundle: TrustBundle) -> x509.Name:
    from cryptography import x509

    if settings.seal_certificates is not None and settings.seal_certificates.is_file():
        return _read_chain(settings.seal_certificates)[0].subject
    if bundle.vault_seal is not None:
        return x509.load_der_x509_certificate(bundle.vault_seal).subject
    fail("no current seal certificate to take the subject from", EXIT_USAGE)


def seal_new(
    label: str = typer.Option(..., "--label", help="label of the new key in the token"),
    csr: Path = typer.Option(..., "--csr", help="write the PKCS#10 request (PEM) here"),
) -> None:
    """Generate a new seal key (EC P-256, never extractable) in the seal's token and
    write its certificate request, with the current seal's subject, for the CA."""
    from cryptography.hazmat.primitives.serialization import Encoding

    from signing.errors import KeySourceError
    from signing.hsm import generate_seal_key, seal_key_csr

    settings = _settings()
    _path, bundle = _bundle(settings, None)
    subject = _seal_subject(settings, bundle)
    session = _seal_token(settings)
    try:
        generate_seal_key(session, label)
        request = seal_key_csr(session, label, subject)
    except KeySourceError as exc:
        fail(str(exc))
    finally:
        session.close()
    try:
        csr.write_bytes(request.public_bytes(Encoding.PEM))
    except OSError as exc:
        fail(f"cannot write {csr}: {exc.strerror or exc}")
    typer.echo(f"new seal key {label!r} in token {settings.seal_pkcs11_token!r}")
    typer.echo(f"certificate request: {csr} (for {subject.rfc4514_string()})")


def seal_rotate(
    certificates: Path = typer.Option(
        ..., "--certificates", help="PEM: the new seal certificate, then the CAs above it"
    ),
    bundle_path: Path | None = typer.Option(
        None, "--bundle", help="the trust bundle to update (default: EVAULT_TRUST_BUNDLE)"
    ),
) -> None:
    """Make the new seal certificate the trust bundle's vault seal, keeping the old one
    as a previous seal (old copies stay the vault's). Then switch the settings."""
    settings = _settings()
    path, bundle = _bundle(settings, bundle_path)
    chain = _read_chain(certificates)
    problem = _chain_problem(chain, bundle)
    if problem:
        fail(problem, EXIT_USAGE)
    new = _der(chain[0])
    if new == bundle.vault_seal:
        fail("that certificate is already the vault's seal in the trust bundle", EXIT_USAGE)
    roots = set(bundle.roots)
    updated = _rebuilt(
        bundle,
        intermediates=[
            *bundle.intermediates,
            *(d for d in map(_der, chain[1:]) if d not in roots),
        ],
        vault_seal=new,
        previous_vault_seals=[
            *([bundle.vault_seal] if bundle.vault_seal else []),
            *bundle.previous_vault_seals,
        ],
    )
    _write(path, updated, bundle)
    typer.echo(
        f"vault seal now {chain[0].subject.rfc4514_string()} "
        f"(serial {chain[0].serial_number:#x}); "
        f"{len(updated.previous_vault_seals)} previous seal(s) kept"
    )
    typer.echo(
        f"next: set EVAULT_SEAL_CERTIFICATES={certificates} and EVAULT_SEAL_PKCS11_KEY to the "
        "new key's label (or EVAULT_SEAL_PKCS12), restart the workers, and give auditors "
        "the new bundle (evault trust export)"
    )


def log_new(
    out: Path | None = typer.Option(None, "--out", help="write a new key file (PEM, 0600)"),
    pkcs11_key: str | None = typer.Option(
        None, "--pkcs11-key", help="generate it in the HSM under this label instead"
    ),
) -> None:
    """Generate a new Ed25519 log key, in a file or in the HSM, and print its vkey (give
    it to `evault keys log-rotate`)."""
    from signing.transparency import LogSigner, LogVerifier
    from vault.log.keys import log_origin

    settings = _settings()
    origin = log_origin(settings)
    if (out is None) == (pkcs11_key is None):
        fail("give one of --out and --pkcs11-key", EXIT_USAGE)
    if out is not None:
        signer = LogSigner.generate(origin)
        try:
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            fail(f"cannot create {out}: {exc.strerror or exc}")
        with os.fdopen(fd, "wb") as handle:
            handle.write(signer.private_pem())
        typer.echo(signer.verifier().vkey())
        return
    assert pkcs11_key is not None
    public = _generate_log_key_in_token(settings, pkcs11_key)
    typer.echo(LogVerifier(public, origin).vkey())


def log_rotate(
    new_key: str = typer.Option(
        ..., "--new-key", help="the new log key's vkey, or a file with it or its PEM public key"
    ),
    bundle_path: Path | None = typer.Option(
        None, "--bundle", help="the trust bundle to update (default: EVAULT_TRUST_BUNDLE)"
    ),
) -> None:
    """Put the new log key first among the trust bundle's log keys, keeping the current
    and earlier ones (old checkpoints stay verifiable). Then switch the settings."""
    from signing.errors import KeySourceError
    from signing.transparency import LogVerifier
    from vault.errors import VaultError
    from vault.log.keys import load_log_key

    settings = _settings()
    path, bundle = _bundle(settings, bundle_path)
    try:
        current = load_log_key(settings).verifier()
    except VaultError as exc:
        fail(str(exc))
    source = Path(new_key)
    try:
        text = source.read_bytes() if source.is_file() else new_key.encode("utf-8")
        loaded = LogVerifier.load(text)
    except (KeySourceError, OSError) as exc:
        fail(f"--new-key: {exc}", EXIT_USAGE)
    if loaded.name not in (None, current.name):
        fail(f"--new-key is named {loaded.name!r}: the log's key name is {current.name!r}", 2)
    new = LogVerifier(loaded.public_key, current.name)
    if new.raw == current.raw:
        fail("--new-key is the log's current key", EXIT_USAGE)
    updated = _rebuilt(bundle, log_keys=[new.vkey(), current.vkey(), *bundle.log_keys])
    _write(path, updated, bundle)
    typer.echo(f"log key now {new.vkey()}; {len(updated.log_keys) - 1} earlier key(s) kept")
    typer.echo(
        "next: set EVAULT_LOG_KEY (or EVAULT_LOG_PKCS11_KEY) to the new key, restart the "
        "workers, and give auditors the new bundle (evault trust export)"
    )


def _generate_log_key_in_token(settings: Settings, label: str) -> Any:
    """An Ed25519 key generated in the log's token (EVAULT_LOG_PKCS11_*), or else the seal's."""
    from signing.errors import KeySourceError
    from signing.hsm import generate_log_key, open_token
    from vault.errors import ConfigError

    if settings.log_pkcs11_module and settings.log_pkcs11_token:
        module, token, pin = settings.log_pkcs11_module, settings.log_pkcs11_token, settings.log_pin
    elif settings.seal_pkcs11_module and settings.seal_pkcs11_token:
        module, token = settings.seal_pkcs11_module, settings.seal_pkcs11_token
        pin = settings.seal_pin
    else:
        fail("no HSM configured (EVAULT_LOG_PKCS11_* or EVAULT_SEAL_PKCS11_*)", EXIT_USAGE)
    try:
        session = open_token(module=module, token_label=token, pin=pin())
    except (KeySourceError, ConfigError) as exc:
        fail(str(exc))
    try:
        return generate_log_key(session, label)
    except KeySourceError as exc:
        fail(str(exc))
    finally:
        session.close()


#: The commands, by name, in the order ``evault keys --help`` lists them (before the others).
COMMANDS: dict[str, Callable[..., Any]] = {
    "seal-new": seal_new,
    "seal-rotate": seal_rotate,
    "log-new": log_new,
    "log-rotate": log_rotate,
}
