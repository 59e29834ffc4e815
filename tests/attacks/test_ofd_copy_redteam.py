"""Second OFD red team: the 加注 exception (signing/ofd/additions.py, overlay.py) and the
vault's certified copies. Each forgery is built against a genuine license sealed by the
market regulator (tests/attacks/ofd_forge.py ``genuine``) or the vault's genuine copy of it.

Forgeries that pass are ``xfail(strict=True)``: the test asserts they are flagged, so it
starts passing (and the marker must go) when the hole is closed. Unmarked tests guard the
attacks that are caught today."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from schemas.report import Indication
from signing.ofd.copy import OfdCopyMaker
from signing.ofd.package import Package
from signing.ofd.writer import sample_ofd
from tests.attacks.ofd_copy_forge import (
    BLANK,
    NS,
    add_annotation,
    annotation,
    cli_verify,
    digest_storm,
    other_department,
    own_sealer,
    page_annot,
    seal,
    text,
    vault_copy,
    vault_sealer,
    white,
)
from tests.attacks.ofd_forge import genuine, intake_refusal, passes, verify
from tests.helpers.ofd import license_ofd, ofd_parts, rebuild_ofd

FORGED = "有效期至：2099年12月31日"
VALIDITY = (20.0, 66.0, 170.0, 10.0)
"""The genuine license's validity line (有效期至：2021年01月01日), page 1, mm."""
COPY_QR = (85.494, 249.606, 35.278, 35.278)
"""Where the vault's copy draws its QR code (page 1, mm): outside the vault's stamp."""


def _box(box: tuple[float, ...]) -> str:
    return " ".join(f"{v:g}" for v in box)


def _new_line() -> bytes:
    """An annotation in a blank area of page 1 claiming a new validity."""
    return page_annot(_box(BLANK), text((0, 0, 170, 10), FORGED))


def _cover(box: tuple[float, ...]) -> str:
    """White over ``box``'s size, then the forged validity (appearance-relative)."""
    return white((0, 0, box[2], box[3])) + text((0, 0, box[2], box[3]), FORGED)


# -- 1. changing what a genuine license shows -------------------------------------------


def test_added_text_with_an_untrusted_later_seal_is_not_passed() -> None:
    data = seal(add_annotation(genuine(), _new_line()), own_sealer())
    report = verify(data)
    assert report.indication is not Indication.TOTAL_PASSED
    # the issuer's seal reads modified: only the vault's pinned copy seal may add things
    assert intake_refusal(data) == "modified_after_signing"


def test_added_text_without_a_later_seal_fails() -> None:
    data = seal(add_annotation(genuine(), _new_line()), None)
    assert verify(data).indication is Indication.TOTAL_FAILED
    assert intake_refusal(data) == "modified_after_signing"


def test_intake_refuses_additions_sealed_by_another_department() -> None:
    data = seal(add_annotation(genuine(), _new_line()), other_department())
    assert intake_refusal(data) == "modified_after_signing"  # not the vault's pinned seal


def test_added_text_by_another_department_is_flagged() -> None:
    data = seal(add_annotation(genuine(), _new_line()), other_department())
    assert not passes(data)


def test_visible_attachment_by_another_department_is_flagged() -> None:
    parts = ofd_parts(genuine())
    parts["Doc_0/Forged/Attachments.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Attachments xmlns:ofd="{NS}">'
        '<ofd:Attachment ID="960" Name="许可证正本.ofd" Format="ofd" Visible="true">'
        "<ofd:FileLoc>/Doc_0/Forged/license.ofd</ofd:FileLoc></ofd:Attachment></ofd:Attachments>"
    ).encode()
    parts["Doc_0/Forged/license.ofd"] = sample_ofd("食品经营许可证", [FORGED])
    doc = parts["Doc_0/Document.xml"]
    at = doc.rindex(b"</ofd:Document>")
    link = b"<ofd:Attachments>/Doc_0/Forged/Attachments.xml</ofd:Attachments>"
    parts["Doc_0/Document.xml"] = doc[:at] + link + doc[at:]
    assert not passes(seal(parts, other_department()))


def test_annotation_covering_text_is_flagged() -> None:
    """Even under the vault's own copy seal (the only one that may add a 加注)."""
    data = seal(
        add_annotation(genuine(), page_annot(_box(VALIDITY), _cover(VALIDITY))), vault_sealer()
    )
    report = verify(data)
    assert report.indication is Indication.TOTAL_FAILED
    assert "covers the page's text" in " ".join(report.signatures[0].reasons)


