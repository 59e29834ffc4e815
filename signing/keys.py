"""Key sources: where a seal's private key lives, behind one interface.

A :class:`KeySource` gives the signing certificate, the chain above it, and a pyHanko
``Signer`` built once (the key is parsed once and reused for every seal).

- :class:`LocalKeySource`: a key already in memory (e.g. from :class:`signing.pki.DemoPKI`).
- :class:`Pkcs12KeySource`: an encrypted PKCS#12 file (``.p12``/``.pfx``).
- :class:`Pkcs11KeySource`: a key inside an HSM, through a PKCS#11 module (pyHanko's
  ``PKCS11Signer``; needs the optional ``python-pkcs11`` extra, ``pip install evault[hsm]``).
  The session is opened once and kept; the private key never leaves the token. Tested
  against SoftHSM2.
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.sign.signers.pdf_cms import Signer

from signing._pyhanko import KeyedSigner, PrivateKey, to_asn1, to_asn1_all
from signing.errors import KeySourceError

__all__ = ["KeySource", "LocalKeySource", "Pkcs11KeySource", "Pkcs12KeySource"]


class KeySource(abc.ABC):
    """A seal's key: its certificate, the chain above it and a reusable pyHanko signer."""

    def __init__(self, *, certificate: x509.Certificate, chain: Sequence[x509.Certificate]) -> None:
        self._certificate = certificate
        self._chain = tuple(c for c in chain if c != certificate)

    @property
    def certificate(self) -> x509.Certificate:
        """The signing (seal) certificate."""
        return self._certificate

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        """Certificates above :attr:`certificate`, issuer first, root last (may be empty)."""
        return self._chain

    @property
    @abc.abstractmethod
    def signer(self) -> Signer:
        """A pyHanko signer for this key, built once and reused."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._certificate.subject.rfc4514_string()!r})"


class LocalKeySource(KeySource):
    """A private key held in this process's memory."""

    def __init__(
        self,
        *,
        certificate: x509.Certificate,
        private_key: PrivateKey,
        chain: Sequence[x509.Certificate] = (),
    ) -> None:
        if not isinstance(private_key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise KeySourceError(
                f"unsupported key type {type(private_key).__name__}: use EC or RSA"
            )
        if private_key.public_key() != certificate.public_key():
            raise KeySourceError("the private key does not match the certificate's public key")
        super().__init__(certificate=certificate, chain=chain)
        self._private_key = private_key

    @cached_property
    def signer(self) -> Signer:
        return KeyedSigner(
            private_key=self._private_key, certificate=self._certificate, chain=self._chain
        )


class Pkcs12KeySource(LocalKeySource):
    """A key read once from an encrypted PKCS#12 file."""

    @classmethod
    def load(cls, path: Path | str, password: bytes | str | None) -> Pkcs12KeySource:
        """Read ``path``; a missing file or a wrong password raises :class:`KeySourceError`."""
        file = Path(path)
        secret = password.encode() if isinstance(password, str) else password
        try:
            data = file.read_bytes()
        except FileNotFoundError:
            raise KeySourceError(f"PKCS#12 file not found: {file}") from None
        except OSError as exc:
            raise KeySourceError(f"cannot read PKCS#12 file {file}: {exc.strerror}") from None
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(data, secret)
        except ValueError:
            raise KeySourceError(
                f"cannot open PKCS#12 file {file}: wrong password or not a PKCS#12 file"
            ) from None
        except TypeError:
            raise KeySourceError(f"PKCS#12 file {file} is encrypted: give its password") from None
        if cert is None or key is None:
            raise KeySourceError(f"PKCS#12 file {file} does not hold a key with its certificate")
        if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise KeySourceError(f"PKCS#12 file {file} holds an unsupported key type")
        return cls(certificate=cert, private_key=key, chain=_order_chain(cert, extra))


class Pkcs11KeySource(KeySource):
    """A key held in an HSM (PKCS#11). Open with :meth:`open`; :meth:`close` when done."""

    def __init__(
        self,
        *,
        session: Any,
        signer: Signer,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate],
    ) -> None:
        super().__init__(certificate=certificate, chain=chain)
        self._session = session
        self._signer = signer

    @classmethod
    def open(
        cls,
        *,
        module: Path | str,
        token_label: str,
        pin: str,
        key_label: str,
        certificate: x509.Certificate | None = None,
        chain: Sequence[x509.Certificate] = (),
    ) -> Pkcs11KeySource:
        """Log in to the token ``token_label`` of the PKCS#11 ``module`` and find the key.

        ``certificate``: the seal certificate when it is not stored on the token (else the
        certificate with label ``key_label`` is read from the token). The key signs a probe
        that must verify with the certificate's public key. Any failure (module missing,
        token absent, wrong PIN, no such key, a key of another certificate) raises
        :class:`KeySourceError`.
        """
        try:
            from pyhanko.sign import pkcs11 as p11
        except ImportError:  # pragma: no cover - depends on the optional extra
            raise KeySourceError(
                "PKCS#11 needs the python-pkcs11 package: pip install 'evault[hsm]'"
            ) from None
        from signing.hsm import open_token

        # (the log key may be on the same token: see open_token on sharing the login)
        session = open_token(module=module, token_label=token_label, pin=pin)
        try:
            signer = p11.PKCS11Signer(
                session,
                key_label=key_label,
                cert_label=None if certificate is not None else key_label,
                signing_cert=None if certificate is None else to_asn1(certificate),
                ca_chain=to_asn1_all(chain),
                # hash in software, sign the digest in the token: many tokens (SoftHSM2
                # among them) lack the combined CKM_ECDSA_SHA256 mechanism
                use_raw_mechanism=True,
            )
            asn1_cert = signer.signing_cert  # loads the certificate from the token if needed
            session.get_key(label=key_label, object_class=_private_key_class())
            leaf = certificate or x509.load_der_x509_certificate(asn1_cert.dump())
            probe = _run(signer.async_sign_raw(_PROBE, "sha256"))
        except Exception as exc:
            session.close()
            raise KeySourceError(
                f"no usable key {key_label!r} on PKCS#11 token {token_label!r}: "
                f"{type(exc).__name__} {exc}".rstrip()
            ) from None
        if not _signed_by(leaf, probe):
            session.close()
            raise KeySourceError(
                f"the key {key_label!r} on PKCS#11 token {token_label!r} does not match the "
                f"seal certificate ({leaf.subject.rfc4514_string()})"
            )
        return cls(session=session, signer=signer, certificate=leaf, chain=chain)

    @property
    def signer(self) -> Signer:
        return self._signer

    def close(self) -> None:
        """Close the PKCS#11 session (the signer cannot be used afterwards)."""
        self._session.close()


