"""Red team round 10, r10-11 and r10-11b: strokes wider than their own attributes say.

r10-11: a path with no LineWidth of its own, stroked with its DrawParam's (130 mm), along
the page's foot: GB/T 33190 readers and ofdrw's PDF converter paint a black band there;
the placement took it for a hairline, and the copy's 加注 went over it (black on black).
r10-11b: stroked text's LineWidth was never counted. Now a stroke is as wide as the
object's LineWidth, else its DrawParam's (the chain of ``Relative`` ones) or its Layer's,
the wider; stroked text is widened like a stroked path.
"""

from __future__ import annotations

import datetime as dt

import pytest

from signing.errors import SealingError
from signing.ofd.writer import sample_ofd, write_package
from tests.attacks.ofd_copy_forge import (
    add_annotation,
    annotation,
    page_annot,
    seal,
    vault_maker,
    vault_sealer,
)
from tests.attacks.ofd_forge import GENUINE_LINES, passes
from tests.attacks.ofd_pages import PAGE, annotated_parts, flagged, passing_copy
from tests.helpers.ofd import ofd_parts, ofd_sealer
from tests.helpers.pki import MARKET_DEPT

RES = "Doc_0/PublicRes.xml"
PARAMS = (
    '<ofd:DrawParams><ofd:DrawParam ID="60" LineWidth="{width}"><ofd:StrokeColor Value="0 0 0"/>'
    '</ofd:DrawParam><ofd:DrawParam ID="62" Relative="60"/></ofd:DrawParams>'
)
FOOT = "<ofd:AbbreviatedData>M 0 297 L 210 297</ofd:AbbreviatedData>"
_PATH = '<ofd:PathObject ID="61" Boundary="0 0 210 297"{attrs}>' + FOOT + "</ofd:PathObject>"
CASES = {
    "own-drawparam": _PATH.format(attrs=' DrawParam="60"'),
    "relative-drawparam": _PATH.format(attrs=' DrawParam="62"'),
    "layer-drawparam": '</ofd:Layer><ofd:Layer ID="63" DrawParam="60">' + _PATH.format(attrs=""),
    "stroked-text": (
        '<ofd:TextObject ID="61" Boundary="60 295 2 2" Font="2" Size="1" Stroke="true" '
        'LineWidth="{width}"><ofd:TextCode X="0" Y="1">a</ofd:TextCode></ofd:TextObject>'
    ),
}


def _banded(case: str, width: int) -> bytes:
    """The genuine license drawing ``case`` at the page's foot (a stroke ``width`` mm
    wide to a reader), sealed by the market regulator (its stamp at y 180)."""
    parts = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))
    parts[RES] = parts[RES].replace(
        b"<ofd:Fonts>", PARAMS.format(width=width).encode() + b"<ofd:Fonts>", 1
    )
    drawn = CASES[case].replace("{width}", str(width))
    parts[PAGE] = parts[PAGE].replace(b"</ofd:Layer>", drawn.encode() + b"</ofd:Layer>", 1)
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    return ofd_sealer(MARKET_DEPT).seal_ofd(
        write_package(parts), boundary=(140, 150, 30, 30), at=at
    )


@pytest.mark.parametrize("case", list(CASES))
def test_no_corner_under_a_wide_stroke_is_taken(case: str) -> None:
    """The attacker's r10_11 and r10_11b (the top corners hold the license's text)."""
    lic = _banded(case, 100)
    assert passes(lic)
    with pytest.raises(SealingError, match="no corner of page 1 is clear"):
        vault_maker().make(lic, annotation())


@pytest.mark.parametrize("case", list(CASES))
def test_an_added_annotation_over_a_wide_stroke_is_flagged(case: str) -> None:
    lic = _banded(case, 100)
    annot = page_annot("20 250 100 12", "")
    flagged(
        seal(add_annotation(lic, annot), vault_sealer(), box=(60, 250, 10, 10)),
        "covers the page's text",
    )


@pytest.mark.parametrize("case", list(CASES))
def test_a_thin_stroke_leaves_the_corner_free(case: str) -> None:
    _, y, _, h = passing_copy(_banded(case, 1))
    assert y + h > 250


def _annotated_band(width: int) -> bytes:
    """The genuine license with an issuer annotation whose 5 mm box at the page's foot
    holds a path stroked with DrawParam 60 (``width`` mm wide to a reader)."""
    annot = (
        '<ofd:Annot ID="900" Type="Watermark"><ofd:Appearance Boundary="100 290 5 5">'
        '<ofd:PathObject ID="901" Boundary="0 0 5 5" DrawParam="60">'
        "<ofd:AbbreviatedData>M 0 5 L 5 5</ofd:AbbreviatedData></ofd:PathObject>"
        "</ofd:Appearance></ofd:Annot>"
    )
    parts = annotated_parts("Page_0/Annotation.xml", annot)
    parts[RES] = parts[RES].replace(
        b"<ofd:Fonts>", PARAMS.format(width=width).encode() + b"<ofd:Fonts>", 1
    )
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    return ofd_sealer(MARKET_DEPT).seal_ofd(
        write_package(parts), boundary=(140, 150, 30, 30), at=at
    )


def test_an_issuers_annotation_stroked_wide_by_its_drawparam_keeps_the_corner() -> None:
    lic = _annotated_band(100)
    assert passes(lic)
    with pytest.raises(SealingError, match="no corner of page 1 is clear"):
        vault_maker().make(lic, annotation())
    _, y, _, h = passing_copy(_annotated_band(1))
    assert y + h > 250
