"""Red team pdf12, p12-06: the document title rewritten after signing.

One update wrote a new trailer ``/Info`` with ``/Title`` "营业执照（已吊销 REVOKED）" and
pointed the catalog's ``/Metadata`` at new XMP with the same ``dc:title``: both are
outside what the object comparison walks, so the seal was TOTAL_PASSED with no warning
and intake accepted it, while pdf.js (Firefox) shows that title as the window and tab
title. Now a title text the signed revision did not show is a warning and marks the seal
modified after signing (the indication stands), and intake refuses the license.
"""

from __future__ import annotations

import io

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.reader import PdfFileReader

from schemas.report import Indication
from signing._verify.doctitle import title_change
from signing._verify.objects import RevisionObjects
from signing.verify import Verifier
from tests.helpers import rawpdf
from tests.helpers.intake_rules import check_as_issuer
from tests.helpers.licenses import ISSUER, sealed_license
from tests.helpers.pki import demo_trust_bundle
from vault.errors import IntakeRefused

TITLE = "营业执照（已吊销 REVOKED）"


def xmp(title: str) -> bytes:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        'rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title><rdf:Alt>'
        f'<rdf:li xml:lang="x-default">{title}</rdf:li></rdf:Alt></dc:title>'
        '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()


def retitled(sealed: bytes, *, info: str | None = TITLE, dc: str | None = TITLE) -> bytes:
    """``sealed`` plus one hand-written update giving it a new trailer /Info with /Title
    and/or the catalog's /Metadata pointed at new XMP with dc:title (pyHanko's writer
    would rewrite the XMP from /Info itself)."""
    base = rawpdf.trailer_of(sealed)
    reader = PdfFileReader(io.BytesIO(sealed), strict=False)
    objects: dict[rawpdf.ObjectKey, bytes] = {}
    trailer: dict[str, bytes] = {}
    number = base.size
    if info is not None:
        title = rawpdf.serialize(generic.TextStringObject(info))
        objects[number] = rawpdf.dict_bytes({"/Title": title})
        trailer["/Info"] = b"%d 0 R" % number
        number += 1
    if dc is not None:
        entries = {"/Type": b"/Metadata", "/Subtype": b"/XML"}
        objects[number] = rawpdf.stream_bytes(xmp(dc), entries)
        root_ref = reader.trailer_view.raw_get("/Root")
        catalog = generic.DictionaryObject(dict(reader.root.items()))
        catalog[pdf_name("/Metadata")] = generic.IndirectObject(number, 0, reader)
        catalog_bytes = rawpdf.serialize(catalog)
        objects[root_ref.idnum] = catalog_bytes
    return rawpdf.append_update(sealed, objects, trailer=trailer)


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier(demo_trust_bundle(), isolation="thread", timeout=60)


@pytest.mark.parametrize(
    ("info", "dc"), [(TITLE, TITLE), (TITLE, None), (None, TITLE)], ids=["both", "info", "xmp"]
)
def test_a_title_set_after_signing_is_a_modification_with_a_warning(
    verifier: Verifier, info: str | None, dc: str | None
) -> None:
    report = verifier.verify(retitled(sealed_license(), info=info, dc=dc))
    seal = report.signatures[0]
    assert seal.modified_after_signing, seal
    assert any("title" in w and "REVOKED" in w for w in seal.warnings), seal.warnings
    assert report.indication is Indication.TOTAL_PASSED  # beside the page: the seal stands
    with pytest.raises(IntakeRefused, match="title"):
        check_as_issuer(report, ISSUER)


def test_a_license_untouched_has_no_title_warning(verifier: Verifier) -> None:
    report = verifier.verify(sealed_license())
    assert report.indication is Indication.TOTAL_PASSED, report.reasons
    assert not report.signatures[0].modified_after_signing
    assert not any("title" in w for w in report.signatures[0].warnings)
    check_as_issuer(report, ISSUER)


def test_the_same_title_written_again_is_no_change(verifier: Verifier) -> None:
    """A tool that copies the title it finds into XMP (pyHanko does) shows nothing new."""
    once = retitled(sealed_license(), info=TITLE, dc=None)
    first = verifier.verify(once)
    assert first.signatures[0].modified_after_signing  # set after the seal
    # one more update copying the title into XMP: nothing new since the title was set
    twice = retitled(once, info=None, dc=TITLE)
    reader = PdfFileReader(io.BytesIO(twice), strict=False)
    objs = RevisionObjects(reader)
    assert title_change(reader, objs, objs.revisions - 2) is None
    assert title_change(reader, objs, objs.revisions - 3) is not None
