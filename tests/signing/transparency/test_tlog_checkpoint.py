"""Signed checkpoints, canonical events, copy proofs and the offline audit (no database)."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from signing.errors import KeySourceError, LogFormatError, LogVerificationError
from signing.transparency import (
    Checkpoint,
    CopyLogProof,
    ExportedEntry,
    LogEvent,
    LogSigner,
    LogVerifier,
    MerkleTree,
    audit_entries,
    canonical_json,
)

ORIGIN = "evault.test/log"
T0 = datetime(2025, 3, 1, 8, 30, 0, 123456, tzinfo=UTC)


@pytest.fixture(scope="module")
def signer() -> LogSigner:
    return LogSigner.generate(ORIGIN)


def events(n: int) -> list[LogEvent]:
    return [
        LogEvent(
            idx=i,
            time=T0.replace(second=i % 60),
            event_type="license.read",
            payload={"holder": f"bi-{i:04d}", "purpose": "办件", "n": i},
        )
        for i in range(n)
    ]


def tree_of(evs: list[LogEvent]) -> MerkleTree:
    tree = MerkleTree()
    for e in evs:
        tree.append(e.leaf_data())
    return tree


def checkpoint_text(signer: LogSigner, tree: MerkleTree, size: int) -> str:
    return signer.sign(Checkpoint(origin=ORIGIN, size=size, root_hash=tree.root(size), time=T0))


# --- Checkpoints ------------------------------------------------------------------------------


def test_checkpoint_text_follows_tlog_checkpoint_and_signed_note(signer: LogSigner) -> None:
    tree = tree_of(events(5))
    text = checkpoint_text(signer, tree, 5)
    body, _, sigs = text.partition("\n\n")
    assert body.split("\n") == [
        ORIGIN,
        "5",
        base64.b64encode(tree.root()).decode(),
        "time 2025-03-01T08:30:00.123456Z",
    ]
    name, blob = sigs.removeprefix("— ").removesuffix("\n").split(" ")
    assert name == ORIGIN
    raw = base64.b64decode(blob)
    public = signer.verifier().public_key.public_bytes_raw()
    assert raw[:4] == hashlib.sha256(ORIGIN.encode() + b"\n\x01" + public).digest()[:4]
    assert len(raw) == 4 + 64
    signer.verifier().public_key.verify(raw[4:], (body + "\n").encode())


def test_checkpoint_round_trips_through_vkey_and_pem(signer: LogSigner) -> None:
    tree = tree_of(events(3))
    text = checkpoint_text(signer, tree, 3)
    vkey = signer.verifier().vkey()
    assert vkey.startswith(f"{ORIGIN}+")
    for verifier in (
        LogVerifier.from_vkey(vkey),
        LogVerifier.load(vkey),
        LogVerifier.load(signer.verifier().public_pem()),
    ):
        signed = verifier.verify(text, origin=ORIGIN)
        assert signed.checkpoint.size == 3
        assert signed.checkpoint.root_hash == tree.root()
        assert signed.checkpoint.time == T0
        assert signed.signed_by == (ORIGIN,)
    again = LogSigner.from_pem(signer.private_pem(), ORIGIN)
    assert again.sign(Checkpoint(origin=ORIGIN, size=3, root_hash=tree.root(), time=T0)) == text


def test_forged_checkpoints_are_rejected(signer: LogSigner) -> None:
    tree = tree_of(events(8))
    text = checkpoint_text(signer, tree, 8)
    verifier = signer.verifier()
    root_b64 = base64.b64encode(tree.root()).decode()
    other_root = base64.b64encode(tree.root(7)).decode()
    # Altered body: size, root or time changed, signature kept.
    for forged in (
        text.replace("\n8\n", "\n7\n", 1),
        text.replace(root_b64, other_root),
        text.replace("08:30:00", "09:30:00"),
    ):
        with pytest.raises(LogVerificationError, match=f"checkpoint signature of {ORIGIN} is"):
            verifier.verify(forged)
    # Signed by another key under the same name: the key hash does not match ours.
    impostor = LogSigner.generate(ORIGIN)
    with pytest.raises(LogVerificationError, match="no signature by the log key"):
        verifier.verify(checkpoint_text(impostor, tree, 8))
    # Same key hash, flipped signature bits.
    body, _, sig_line = text.partition("\n\n")
    name, blob = sig_line.removeprefix("— ").removesuffix("\n").split(" ")
    raw = bytearray(base64.b64decode(blob))
    raw[10] ^= 0x40
    flipped = f"{body}\n\n— {name} {base64.b64encode(bytes(raw)).decode()}\n"
    with pytest.raises(LogVerificationError, match="invalid \\(forged or altered\\)"):
        verifier.verify(flipped)
    # Wrong origin, no signatures, broken syntax.
    with pytest.raises(LogVerificationError, match="is not the expected 'other/log'"):
        verifier.verify(text, origin="other/log")
    with pytest.raises(LogFormatError, match="no blank line"):
        verifier.verify(body + "\n")
    with pytest.raises(LogFormatError, match="starts with '— '"):
        verifier.verify(f"{body}\n\n- {name} {blob}\n")
    # The signature is checked before the text is read (signed-note: an unverified text is
    # ignored); a signed text that is no checkpoint is malformed.
    with pytest.raises(LogVerificationError, match="invalid \\(forged or altered\\)"):
        verifier.verify(text.replace("\n8\n", "\n08\n", 1))
    with pytest.raises(LogFormatError, match="is not a decimal number"):
        verifier.verify(signer.sign_note(body.replace("\n8\n", "\n08\n", 1) + "\n"))


def test_witness_cosignatures_are_ignored(signer: LogSigner) -> None:
    tree = tree_of(events(2))
    text = checkpoint_text(signer, tree, 2)
    witness = LogSigner.generate("witness.example")
    body = text.partition("\n\n")[0] + "\n"
    cosigned_body = witness.sign(Checkpoint.parse_body(body))
    extra_line = cosigned_body.partition("\n\n")[2]
    assert signer.verifier().verify(text + extra_line).signed_by == (ORIGIN,)


def test_bad_keys_are_refused() -> None:
    with pytest.raises(KeySourceError, match="a log vkey is <name>"):
        LogVerifier.load(b"not a key")
    vkey = LogSigner.generate("a.log").verifier().vkey()
    _, key_hash, key = vkey.split("+", 2)
    with pytest.raises(KeySourceError, match="the key hash does not match the key"):
        LogVerifier.from_vkey(f"b.log+{key_hash}+{key}")
    with pytest.raises(KeySourceError, match="not a readable PEM private key"):
        LogSigner.from_pem(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "x")
    assert LogSigner(Ed25519PrivateKey.generate(), "x.log").verifier().name == "x.log"
    with pytest.raises(LogFormatError, match="no space or"):
        LogSigner.generate("has space")


# --- Events -----------------------------------------------------------------------------------


def test_canonical_json_is_sorted_compact_utf8() -> None:
    assert (
        canonical_json({"b": 1, "a": ["中", None, True]}) == '{"a":["中",null,true],"b":1}'.encode()
    )
    with pytest.raises(LogFormatError, match=r"value\.x: floats are not canonical"):
        canonical_json({"x": 1.5})


def test_event_leaf_holds_index_time_and_type() -> None:
    e = LogEvent(idx=7, time=T0, event_type="grant.revoked", payload={"grant": "g1"})
    assert e.leaf_data() == (
        b'{"idx":7,"payload":{"grant":"g1"},"time":"2025-03-01T08:30:00.123456Z",'
        b'"type":"grant.revoked","v":1}'
    )
    assert LogEvent.from_leaf_data(e.leaf_data()) == e
    with pytest.raises(LogFormatError, match="not in canonical form"):
        LogEvent.from_leaf_data(e.leaf_data().replace(b'"idx":7,', b'"idx": 7,'))
    with pytest.raises(LogFormatError, match="event type 'Bad Type'"):
        LogEvent(idx=0, time=T0, event_type="Bad Type", payload={})


# --- Copy proofs ------------------------------------------------------------------------------


def make_copy_proof(signer: LogSigner, n: int, index: int) -> CopyLogProof:
    evs = events(n)
    tree = tree_of(evs)
    return CopyLogProof(
        index=index,
        leaf=evs[index].leaf_data(),
        checkpoint=checkpoint_text(signer, tree, n),
        inclusion_proof=tuple(tree.inclusion_proof(index, n)),
    )


def test_copy_proof_round_trip_and_verify(signer: LogSigner) -> None:
    proof = make_copy_proof(signer, 13, 9)
    again = CopyLogProof.from_json(proof.to_json())
    assert again == proof
    verified = again.verify(LogVerifier.load(signer.verifier().vkey()), origin=ORIGIN)
    assert verified.event.idx == 9
    assert verified.event.payload["holder"] == "bi-0009"
    assert verified.checkpoint.checkpoint.size == 13


def test_tampered_copy_proofs_are_rejected(signer: LogSigner) -> None:
    proof = make_copy_proof(signer, 13, 9)
    verifier = signer.verifier()
    other = events(13)[8]
    with pytest.raises(LogVerificationError, match="leaf 9 does not lead to the root of size 13"):
        CopyLogProof(
            index=9,
            leaf=LogEvent(
                idx=9, time=other.time, event_type=other.event_type, payload={"holder": "x"}
            ).leaf_data(),
            checkpoint=proof.checkpoint,
            inclusion_proof=proof.inclusion_proof,
        ).verify(verifier)
    with pytest.raises(LogVerificationError, match="the leaf says index 8, the proof says 9"):
        CopyLogProof(
            index=9,
            leaf=other.leaf_data(),
            checkpoint=proof.checkpoint,
            inclusion_proof=proof.inclusion_proof,
        ).verify(verifier)
    with pytest.raises(LogVerificationError, match="no signature by the log key"):
        proof.verify(LogSigner.generate(ORIGIN).verifier())
    forged = make_copy_proof(LogSigner.generate(ORIGIN), 13, 9)
    with pytest.raises(LogVerificationError, match="no signature by the log key"):
        forged.verify(verifier)
    with pytest.raises(LogVerificationError, match="leaf_hash is not the hash of the leaf"):
        obj = json.loads(proof.to_json())
        obj["leaf_hash"] = base64.b64encode(bytes(32)).decode()
        CopyLogProof.from_json(json.dumps(obj))
    with pytest.raises(LogFormatError, match="format is not 'evault-log-proof/1'"):
        CopyLogProof.from_json("{}")


TLOG_PROOF_SPEC_EXAMPLE = """c2sp.org/tlog-proof@v1
extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ
index 73894
gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=
B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=
EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=
RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=
AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=

