"""Red team round 9, copies (r9-02, r9-05). r9-02: ofdrw's converters (to images, to PDF by
iText or PDFBox) draw a
page's stamps first and its annotations after them. The copy's 加注 was an annotation whose
first object filled its box white, and the vault's stamp lies inside that box: every
certified copy was shown, printed and converted by ofdrw without the vault's seal. The 加注
is drawn without a fill (its box lies where the page draws nothing)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import xml.etree.ElementTree as ET

import pytest

from schemas.report import Indication
from signing.copies.log_proof import read_copy_id
from signing.errors import SealingError
from signing.ofd import copy as copy_module
from signing.ofd import overlay
from signing.ofd.copy import read_copy_attachments
from signing.ofd.package import Package, local_name
from signing.ofd.writer import NS, sample_ofd, write_package
from tests.attacks.ofd_copy_forge import annotation, vault_copy, vault_maker
from tests.attacks.ofd_forge import GENUINE_LINES, genuine, market_sealer, passes, verify
from tests.attacks.ofd_pages import PAGE, annotated_parts, annotation_box
from tests.helpers.ofd import ofd_parts


def _boxes(part: bytes, pattern: bytes) -> list[tuple[float, ...]]:
    return [tuple(float(v) for v in m.group(1).split()) for m in re.finditer(pattern, part)]


def test_nothing_the_copys_annotation_draws_is_white_or_filled_over_the_vault_stamp() -> None:
    copy = vault_copy()
    parts = ofd_parts(copy)
    drawn = parts["Doc_0/EvaultCopy/Annotation.xml"]
    assert b"255 255 255" not in drawn
    x, y, _, _ = annotation_box(copy)
    stamps = [
        box
        for path, data in parts.items()
        if path.endswith("Signature.xml") and b"EvaultCopy" in data
        for box in _boxes(data, rb'<ofd:StampAnnot [^>]*Boundary="([^"]+)"')
    ]
    assert stamps, "the vault's seal has a stamp"
    frame = re.search(rb"<ofd:PathObject [^>]*>", drawn)
    assert frame is not None and b'Fill="true"' not in frame.group(0)  # the box's border
    for sx, sy, sw, sh in stamps:  # each filled object over the stamp is a glyph of the text
        for m in re.finditer(rb'<ofd:PathObject [^>]*Boundary="([^"]+)"[^>]*Fill="true"', drawn):
            bx, by, bw, bh = (float(v) for v in m.group(1).split())
            over = x + bx < sx + sw and sx < x + bx + bw and y + by < sy + sh and sy < y + by + bh
            assert not over or bw * bh < 0.05 * sw * sh, m.group(0)
    assert verify(copy).indication is Indication.TOTAL_PASSED


def _template_named(times: int) -> bytes:
    """The genuine license whose page names, ``times`` over, one template drawing a path of
    15,001 tokens clear of the 加注's corner, sealed by the market regulator."""
    parts = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))
    doc = "Doc_0/Document.xml"
    parts[doc] = parts[doc].replace(
        b"</ofd:CommonData>",
        b'<ofd:TemplatePage ID="900" BaseLoc="Tpls/Tpl_0/Content.xml"/></ofd:CommonData>',
    )
    path = "M 0 0 " + "L 1 1 " * 5000
    parts["Doc_0/Tpls/Tpl_0/Content.xml"] = (
        f'<ofd:Page xmlns:ofd="{NS}"><ofd:Content><ofd:Layer ID="901">'
        f'<ofd:PathObject ID="902" Boundary="150 100 10 10"><ofd:AbbreviatedData>{path}'
        "</ofd:AbbreviatedData></ofd:PathObject></ofd:Layer></ofd:Content></ofd:Page>"
    ).encode()
    named = b'<ofd:Template TemplateID="900" ZOrder="Background"/>' * times
    parts[PAGE] = parts[PAGE].replace(b"<ofd:Content>", named + b"<ofd:Content>", 1)
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    return market_sealer().seal_ofd(write_package(parts), at=at)


def test_a_template_named_many_times_is_placed_once() -> None:
    """r9-05: each naming was placed again (200 x 15,001 tokens: beyond the file's budget of
    2 million, the copy refused; with costlier glyph deltas, 18 s of CPU)."""
    original = _template_named(200)
    assert passes(original)
    copy = vault_maker().make(original, annotation())
    assert verify(copy).indication is Indication.TOTAL_PASSED


def _with_a_comment() -> bytes:
    """The genuine license whose (signed) Document.xml keeps a commented-out element after
    its pages, as a producer may leave one."""
    parts = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))
    doc = "Doc_0/Document.xml"
    parts[doc] = parts[doc].replace(
        b"</ofd:Pages>",
        b"</ofd:Pages><!-- <ofd:CustomTags>Tags/CustomTags.xml</ofd:CustomTags> -->",
    )
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    return market_sealer().seal_ofd(write_package(parts), at=at)


def test_copy_puts_its_annotations_outside_an_issuers_comment() -> None:
    original = _with_a_comment()
    assert passes(original)
    copy = vault_maker().make(original, annotation())
    document = ofd_parts(copy)["Doc_0/Document.xml"]
    assert [local_name(el) for el in ET.fromstring(document)] == [
        "CommonData",
        "Pages",
        "Annotations",
        "Attachments",
    ]
    assert verify(copy).indication is Indication.TOTAL_PASSED


