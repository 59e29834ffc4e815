"""The add-checkpoint message against c2sp.org/tlog-witness's own example request and answer."""

from __future__ import annotations

import base64

import pytest

from signing.transparency import LogSigner
from signing.transparency.note import NoteSignature
from signing.transparency.witness import (
    AddCheckpoint,
    Refusal,
    WitnessRefusal,
    check_signed,
)

SPEC_CHECKPOINT = (
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcy"
    "v2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "— example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6"
    "267UEjw6QUXTS5Rovnzv++qbSzm9Q=\n"
)
SPEC_PROOF = (
    "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=",
    "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=",
    "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=",
    "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=",
)
SPEC_REQUEST = "old 20852014\n" + "".join(h + "\n" for h in SPEC_PROOF) + "\n" + SPEC_CHECKPOINT
SPEC_ANSWER = (
    "— witness.example/w1 CMp+6LWBU0anHGH5aNDTJkH/gj79sG+T6+iP2ThYN5krrDJbR1HDnucjL39QsZTSvVjyQLrd"
    "k3DXDqI5G2HgLatVs0pWh6Up69HVOw==\n"
    "— witness.example/w1 I7rEps0pvK2UqkS2gSpVUDhrhVtQV9lgF6pRrWAvjJHjyWpW7VcE3SiOlVlbQNt64vWhO+Dl"
    "kL0+UfzuOBMh9ChdMkP1vi/lCAsmlw==\n"
    "— witness.example/w2 AWui8Sk55XjYLOijihBjhqEH6nS1ndDymE0a+6idX7pLcnoB+dhnz0854aLZgrrKbYKA7nC3"
    "HNJhm/kWl7oJlqU3rXXvpysAdyP3wQ==\n"
)


def test_the_specs_example_request_parses_and_formats_byte_for_byte() -> None:
    request = AddCheckpoint.parse(SPEC_REQUEST.encode("utf-8"))
    assert request.old_size == 20852014
    assert request.proof == tuple(base64.b64decode(h) for h in SPEC_PROOF)
    assert request.checkpoint == SPEC_CHECKPOINT
    assert request.body() == SPEC_REQUEST.encode("utf-8")


def test_the_specs_example_answer_is_signature_lines() -> None:
    lines = [NoteSignature.parse_line(x) for x in SPEC_ANSWER.splitlines()]
    assert [x.name for x in lines] == ["witness.example/w1"] * 2 + ["witness.example/w2"]


def test_the_specs_example_is_refused_by_a_witness_without_its_log_key() -> None:
    request = AddCheckpoint.parse(SPEC_REQUEST.encode("utf-8"))
    with pytest.raises(WitnessRefusal) as unknown:
        check_signed(request, {})
    assert unknown.value.kind is Refusal.UNKNOWN_LOG
    impostor = LogSigner.generate("example.com/behind-the-sofa").verifier()
    with pytest.raises(WitnessRefusal) as unsigned:
        check_signed(request, {"example.com/behind-the-sofa": impostor})
    assert unsigned.value.kind is Refusal.BAD_SIGNATURE


@pytest.mark.parametrize(
    "body",
    [
        b"old 1\n",  # no blank line, no checkpoint
        b"old -1\n\n" + SPEC_CHECKPOINT.encode(),
        b"old 1 \n\n" + SPEC_CHECKPOINT.encode(),
        b"old 1\nnot base64!\n\n" + SPEC_CHECKPOINT.encode(),
        b"old 1\nAAAA\n\n" + SPEC_CHECKPOINT.encode(),  # 3 bytes, not a hash
        b"old 1\n" + b"".join(SPEC_PROOF[0].encode() + b"\n" for _ in range(64)) + b"\n",
        b"\xff\xfe",
    ],
)
def test_malformed_requests_are_400(body: bytes) -> None:
    with pytest.raises(WitnessRefusal) as caught:
        AddCheckpoint.parse(body)
    assert caught.value.kind is Refusal.MALFORMED