def test_list_naming_a_covered_part_is_flagged() -> None:
    link = b"<ofd:Annotations>Pages/Page_0/Content.xml</ofd:Annotations>"
    data = seal(add_annotation(genuine(), _new_line(), doc_insert=link), other_department())
    assert verify(data).indication is Indication.TOTAL_FAILED


def test_appearance_objects_outside_their_box_are_flagged() -> None:
    below = (0.0, VALIDITY[1] - BLANK[1], 170.0, 10.0)  # the validity line, from the blank box
    objects = white(below) + text(below, FORGED)
    data = seal(add_annotation(genuine(), page_annot(_box(BLANK), objects)), other_department())
    assert not passes(data)


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param(' CTM="1 0 0 1 0 -34"', id="ctm"),
        pytest.param(' LineWidth="80"', id="line-width"),
    ],
)
def test_appearance_objects_drawn_outside_their_box_are_flagged(extra: str) -> None:
    objects = white((0, 0, 170, 10), extra=extra)
    data = seal(add_annotation(genuine(), page_annot(_box(BLANK), objects)), other_department())
    assert not passes(data)


@pytest.mark.parametrize(
    "boundary",
    [
        pytest.param("190 76 -170 -10", id="negative-size"),
        pytest.param("20 66 NaN 10", id="nan"),
    ],
)
def test_degenerate_appearance_box_over_text_is_flagged(boundary: str) -> None:
    annot = page_annot(boundary, _cover(VALIDITY))
    assert not passes(seal(add_annotation(genuine(), annot), other_department()))


def test_later_stamp_over_the_issuers_text_is_flagged() -> None:
    data = seal(ofd_parts(genuine()), other_department(), box=(20, 56, 40, 40))
    assert not passes(data)


def _entity_decoy(data: bytes, cover: bytes) -> dict[str, bytes]:
    """Document.xml's added list named with an XML character reference (``&#46;``): the
    verifier's regex checks the package part ``Annotations&#46;xml`` (a decoy naming a
    harmless annotation), an XML reader opens ``Annotations.xml`` (the one that covers)."""
    link = b"<ofd:Annotations>/Doc_0/Forged/Annotations&#46;xml</ofd:Annotations>"
    parts = add_annotation(data, cover, doc_insert=link)
    decoy = parts["Doc_0/Forged/Annotations.xml"].replace(b"Annot.xml", b"Decoy.xml")
    parts["Doc_0/Forged/Annotations&#46;xml"] = decoy
    parts["Doc_0/Forged/Decoy.xml"] = _new_line()
    return parts


def test_entity_decoy_is_what_xml_readers_see() -> None:
    """The precondition of the decoy: the list the document shows is the covering one."""
    from signing.ofd.additions import list_parts

    parts = _entity_decoy(genuine(), page_annot(_box(VALIDITY), _cover(VALIDITY)))
    with Package(rebuild_ofd(parts)) as pkg:
        assert "Doc_0/Forged/Annotations.xml" in list_parts(pkg, "Doc_0/Document.xml")


def test_entity_decoy_list_covering_text_is_flagged() -> None:
    parts = _entity_decoy(genuine(), page_annot(_box(VALIDITY), _cover(VALIDITY)))
    assert not passes(seal(parts, other_department()))


def _license_with_a_void_annotation() -> bytes:
    """A license whose issuer sealed, with it, an annotation saying it was revoked."""
    import datetime as dt

    from signing.ofd.writer import write_package
    from tests.helpers.ofd import ofd_sealer
    from tests.helpers.pki import MARKET_DEPT

    body = ofd_parts(sample_ofd("食品经营许可证", ["许可证编号：JY00000001"]))
    body["Doc_0/Annots/Annotations.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Annotations xmlns:ofd="{NS}">'
        '<ofd:Page PageID="1"><ofd:FileLoc>Void.xml</ofd:FileLoc></ofd:Page></ofd:Annotations>'
    ).encode()
    void = page_annot("20 120 170 12", text((0, 0, 170, 10), "本证已注销", 30))
    body["Doc_0/Annots/Void.xml"] = void.replace(b'ID="950"', b'ID="31"')
    doc = body["Doc_0/Document.xml"]
    at = doc.rindex(b"</ofd:Document>")
    link = b"<ofd:Annotations>Annots/Annotations.xml</ofd:Annotations>"
    body["Doc_0/Document.xml"] = doc[:at] + link + doc[at:]
    at_time = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    return ofd_sealer(MARKET_DEPT).seal_ofd(write_package(body), at=at_time)


