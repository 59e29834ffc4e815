"""The fast writers give what pyHanko's own writers give: the same bytes for every byte
value in a name, every kind of text string, the same errors, and every object of a
certified copy is written the same way with them as without them."""

from __future__ import annotations

import io
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PdfWriteError
from pyhanko.pdf_utils.reader import PdfFileReader

from signing._fastwrite import encode_name, encode_text_string, fast_writing
from signing.seal import PadesLevel
from tests.helpers.forgeries import certified_copy
from tests.helpers.pki import sealed_pdf

THEIR_NAME = generic.NameObject.write_to_stream
THEIR_TEXT = generic.TextStringObject.write_to_stream


def theirs(obj: Any) -> bytes:
    out = io.BytesIO()
    (THEIR_NAME if isinstance(obj, generic.NameObject) else THEIR_TEXT)(obj, out)
    return out.getvalue()


def ours(obj: Any) -> bytes:
    out = io.BytesIO()
    with fast_writing():
        obj.write_to_stream(out)
    return out.getvalue()


@pytest.mark.parametrize("byte", range(1, 256))
def test_every_byte_of_a_name_is_written_as_pyhanko_writes_it(byte: int) -> None:
    name = generic.NameObject("/A" + bytes([byte]).decode("latin-1") + "b#")
    assert ours(name) == theirs(name)
    assert encode_name(name) == theirs(name)


@given(st.text(max_size=40))
@settings(max_examples=300, deadline=None)
def test_any_name_is_written_as_pyhanko_writes_it(text: str) -> None:
    name = generic.NameObject("/" + text)
    assert ours(name) == ours(name) == theirs(name)  # twice: the second from the memory


def test_a_long_name_is_written_as_pyhanko_writes_it_and_not_kept() -> None:
    name = generic.NameObject("/" + "名#x" * 100)
    assert ours(name) == ours(name) == theirs(name)


def test_a_name_without_its_slash_is_refused_as_pyhanko_refuses_it() -> None:
    with pytest.raises(PdfWriteError), fast_writing():
        generic.NameObject("Type").write_to_stream(io.BytesIO())
    assert encode_name("Type") is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "EvaultCopySeal",
        "电子证照加注件：商品房预售许可申请",
        "a (b) \\ c\n\r\t",
        "€ – “quoted” • ™ ﬁ",  # PDFDocEncoding's upper half
        "mixed 中 and latin é",
        "".join(chr(c) for c in range(1, 256)),
    ],
)
def test_text_strings_are_written_as_pyhanko_writes_them(text: str) -> None:
    string = generic.TextStringObject(text)
    assert ours(string) == theirs(string)
    assert encode_text_string(string) == theirs(string)


@given(st.text(max_size=60))
@settings(max_examples=300, deadline=None)
def test_any_text_string_is_written_as_pyhanko_writes_it(text: str) -> None:
    assert ours(generic.TextStringObject(text)) == theirs(generic.TextStringObject(text))


@pytest.mark.parametrize("encoding", list(generic.TextStringEncoding))
def test_a_forced_output_encoding_is_kept(encoding: generic.TextStringEncoding) -> None:
    string = generic.TextStringObject("Ab 中")
    string.force_output_encoding = encoding
    try:
        expected = theirs(string)
    except UnicodeEncodeError:
        with pytest.raises(UnicodeEncodeError):
            ours(string)
        return
    assert ours(string) == expected


def test_pyhankos_writers_are_back_after_the_block_and_kept_while_blocks_overlap() -> None:
    with fast_writing():
        with fast_writing():
            pass
        assert generic.NameObject.write_to_stream is not THEIR_NAME  # the outer block's
    assert generic.NameObject.write_to_stream is THEIR_NAME
    assert generic.TextStringObject.write_to_stream is THEIR_TEXT


def test_every_object_of_a_certified_copy_is_written_the_same_with_and_without() -> None:
    reader = PdfFileReader(io.BytesIO(certified_copy(sealed_pdf(PadesLevel.B_LT))), strict=False)
    checked = 0
    for idnum in range(1, int(reader.trailer["/Size"])):
        obj = reader.get_object(generic.Reference(idnum, 0))
        if isinstance(obj, generic.NullObject):
            continue  # a free entry
        plain = io.BytesIO()
        obj.write_to_stream(plain)
        assert ours(obj) == plain.getvalue(), idnum
        checked += 1
    assert checked > 20


def test_a_whole_dictionary_is_written_the_same_with_and_without() -> None:
    info = generic.DictionaryObject(
        {
            generic.pdf_name("/Title"): generic.pdf_string("电子证照 (copy)"),
            generic.pdf_name("/Producer"): generic.pdf_string("evault; pyHanko"),
            generic.pdf_name("/Odd#Name"): generic.ArrayObject(
                [generic.NameObject("/A B"), generic.NumberObject(3)]
            ),
        }
    )
    plain = io.BytesIO()
    info.write_to_stream(plain)
    assert ours(info) == plain.getvalue()
