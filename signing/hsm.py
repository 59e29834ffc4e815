"""Keys made and used inside an HSM through PKCS#11 (``python-pkcs11``, the ``hsm`` extra).

- :func:`open_token`: a logged-in read-write session on a token, every failure one
  :class:`KeySourceError`.
- :func:`generate_seal_key` / :func:`generate_log_key`: a new EC P-256 seal key or Ed25519
  log key generated in the token, private half sensitive and not extractable, and its
  public key for the certificate (seal) or the vkey (log).
- :func:`seal_key_csr`: a PKCS#10 request for a seal key in the token, signed there, for
  the CA that certifies the new seal before a rotation.
- :class:`Pkcs11Ed25519Key`: the transparency log's Ed25519 key in a token (CKM_EDDSA),
  what :class:`signing.transparency.LogSigner` signs checkpoints with.
- :func:`private_key_protection`: CKA_SENSITIVE / CKA_EXTRACTABLE of a private key, for
  operators and tests to check that it cannot leave the token.

SoftHSM2 2.6 implements CKM_EC_EDWARDS_KEY_PAIR_GEN and CKM_EDDSA (Ed25519); tokens that do
not make :func:`generate_log_key` and :meth:`Pkcs11Ed25519Key.open` raise
:class:`KeySourceError` naming the missing mechanism.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from signing.errors import KeySourceError

__all__ = [
    "KeyProtection",
    "Pkcs11Ed25519Key",
    "generate_log_key",
    "generate_seal_key",
    "open_token",
    "private_key_protection",
    "seal_key_csr",
]

_ED25519_OID = "1.3.101.112"
#: SHA-256 of the PIN each (module, token) was logged in with by this process.
_LOGINS: dict[tuple[str, str], bytes] = {}
_P256_OID = "1.2.840.10045.3.1.7"


def _pkcs11() -> Any:
    try:
        import pkcs11
    except ImportError:  # pragma: no cover - depends on the optional extra
        raise KeySourceError(
            "PKCS#11 needs the python-pkcs11 package: pip install 'evault[hsm]'"
        ) from None
    return pkcs11


def open_token(*, module: Path | str, token_label: str, pin: str) -> Any:
    """A logged-in read-write session on token ``token_label`` of PKCS#11 ``module``.

    The seal key and the log key may be on one token: when this process is already logged
    in to it, the new session shares that login (PKCS#11 has one login per application and
    token; a second C_Login fails with CKR_USER_ALREADY_LOGGED_IN)."""
    pkcs11 = _pkcs11()
    if not Path(module).is_file():
        raise KeySourceError(f"PKCS#11 module not found: {module}")
    try:
        token = pkcs11.lib(str(module)).get_token(token_label=token_label)
        where = (str(Path(module).resolve()), token_label)
        digest = hashlib.sha256(pin.encode()).digest()
        try:
            session = token.open(user_pin=pin, rw=True)
        except pkcs11.exceptions.UserAlreadyLoggedIn:
            # PKCS#11 logs in once per process and token: a session of this process (the
            # seal's key source, the log key) did, and a new session shares that login; the
            # PIN must be the one it logged in with.
            if not hmac.compare_digest(_LOGINS.get(where, b""), digest):
                raise pkcs11.exceptions.PinIncorrect() from None
            return token.open(rw=True)
        _LOGINS[where] = digest
        return session
    except Exception as exc:  # python-pkcs11 raises many unrelated types
        raise KeySourceError(
            f"cannot open PKCS#11 token {token_label!r}: {type(exc).__name__} {exc}".rstrip()
        ) from None


def _private_template(pkcs11: Any) -> dict[Any, Any]:
    attribute = pkcs11.Attribute
    return {attribute.SENSITIVE: True, attribute.EXTRACTABLE: False, attribute.TOKEN: True}


def _refuse_existing(session: Any, label: str) -> None:
    pkcs11 = _pkcs11()
    found = list(session.get_objects({pkcs11.Attribute.LABEL: label}))
    if found:
        raise KeySourceError(f"the token already holds an object labelled {label!r}")


def _generate_pair(
    session: Any, label: str, key_type: Any, curve: str, mechanism: Any, what: str
) -> Any:
    """Generate a key pair of ``key_type`` on ``curve`` (an OID) in the token; its public
    key object. The private key is sensitive and never extractable."""
    pkcs11 = _pkcs11()
    from pkcs11.util.ec import encode_named_curve_parameters

    _refuse_existing(session, label)
    try:
        params = session.create_domain_parameters(
            key_type,
            {pkcs11.Attribute.EC_PARAMS: encode_named_curve_parameters(curve)},
            local=True,
        )
        public, _private = params.generate_keypair(
            store=True,
            label=label,
            mechanism=mechanism,
            private_template=_private_template(pkcs11),
        )
    except Exception as exc:
        raise KeySourceError(
            f"the token cannot generate {what}: {type(exc).__name__} {exc}".rstrip()
        ) from None
    return public


def generate_seal_key(session: Any, label: str) -> ec.EllipticCurvePublicKey:
    """Generate an EC P-256 seal key labelled ``label`` in the token; its public key."""
    pkcs11 = _pkcs11()
    from cryptography.hazmat.primitives.serialization import load_der_public_key
    from pkcs11.util.ec import encode_ec_public_key

    public = _generate_pair(session, label, pkcs11.KeyType.EC, _P256_OID, None, "an EC P-256 key")
    key = load_der_public_key(encode_ec_public_key(public))
    assert isinstance(key, ec.EllipticCurvePublicKey)
    return key


def generate_log_key(session: Any, label: str) -> Ed25519PublicKey:
    """Generate an Ed25519 log key labelled ``label`` in the token; its public key."""
    pkcs11 = _pkcs11()
    public = _generate_pair(
        session,
        label,
        pkcs11.KeyType.EC_EDWARDS,
        _ED25519_OID,
        pkcs11.Mechanism.EC_EDWARDS_KEY_PAIR_GEN,
        "an Ed25519 key (CKM_EC_EDWARDS_KEY_PAIR_GEN)",
    )
    return _ed25519_public(public)


def seal_key_csr(session: Any, label: str, subject: x509.Name) -> x509.CertificateSigningRequest:
    """A PKCS#10 request for ``subject`` with the EC key ``label`` of the token, signed by it
    (ECDSA with SHA-256; the digest is computed here and signed in the token)."""
    from asn1crypto import csr as asn1_csr
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509

    pkcs11 = _pkcs11()
    from pkcs11.util.ec import encode_ec_public_key, encode_ecdsa_signature

    try:
        public = session.get_key(
            label=label, object_class=pkcs11.ObjectClass.PUBLIC_KEY, key_type=pkcs11.KeyType.EC
        )
        private = session.get_key(
            label=label, object_class=pkcs11.ObjectClass.PRIVATE_KEY, key_type=pkcs11.KeyType.EC
        )
        info = asn1_csr.CertificationRequestInfo(
            {
                "version": "v1",
                "subject": asn1_x509.Name.load(subject.public_bytes()),
                "subject_pk_info": asn1_keys.PublicKeyInfo.load(encode_ec_public_key(public)),
                "attributes": [],
            }
        )
        digest = hashlib.sha256(info.dump()).digest()
        raw = private.sign(digest, mechanism=pkcs11.Mechanism.ECDSA)
    except Exception as exc:
        raise KeySourceError(
            f"no usable EC key {label!r} on the token: {type(exc).__name__} {exc}".rstrip()
        ) from None
    request = asn1_csr.CertificationRequest(
        {
            "certification_request_info": info,
            "signature_algorithm": {"algorithm": "sha256_ecdsa"},
            "signature": encode_ecdsa_signature(raw),
        }
    )
    csr = x509.load_der_x509_csr(request.dump())
    if not csr.is_signature_valid:  # pragma: no cover - a token that signs wrongly
        raise KeySourceError(f"the token's signature on the request for {label!r} is invalid")
    return csr


def _ed25519_public(public: Any) -> Ed25519PublicKey:
    from asn1crypto.core import OctetString

    pkcs11 = _pkcs11()
    point = public[pkcs11.Attribute.EC_POINT]
    raw = OctetString.load(point).native if len(point) != 32 else point
    return Ed25519PublicKey.from_public_bytes(bytes(raw))


class Pkcs11Ed25519Key:
    """An Ed25519 private key in a token: signs with CKM_EDDSA, the key stays in the token.

    One session per key, kept open; signing is serialized (a PKCS#11 session runs one
    operation at a time). The key signs a probe at :meth:`open` that its public key checks.
    """

    def __init__(self, session: Any, private: Any, public: Ed25519PublicKey) -> None:
        self._session = session
        self._private = private
        self._public = public
        self._lock = threading.Lock()

    @classmethod
    def open(
        cls, *, module: Path | str, token_label: str, pin: str, key_label: str
    ) -> Pkcs11Ed25519Key:
        """Log in and find the Ed25519 key pair labelled ``key_label``."""
        pkcs11 = _pkcs11()
        session = open_token(module=module, token_label=token_label, pin=pin)
        try:
            private = session.get_key(
                label=key_label,
                object_class=pkcs11.ObjectClass.PRIVATE_KEY,
                key_type=pkcs11.KeyType.EC_EDWARDS,
            )
            public = session.get_key(
                label=key_label,
                object_class=pkcs11.ObjectClass.PUBLIC_KEY,
                key_type=pkcs11.KeyType.EC_EDWARDS,
            )
            key = cls(session, private, _ed25519_public(public))
            probe = b"evault: does this log key sign?"
            key.public_key().verify(key.sign(probe), probe)
        except Exception as exc:
            session.close()
            raise KeySourceError(
                f"no usable Ed25519 key {key_label!r} on PKCS#11 token {token_label!r}: "
                f"{type(exc).__name__} {exc}".rstrip()
            ) from None
        return key

    def sign(self, data: bytes) -> bytes:
        pkcs11 = _pkcs11()
        with self._lock:
            try:
                return bytes(self._private.sign(data, mechanism=pkcs11.Mechanism.EDDSA))
            except Exception as exc:
                raise KeySourceError(
                    f"the HSM refused to sign: {type(exc).__name__} {exc}".rstrip()
                ) from None

    def public_key(self) -> Ed25519PublicKey:
        return self._public

    def close(self) -> None:
        self._session.close()


@dataclass(frozen=True)
class KeyProtection:
    """What a token says about a private key's protection."""

    sensitive: bool
    """CKA_SENSITIVE: its value cannot be read in clear."""
    extractable: bool
    """CKA_EXTRACTABLE: it can be wrapped out of the token."""
    never_extractable: bool
    """CKA_NEVER_EXTRACTABLE: it never was extractable."""


def private_key_protection(session: Any, key_label: str) -> KeyProtection:
    """The protection attributes of the private key labelled ``key_label``."""
    pkcs11 = _pkcs11()
    attribute = pkcs11.Attribute
    try:
        key = session.get_key(label=key_label, object_class=pkcs11.ObjectClass.PRIVATE_KEY)
        return KeyProtection(
            sensitive=bool(key[attribute.SENSITIVE]),
            extractable=bool(key[attribute.EXTRACTABLE]),
            never_extractable=bool(key[attribute.NEVER_EXTRACTABLE]),
        )
    except Exception as exc:
        raise KeySourceError(
            f"no private key {key_label!r} on the token: {type(exc).__name__} {exc}".rstrip()
        ) from None
