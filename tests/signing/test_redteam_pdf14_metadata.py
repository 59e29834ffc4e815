"""Red team pdf14, p14-01, p14-04, p14-05: document metadata a viewer shows, changed after
signing, judged by a partial reader.

p14-01: an XMP ``dc:title`` in a CDATA section, or in a Flate stream with a PNG predictor,
was not read by doctitle.py's regex (pdf.js reads both: its window and tab title), so the
seal was TOTAL_PASSED with no warning and intake accepted. p14-05: that regex was
quadratic on unclosed ``<title>`` tags (22 KB → 5.5 s). p14-04: ``/Info`` Subject, Keywords
and Author (pdf.js and Acrobat document properties) rewritten → no warning.

Now the XMP packet is decoded by pyHanko's filters under a bound and parsed by a real XML
reader, ``/Info``'s shown keys are compared, and any value the signed revision did not
show marks the seal modified with a warning naming it; intake refuses.
"""

from __future__ import annotations

import io
import time
import zlib

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.reader import PdfFileReader

from schemas.report import Indication
from signing.verify import Verifier
from tests.helpers import rawpdf
from tests.helpers.intake_rules import check_as_issuer
from tests.helpers.licenses import ISSUER, sealed_license
from tests.helpers.pki import demo_trust_bundle
from tests.signing.test_redteam_pdf12_title import xmp
from vault.errors import IntakeRefused

REVOKED = "营业执照（已吊销 REVOKED）"


def with_metadata(
    sealed: bytes,
    stream: bytes | None = None,
    entries: dict[str, bytes] | None = None,
    info: dict[str, str] | None = None,
) -> bytes:
    """``sealed`` plus one update: the catalog's /Metadata pointed at a new stream whose
    encoded body is ``stream`` (``entries`` its extra dictionary keys), and/or a new
    trailer /Info with ``info``'s text strings."""
    base = rawpdf.trailer_of(sealed)
    reader = PdfFileReader(io.BytesIO(sealed), strict=False)
    objects: dict[rawpdf.ObjectKey, bytes] = {}
    trailer: dict[str, bytes] = {}
    number = base.size
    if info is not None:
        values = {k: rawpdf.serialize(generic.TextStringObject(v)) for k, v in info.items()}
        objects[number] = rawpdf.dict_bytes(values)
        trailer["/Info"] = b"%d 0 R" % number
        number += 1
    if stream is not None:
        head = {"/Type": b"/Metadata", "/Subtype": b"/XML", **(entries or {})}
        objects[number] = rawpdf.stream_bytes(stream, head)
        root_ref = reader.trailer_view.raw_get("/Root")
        catalog = generic.DictionaryObject(dict(reader.root.items()))
        catalog[pdf_name("/Metadata")] = generic.IndirectObject(number, 0, reader)
        objects[root_ref.idnum] = rawpdf.serialize(catalog)
    return rawpdf.append_update(sealed, objects, trailer=trailer)


def cdata_title() -> bytes:
    return xmp(f"<![CDATA[{REVOKED}]]>")


def predictor_title() -> tuple[bytes, dict[str, bytes]]:
    packet = xmp(REVOKED)
    packet += b" " * (-len(packet) % 4)
    rows = b"".join(b"\x00" + packet[i : i + 4] for i in range(0, len(packet), 4))
    return zlib.compress(rows), {
        "/Filter": b"/FlateDecode",
        "/DecodeParms": b"<< /Predictor 12 /Columns 4 >>",
    }


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier(demo_trust_bundle(), isolation="thread", timeout=60)


@pytest.fixture(scope="module")
def sealed() -> bytes:
    return sealed_license()


def _refused_modified(verifier: Verifier, forged: bytes, *needles: str) -> None:
    report = verifier.verify(forged)
    seal = report.signatures[0]
    assert seal.modified_after_signing, seal
    for needle in needles:
        assert any(needle in w for w in seal.warnings), (needle, seal.warnings)
    assert report.indication is Indication.TOTAL_PASSED  # beside the page: the seal stands
    with pytest.raises(IntakeRefused, match="metadata"):
        check_as_issuer(report, ISSUER)


