"""SM2 signatures (GB/T 32918 / GM/T 0003) and SM3 digests (GB/T 32905), as OFD seals use them.

SM3 comes from ``cryptography``; SM2 from ``tongsuopy`` (Python bindings of Tongsuo, the
OpenSSL fork with the Chinese algorithms), because ``cryptography`` has no SM2 curve. The
choice was measured (docs/verification.md, "OFD"): one SM2 verification takes about 1 ms
there against 20-40 ms in pure-Python candidates and 400+ ms in ``gmssl``.

An SM2 signature is over ``SM3(Z || message)``, where ``Z`` binds the signer's public key
and a user ID; seals, certificates and CRLs use the default ID ``1234567812345678``
(GM/T 0009), which is what Tongsuo applies. Nothing of tongsuopy leaks out of this module.
"""

from __future__ import annotations

import functools
from typing import Any

from cryptography.hazmat.primitives import hashes

from signing.errors import KeySourceError

__all__ = [
    "DEFAULT_USER_ID",
    "SM2_CURVE_OID",
    "SM2_SM3_OID",
    "SM3_OID",
    "SM2PrivateKey",
    "is_sm2_public_key",
    "sm2_verify",
    "sm3",
    "z_value",
]

SM2_CURVE_OID = "1.2.156.10197.1.301"
SM2_SM3_OID = "1.2.156.10197.1.501"
SM3_OID = "1.2.156.10197.1.401"
DEFAULT_USER_ID = b"1234567812345678"

_P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
_A = _P - 3
_B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
_N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
_GX = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
_GY = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0
_CURVE_PREFIX = b"".join(v.to_bytes(32, "big") for v in (_A, _B, _GX, _GY))


def sm3(data: bytes, prefix: bytes = b"") -> bytes:
    """The SM3 digest of ``prefix`` followed by ``data`` (32 bytes; the prefix is hashed
    first rather than joined, so a 64 MiB part is not copied for SM3 with Z)."""
    h = hashes.Hash(hashes.SM3())
    h.update(prefix)
    h.update(data)
    return h.finalize()


def z_value(public_point: bytes, user_id: bytes = DEFAULT_USER_ID) -> bytes:
    """``Z = SM3(ENTL || ID || a || b || xG || yG || xA || yA)`` for an uncompressed point."""
    if len(public_point) != 65 or public_point[0] != 4:
        raise ValueError("an SM2 public key must be a 65-byte uncompressed point")
    entl = (len(user_id) * 8).to_bytes(2, "big")
    return sm3(entl + user_id + _CURVE_PREFIX + public_point[1:])


def is_sm2_public_key(public_key_info: Any) -> bool:
    """Whether an asn1crypto ``PublicKeyInfo`` holds a key on the SM2 curve."""
    try:
        algo = public_key_info["algorithm"]
        return bool(
            algo["algorithm"].dotted == "1.2.840.10045.2.1"
            and algo["parameters"].chosen.dotted == SM2_CURVE_OID
        )
    except Exception:
        return False


@functools.lru_cache(maxsize=1024)
def _public_key(point: bytes) -> Any:
    from tongsuopy.crypto.asymciphers import ec

    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SM2(), point)


def _der_signature(signature: bytes) -> bytes:
    """The DER ``SEQUENCE {r, s}`` of a signature given as DER or as raw ``r || s``."""
    from asn1crypto import algos

    if signature[:1] == b"\x30":
        try:
            parsed = algos.DSASignature.load(signature, strict=True)
            r, s = parsed["r"].native, parsed["s"].native  # a full parse, strict
            _in_range(r, s)
            return signature
        except (ValueError, TypeError):
            pass
    if len(signature) == 64:
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        _in_range(r, s)
        return bytes(algos.DSASignature({"r": r, "s": s}).dump())
    raise ValueError("neither a DER SM2 signature nor a 64-byte r||s value")


def _in_range(r: int, s: int) -> None:
    """GB/T 32918.2 6.1 B1-B2: r and s in [1, n-1] (Tongsuo raises on a negative value)."""
    if not (0 < r < _N and 0 < s < _N):
        raise ValueError("SM2 signature values r and s must be in [1, n-1]")


def sm2_verify(public_point: bytes, signature: bytes, message: bytes) -> bool:
    """Whether ``signature`` (DER or raw ``r || s``) is the SM2 signature of ``message``
    (SM3 and the default user ID) by the key ``public_point`` (uncompressed). Never raises:
    a malformed key or value does not verify."""
    from tongsuopy.crypto import hashes as t_hashes
    from tongsuopy.crypto.asymciphers import ec
    from tongsuopy.crypto.exceptions import InternalError, InvalidSignature

    try:
        key = _public_key(bytes(public_point))
        key.verify(_der_signature(bytes(signature)), bytes(message), ec.ECDSA(t_hashes.SM3()))
    except (InvalidSignature, InternalError, ValueError, TypeError):
        return False
    return True


class SM2PrivateKey:
    """An SM2 signing key (for the demo PKI, its seals and the tests)."""

    def __init__(self, key: Any) -> None:
        self._key = key

    @classmethod
    def from_int(cls, value: int) -> SM2PrivateKey:
        """The key whose secret scalar is ``value`` (1 <= value < n)."""
        from tongsuopy.crypto.asymciphers import ec

        if not 0 < value < _N - 1:
            raise KeySourceError("an SM2 private scalar must be in [1, n-2]")
        return cls(ec.derive_private_key(value, ec.SM2()))

    @classmethod
    def from_pem(cls, pem: bytes) -> SM2PrivateKey:
        return cls._load(pem, "PEM")

    @classmethod
    def load(cls, data: bytes) -> SM2PrivateKey:
        """An unencrypted SM2 private key in PEM or DER (PKCS#8 or SEC 1)."""
        return cls._load(data, "PEM" if data.lstrip().startswith(b"-----BEGIN") else "DER")

    @classmethod
    def _load(cls, data: bytes, encoding: str) -> SM2PrivateKey:
        from tongsuopy.crypto import serialization
        from tongsuopy.crypto.asymciphers import ec

        loader = (
            serialization.load_pem_private_key
            if encoding == "PEM"
            else serialization.load_der_private_key
        )
        from tongsuopy.crypto.exceptions import UnsupportedAlgorithm

        try:
            key = loader(data, password=None)
        except UnsupportedAlgorithm:  # another curve (P-256, ...) or algorithm
            key = None
        except (ValueError, TypeError) as exc:
            raise KeySourceError(f"not an unencrypted {encoding} private key: {exc}") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "SM2":
            raise KeySourceError(f"the {encoding} key is not an SM2 key")
        return cls(key)

    @property
    def public_point(self) -> bytes:
        """The uncompressed public point (65 bytes, ``04 || x || y``)."""
        from tongsuopy.crypto import serialization

        return bytes(
            self._key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )

    def pem(self) -> bytes:
        """PKCS#8 PEM, unencrypted (what ``openssl pkeyutl -inkey`` reads)."""
        from tongsuopy.crypto import serialization

        return bytes(
            self._key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )

    def sign(self, message: bytes) -> bytes:
        """The DER SM2 signature of ``message`` (SM3, default user ID; random k)."""
        from tongsuopy.crypto import hashes as t_hashes
        from tongsuopy.crypto.asymciphers import ec

        return bytes(self._key.sign(bytes(message), ec.ECDSA(t_hashes.SM3())))
