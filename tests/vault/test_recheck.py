"""``evault recheck``: stored licenses verified again under today's rules.

A license taken before a rule existed stays in the vault; the recheck finds it. The rule
used here is the latest OFD one (a page drawing with a template the package lacks,
refused as ``incomplete_document``): the license is pushed with that rule switched off, as
intake was before it, then rechecked with today's.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from signing.ofd.writer import sample_ofd, write_package
from tests.helpers.ofd import ofd_parts, ofd_sealer
from tests.vault.licenses import (
    MARKET_DEPT,
    Catalog,
    license_pdf,
    make_catalog,
    metadata,
    verifier,
)
from vault.blobs import LocalBlobStore
from vault.crypto import HolderCrypto
from vault.services import intake
from vault.services.recheck import recheck_stock

DOC = "Doc_0/Document.xml"
CONTENT = "Doc_0/Pages/Page_0/Content.xml"


def _missing_template_ofd() -> bytes:
    body = ofd_parts(sample_ofd("食品经营许可证", ["许可证编号：JY00000009", "经营者名称：张三"]))
    body[DOC] = body[DOC].replace(
        b"</ofd:CommonData>",
        b'<ofd:TemplatePage ID="90" BaseLoc="Tpls/Tpl_9/Content.xml"/></ofd:CommonData>',
    )
    body[CONTENT] = body[CONTENT].replace(
        b"<ofd:Content>", b'<ofd:Template TemplateID="90" ZOrder="Foreground"/><ofd:Content>', 1
    )
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    return ofd_sealer(MARKET_DEPT).seal_ofd(write_package(body), at=at)


def _push(
    session: Session, blobs: LocalBlobStore, crypto: HolderCrypto, data: bytes, n: int, market: int
) -> str:
    result = intake.ingest(
        session=session,
        blobs=blobs,
        verifier=verifier(),
        crypto=crypto,
        metadata=metadata(n),
        pdf=data,
        pushed_by_department_id=market,
    )
    return result.license.public_id


def test_a_license_taken_before_a_rule_is_found_by_the_recheck(
    session: Session,
    blobs: LocalBlobStore,
    crypto: HolderCrypto,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cat: Catalog = make_catalog(session)
    good_pdf = _push(session, blobs, crypto, license_pdf(1), 1, cat.market)
    with monkeypatch.context() as before_the_rule:
        before_the_rule.setattr(intake, "_check_complete", lambda report: None)
        taken = _push(session, blobs, crypto, _missing_template_ofd(), 2, cat.market)
    with pytest.raises(intake.IntakeRefused):  # today's intake refuses it
        _push(session, blobs, crypto, _missing_template_ofd(), 3, cat.market)
    session.rollback()

    summary = recheck_stock(session, blobs, verifier())
    assert summary.checked == 2
    [finding] = summary.findings
    assert (finding.license_id, finding.version, finding.file_format) == (taken, 1, "OFD")
    assert finding.reason == "incomplete_document"
    assert "Tpl_9" in finding.message
    assert good_pdf != taken

    only_pdf = recheck_stock(session, blobs, verifier(), file_format="PDF")
    assert (only_pdf.checked, only_pdf.findings) == (1, [])
    assert recheck_stock(session, blobs, verifier(), limit=1).checked == 1


def test_a_blob_that_is_gone_is_a_finding(
    session: Session, blobs: LocalBlobStore, crypto: HolderCrypto
) -> None:
    cat = make_catalog(session)
    public_id = _push(session, blobs, crypto, license_pdf(1), 1, cat.market)
    for stored in blobs.root.rglob("*"):
        if stored.is_file():
            stored.unlink()
    [finding] = recheck_stock(session, blobs, verifier()).findings
    assert (finding.license_id, finding.reason) == (public_id, "blob_unreadable")