def test_second_annotations_list_shadowing_the_issuers_is_flagged() -> None:
    lic = _license_with_a_void_annotation()
    assert passes(lic)
    parts = ofd_parts(lic)
    parts["Doc_0/Forged/Annotations.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Annotations xmlns:ofd="{NS}">'
        '<ofd:Page PageID="1"><ofd:FileLoc>Annot.xml</ofd:FileLoc></ofd:Page></ofd:Annotations>'
    ).encode()
    parts["Doc_0/Forged/Annot.xml"] = page_annot("20 200 10 10", "")
    doc = parts["Doc_0/Document.xml"]
    at = doc.index(b"<ofd:Annotations>")
    link = b"<ofd:Annotations>Forged/Annotations.xml</ofd:Annotations>"
    parts["Doc_0/Document.xml"] = doc[:at] + link + doc[at:]
    data = seal(parts, other_department())
    with Package(data) as pkg:
        first = next(e for e in pkg.xml("Doc_0/Document.xml") if e.tag.endswith("Annotations"))
        assert first.text == "Forged/Annotations.xml"
    assert not passes(data)


def test_issuers_own_annotation_covered_is_flagged() -> None:
    lic = _license_with_a_void_annotation()
    parts = add_annotation(lic, page_annot("20 120 170 12", white((0, 0, 170, 12))))
    assert "Doc_0/Annots/Annotations.xml" in parts and "Doc_0/Forged/Annotations.xml" not in parts
    assert not passes(seal(parts, other_department()))


# -- 2. forging the vault's certified copy ----------------------------------------------


def test_genuine_copy_verifies_with_its_log_proof(tmp_path: Path) -> None:
    code, report = cli_verify(vault_copy(), tmp_path)
    assert code == 0 and report["log_proof"]["verified"] is True


def test_altered_copy_annotation_breaks_the_vault_seal(tmp_path: Path) -> None:
    parts = ofd_parts(vault_copy())
    path = "Doc_0/EvaultCopy/Annotation.xml"
    parts[path] = parts[path].replace("商品房预售许可申请".encode(), "任意用途".encode())
    data = rebuild_ofd(parts)
    assert verify(data).indication is Indication.TOTAL_FAILED
    assert cli_verify(data, tmp_path)[0] != 0


def test_vault_seal_transplanted_onto_another_license_fails(tmp_path: Path) -> None:
    copy = ofd_parts(vault_copy())
    other = ofd_parts(license_ofd(7))
    moved = {p: d for p, d in copy.items() if "EvaultCopy" in p or "/Sign_1/" in p}
    moved["Doc_0/Signs/Signatures.xml"] = copy["Doc_0/Signs/Signatures.xml"]
    moved["Doc_0/Document.xml"] = copy["Doc_0/Document.xml"]
    data = rebuild_ofd({**other, **moved})
    assert verify(data).indication is Indication.TOTAL_FAILED
    assert cli_verify(data, tmp_path)[0] != 0


def test_copy_without_the_vault_seal_fails(tmp_path: Path) -> None:
    parts = {p: d for p, d in ofd_parts(vault_copy()).items() if "/Sign_1/" not in p}
    parts["Doc_0/Signs/Signatures.xml"] = ofd_parts(genuine())["Doc_0/Signs/Signatures.xml"]
    data = rebuild_ofd(parts)
    assert verify(data).indication is Indication.TOTAL_FAILED
    assert cli_verify(data, tmp_path)[0] != 0


def test_copy_stamp_covered_by_an_added_annotation_is_flagged() -> None:
    box = (10.0, 247.489, 112.889, 39.511)  # the whole 加注 box, the vault's stamp in it
    annot = page_annot(_box(box), white((0, 0, box[2], box[3])))
    data = seal(add_annotation(vault_copy(), annot), other_department())
    assert verify(data).indication is Indication.TOTAL_FAILED


def test_copy_made_with_an_untrusted_seal_is_not_verified(tmp_path: Path) -> None:
    own = own_sealer()
    fake = OfdCopyMaker(own.signer, own.seal).make(genuine(), annotation(days=3650))
    code, report = cli_verify(fake, tmp_path)
    assert code != 0 and report["indication"] != "TOTAL_PASSED"