def test_copy_whose_annotations_lie_in_a_comment_is_flagged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """r9-09: the maker put ``<Annotations>`` before the first ``<…CustomTags`` it found,
    in the comment: no reader showed the 加注, and the verifier, reading the added element
    by its bytes, accepted it."""
    real = copy_module.root_children

    def fooled(document: bytes) -> tuple[str, list[tuple[int, str]]]:
        # the maker's old reading: the first "<…CustomTags" in the bytes, a comment's too
        root, children = real(document)
        return root, sorted([*children, (document.index(b"<ofd:CustomTags"), "ofd:CustomTags")])

    monkeypatch.setattr(copy_module, "root_children", fooled)
    copy = vault_maker().make(_with_a_comment(), annotation())
    assert b"<!-- <ofd:Annotations>" in ofd_parts(copy)["Doc_0/Document.xml"]
    monkeypatch.undo()
    report = verify(copy)
    issuer = report.signatures[0]
    assert issuer.indication is Indication.TOTAL_FAILED and issuer.modified_after_signing
    assert "changed after signing: Doc_0/Document.xml" in issuer.reasons, issuer.reasons


def test_copy_identity_is_read_from_the_copys_own_attachments(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """r9-06: an original listing its own ``evault-copy.json`` (naming another copy id)
    first; the copy's id, which the public check page and ``--log-key`` use, was read from
    it. Such an original is no longer copied, and such a copy fails: ofdrw looks an
    attachment up by name and takes the first, the issuer's (red team 12, r12-04's class);
    evault still reads the copy's own from one made by hand."""
    parts = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))
    doc = "Doc_0/Document.xml"
    parts[doc] = parts[doc].replace(
        b"</ofd:Pages>", b"</ofd:Pages><ofd:Attachments>Attachs/Attachments.xml</ofd:Attachments>"
    )
    parts["Doc_0/Attachs/evault-copy.json"] = json.dumps(
        {"format": "evault-ofd-copy/1", "copy_id": "AAAAAAAAAAAAAAAAAAAAAA"}
    ).encode()
    parts["Doc_0/Attachs/Attachments.xml"] = (
        f'<ofd:Attachments xmlns:ofd="{NS}"><ofd:Attachment ID="50" Name="evault-copy.json" '
        'Format="json"><ofd:FileLoc>evault-copy.json</ofd:FileLoc></ofd:Attachment>'
        "</ofd:Attachments>"
    ).encode()
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    original = market_sealer().seal_ofd(write_package(parts), at=at)
    made = annotation()
    with pytest.raises(SealingError, match=r"already attaches a file named evault-copy\.json"):
        vault_maker().make(original, made)
    monkeypatch.setattr(copy_module, "_check_attachment_names", lambda *_: None)
    copy = vault_maker().make(original, made)
    monkeypatch.undo()
    assert read_copy_id(copy) == made.copy_id
    assert json.loads(read_copy_attachments(copy)["evault-copy.json"])["copy_id"] == made.copy_id
    issuer = verify(copy).signatures[0]
    assert issuer.indication is Indication.TOTAL_FAILED
    said = "Doc_0/Attachs/Attachments.xml: an attachment a later seal added is named"
    assert any(r.startswith(said) for r in issuer.reasons), issuer.reasons
    from api.pages.reasons import reason_zh

    assert [r for r in issuer.reasons if r.startswith(said) and reason_zh(r) is None] == []


@pytest.mark.parametrize("big", ["2147483648", "9" * 5000])
def test_copy_maker_refuses_ids_that_leave_no_room(big: str) -> None:
    """r9-08: one object ID of ten digits (or of 5000) made the maker raise StopIteration
    (ValueError) instead of refusing."""
    parts = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))
    parts[PAGE] = parts[PAGE].replace(b'<ofd:Layer ID="8">', f'<ofd:Layer ID="{big}">'.encode())
    assert f'ID="{big}"'.encode() in parts[PAGE]
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    original = market_sealer().seal_ofd(write_package(parts), at=at)
    with pytest.raises(SealingError, match="object IDs leave no room for the copy's"):
        vault_maker().make(original, annotation())


def test_an_annotation_part_named_by_many_entries_is_placed_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """r9-07c/d: one annotation part named by 200 entries (pages 1..200) was placed again
    for each, with work no budget charged (30,000 TextCodes: 12 s to copy, 24 s to verify
    the copy)."""
    parts = annotated_parts(
        "Page_0/Annotation.xml",
        '<ofd:Annot ID="70" Type="Watermark"><ofd:Appearance Boundary="180 5 20 10"/></ofd:Annot>',
    )
    listed = "Doc_0/Annots/Annotations.xml"
    entry = b'<ofd:Page PageID="1"><ofd:FileLoc>Page_0/Annotation.xml</ofd:FileLoc></ofd:Page>'
    parts[listed] = parts[listed].replace(entry, entry * 200)
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    original = market_sealer().seal_ofd(write_package(parts), at=at)
    placed: list[str] = []
    real = overlay._boxes_of

    def counting(pkg: Package, path: str, drawn: bool) -> list[tuple[float, ...]]:
        placed.append(path)
        return real(pkg, path, drawn)

    monkeypatch.setattr(overlay, "_boxes_of", counting)
    copy = vault_maker().make(original, annotation())
    assert placed.count("Doc_0/Annots/Page_0/Annotation.xml") <= 2  # drawn, and not
    assert verify(copy).indication is Indication.TOTAL_PASSED


@pytest.mark.parametrize("purpose", ["m" * 30 + " " + "m" * 29, "W" * 29 + " " + "W" * 30])
def test_a_purpose_of_long_latin_words_stays_in_its_box(purpose: str) -> None:
    """r9-10: a second word longer than a line started a line of its own, unbroken: the
    加注 text ran 16 mm past its box, over the license, and the vault's own copy failed.
    (Each word is still longer than a line at the 60 characters a purpose may now have.)"""
    made = dataclasses.replace(annotation(), purpose=purpose)
    copy = vault_maker().make(genuine(), made)
    report = verify(copy)
    assert report.indication is Indication.TOTAL_PASSED, [s.reasons for s in report.signatures]
