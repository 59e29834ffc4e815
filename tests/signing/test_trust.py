"""Trust bundles: round trip, fingerprint pinning, malformed input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from signing.errors import TrustError
from signing.trust import TrustBundle
from tests.helpers.pki import demo_pki


@pytest.fixture(scope="module")
def bundle() -> TrustBundle:
    pki = demo_pki()
    return TrustBundle.from_certificates(
        roots=[pki.root.certificate],
        intermediates=[pki.issuing_ca.certificate.public_bytes(Encoding.PEM)],
        vault_seal=pki.vault_seal.certificate.public_bytes(Encoding.DER),
        crls=[pki.crl()],
    )


def test_round_trip_keeps_content_and_fingerprint(bundle: TrustBundle, tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    path.write_bytes(bundle.dump())
    loaded = TrustBundle.load(path)
    assert loaded.fingerprint == bundle.fingerprint
    assert loaded.fingerprint.startswith("sha256:") and len(loaded.fingerprint) == 71
    assert (loaded.roots, loaded.intermediates, loaded.vault_seal, loaded.crls) == (
        bundle.roots,
        bundle.intermediates,
        bundle.vault_seal,
        bundle.crls,
    )
    doc = json.loads(path.read_text("utf-8"))
    assert doc["format"] == "evault-trust-bundle" and doc["version"] == 1
    assert "evault Demo Root CA" in doc["roots"][0]["subject"]


def test_fingerprint_ignores_presentation_but_not_content(bundle: TrustBundle) -> None:
    doc = json.loads(bundle.dump())
    doc["description"] = "edited description"
    doc["roots"][0]["pem"] = doc["roots"][0]["pem"].replace("\n", "\r\n")
    assert TrustBundle.load(json.dumps(doc).encode()).fingerprint == bundle.fingerprint
    doc["intermediates"] = []
    with pytest.raises(TrustError, match="fingerprint mismatch"):
        TrustBundle.load(json.dumps(doc).encode())


def test_order_and_duplicates(bundle: TrustBundle) -> None:
    pki = demo_pki()
    twice = TrustBundle.from_certificates(roots=[pki.root.certificate, pki.root.certificate])
    assert len(twice.roots) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not json", "not valid JSON"),
        (b"{}", 'lacks "format"'),
        (b'{"format": "evault-trust-bundle"}', 'integer "version"'),
        (b'{"format": "evault-trust-bundle", "version": 1, "roots": []}', "at least one root"),
        (
            b'{"format": "evault-trust-bundle", "version": 2, "roots": ["x"]}',
            "PEM CERTIFICATE",
        ),
        (
            b'{"format": "evault-trust-bundle", "version": 1, "roots": '
            b'["-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----\\n"]}',
            "not a valid X.509 certificate",
        ),
    ],
)
def test_malformed_bundles_are_trust_errors(data: bytes, message: str) -> None:
    with pytest.raises(TrustError, match=message):
        TrustBundle.load(data)


def test_unsupported_version(bundle: TrustBundle) -> None:
    doc = json.loads(bundle.dump())
    doc["version"] = 7
    with pytest.raises(TrustError, match="unsupported trust bundle version 7"):
        TrustBundle.load(json.dumps(doc).encode())


def test_missing_file_is_a_trust_error(tmp_path: Path) -> None:
    with pytest.raises(TrustError, match="cannot read trust bundle"):
        TrustBundle.load(tmp_path / "absent.json")


def test_validation_context_is_offline_and_cached(bundle: TrustBundle) -> None:
    assert bundle.trust_manager() is bundle.trust_manager()
    vc = bundle.validation_context()
    assert vc.fetching_allowed is False
