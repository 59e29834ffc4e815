"""Key sources: where a seal's private key lives, behind one interface.

A :class:`KeySource` gives the signing certificate, the chain above it, and a pyHanko
``Signer`` built once (the key is parsed once and reused for every seal).

- :class:`LocalKeySource`: a key already in memory (e.g. from :class:`signing.pki.DemoPKI`).
- :class:`Pkcs12KeySource`: an encrypted PKCS#12 file (``.p12``/``.pfx``).
- PKCS#11 (an HSM): not implemented yet. The place for it is a ``Pkcs11KeySource`` here,
  built on ``pyhanko.sign.pkcs11.PKCS11Signer`` (needs the optional ``python-pkcs11``
  extra, ``pip install evault[hsm]``): open the session once, look up the key and
  certificate by label, and return that signer from :attr:`KeySource.signer`. Sealing code
  depends only on :class:`KeySource`, so nothing else changes.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.sign.signers.pdf_cms import Signer

from signing._pyhanko import KeyedSigner, PrivateKey
from signing.errors import KeySourceError

__all__ = ["KeySource", "LocalKeySource", "Pkcs12KeySource"]


class KeySource(abc.ABC):
    """A seal's key: its certificate, the chain above it and a reusable pyHanko signer."""

    @property
    @abc.abstractmethod
    def certificate(self) -> x509.Certificate:
        """The signing (seal) certificate."""

    @property
    @abc.abstractmethod
    def chain(self) -> tuple[x509.Certificate, ...]:
        """Certificates above :attr:`certificate`, issuer first, root last (may be empty)."""

    @property
    @abc.abstractmethod
    def signer(self) -> Signer:
        """A pyHanko signer for this key, built once and reused."""


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
        self._certificate = certificate
        self._private_key = private_key
        self._chain = tuple(c for c in chain if c != certificate)

    @property
    def certificate(self) -> x509.Certificate:
        return self._certificate

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        return self._chain

    @cached_property
    def signer(self) -> Signer:
        return KeyedSigner(
            private_key=self._private_key, certificate=self._certificate, chain=self._chain
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._certificate.subject.rfc4514_string()!r})"


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
