"""Trust bundles after key rotations (version 2: previous vault seals, log keys) and the log
keyring that verifies checkpoints signed by any of the log's keys."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from signing.errors import LogVerificationError, TrustError
from signing.pki import DemoPKI
from signing.transparency import Checkpoint, LogKeyring, LogSigner
from signing.trust import TrustBundle
from tests.helpers.pki import demo_pki

ORIGIN = "vault.test/log"
OLD, NEW = LogSigner.generate(ORIGIN), LogSigner.generate(ORIGIN)


def _checkpoint(signer: LogSigner, size: int) -> str:
    return signer.sign(Checkpoint(origin=ORIGIN, size=size, root_hash=bytes([size]) * 32))


def _bundle(**extra: object) -> TrustBundle:
    pki = demo_pki()
    return TrustBundle.from_certificates(
        roots=[pki.root.certificate],
        intermediates=[pki.issuing_ca.certificate],
        vault_seal=pki.vault_seal.certificate,
        **extra,  # type: ignore[arg-type]
    )


def test_a_bundle_without_rotation_stays_version_1_byte_for_byte() -> None:
    plain = _bundle()
    assert plain.version == 1
    assert _bundle(previous_vault_seals=[], log_keys=[]).dump() == plain.dump()
    doc = json.loads(plain.dump())
    assert "log_keys" not in doc and "previous_vault_seals" not in doc


def test_a_rotated_bundle_round_trips_and_pins_the_keys() -> None:
    other = DemoPKI.generate(seed=b"other seal", departments=[], now=demo_pki().now)
    keys = [NEW.verifier().vkey(), OLD.verifier().vkey()]
    bundle = _bundle(previous_vault_seals=[other.vault_seal.certificate], log_keys=keys)
    assert bundle.version == 2
    loaded = TrustBundle.load(bundle.dump())
    assert loaded.fingerprint == bundle.fingerprint != _bundle().fingerprint
    assert loaded.previous_vault_seals == (other.vault_seal.certificate.public_bytes(Encoding.DER),)
    assert loaded.log_keys == tuple(keys)

    doc = json.loads(bundle.dump())
    doc["log_keys"] = [{"vkey": keys[0]}]  # an old log key dropped: content changed
    with pytest.raises(TrustError, match="fingerprint mismatch"):
        TrustBundle.load(json.dumps(doc).encode())
    doc = json.loads(bundle.dump())
    doc["previous_vault_seals"] = []
    with pytest.raises(TrustError, match="fingerprint mismatch"):
        TrustBundle.load(json.dumps(doc).encode())


def test_the_current_seal_is_not_also_a_previous_one() -> None:
    pki = demo_pki()
    bundle = _bundle(previous_vault_seals=[pki.vault_seal.certificate])
    assert bundle.previous_vault_seals == () and bundle.version == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": 1}, "a version 1 trust bundle cannot hold previous vault seals or log keys"),
        ({"version": 3}, "unsupported trust bundle version 3"),
        ({"log_keys": "x"}, 'trust bundle "log_keys" must be a list'),
        ({"log_keys": [{"key": "x"}]}, 'trust bundle "log_keys" entry #1 has no "vkey" text'),
        ({"log_keys": [{"vkey": "a+b+c"}]}, "trust bundle log key #1 is not a log vkey"),
    ],
)
def test_malformed_rotation_fields_are_refused(change: dict[str, object], message: str) -> None:
    doc = json.loads(_bundle(log_keys=[OLD.verifier().vkey()]).dump())
    doc.update(change)
    with pytest.raises(TrustError, match=message):
        TrustBundle.load(json.dumps(doc).encode())


def test_the_keyring_verifies_checkpoints_of_every_key_and_nothing_else() -> None:
    keyring = _bundle(log_keys=[NEW.verifier().vkey(), OLD.verifier().vkey()]).log_verifier()
    assert isinstance(keyring, LogKeyring)
    assert keyring.verify(_checkpoint(OLD, 3), origin=ORIGIN).checkpoint.size == 3
    assert keyring.verify(_checkpoint(NEW, 5), origin=ORIGIN).checkpoint.size == 5
    with pytest.raises(LogVerificationError, match="no signature by any of the log keys"):
        keyring.verify(_checkpoint(LogSigner.generate(ORIGIN), 5))
    forged = _checkpoint(OLD, 3).replace("\n3\n", "\n4\n")
    with pytest.raises(LogVerificationError, match="invalid \\(forged or altered\\)"):
        keyring.verify(forged)
    with pytest.raises(LogVerificationError, match="is not the expected"):
        keyring.verify(_checkpoint(NEW, 5), origin="elsewhere/log")
    assert _bundle().log_verifier() is None


def test_a_signer_knows_its_predecessors() -> None:
    signer = NEW.with_previous([OLD.verifier()])
    assert [base64.b64encode(v.raw) for v in signer.keyring().verifiers] == [
        base64.b64encode(NEW.verifier().raw),
        base64.b64encode(OLD.verifier().raw),
    ]
    assert signer.keyring().verify(_checkpoint(OLD, 1)).signed_by == (ORIGIN,)
    with pytest.raises(LogVerificationError):
        NEW.keyring().verify(_checkpoint(OLD, 1))
