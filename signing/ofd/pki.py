"""A demo SM2 PKI for OFD seals: root CA -> issuing CA -> signer certificates, a seal maker
(印章制作单位) and CRLs, and electronic seals (GB/T 38540 V4 ``SESeal``) with their images.

Keys are derived from ``seed`` (the same seed gives the same keys and certificates' bodies;
SM2 signatures use a random k, so signature bytes differ between builds). The root's name
starts with :data:`signing.pki.DEMO_ROOT_MARK` so that production refuses it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import core, crl, keys, pem, x509

from signing.errors import KeySourceError
from signing.ofd.ses import (
    CertInfoList,
    PictureInfo,
    PropertyInfoV4,
    SealInfoV4,
    SESealV4,
    SesHeader,
)
from signing.ofd.sm2 import SM2_CURVE_OID, SM2_SM3_OID, SM2PrivateKey
from signing.pki import DEMO_ROOT_MARK

__all__ = ["Sm2DemoPKI", "Sm2Identity", "make_seal", "seal_image"]

_N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
_SM2_ALG = {"algorithm": SM2_SM3_OID}


@dataclass(frozen=True)
class Sm2Identity:
    """A certificate and its SM2 key."""

    cert: bytes
    key: SM2PrivateKey = field(repr=False)

    @property
    def certificate(self) -> Any:
        return x509.Certificate.load(self.cert)

    @classmethod
    def load(cls, key: bytes, certificate: bytes) -> Sm2Identity:
        """An SM2 key (PEM or DER, unencrypted) and its certificate (PEM or DER);
        :class:`KeySourceError` when either is unreadable or they do not belong together."""
        sm2_key = SM2PrivateKey.load(key)
        try:
            der = certificate
            if pem.detect(certificate):
                _, _, der = pem.unarmor(certificate)
            cert = x509.Certificate.load(der)
            point = bytes(cert.public_key["public_key"].native)
        except (ValueError, TypeError, KeyError) as exc:
            raise KeySourceError(f"not a PEM or DER certificate: {exc}") from None
        if point != sm2_key.public_point:
            raise KeySourceError("the SM2 key is not the key of the certificate")
        return cls(bytes(der), sm2_key)


def _key(seed: bytes, label: str) -> SM2PrivateKey:
    value = int.from_bytes(hashlib.sha256(seed + b"/" + label.encode()).digest(), "big")
    return SM2PrivateKey.from_int(value % (_N - 2) + 1)


def _spki(key: SM2PrivateKey) -> keys.PublicKeyInfo:
    params = keys.ECDomainParameters(name="named", value=SM2_CURVE_OID)
    return keys.PublicKeyInfo(
        {"algorithm": {"algorithm": "ec", "parameters": params}, "public_key": key.public_point}
    )


def _name(cn: str, org: str | None = None) -> x509.Name:
    attrs = {"country_name": "CN", "common_name": cn}
    if org:
        attrs["organization_name"] = org
    return x509.Name.build(attrs)


def _certificate(
    *,
    subject: x509.Name,
    key: SM2PrivateKey,
    issuer: x509.Name,
    issuer_key: SM2PrivateKey,
    serial: int,
    not_before: dt.datetime,
    days: int,
    ca: bool,
) -> bytes:
    usage = {"key_cert_sign", "crl_sign"} if ca else {"digital_signature", "non_repudiation"}
    exts: list[dict[str, Any]] = [
        {"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": ca}},
        {"extn_id": "key_usage", "critical": True, "extn_value": usage},
        {
            "extn_id": "key_identifier",
            "critical": False,
            "extn_value": hashlib.sha1(key.public_point).digest(),  # noqa: S324 - RFC 5280 4.2.1.2
        },
    ]
    tbs = x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": serial,
            "signature": _SM2_ALG,
            "issuer": issuer,
            "validity": {
                "not_before": x509.Time(name="utc_time", value=not_before),
                "not_after": x509.Time(name="utc_time", value=not_before + dt.timedelta(days)),
            },
            "subject": subject,
            "subject_public_key_info": _spki(key),
            "extensions": exts,
        }
    )
    signature = issuer_key.sign(tbs.dump())
    return bytes(
        x509.Certificate(
            {"tbs_certificate": tbs, "signature_algorithm": _SM2_ALG, "signature_value": signature}
        ).dump()
    )


@dataclass(frozen=True)
class Sm2DemoPKI:
    """Root, issuing CA, seal maker and one signer per department, all SM2."""

    root: Sm2Identity
    ca: Sm2Identity
    maker: Sm2Identity
    signers: dict[str, Sm2Identity]
    now: dt.datetime

    @classmethod
    def build(
        cls,
        *,
        seed: bytes = b"evault-sm2-demo",
        departments: Sequence[tuple[str, str]] = (("福州市市场监督管理局", "113501000036043600"),),
        now: dt.datetime | None = None,
    ) -> Sm2DemoPKI:
        """``departments``: (name, 统一社会信用代码) of each signer."""
        now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0) - dt.timedelta(days=1)
        root_key, ca_key, maker_key = (_key(seed, n) for n in ("root", "ca", "maker"))
        root_name = _name(f"{DEMO_ROOT_MARK} SM2 Root CA")
        ca_name = _name("evault Demo SM2 Issuing CA")

        def issue(subject: x509.Name, key: SM2PrivateKey, serial: int, *, ca: bool = False) -> Any:
            issuer, ikey = (root_name, root_key) if ca else (ca_name, ca_key)
            cert = _certificate(
                subject=subject,
                key=key,
                issuer=issuer,
                issuer_key=ikey,
                serial=serial,
                not_before=now,
                days=3650 if ca else 1825,
                ca=ca,
            )
            return Sm2Identity(cert, key)

        root = Sm2Identity(
            _certificate(
                subject=root_name,
                key=root_key,
                issuer=root_name,
                issuer_key=root_key,
                serial=0x5E_0001,
                not_before=now,
                days=7300,
                ca=True,
            ),
            root_key,
        )
        signers = {
            name: issue(
                _name(f"{name}电子印章", org=f"{name} {code}"), _key(seed, code), 0x5E_2000 + i
            )
            for i, (name, code) in enumerate(departments)
        }
        return cls(
            root=root,
            ca=issue(ca_name, ca_key, 0x5E_0002, ca=True),
            maker=issue(_name("evault Demo 电子印章制作"), maker_key, 0x5E_1000),
            signers=signers,
            now=now,
        )

    def crls(self, revoked: Sequence[bytes] = ()) -> list[bytes]:
        """The root's and the issuing CA's CRLs (``revoked``: certificates to list)."""
        serials = {x509.Certificate.load(d).serial_number for d in revoked}
        return [_crl(self.root, serials, self.now), _crl(self.ca, serials, self.now)]

    def trust_bundle(
        self, revoked: Sequence[bytes] = (), *, vault_seals: Sequence[bytes] = ()
    ) -> Any:
        """A :class:`signing.trust.TrustBundle` with this PKI's root, CA, CRLs and its seal
        maker pinned (``seal_makers``), and ``vault_seals`` (the vault's OFD copy seal
        certificates) pinned as ``ofd_vault_seals``."""
        from signing.trust import TrustBundle

        return TrustBundle.from_certificates(
            roots=[self.root.cert],
            intermediates=[self.ca.cert],
            crls=self.crls(revoked),
            seal_makers=[self.maker.cert],
            ofd_vault_seals=vault_seals,
            description="evault demo SM2 trust bundle",
        )

    def seal_for(
        self, department: str, *, image: bytes | None = None, es_id: str | None = None
    ) -> bytes:
        """A V4 seal of ``department``, made by this PKI's seal maker."""
        signer = self.signers[department]
        return make_seal(
            maker=self.maker,
            name=f"{department}电子印章",
            es_id=es_id or hashlib.sha256(signer.cert).hexdigest()[:14].upper(),
            signer_certs=[signer.cert],
            image=image or seal_image(department),
            valid_from=self.now,
            valid_to=self.now + dt.timedelta(days=1825),
        )


