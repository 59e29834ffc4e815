"""Red-team OFD forgeries pushed over HTTP (SQLite and PostgreSQL): what the market regulator's
push of a forged license gets, and what the public verify endpoint says. The forgeries are
built in tests.attacks.ofd_forge; see tests/attacks/test_ofd_redteam.py for the verifier-level
tests. ``xfail(strict=True)``: accepted today, the assertion is what we want."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api
from tests.attacks import test_ofd_drawn_parts as drawn
from tests.attacks import test_ofd_redteam as red
from tests.attacks import test_ofd_shown_document as shown
from tests.attacks import test_ofd_zip_names as names
from tests.vault.licenses import metadata

OFD = "application/ofd"


def _push(api: Api, data: bytes, n: int) -> Any:
    return api.client.post(
        "/v1/licenses",
        headers=api.dept("market"),
        files={"file": (f"license-{n}.ofd", data, OFD)},
        data={"metadata": metadata(n).model_dump_json()},
    )


def test_a_forged_page_edit_is_refused_over_http(api: Api) -> None:
    parts = red.ofd_parts(red.genuine())
    parts[red.PAGE] = red._forged_page()
    r = _push(api, red.rebuild_ofd(parts), 41)
    assert r.status_code == 422, r.text
    assert r.json()["reason"] == "modified_after_signing"


def test_a_second_docbody_is_refused_over_http(api: Api) -> None:
    r = _push(api, red.DOCROOT_FORGERIES["second-docbody"](), 42)
    assert r.status_code == 422, r.text


def test_a_case_alias_of_ofd_xml_is_refused_over_http(api: Api) -> None:
    r = _push(api, red.ALIAS_FORGERIES["ofd-xml-lower-case"](), 43)
    assert r.status_code == 422, r.text


def test_a_seal_made_by_its_signer_is_refused_over_http(api: Api) -> None:
    r = _push(api, red._seal_made_by_the_signer(), 44)
    assert r.status_code == 422, r.text


@pytest.mark.parametrize("name", sorted(red.HOSTILE))
def test_a_hostile_ofd_gets_a_report_over_http(api: Api, name: str) -> None:
    data = red.HOSTILE[name][0]()
    r = api.client.post("/v1/verify", files={"file": ("x.ofd", data, OFD)})
    assert r.status_code == 200, r.text
    assert r.json()["indication"] != "TOTAL_PASSED"


def test_a_hidden_folder_entry_is_refused_over_http(api: Api) -> None:
    """Red team A06: a folder entry holding a forged page under an Info-ZIP Unicode Path
    naming the issuer's page (only the issuer's seal; unzip shows the forged page)."""
    r = _push(api, names._hidden_folder(red.ofd_parts(red.genuine())), 45)
    assert r.status_code == 422, r.text
    r = _push(api, names._hidden_folder(red.ofd_parts(red.genuine()), rename=False), 46)
    assert r.status_code == 422, r.text


def test_a_docroot_redirected_past_the_issuers_seal_is_refused_over_http(api: Api) -> None:
    """Red team A01: OFD.xml unsigned, DocRoot pointed at a forged document that another
    department's later seal covers."""
    r = _push(api, shown._redirected(), 47)
    assert r.status_code == 422, r.text
    assert r.json()["reason"] == "modified_after_signing"


def test_unsigned_docinfo_is_refused_over_http(api: Api) -> None:
    """Red team 2, a14: OFD.xml left out of the issuer's seal (KingGrid), its DocInfo
    carrying forged CustomDatas: its own refusal reason."""
    r = _push(api, drawn._a14(), 48)
    assert r.status_code == 422, r.text
    assert r.json()["reason"] == "unsigned_document_info"
    issuer = r.json()["report"]["signatures"][0]
    assert issuer["unsigned_metadata"] == ["Creator", "CustomDatas", "Title"]


def test_a_font_file_left_out_and_covered_by_another_seal_is_refused_over_http(
    api: Api,
) -> None:
    """Red team 2, a22: the issuer's font file left out, swapped under another department's
    later seal."""
    r = _push(api, drawn._a22(), 49)
    assert r.status_code == 422, r.text
    assert r.json()["reason"] == "modified_after_signing"