def test_p14_01_an_xmp_title_in_cdata_is_read(verifier: Verifier, sealed: bytes) -> None:
    _refused_modified(verifier, with_metadata(sealed, cdata_title()), "XMP dc:title", "REVOKED")


def test_p14_01_an_xmp_title_behind_a_png_predictor_is_a_change(
    verifier: Verifier, sealed: bytes
) -> None:
    """pyHanko un-predicts a PNG row of type 0 into zeros (pdf.js reads the title): a
    predicted packet is compared by its encoded bytes, and these are new."""
    body, entries = predictor_title()
    _refused_modified(verifier, with_metadata(sealed, body, entries), "cannot be read")


def test_p14_04_info_subject_keywords_author_rewritten(verifier: Verifier, sealed: bytes) -> None:
    info = {
        "/Subject": "本证照已于2026年12月1日吊销 - LICENSE REVOKED",
        "/Keywords": "吊销, REVOKED, 作废",
        "/Author": "市场监督管理局（吊销决定书 2026-118 号）",
    }
    forged = with_metadata(sealed, info=info)
    _refused_modified(verifier, forged, "/Info /Subject", "/Info /Keywords", "/Info /Author")


def test_p14_05_unclosed_titles_are_linear_and_a_change(verifier: Verifier, sealed: bytes) -> None:
    """The red team's 24 KB packet of unclosed <title> tags ran past 20 s; the bound is
    1 MiB decoded: the whole of it is parsed (and refused as unreadable) at once."""
    packet = b"<title>" * ((1 << 20) // 7)
    forged = with_metadata(sealed, zlib.compress(packet, 9), {"/Filter": b"/FlateDecode"})
    start = time.process_time()
    _refused_modified(verifier, forged, "cannot be read")
    assert time.process_time() - start < 20


def test_an_xmp_bomb_past_the_bound_is_a_change_not_a_hang(
    verifier: Verifier, sealed: bytes
) -> None:
    packet = xmp(" " * (64 << 20))
    forged = with_metadata(sealed, zlib.compress(packet, 9), {"/Filter": b"/FlateDecode"})
    _refused_modified(verifier, forged, "cannot be read")


def test_xmp_properties_other_than_the_title_count(verifier: Verifier, sealed: bytes) -> None:
    packet = xmp("Business licence").replace(
        b"</dc:title>",
        b'</dc:title><dc:description><rdf:Alt><rdf:li xml:lang="x-default">'
        + "已吊销 REVOKED".encode()
        + b"</rdf:li></rdf:Alt></dc:description>",
    )
    _refused_modified(verifier, with_metadata(sealed, packet), "XMP dc:description", "REVOKED")


def test_tool_managed_xmp_and_copies_of_signed_values_stay_allowed(
    verifier: Verifier, sealed: bytes
) -> None:
    """A tool saving the file rewrites ModifyDate, MetadataDate, Producer and copies the
    /Info values into XMP (pyHanko does, adding validation data): nothing new is shown."""
    titled = with_metadata(sealed, info={"/Title": "Business licence", "/Author": "SAMR"})
    assert verifier.verify(titled).signatures[0].modified_after_signing
    packet = xmp("Business licence").replace(
        b"</dc:title>",
        b"</dc:title><dc:creator><rdf:Seq><rdf:li>SAMR</rdf:li></rdf:Seq></dc:creator>"
        b'<xmp:ModifyDate xmlns:xmp="http://ns.adobe.com/xap/1.0/">2026-12-08T00:00:00Z'
        b"</xmp:ModifyDate>",
    )
    again = with_metadata(titled, packet)
    reader = PdfFileReader(io.BytesIO(again), strict=False)
    from signing._verify.doctitle import title_change
    from signing._verify.objects import RevisionObjects

    objs = RevisionObjects(reader)
    assert title_change(reader, objs, objs.revisions - 2) is None
    assert title_change(reader, objs, objs.revisions - 3) is not None


def test_the_same_packet_unchanged_or_unreadable_alike_is_no_change(
    verifier: Verifier, sealed: bytes
) -> None:
    once = with_metadata(sealed, b"<not xml", {})
    twice = with_metadata(once, b"<not xml", {})
    reader = PdfFileReader(io.BytesIO(twice), strict=False)
    from signing._verify.doctitle import title_change
    from signing._verify.objects import RevisionObjects

    objs = RevisionObjects(reader)
    assert title_change(reader, objs, objs.revisions - 2) is None
    assert title_change(reader, objs, objs.revisions - 3) is not None


def test_a_titled_license_with_xmp_through_b_lta_stays_clean(verifier: Verifier) -> None:
    """pyHanko rewrites the XMP packet (ModifyDate, MetadataDate, Producer) each time it
    adds validation data or a document timestamp after the seal: no warning."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    from signing.seal import PadesLevel
    from tests.helpers.licenses import _seal, license_pdf

    writer = IncrementalPdfFileWriter(io.BytesIO(license_pdf()))
    meta = writer.document_meta
    meta.title, meta.author, meta.subject = (
        "营业执照 Business licence",
        "市场监督管理局",
        "2026-001",
    )
    meta.keywords, meta.creator = ["license", "营业执照"], "evault issuer"
    writer.ensure_output_version((2, 0))  # pyHanko writes XMP for PDF 2.0
    out = io.BytesIO()
    writer.write(out)
    sealed = _seal(out.getvalue(), PadesLevel.B_LTA)
    assert sealed.count(b"<?xpacket begin") >= 3  # written, rewritten after the seal
    report = verifier.verify(sealed)
    assert report.indication is Indication.TOTAL_PASSED, report.reasons
    for seal in report.signatures:
        assert not seal.modified_after_signing, seal
        assert not any("metadata" in w for w in seal.warnings), seal.warnings
    check_as_issuer(report, ISSUER)


def test_a_signed_text_moved_to_another_field_is_a_change(sealed: bytes) -> None:
    """Copies are allowed within one field (/Info /Title ↔ dc:title), not across: the
    signed author's name as the window title is new."""
    from signing._verify.doctitle import title_change
    from signing._verify.objects import RevisionObjects

    authored = with_metadata(sealed, info={"/Author": REVOKED})
    moved = with_metadata(authored, xmp(REVOKED))
    reader = PdfFileReader(io.BytesIO(moved), strict=False)
    objs = RevisionObjects(reader)
    change = title_change(reader, objs, objs.revisions - 2)
    assert change is not None and "XMP dc:title" in change, change


def test_a_title_pyhankos_xmp_model_skips_is_still_a_change(sealed: bytes) -> None:
    """pdf.js picks ``rdf:RDF`` and ``rdf:Description`` by their written prefix, pyHanko's
    XMP reader by namespace: a first ``rdf:RDF`` bound to another namespace is read by
    pdf.js only. Every text of the packet counts, whatever element holds it."""
    from signing._verify.doctitle import title_change
    from signing._verify.objects import RevisionObjects

    packet = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="urn:not-rdf"><rdf:Description rdf:about="" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title><rdf:Alt>'
        f'<rdf:li xml:lang="x-default">{REVOKED}</rdf:li></rdf:Alt></dc:title>'
        "</rdf:Description></rdf:RDF>"
        '<r:RDF xmlns:r="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></x:xmpmeta>'
    ).encode()
    forged = with_metadata(sealed, packet)
    reader = PdfFileReader(io.BytesIO(forged), strict=False)
    objs = RevisionObjects(reader)
    change = title_change(reader, objs, objs.revisions - 2)
    assert change is not None and "REVOKED" in change, change