def _evil_qr() -> str:
    """The QR code of a copy whose URL points elsewhere, drawn at (0, 0)."""
    dept = other_department()
    plan = OfdCopyMaker(dept.signer, dept.seal).plan(
        genuine(), annotation(url="https://evil.example/v/c0ffee")
    )
    drawn = plan.added["Doc_0/EvaultCopy/Annotation.xml"].decode()
    qr = re.findall(
        r'<ofd:PathObject ID="\d+" Boundary="75\.494 2\.117 .*?</ofd:PathObject>', drawn, re.S
    )
    assert len(qr) == 1
    return qr[0].replace('Boundary="75.494 2.117', 'Boundary="0 0')


def test_copy_qr_replaced_under_another_seal_is_flagged(tmp_path: Path) -> None:
    annot = page_annot(_box(COPY_QR), white((0, 0, COPY_QR[2], COPY_QR[3])) + _evil_qr())
    data = seal(add_annotation(vault_copy(), annot), other_department())
    code, _ = cli_verify(data, tmp_path)
    assert code != 0


def test_copy_made_by_another_department_is_flagged(tmp_path: Path) -> None:
    dept = other_department()
    fake = OfdCopyMaker(dept.signer, dept.seal).make(
        genuine(), annotation(days=3650, url="https://evil.example/v/c0ffee")
    )
    code, report = cli_verify(fake, tmp_path)
    assert code != 0 or report["log_proof"]["verified"] is False


def test_copy_covered_through_an_entity_decoy_entry_is_flagged(tmp_path: Path) -> None:
    dept = other_department()
    evil = OfdCopyMaker(dept.signer, dept.seal).plan(
        genuine(), annotation(days=3650, url="https://evil.example/v/x")
    )
    drawn = evil.added["Doc_0/EvaultCopy/Annotation.xml"]
    found = re.search(rb'<ofd:Appearance Boundary="[^"]*">(.*)</ofd:Appearance>', drawn, re.S)
    assert found is not None
    box = (10.0, 247.489, 112.889, 39.511)  # the copy's 加注 box, the vault's stamp in it
    objects = white((0, 0, box[2], box[3])) + found.group(1).decode()
    parts = ofd_parts(vault_copy())
    parts["Doc_0/Forged/Annot.xml"] = page_annot(_box(box), objects)
    parts["Doc_0/Forged/Annot&#46;xml"] = _new_line()
    listed = parts["Doc_0/EvaultCopy/Annotations.xml"]
    at = listed.rindex(b"</ofd:Annotations>")
    entry = b'<ofd:Page PageID="1"><ofd:FileLoc>../Forged/Annot&#46;xml</ofd:FileLoc></ofd:Page>'
    parts["Doc_0/EvaultCopy/Annotations.xml"] = listed[:at] + entry + listed[at:]
    data = seal(parts, dept)
    assert cli_verify(data, tmp_path)[0] != 0


# -- 3. strip_additions and the overlay check: cost ---------------------------------------


def test_annotation_part_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    one = '<ofd:Annot ID="950" Type="Stamp"><ofd:Appearance Boundary="20 100 1 1"/></ofd:Annot>'
    annot = (f'<ofd:PageAnnot xmlns:ofd="{NS}">' + one * 10 + "</ofd:PageAnnot>").encode()
    parts = add_annotation(genuine(), annot)
    entry = b'<ofd:Page PageID="1"><ofd:FileLoc>Annot.xml</ofd:FileLoc></ofd:Page>'
    listed = parts["Doc_0/Forged/Annotations.xml"]
    at = listed.rindex(b"</ofd:Annotations>")
    parts["Doc_0/Forged/Annotations.xml"] = listed[:at] + entry * 200 + listed[at:]
    data = seal(parts, other_department())
    parsed: list[str] = []
    real = Package.xml

    def counting(self: Package, path: str):  # type: ignore[no-untyped-def]
        parsed.append(path)
        return real(self, path)

    monkeypatch.setattr(Package, "xml", counting)
    verify(data)
    assert parsed.count("Doc_0/Forged/Annot.xml") <= 3


def test_strip_choices_hash_a_bounded_amount(monkeypatch: pytest.MonkeyPatch) -> None:
    import signing.ofd.verifier as verifier

    data = digest_storm(3, 256 * 1024)
    total = sum(len(d) for d in ofd_parts(data).values())
    hashed = [0]
    real = verifier.sm3

    def counting(part: bytes) -> bytes:
        hashed[0] += len(part)
        return real(part)

    monkeypatch.setattr(verifier, "sm3", counting)
    assert verify(data).indication is Indication.TOTAL_FAILED
    assert hashed[0] <= 20 * total