def _crl(issuer: Sm2Identity, serials: set[int], now: dt.datetime) -> bytes:
    cert = issuer.certificate
    entries = [
        {"user_certificate": s, "revocation_date": x509.Time(name="utc_time", value=now)}
        for s in sorted(serials)
    ]
    tbs = crl.TbsCertList(
        {
            "version": "v2",
            "signature": _SM2_ALG,
            "issuer": cert.subject,
            "this_update": x509.Time(name="utc_time", value=now),
            "next_update": x509.Time(name="utc_time", value=now + dt.timedelta(days=365)),
            "revoked_certificates": entries or None,
        }
    )
    return bytes(
        crl.CertificateList(
            {
                "tbs_cert_list": tbs,
                "signature_algorithm": _SM2_ALG,
                "signature": issuer.key.sign(tbs.dump()),
            }
        ).dump()
    )


def make_seal(
    *,
    maker: Sm2Identity,
    name: str,
    es_id: str,
    signer_certs: Sequence[bytes],
    image: bytes,
    valid_from: dt.datetime,
    valid_to: dt.datetime,
    image_type: str = "PNG",
    size_mm: int = 40,
) -> bytes:
    """The DER of a GB/T 38540 V4 ``SESeal`` (company seal, certListType 1), signed by
    ``maker`` over ``SES_SealInfo``."""
    gt = core.GeneralizedTime
    info = SealInfoV4(
        {
            "header": SesHeader({"id": "ES", "version": 4, "vid": "evault"}),
            "es_id": es_id,
            "property": PropertyInfoV4(
                {
                    "type": 1,
                    "name": name,
                    "cert_list_type": 1,
                    "cert_list": core.Any.load(CertInfoList(list(signer_certs)).dump()),
                    "create_date": gt(valid_from),
                    "valid_start": gt(valid_from),
                    "valid_end": gt(valid_to),
                }
            ),
            "picture": PictureInfo(
                {"type": image_type, "data": image, "width": size_mm, "height": size_mm}
            ),
        }
    )
    signed = bytes(info.dump())
    seal = SESealV4(
        {
            "eseal_info": SealInfoV4.load(signed),
            "cert": maker.cert,
            "sign_alg_id": SM2_SM3_OID,
            "signed_value": maker.key.sign(signed),
        }
    )
    return bytes(seal.dump())


def seal_image(text: str, size: int = 240) -> bytes:
    """A round red seal (PNG, transparent) with a star and ``text`` along the rim."""
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    red = (204, 0, 0, 255)
    draw.ellipse((6, 6, size - 6, size - 6), outline=red, width=8)
    c, r = size / 2, size * 0.16
    import math

    star = [
        (
            c + (r if i % 2 == 0 else r * 0.4) * math.sin(i * math.pi / 5),
            c - (r if i % 2 == 0 else r * 0.4) * math.cos(i * math.pi / 5),
        )
        for i in range(10)
    ]
    draw.polygon(star, fill=red)
    try:
        from importlib.resources import files

        font_path = files("signing") / "fonts" / "NotoSansSC-Regular-GB2312.ttf"
        font: Any = ImageFont.truetype(str(font_path), size // 11)
    except OSError:
        font = ImageFont.load_default()
    draw.text((c, size * 0.78), text[:12], fill=red, font=font, anchor="mm")
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()
