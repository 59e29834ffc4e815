"""Red team round 10, r10-01: a CMYK DefaultCS turned the vault's 加注 white.

GB/T 33190: a colour that names no ColorSpace is in the document's ``DefaultCS``. The
issuer's CommonData named a CMYK one (its own text naming an RGB space, so the license
looked normal everywhere); the 加注's colours name none, so a conformant viewer read
``0 0 0`` as no ink: the values and the QR code vanished, and the copy passed. Now the copy
maker refuses an original whose default colour space is not plain RGB, and the verifier
refuses an added annotation drawing in a colour that is not (named or by default).
"""

from __future__ import annotations

import datetime as dt

import pytest

from schemas.report import Indication
from signing.errors import SealingError
from signing.ofd import copy as copy_module
from signing.ofd.writer import sample_ofd, write_package
from tests.attacks.ofd_copy_forge import (
    add_annotation,
    annotation,
    page_annot,
    seal,
    vault_maker,
    vault_sealer,
    white,
)
from tests.attacks.ofd_forge import GENUINE_LINES, intake_refusal, passes, verify
from tests.attacks.ofd_pages import PAGE, passing_copy
from tests.helpers.ofd import ofd_parts, ofd_sealer
from tests.helpers.pki import MARKET_DEPT

DOC, RES = "Doc_0/Document.xml", "Doc_0/PublicRes.xml"
SPACES = {
    "cmyk": '<ofd:ColorSpace ID="50" Type="CMYK" BitsPerComponent="8"/>',
    "gray": '<ofd:ColorSpace ID="50" Type="GRAY"/>',
    "rgb16": '<ofd:ColorSpace ID="50" Type="RGB" BitsPerComponent="16"/>',
    "rgb-icc": '<ofd:ColorSpace ID="50" Type="RGB" Profile="p.icc"/>',
    "undeclared": "",
}
RGB = '<ofd:ColorSpace ID="51" Type="RGB" BitsPerComponent="8"/>'


def _license(space: str, default: str | None = "50", extra: str = "") -> bytes:
    """The genuine license declaring ``space`` (ID 50) and a plain RGB space (51), its
    CommonData's DefaultCS ``default``, its own text in space 51 (the attacker's r10_01)."""
    parts = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))
    if default is not None:
        parts[DOC] = parts[DOC].replace(
            b"</ofd:CommonData>",
            f"<ofd:DefaultCS>{default}</ofd:DefaultCS></ofd:CommonData>".encode(),
        )
    parts[RES] = parts[RES].replace(
        b"<ofd:Fonts>",
        f"<ofd:ColorSpaces>{space}{RGB}</ofd:ColorSpaces>{extra}<ofd:Fonts>".encode(),
        1,
    )
    if b"p.icc" in parts[RES]:
        parts["Doc_0/Res/p.icc"] = b"icc"
    parts[PAGE] = parts[PAGE].replace(
        b'<ofd:FillColor Value="0 0 0"/>', b'<ofd:FillColor Value="0 0 0" ColorSpace="51"/>'
    )
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    return ofd_sealer(MARKET_DEPT).seal_ofd(write_package(parts), at=at)


@pytest.mark.parametrize("space", list(SPACES))
def test_an_original_whose_default_colour_space_is_not_plain_rgb_is_not_copied(space: str) -> None:
    lic = _license(SPACES[space])
    assert b"<ofd:ColorSpaces>" in ofd_parts(lic)[RES]
    with pytest.raises(SealingError, match="default colour space"):
        vault_maker().make(lic, annotation())


def test_a_copy_drawn_under_a_cmyk_default_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The copy as the maker made it before (no check of DefaultCS)."""
    lic = _license(SPACES["cmyk"])
    assert passes(lic)
    monkeypatch.setattr(copy_module, "default_space_problem", lambda *_: None)
    copy = vault_maker().make(lic, annotation())
    monkeypatch.undo()
    report = verify(copy)
    issuer = report.signatures[0]
    assert issuer.indication is Indication.TOTAL_FAILED
    assert any("CMYK colour space, not RGB" in r for r in issuer.reasons), issuer.reasons
    assert intake_refusal(copy) is not None


def _flagged_under_the_vaults_seal(lic: bytes, objects: str, why: str) -> None:
    """An annotation drawing ``objects`` added to ``lic`` under the vault's seal (misused)
    fails the issuer's seal for ``why``."""
    forged = seal(
        add_annotation(lic, page_annot("20 150 100 12", objects)),
        vault_sealer(),
        box=(60, 150, 30, 30),
    )
    report = verify(forged)
    assert report.indication is Indication.TOTAL_FAILED
    assert any(why in r for r in report.signatures[0].reasons), report.signatures[0].reasons


def test_an_added_colour_naming_a_cmyk_space_is_refused() -> None:
    lic = _license(SPACES["cmyk"], default=None)
    assert passes(lic)
    objects = white((0, 0, 10, 5)).replace(
        'Value="255 255 255"', 'Value="0 0 0 100" ColorSpace="50"'
    )
    _flagged_under_the_vaults_seal(lic, objects, "colour space '50' is a CMYK")


@pytest.mark.parametrize("default", [None, "51", "051"], ids=["none", "rgb", "rgb-as-051"])
def test_a_plain_rgb_default_is_copied(default: str | None) -> None:
    passing_copy(_license(SPACES["cmyk"], default=default))


def test_an_added_object_drawing_with_a_drawparam_is_refused() -> None:
    """Its colours would be a DrawParam's of the issuer's resources (a CMYK one here)."""
    param = (
        '<ofd:DrawParams><ofd:DrawParam ID="60" LineWidth="0.1">'
        '<ofd:FillColor Value="0 0 0 100" ColorSpace="50"/></ofd:DrawParam></ofd:DrawParams>'
    )
    lic = _license(SPACES["cmyk"], default=None, extra=param)
    objects = white((0, 0, 10, 5)).replace(' Fill="true"', ' DrawParam="60" Fill="true"')
    _flagged_under_the_vaults_seal(lic, objects, "draws with a DrawParam")
