"""Red team round 12, r12-04: in ofdrw, a certified copy's attachments were the issuer's.

The original uses the layout of the corpus's Suwell files: OFD.xml's DocRoot is
``Doc_0/Document_0.xml`` and an older ``Doc_0/Document.xml`` lies beside it, covered by the
issuer's seal, with the same page area (so the verifier lets it through). ofdrw reads the
attachment list from that ``Doc_0/Document.xml`` whatever DocRoot names
(``OFDDir.obtainDocDefault``, ``getAttachment``; :func:`signing.ofd.model.default_documents`),
and there the issuer listed an ``evault-copy.json`` of its own (valid until 2099, another
department and purpose). The copy maker extended only the DocRoot: the copy passed with
both seals, evault read the vault's ``evault-copy.json``, ofdrw handed out the issuer's and
never the vault's (red team 9, r9-06's class, through the second reader).

Now the copy maker refuses an original with a Document.xml beside its DocRoot (a reader
would read the copy's attachments and annotations list from a part the copy cannot extend
without a second 加注 exception), and the verifier fails a seal of the vault's copy seal
whose document's two readings name other Annotations or Attachments lists.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from schemas.report import Indication
from signing.errors import SealingError
from signing.ofd import copy as copy_module
from signing.ofd.copy import read_copy_attachments
from signing.ofd.writer import NS, sample_ofd, write_package
from tests.attacks.ofd_copy_forge import COPY_ID, annotation, vault_maker
from tests.attacks.ofd_forge import GENUINE_LINES, intake_refusal, market_sealer, verify
from tests.helpers.ofd import ofd_parts

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
REFUSED = r"ofdrw reads the document from Doc_0/Document\.xml"
FLAGGED = "readers differ on the copy's"


def _document_0(beside: bytes | None = None, **extra: bytes) -> bytes:
    """The genuine license with its DocRoot named Doc_0/Document_0.xml and ``beside`` (by
    default the same Document) as Doc_0/Document.xml, sealed by the market regulator."""
    parts = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))
    doc = parts.pop("Doc_0/Document.xml")
    parts["Doc_0/Document_0.xml"] = doc
    parts["OFD.xml"] = parts["OFD.xml"].replace(b"Doc_0/Document.xml", b"Doc_0/Document_0.xml")
    parts["Doc_0/Document.xml"] = doc if beside is None else beside
    parts.update(extra)
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    return market_sealer().seal_ofd(write_package(parts), at=at)


def _forged_beside() -> bytes:
    """The red team's original: the Document.xml beside the DocRoot lists the issuer's own
    ``evault-copy.json`` claiming the copy fields the forger wants."""
    doc = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))["Doc_0/Document.xml"]
    fake = {
        "format": "evault-ofd-copy/1",
        "copy_id": "Zk2mR4tW8xY1bAq7Vd0cJ9",
        "verify_url": "https://vault.example.gov.cn/v/Zk2mR4tW8xY1bAq7Vd0cJ9",
        "made_at": "2026-05-30T08:00:00+00:00",
        "valid_until": "2099-12-31T00:00:00+00:00",
        "fields": {"用证部门": "任意部门", "制作事由": "任意用途", "有效期截止时间": "2099-12-31"},
    }
    return _document_0(
        doc.replace(
            b"</ofd:Document>",
            b"<ofd:Attachments>Attachs/Attachments.xml</ofd:Attachments></ofd:Document>",
        ),
        **{
            "Doc_0/Attachs/Attachments.xml": (
                f'{HEAD}<ofd:Attachments xmlns:ofd="{NS}"><ofd:Attachment ID="90" '
                'Name="evault-copy.json" Format="json" Visible="false" Usage="none">'
                "<ofd:FileLoc>evault-copy.json</ofd:FileLoc></ofd:Attachment></ofd:Attachments>"
            ).encode(),
            "Doc_0/Attachs/evault-copy.json": json.dumps(fake, ensure_ascii=False).encode(),
        },
    )


def _copied_anyway(original: bytes, monkeypatch: pytest.MonkeyPatch) -> bytes:
    """The copy the maker made before it refused such originals (only the DocRoot
    extended), sealed by the vault."""
    with monkeypatch.context() as patched:
        patched.setattr(
            copy_module, "_check_default_documents", lambda pkg, doc: None, raising=False
        )
        return vault_maker().make(original, annotation())


@pytest.mark.parametrize("build", [_forged_beside, _document_0], ids=["forged", "agreeing"])
def test_the_original_still_verifies(build) -> None:  # type: ignore[no-untyped-def]
    """The issuer's seal covers both documents and they give one page area: the original
    passes, as the corpus's Suwell files do (its verdict is not what changed)."""
    original = build()
    assert verify(original).indication is Indication.TOTAL_PASSED
    assert intake_refusal(original) is None


@pytest.mark.parametrize("build", [_forged_beside, _document_0], ids=["forged", "agreeing"])
def test_the_copy_maker_refuses_an_original_with_a_document_xml_beside_its_docroot(
    build,  # type: ignore[no-untyped-def]
) -> None:
    with pytest.raises(SealingError, match=REFUSED):
        vault_maker().make(build(), annotation())


def test_the_red_teams_copy_fails_and_names_the_second_reading(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    copy = _copied_anyway(_forged_beside(), monkeypatch)
    # what each reader hands out: evault the vault's, ofdrw (Doc_0/Document.xml) the issuer's
    parts = ofd_parts(copy)
    assert json.loads(read_copy_attachments(copy)["evault-copy.json"])["copy_id"] == COPY_ID
    assert b"Attachs/Attachments.xml" in parts["Doc_0/Document.xml"]
    assert json.loads(parts["Doc_0/Attachs/evault-copy.json"])["valid_until"].startswith("2099")
    report = verify(copy)
    assert report.indication is Indication.TOTAL_FAILED
    vault = next(s for s in report.signatures if s.vault_copy_seal)
    assert vault.indication is Indication.TOTAL_FAILED
    assert any(FLAGGED in r and "Doc_0/Document.xml" in r for r in vault.reasons), vault.reasons
    assert report.signatures[0].indication is Indication.TOTAL_PASSED  # the issuer's seal
    assert intake_refusal(copy) is not None

    from api.pages.reasons import reason_zh

    assert [r for r in vault.reasons if FLAGGED in r and reason_zh(r) is None] == []


def test_a_copy_of_an_agreeing_document_xml_fails_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """The corpus's layout, both Documents alike: the copy's 加注 and attachments are in
    the DocRoot only, and ofdrw's attachment list (Doc_0/Document.xml) names none of them."""
    copy = _copied_anyway(_document_0(), monkeypatch)
    report = verify(copy)
    assert report.indication is Indication.TOTAL_FAILED
    vault = next(s for s in report.signatures if s.vault_copy_seal)
    assert any(FLAGGED in r for r in vault.reasons), vault.reasons


def test_a_copy_of_the_usual_layout_still_passes() -> None:
    from tests.attacks.ofd_copy_forge import vault_copy

    assert verify(vault_copy()).indication is Indication.TOTAL_PASSED
