"""RFC 5280 nameConstraints of an SM2 CA (directory names) in :mod:`signing.ofd.certpath`."""

from __future__ import annotations

from typing import Any

import pytest
from asn1crypto import x509

from schemas.report import SubIndication
from signing.ofd.certpath import Sm2TrustStore, load_certificate
from signing.ofd.pki import Sm2DemoPKI
from tests.signing.ofd.conftest import AT, MARKET, POLICE

MARKET_O = f"{MARKET} 113501000036043600"


def _constrained_ca(pki: Sm2DemoPKI, kind: str, org: str) -> Any:
    """The issuing CA certificate again (same name and key), with nameConstraints."""
    cert = x509.Certificate.load(pki.ca.cert)
    tbs = cert["tbs_certificate"].copy()
    subtree = {"base": x509.GeneralName(name="directory_name", value=_dn(org))}
    constraints = {f"{kind}_subtrees": [subtree]}
    exts = [e for e in tbs["extensions"]] + [
        x509.Extension({"extn_id": "name_constraints", "critical": True, "extn_value": constraints})
    ]
    tbs["extensions"] = exts
    signed = x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": cert["signature_algorithm"],
            "signature_value": pki.root.key.sign(tbs.dump()),
        }
    )
    return load_certificate(signed.dump())


def _dn(org: str) -> x509.Name:
    return x509.Name.build({"country_name": "CN", "organization_name": org})


def _check(pki: Sm2DemoPKI, kind: str, org: str, who: str) -> Any:
    store = Sm2TrustStore(
        [pki.root.certificate],
        [_constrained_ca(pki, kind, org)],
        [_crl(d) for d in pki.crls()],
    )
    return store.validate(load_certificate(pki.signers[who].cert), at=AT)


def _crl(der: bytes) -> Any:
    from asn1crypto import crl

    return crl.CertificateList.load(der)


@pytest.mark.parametrize(
    ("kind", "who", "trusted"),
    [
        ("permitted", MARKET, True),
        ("permitted", POLICE, False),
        ("excluded", MARKET, False),
        ("excluded", POLICE, True),
    ],
)
def test_directory_name_constraints(
    sm2_pki: Sm2DemoPKI, kind: str, who: str, trusted: bool
) -> None:
    result = _check(sm2_pki, kind, MARKET_O, who)
    assert result.trusted is trusted, result.message
    if not trusted:
        assert result.problem is SubIndication.CHAIN_CONSTRAINTS_FAILURE
        assert "nameConstraints" in result.message


def _signer_with_eku(pki: Sm2DemoPKI, purposes: list[str]) -> Any:
    """The market's signer certificate again (same key), with an extendedKeyUsage."""
    cert = x509.Certificate.load(pki.signers[MARKET].cert)
    tbs = cert["tbs_certificate"].copy()
    eku = x509.Extension(
        {"extn_id": "extended_key_usage", "critical": False, "extn_value": purposes}
    )
    tbs["extensions"] = [*tbs["extensions"], eku]
    signed = x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": cert["signature_algorithm"],
            "signature_value": pki.ca.key.sign(tbs.dump()),
        }
    )
    return load_certificate(signed.dump())


@pytest.mark.parametrize(
    ("purposes", "trusted"),
    [
        (["server_auth"], False),
        (["time_stamping", "ocsp_signing"], False),
        (["server_auth", "email_protection"], True),
        (["any_extended_key_usage"], True),
        (["1.3.6.1.5.5.7.3.36"], True),  # id-kp-documentSigning (RFC 9336)
    ],
)
def test_a_signer_only_for_other_purposes_is_refused(
    sm2_pki: Sm2DemoPKI, purposes: list[str], trusted: bool
) -> None:
    store = Sm2TrustStore(
        [sm2_pki.root.certificate], [sm2_pki.ca.certificate], [_crl(d) for d in sm2_pki.crls()]
    )
    result = store.validate(_signer_with_eku(sm2_pki, purposes), at=AT)
    assert result.trusted is trusted, result.message
    if not trusted:
        assert "extendedKeyUsage" in result.message