example.com/fancylog
109482
sFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=

— example.com/fancylog hI2DJw[...]1roloI=
"""


def test_the_tlog_proof_spec_example_parses() -> None:
    proof = CopyLogProof.from_tlog_proof(TLOG_PROOF_SPEC_EXAMPLE)
    assert proof.index == 73894
    assert len(proof.inclusion_proof) == 5
    assert proof.leaf.startswith(b"age-v1.2.1-darwin-arm64.tar.gz")
    assert proof.checkpoint.startswith("example.com/fancylog\n109482\n")


def test_copy_proof_as_tlog_proof_round_trips_and_verifies(signer: LogSigner) -> None:
    proof = make_copy_proof(signer, 13, 9)
    text = proof.to_tlog_proof()
    lines = text.split("\n")
    assert lines[:3] == [
        "c2sp.org/tlog-proof@v1",
        f"extra {base64.b64encode(proof.leaf).decode()}",
        "index 9",
    ]
    assert text.endswith("\n\n" + proof.checkpoint)
    again = CopyLogProof.from_tlog_proof(text.encode())
    assert again == proof
    assert again.verify(signer.verifier()).event.idx == 9
    moved = text.replace("\nindex 9\n", "\nindex 8\n")
    with pytest.raises(LogVerificationError, match="the leaf says index 9, the proof says 8"):
        CopyLogProof.from_tlog_proof(moved).verify(signer.verifier())
    for bad, message in [
        (text.replace("@v1", "@v2", 1), "first line is not c2sp.org/tlog-proof@v1"),
        (text.replace("\nextra ", "\nextras ", 1), "no 'extra' line"),
        (text.replace("\nindex 9\n", "\nindex 09\n"), "not 'index <decimal>'"),
    ]:
        with pytest.raises(LogFormatError, match=message):
            CopyLogProof.from_tlog_proof(bad)


# --- Offline audit ----------------------------------------------------------------------------


def exported(evs: list[LogEvent]) -> list[ExportedEntry]:
    return [ExportedEntry(event=e, recorded_leaf_hash=e.leaf_hash()) for e in evs]


def test_audit_passes_and_reports_each_kind_of_tampering(signer: LogSigner) -> None:
    evs = events(40)
    tree = tree_of(evs)
    verifier = signer.verifier()
    cps = [verifier.verify(checkpoint_text(signer, tree, n)) for n in (10, 25, 40)]
    entries = exported(evs)
    lines = [ExportedEntry.from_line(e.to_line()) for e in entries]
    assert lines == entries
    result = audit_entries(lines, cps)
    assert result.ok and result.checkpoints_matched == (10, 25, 40)
    assert result.root_hash == tree.root()

    def first(entries_: list[ExportedEntry]) -> tuple[int | None, str]:
        r = audit_entries(entries_, cps)
        assert r.problem is not None
        return r.problem.index, r.problem.reason

    # Edited content, leaf hash left as recorded: the exact entry.
    edited = list(entries)
    e = evs[17]
    edited[17] = ExportedEntry(
        event=LogEvent(idx=17, time=e.time, event_type="license.copy", payload=e.payload),
        recorded_leaf_hash=entries[17].recorded_leaf_hash,
    )
    assert first(edited) == (
        17,
        "entry 17 was altered: its content does not give its recorded leaf hash",
    )
    # Edited content with a recomputed leaf hash: the range after the last good checkpoint.
    edited[17] = ExportedEntry(event=edited[17].event, recorded_leaf_hash=None)
    index, reason = first(edited)
    assert index == 10
    assert reason.startswith("entries 10..24 do not reproduce the signed root")
    # Deleted and reordered entries.
    assert first(entries[:5] + entries[6:]) == (5, "entry 5 is missing (next is 6)")
    swapped = [*entries[:3], entries[4], entries[3], *entries[5:]]
    index, reason = first(swapped)
    assert (index, reason) == (3, "entry 3 is missing (next is 4)")
    # Truncated export.
    assert first(entries[:33]) == (
        33,
        "entry 33 is missing: a signed checkpoint covers 40 entries, the export ends after 33",
    )


def test_audit_detects_a_fork(signer: LogSigner) -> None:
    evs = events(12)
    honest = tree_of(evs)
    other = tree_of([*evs[:11], LogEvent(idx=11, time=T0, event_type="x", payload={})])
    verifier = signer.verifier()
    cps = [
        verifier.verify(checkpoint_text(signer, honest, 12)),
        verifier.verify(checkpoint_text(signer, other, 12)),
    ]
    result = audit_entries(exported(evs), cps)
    assert result.problem is not None
    assert result.problem.reason == (
        "two signed checkpoints give different roots for size 12 (the log forked)"
    )
