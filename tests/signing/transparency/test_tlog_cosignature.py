"""Witness cosignatures (c2sp.org/tlog-cosignature) against published keys and cosignatures.

Vectors:
- the signed message of the spec's example (``cosignature/v1``, ``time 1679315147``, the
  ``example.com/behind-the-sofa`` checkpoint), spelled out in c2sp.org/tlog-cosignature;
- the Ed25519 cosignature vkey ``remora.n621.de+da77ade7+...`` (signature type 0x04) of the
  tests of transparency-dev/formats (note/note_cosigv1_test.go), a public witness's key;
- a real checkpoint of the public CT log ``arche2025h1.staging.ct.transparency.dev`` as
  served with its witnesses' cosignatures, among them remora.n621.de's;
- transparency-dev/formats' cosignature whose timestamp is 1727964367.
"""

from __future__ import annotations

import struct

import pytest

from signing.errors import KeySourceError, LogVerificationError
from signing.transparency import LogSigner, SignedNote
from signing.transparency.copy_proof import CopyLogProof
from signing.transparency.cosignature import (
    CosignatureSigner,
    CosignatureVerifier,
    cosigned_message,
    verify_cosignatures,
)
from signing.transparency.event import LogEvent
from signing.transparency.merkle import MerkleTree
from signing.transparency.note import SIG_ED25519_COSIGNATURE, NoteSignature, key_id

REMORA_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
ARCHE_CHECKPOINT = (
    "arche2025h1.staging.ct.transparency.dev\n"
    "1432088532\n"
    "U7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=\n"
    "\n"
    "— arche2025h1.staging.ct.transparency.dev zTM8sQAAAZ5W0WdjBAMARjBEAiBjW5IQf9pvsYLfQFX6hoGREP"
    "MHbdQ3urbllzalApkptQIgIpwtEroeW2BXaHAI4kJXFbon5Ch9MNL5zRNZ55lvGt0=\n"
    "— arche2025h1.staging.ct.transparency.dev ui8GwCF1+kWqZrxGdhj4aX3gcw7XUlXQQabg/27lefwhUkzbC"
    "3NygNI75MdhL1bfTW9g8Ei59RA23oHP7Ry1k3ZFWwQ=\n"
    "— transparency.dev/DEV:witness-little-garden 2AQqhwAAAABqEiEgzgFIqqhbUoDwjMWE6UP8nd8/KYTzwZ2r"
    "hIgcqoXHAwVkjZr4AscylP3v7sEodkRAErumC2q44vdgJY096st5BQ==\n"
    "— witness1.smartit.nu/witness1 pIyCDwAAAABqEiEghIp82KWebrw7/oHQwlTAm3g2RKS4+eebl8eO0WH+/iEcxZ"
    "75W3u5hNI7TOQtmJbqmNWVuE0tgh0XwzdZsDsUAQ==\n"
    "— remora.n621.de 2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/KSiXCg9DEZI+aVCIobWX9sX"
    "Tynk5XeU/zZ0WBxtqB0DrAWfBw==\n"
    "— witness.stagemole.eu Z/euoAAAAABqEiEgw0i+7g2ENfDAWHmtRzCfKTHSDwYDJA2NmKeGi9Y8FtEyOUvVr+AJmI"
    "Y/2TUFucgKi7lI7cUiOvKFYe/TmN9DAg==\n"
)
FORMATS_COSIGNATURE = (
    "— test ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDc"
    "FiEBYJXORmnFBOBA=="
)
SPEC_BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"


def test_the_signed_message_is_the_specs() -> None:
    assert cosigned_message(SPEC_BODY, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n"
        b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )
    with pytest.raises(LogVerificationError, match="timestamp"):
        cosigned_message(SPEC_BODY, 0)


def test_a_published_witness_vkey_parses_and_its_key_id_is_the_specs_formula() -> None:
    witness = CosignatureVerifier.from_vkey(REMORA_VKEY)
    assert witness.name == "remora.n621.de"
    assert witness.key_id == bytes.fromhex("da77ade7")
    raw = witness.vkey().split("+")[2]
    assert witness.vkey() == REMORA_VKEY and raw.startswith("BO")  # 0x04 || key
    with pytest.raises(KeySourceError, match="key ID does not match"):
        CosignatureVerifier.from_vkey(REMORA_VKEY.replace("da77ade7", "da77ade8"))


