"""A license whose pages name parts the package lacks (red team 4, a25b).

A page drawing with a template that is not in the package passed verification with a note,
and intake accepted it: the vault then held, and sealed copies of, a license a reader shows
without that template. Supplying the template later is an unsigned change (flagged), so
this is no forgery, but an incomplete license is not one to hand out: intake refuses it as
``incomplete_document`` and the report lists the parts (``missing_parts``). A resource list
(PublicRes.xml) named but absent is left alone: ofdrw writes such files (the corpus's
converter-h.ofd), and their pages draw nothing from it.
"""

from __future__ import annotations

import datetime as dt

from signing.ofd.sealer import OfdSealer
from signing.ofd.writer import sample_ofd, write_package
from tests.attacks.ofd_forge import (
    GENUINE_LINES,
    MARKET_NAME,
    intake_refusal,
    market_signer,
    verify,
)
from tests.helpers.ofd import ofd_parts, sm2_pki

DOC = "Doc_0/Document.xml"
CONTENT = "Doc_0/Pages/Page_0/Content.xml"


def _sealed(body: dict[str, bytes]) -> bytes:
    pki = sm2_pki()
    sealer = OfdSealer(market_signer(), pki.seal_for(MARKET_NAME))
    return sealer.seal_ofd(
        write_package(body), at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    )


def _license() -> dict[str, bytes]:
    return ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))


def _with_missing_template() -> dict[str, bytes]:
    body = _license()
    body[DOC] = body[DOC].replace(
        b"</ofd:CommonData>",
        b'<ofd:TemplatePage ID="90" BaseLoc="Tpls/Tpl_9/Content.xml"/></ofd:CommonData>',
    )
    body[CONTENT] = body[CONTENT].replace(
        b"<ofd:Content>", b'<ofd:Template TemplateID="90" ZOrder="Foreground"/><ofd:Content>', 1
    )
    return body


def test_a_page_drawing_with_a_missing_template_is_refused_by_intake() -> None:
    data = _sealed(_with_missing_template())
    report = verify(data)
    assert report.missing_parts == ["Doc_0/Tpls/Tpl_9/Content.xml"]
    assert intake_refusal(data) == "incomplete_document"


def test_a_missing_font_file_is_refused_by_intake() -> None:
    body = _license()
    res = "Doc_0/PublicRes.xml"
    body[res] = body[res].replace(b"/>", b"><ofd:FontFile>nofont.ttf</ofd:FontFile></ofd:Font>", 1)
    assert b"nofont.ttf" in body[res]
    data = _sealed(body)
    assert [p for p in verify(data).missing_parts if p.endswith("nofont.ttf")]
    assert intake_refusal(data) == "incomplete_document"


def test_a_complete_license_and_an_absent_resource_list_are_accepted() -> None:
    assert verify(_sealed(_license())).missing_parts == []
    assert intake_refusal(_sealed(_license())) is None
    body = _license()
    del body["Doc_0/DocumentRes.xml"]  # named by Document.xml, absent, as ofdrw writes it
    data = _sealed(body)
    assert verify(data).missing_parts == []
    assert intake_refusal(data) is None