_PROBE = b"evault: does this key belong to the seal certificate?"


def _run(coroutine: Coroutine[Any, Any, bytes]) -> bytes:
    """Run ``coroutine`` to its end, also from a thread whose event loop is running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _signed_by(certificate: x509.Certificate, signature: bytes) -> bool:
    """Whether ``signature`` over :data:`_PROBE` (SHA-256) verifies with the certificate's key."""
    public = certificate.public_key()
    try:
        if isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, _PROBE, ec.ECDSA(hashes.SHA256()))
        elif isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, _PROBE, padding.PKCS1v15(), hashes.SHA256())
        else:
            return False
    except InvalidSignature:
        return False
    return True


def _private_key_class() -> Any:
    from pkcs11 import ObjectClass

    return ObjectClass.PRIVATE_KEY


def _order_chain(
    leaf: x509.Certificate, others: Sequence[x509.Certificate]
) -> tuple[x509.Certificate, ...]:
    """``others`` ordered from the leaf's issuer upwards (unrelated ones appended)."""
    remaining = [c for c in others if c != leaf]
    ordered: list[x509.Certificate] = []
    current = leaf
    while remaining:
        issuer = next((c for c in remaining if c.subject == current.issuer), None)
        if issuer is None:
            break
        ordered.append(issuer)
        remaining.remove(issuer)
        if issuer.subject == issuer.issuer:
            break
        current = issuer
    return (*ordered, *remaining)