def test_a_log_key_is_not_a_witness_key() -> None:
    log_vkey = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
    with pytest.raises(KeySourceError, match=r"signature type 0x04"):
        CosignatureVerifier.from_vkey(log_vkey)


def test_a_real_witness_cosignature_verifies_and_an_altered_checkpoint_does_not() -> None:
    witness = CosignatureVerifier.from_vkey(REMORA_VKEY)
    (found,) = verify_cosignatures(ARCHE_CHECKPOINT, [witness], 1)
    assert found.name == "remora.n621.de"
    assert found.timestamp == 0x6A122120  # from the signature's first 8 bytes
    altered = ARCHE_CHECKPOINT.replace("1432088532", "1432088533")
    with pytest.raises(
        LogVerificationError, match=r"cosignature of witness remora\.n621\.de is invalid"
    ):
        verify_cosignatures(altered, [witness], 1)


def test_the_timestamp_sits_after_the_key_id_big_endian() -> None:
    sig = NoteSignature.parse_line(FORMATS_COSIGNATURE)
    assert struct.unpack(">Q", sig.signature[:8]) == (1727964367,)


def test_our_cosignature_round_trips_and_names_the_missing_witness() -> None:
    log = LogSigner.generate("example.org/log")
    witness = CosignatureSigner.generate("example.org/w1")
    other = CosignatureSigner.generate("example.org/w2")
    note = SignedNote.parse(log.sign_note(SPEC_BODY.replace("example.com/behind-the-sofa", "x")))
    line = witness.cosign(note.text, 1700000000)
    assert line.key_id == key_id(
        "example.org/w1", SIG_ED25519_COSIGNATURE, witness.verifier().public_raw
    )
    cosigned = note.with_signatures((line,)).format()
    (found,) = verify_cosignatures(cosigned, [witness.verifier()], 1)
    assert found.timestamp == 1700000000
    with pytest.raises(LogVerificationError, match=r"none by example\.org/w2"):
        verify_cosignatures(cosigned, [witness.verifier(), other.verifier()], 2)
    assert len(verify_cosignatures(cosigned, [witness.verifier(), other.verifier()], 1)) == 1
    forged = NoteSignature(line.name, line.key_id, line.signature[:8] + bytes(64))
    with pytest.raises(LogVerificationError, match="invalid"):
        verify_cosignatures(note.with_signatures((forged,)).format(), [witness.verifier()], 1)


def test_a_copy_proof_without_the_cosignature_fails_when_a_witness_is_required() -> None:
    import datetime as dt

    log = LogSigner.generate("example.org/log")
    witness = CosignatureSigner.generate("example.org/w1")
    event = LogEvent(idx=0, time=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), event_type="t", payload={})
    tree = MerkleTree()
    tree.append_hash(event.leaf_hash())
    from signing.transparency import Checkpoint

    signed = log.sign(Checkpoint(origin="example.org/log", size=1, root_hash=tree.root()))
    parsed = SignedNote.parse(signed)
    cosigned = parsed.with_signatures((witness.cosign(parsed.text, 1700000000),)).format()
    proof = CopyLogProof(index=0, leaf=event.leaf_data(), checkpoint=cosigned, inclusion_proof=())
    verified = proof.verify(log.verifier(), witnesses=[witness.verifier()])
    assert [c.name for c in verified.cosignatures] == ["example.org/w1"]
    assert CopyLogProof.from_tlog_proof(proof.to_tlog_proof()) == proof
    stripped = CopyLogProof(index=0, leaf=event.leaf_data(), checkpoint=signed, inclusion_proof=())
    stripped.verify(log.verifier())  # the log's signature alone still verifies
    with pytest.raises(LogVerificationError, match=r"none by example\.org/w1"):
        stripped.verify(log.verifier(), witnesses=[witness.verifier()])
