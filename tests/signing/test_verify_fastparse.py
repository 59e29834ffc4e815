"""The fast readers give what pyHanko's own readers give: the same objects, the same
stream position afterwards and the same errors, on generated token streams, on token
streams taken from the corpus, and over every object of every corpus file, PDF forgery
and demo license."""

from __future__ import annotations

import contextlib
import io
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pyhanko.pdf_utils import generic, misc
from pyhanko.pdf_utils.misc import PdfStreamError
from pyhanko.pdf_utils.reader import PdfFileReader

from signing._verify import fastparse
from signing._verify.fastparse import (
    fast_hex_strings,
    read_hex_string,
    read_name,
    read_non_whitespace,
    read_until_delimiter,
    read_until_whitespace,
    skip_over_whitespace,
)
from signing.seal import PadesLevel
from tests.conftest import CORPUS
from tests.helpers.forgeries import ATTACKS, BENIGN
from tests.helpers.pki import sealed_pdf

ORIGINAL = generic.read_hex_string_from_stream
THEIR_NAME = generic.NameObject.read_from_stream
THEIR_DELIMITER = misc.read_until_delimiter
THEIR_WHITESPACE = misc.read_until_whitespace
THEIR_NON_WHITESPACE = misc.read_non_whitespace
THEIR_SKIP = misc.skip_over_whitespace

hex_body = st.lists(
    st.sampled_from([*"0123456789abcdefABCDEF", " ", "\n", "\r\n", "\t"]), max_size=300
).map("".join)

#: pieces of PDF syntax, the awkward ones included: escapes (good, bad, cut short),
#: bytes that must be escaped, comments, every delimiter and whitespace byte, long names
TOKENS = [
    *(bytes([b]) for b in b" \n\r\t\f\x00()<>[]{}/%#"),
    b"/Type",
    b"/Page",
    b"/A_b.c+d-9",
    b"/a#20b",
    b"/a#2",
    b"/#zz",
    b"/#",
    b"/",
    b"//",
    b"/caf\xc3\xa9",
    b"/\xff\xfe",
    b"/a\x7fb",
    b"/" + b"N" * 70,
    b"/" + b"x" * 63,
    b"/" + b"y" * 62,
    b"% a comment\n",
    b"%\r",
    b"%%EOF",
    b"%\r\n  \r%x\n\r",
    b"\r\r\n\n",
    b"<<",
    b">>",
    b"<48656c6c6f>",
    b"(str)",
    b"12 0 R",
    b"-3.5",
    b"true",
    b"null",
    b"obj",
    b"endobj",
    b"stream\r\n",
    b"1 0 R ",
    b"0 0 R ",
    b"07 0 R\n",
    b"12 0\x0bR ",
    b"3 4 R",
    b"+1",
    b"1,2",
    b"1.2.3",
    b".5",
    b"(a\\053b\\nc\\\r\nd)",
    b"(\\8)",
    b"(\\777)",
    b"(\\1",
    b"(a(b)c)",
    b"(\\q)",
    b"<< /A 1 /A 2 >>",
    b"<</Length 3>>stream\nabc\nendstream",
    b"7 0 obj ",
    b"7 0 obj\n<<",
]

streams = st.one_of(
    st.lists(st.sampled_from(TOKENS), max_size=40).map(b"".join),
    st.binary(max_size=200),
    st.lists(st.one_of(st.sampled_from(TOKENS), st.binary(max_size=4)), max_size=40).map(b"".join),
)


def _outcome(read: Callable[[Any], Any], data: bytes, start: int) -> tuple[Any, ...]:
    """What ``read`` returns (or raises) at ``start`` of ``data``, and where it leaves the
    stream."""
    stream = io.BytesIO(data)
    stream.seek(start)
    try:
        value = read(stream)
    except Exception as exc:
        return ("raised", type(exc), str(exc), stream.tell())
    return ("read", type(value), value, stream.tell())


def _readers() -> Iterator[tuple[str, Callable[[Any], Any], Callable[[Any], Any]]]:
    yield "name", read_name, THEIR_NAME
    yield "delimiter", read_until_delimiter, THEIR_DELIMITER
    for maxchars in (None, 0, -1, 1, 2, 5, 20, 70):
        yield (
            f"whitespace {maxchars}",
            lambda s, m=maxchars: read_until_whitespace(s, maxchars=m),
            lambda s, m=maxchars: THEIR_WHITESPACE(s, maxchars=m),
        )
    for back in (False, True):
        for eof in (False, True):
            yield (
                f"non-whitespace {back} {eof}",
                lambda s, b=back, e=eof: read_non_whitespace(s, seek_back=b, allow_eof=e),
                lambda s, b=back, e=eof: THEIR_NON_WHITESPACE(s, seek_back=b, allow_eof=e),
            )
            yield (
                f"skip whitespace {back} {eof}",
                lambda s, b=back, e=eof: skip_over_whitespace(
                    s, stop_after_eol=b, error_on_end_of_stream=e
                ),
                lambda s, b=back, e=eof: THEIR_SKIP(s, stop_after_eol=b, error_on_end_of_stream=e),
            )


