"""Signed notes and checkpoints against the published C2SP and Go reference examples.

Sources: c2sp.org/signed-note (the ``example.com/foo`` vkey and note), c2sp.org/tlog-checkpoint
(the ``example.com/behind-the-sofa`` checkpoint), and the Go reference implementation's test
key and note (golang.org/x/mod/sumdb/note, ``PeterNeumann``): Ed25519 is deterministic, so our
signer must reproduce its signature byte for byte.
"""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from signing.errors import LogFormatError, LogVerificationError
from signing.transparency import Checkpoint, LogSigner, LogVerifier
from signing.transparency.note import SIG_ED25519, SignedNote, key_id

SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n"
    "\n"
    "— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3"
    "mFXmRKuwHjG1Yu72IneyaQM=\n"
)
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SKEY_SEED = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"  # 0x01 || Ed25519 seed
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngo"
    "tpRZb6KE6RyyBwJnAM=\n"
)
CHECKPOINT_BODY = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
)


def test_the_signed_note_spec_example_verifies_with_its_vkey() -> None:
    verifier = LogVerifier.from_vkey(SPEC_VKEY)  # checks the key ID formula against the spec
    parsed, signed_by = verifier.verify_note(SPEC_NOTE)
    assert parsed.text == "This is an example message.\n"
    assert signed_by == ("example.com/foo",)
    assert verifier.vkey() == SPEC_VKEY
    with pytest.raises(LogVerificationError, match=r"example\.com/foo is invalid"):
        verifier.verify_note(SPEC_NOTE.replace("example message", "example massage"))


def test_our_signer_reproduces_the_go_reference_signature() -> None:
    seed = base64.b64decode(GO_SKEY_SEED)
    assert seed[0] == SIG_ED25519
    signer = LogSigner(Ed25519PrivateKey.from_private_bytes(seed[1:]), "PeterNeumann")
    assert signer.verifier().vkey() == GO_VKEY
    assert signer.sign_note(GO_TEXT) == GO_TEXT + "\n" + GO_SIG
    assert key_id("PeterNeumann", SIG_ED25519, signer.verifier().public_key.public_bytes_raw()) == (
        bytes.fromhex("c74f20a3")
    )
    LogVerifier.from_vkey(GO_VKEY).verify_note(GO_TEXT + "\n" + GO_SIG)


def test_unknown_signers_are_ignored_and_a_note_needs_a_known_one() -> None:
    verifier = LogVerifier.from_vkey(GO_VKEY)
    stranger = LogSigner.generate("PeterNeumann").sign_note(GO_TEXT)  # same name, other key ID
    with pytest.raises(LogVerificationError, match="no signature by the log key"):
        verifier.verify_note(stranger)
    both = stranger + GO_SIG  # the stranger's line first, then the known key's
    assert verifier.verify_note(both)[1] == ("PeterNeumann",)
    sixteen = (
        GO_TEXT
        + "\n"
        + "".join(
            SignedNote.parse(LogSigner.generate(f"w{i}.example").sign_note(GO_TEXT))
            .signatures[0]
            .line()
            for i in range(15)
        )
        + GO_SIG
    )
    assert verifier.verify_note(sixteen)[1] == ("PeterNeumann",)


@pytest.mark.parametrize(
    ("note", "message"),
    [
        (GO_TEXT + GO_SIG, "no blank line"),
        (GO_TEXT + "\n" + GO_SIG.rstrip("\n"), "ends with a newline"),
        ("tab\there\n\n" + GO_SIG, "control character"),
        (GO_TEXT + "\n" + GO_SIG.replace("— ", "- "), "starts with '— '"),
        (GO_TEXT + "\n" + GO_SIG.replace("PeterNeumann", "Peter+Neumann"), "no space or '\\+'"),
        (GO_TEXT + "\n— PeterNeumann x08g\n", "too short"),
        (GO_TEXT + "\n— PeterNeumann not*base64\n", "not base64"),
    ],
)
def test_malformed_notes_are_refused(note: str, message: str) -> None:
    with pytest.raises(LogFormatError, match=message):
        SignedNote.parse(note)


def test_the_tlog_checkpoint_spec_example_parses() -> None:
    cp = Checkpoint.parse_body(CHECKPOINT_BODY)
    assert (cp.origin, cp.size, cp.extensions, cp.time) == (
        "example.com/behind-the-sofa",
        20852163,
        (),
        None,
    )
    assert cp.body() == CHECKPOINT_BODY
    for bad, message in [
        ("example.com/x\n020\n" + CHECKPOINT_BODY.split("\n")[2] + "\n", "not a decimal"),
        ("example.com/x\n20\n", "an origin, a tree size and a root hash"),
        (CHECKPOINT_BODY + "\n", "extension is one non-empty line"),
    ]:
        with pytest.raises(LogFormatError, match=message):
            Checkpoint.parse_body(bad)


def test_new_checkpoints_carry_no_extension_lines() -> None:
    signer = LogSigner.generate("evault.test/log")
    cp = Checkpoint(origin="evault.test/log", size=0, root_hash=bytes(32))
    text = signer.sign(cp)
    assert text.split("\n\n")[0].split("\n") == [
        "evault.test/log",
        "0",
        base64.b64encode(bytes(32)).decode(),
    ]
    assert signer.verifier().verify(text).checkpoint == cp
