"""The fast hex-string reader gives what pyHanko's own reader gives."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PdfStreamError

from signing._verify.fastparse import fast_hex_strings, read_hex_string

ORIGINAL = generic.read_hex_string_from_stream

hex_body = st.lists(
    st.sampled_from([*"0123456789abcdefABCDEF", " ", "\n", "\r\n", "\t"]), max_size=300
).map("".join)


@given(body=hex_body, tail=st.binary(max_size=20))
def test_same_object_and_position(body: str, tail: bytes) -> None:
    data = b"<" + body.encode() + b">" + tail
    a, b = io.BytesIO(data), io.BytesIO(data)
    ours, theirs = read_hex_string(a), ORIGINAL(b)
    assert type(ours) is type(theirs)
    assert bytes(ours.original_bytes) == bytes(theirs.original_bytes)
    assert a.tell() == b.tell()


def test_bad_token_is_the_same_error() -> None:
    with pytest.raises(PdfStreamError, match="Unexpected token in hex string"):
        read_hex_string(io.BytesIO(b"<12zz>"))
    with pytest.raises(PdfStreamError, match="Unexpected token in hex string"):
        ORIGINAL(io.BytesIO(b"<12zz>"))


def test_truncated_hex_string_ends() -> None:
    with pytest.raises(PdfStreamError, match="ended unexpectedly"):
        read_hex_string(io.BytesIO(b"<1234"))


def test_swap_is_restored() -> None:
    with fast_hex_strings():
        assert generic.read_hex_string_from_stream is read_hex_string
        with fast_hex_strings():
            pass
        assert generic.read_hex_string_from_stream is read_hex_string
    assert generic.read_hex_string_from_stream is ORIGINAL