def _assert_same_at(data: bytes, start: int) -> None:
    for name, ours, theirs in _readers():
        assert _outcome(ours, data, start) == _outcome(theirs, data, start), (name, data, start)


@settings(max_examples=400, deadline=None)
@given(data=streams, start=st.integers(min_value=0, max_value=220))
def test_token_readers_agree_on_generated_streams(data: bytes, start: int) -> None:
    _assert_same_at(data, min(start, len(data)))


def _object_outcome(data: bytes, fast: bool) -> tuple[Any, ...]:
    """What pyHanko's ``read_object`` makes of ``data`` with the fast readers or with its
    own token readers (but our hex-string reader: pyHanko's never ends on a hex string cut
    short by the end of the data)."""

    def read(stream: Any) -> Any:
        return _canon(generic.read_object(stream, None))

    if fast:
        with fast_hex_strings():
            return _outcome(read, data, 0)
    generic.read_hex_string_from_stream = read_hex_string
    try:
        return _outcome(read, data, 0)
    finally:
        generic.read_hex_string_from_stream = ORIGINAL


class _Handler:
    """What a dictionary's and a reference's reading needs of a PDF handler."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict

    def get_object(self, ref: Any, *args: Any, **kwargs: Any) -> Any:
        return generic.NumberObject(3)  # an indirect /Length


def _with_handler(data: bytes, strict: bool, fast: bool) -> tuple[Any, ...]:
    """What ``read_object`` makes of ``data`` inside a document (a container reference with
    a handler), whether every object read names that container, and what
    ``read_object_header`` makes of it."""
    ref = generic.Reference(7, 0, _Handler(strict))

    def read(stream: Any) -> Any:
        obj = generic.read_object(stream, ref)
        return _canon(obj), _containers(obj, ref)

    def header(stream: Any) -> Any:
        from pyhanko.pdf_utils import reader

        return reader.read_object_header(stream, strict)

    def string(stream: Any) -> Any:
        return generic._read_string_literal_bytes(stream)

    with contextlib.ExitStack() as stack:
        if fast:
            stack.enter_context(fast_hex_strings())
        else:
            generic.read_hex_string_from_stream = read_hex_string
            stack.callback(setattr, generic, "read_hex_string_from_stream", ORIGINAL)
        return tuple(_outcome(f, data, 0) for f in (read, header, string))


def _containers(obj: Any, ref: Any, depth: int = 0) -> bool:
    if getattr(obj, "container_ref", None) is not ref or depth > 100:
        return False
    inside = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, list) else []
    return all(_containers(v, ref, depth + 1) for v in inside)


@settings(max_examples=400, deadline=None)
@given(data=streams, strict=st.booleans())
@example(data=b"<< /A 1 >", strict=False)  # pyHanko takes any byte after one '>' (or none)
@example(data=b"<< /A 1 /A 2 >>", strict=True)
@example(data=b"<< /A 12 0 R", strict=False)
@example(data=b"[1 0 R 2", strict=False)
@example(data=b"(\\1", strict=False)
@example(data=b"12 0 obj", strict=False)
def test_objects_in_a_document_agree_on_generated_streams(data: bytes, strict: bool) -> None:
    if b"%" in data:
        data += b"\n"  # as below: pyHanko never ends on a comment cut short by the end
    assert _with_handler(data, strict, True) == _with_handler(data, strict, False)


@settings(max_examples=300, deadline=None)
@given(data=streams)
def test_whole_objects_agree_on_generated_streams(data: bytes) -> None:
    data += b"\n"  # pyHanko's read_object never ends on a comment cut short by the end
    assert _object_outcome(data, True) == _object_outcome(data, False)


def _corpus_files() -> list[Path]:
    return sorted((CORPUS / "pdfs").rglob("*.pdf")) if CORPUS.is_dir() else []


@pytest.mark.corpus
def test_token_readers_agree_on_corpus_streams() -> None:
    """At every 3rd name and every 7th whitespace byte of every corpus file (at most 500
    and 250 a file), on the 300 bytes from there and on a cut after 40, every reader
    agrees."""
    files = _corpus_files()
    if not files:
        pytest.skip(f"no corpus at {CORPUS}")
    checked = 0
    for path in files:
        data = path.read_bytes()
        slashes = [m.start() for m in re.finditer(rb"/", data)][::3][:500]
        spaces = [m.start() for m in re.finditer(rb"[ \n\r]", data)][::7][:250]
        for start in slashes + spaces:
            _assert_same_at(data[start : start + 300], 0)
            _assert_same_at(data[start : start + 40], 0)
            checked += 1
    assert checked > 10000


def _canon(obj: Any, depth: int = 0) -> Any:
    """A comparable value of a pyHanko object: its type, its value and, for a stream, its
    raw bytes."""
    assert depth < 200
    if isinstance(obj, generic.StreamObject):
        return (type(obj).__name__, _canon(dict(obj.items()), depth + 1), obj.encoded_data)
    if isinstance(obj, dict):
        return (
            type(obj).__name__,
            sorted((str(k), type(k).__name__, _canon(v, depth + 1)) for k, v in obj.items()),
        )
    if isinstance(obj, list):
        return (type(obj).__name__, [_canon(v, depth + 1) for v in obj])
    if isinstance(obj, generic.IndirectObject):
        return ("ref", obj.idnum, obj.generation)
    if isinstance(obj, generic.ByteStringObject | generic.TextStringObject):
        return (type(obj).__name__, bytes(obj.original_bytes))
    if isinstance(obj, generic.DecryptedObjectProxy):  # an encrypted file, not decrypted
        return ("encrypted", _canon(obj.raw_object, depth + 1))
    if isinstance(obj, generic.NullObject):
        return ("null",)
    if isinstance(obj, generic.BooleanObject):
        return ("bool", obj.value)
    return (type(obj).__name__, repr(obj))


def _whole_file(data: bytes) -> list[Any]:
    """Everything pyHanko reads of a file: its trailer, every object of every revision
    (or the error), and its signatures' fields."""
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
    except Exception as exc:
        return [("unreadable", type(exc), str(exc))]
    seen: list[Any] = [_canon(reader.trailer_view)]
    for revision in range(reader.xrefs.total_revisions):
        for ref in sorted(
            reader.xrefs.explicit_refs_in_revision(revision), key=lambda r: (r.idnum, r.generation)
        ):
            try:
                seen.append((revision, ref.idnum, _canon(reader.get_object(ref, revision))))
            except Exception as exc:
                seen.append((revision, ref.idnum, "raised", type(exc), str(exc)))
    try:
        seen.append([_canon(s.sig_object) for s in reader.embedded_signatures])
    except Exception as exc:
        seen.append(("signatures", type(exc), str(exc)))
    return seen


def _assert_same_file(data: bytes, name: str) -> None:
    theirs = _whole_file(data)
    with fast_hex_strings():
        ours = _whole_file(data)
    assert ours == theirs, name


@pytest.mark.corpus
@pytest.mark.parametrize("path", _corpus_files(), ids=lambda p: p.name)
def test_whole_corpus_file_reads_the_same(path: Path) -> None:
    _assert_same_file(path.read_bytes(), path.name)


@pytest.mark.parametrize("case", [*ATTACKS, *BENIGN], ids=repr)
def test_whole_forgery_reads_the_same(case: Any) -> None:
    _assert_same_file(case.build(), case.name)


@pytest.mark.parametrize("level", list(PadesLevel))
def test_whole_license_reads_the_same(level: PadesLevel) -> None:
    _assert_same_file(sealed_pdf(level), str(level))


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


def test_plain_names_take_the_fast_path() -> None:
    """A plain name is read without pyHanko's reader; an escaped one by it."""
    calls: list[bytes] = []
    original = fastparse._original("read_name")

    def counting(stream: Any) -> Any:
        calls.append(stream.getvalue())
        return original(stream)

    fastparse._originals["read_name"] = counting
    try:
        assert read_name(io.BytesIO(b"/Type/Page")) == "/Type"
        assert calls == []
        assert read_name(io.BytesIO(b"/a#20b ")) == "/a b"
        assert calls == [b"/a#20b "]
    finally:
        fastparse._originals["read_name"] = original


def test_swap_is_restored() -> None:
    with fast_hex_strings():
        assert generic.read_hex_string_from_stream is read_hex_string
        assert misc.read_until_whitespace is read_until_whitespace
        with fast_hex_strings():
            pass
        assert generic.read_hex_string_from_stream is read_hex_string
        assert generic.NameObject.read_from_stream is read_name
    assert generic.read_hex_string_from_stream is ORIGINAL
    assert generic.NameObject.read_from_stream is THEIR_NAME
    assert generic.read_until_delimiter is THEIR_DELIMITER
    assert misc.read_until_whitespace is THEIR_WHITESPACE
    assert misc.read_non_whitespace is THEIR_NON_WHITESPACE
    assert generic.read_non_whitespace is THEIR_NON_WHITESPACE
    assert misc.skip_over_whitespace is THEIR_SKIP


@pytest.mark.parametrize("data", [b"%only a comment", b"<</A 1>>\n%x", b"[1 %x"])
def test_a_comment_to_the_end_of_the_stream_is_an_error_not_a_hang(data: bytes) -> None:
    """pyHanko's read_object reads a comment until an end of line and, at the end of the
    stream, reads b"" for ever (red team pdf9, p9-02: an object stream entry that is only a
    comment held a bulk-import worker until the verification's time limit)."""
    outcome: list[BaseException | object] = []

    def read() -> None:
        try:
            with fastparse.fast_hex_strings():
                outcome.append(
                    generic.read_object(io.BytesIO(data), generic.TrailerReference(None))
                )
        except Exception as exc:
            outcome.append(exc)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    thread.join(timeout=60)  # a bound for a stuck read, not a timing assertion
    assert outcome, "the read did not end"
    assert isinstance(outcome[0], misc.PdfReadError), outcome
