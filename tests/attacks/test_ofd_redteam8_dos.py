"""Red team round 8, r8-03 (and r8-05, its memory twin): path data read token by token.

Placing a page object (a later seal's stamp check, a certified copy's 加注 check) read a
path's ``AbbreviatedData`` with Python work per token and no bound but the XML caps: 28
pages of ``M 0 0`` and a million bare ``C`` (close) commands each, every part under 1 MiB
(so the 100-fold inflation rule does not apply), zip to 68 KB and took 39 s of CPU, then
passed. Every path token and glyph delta now comes out of one budget per file
(``Limits.max_drawing_tokens``, :class:`signing.ofd.package.DrawingBudget`), shared by
every page, part and check; past it the placing stops with the budget's reason.
"""

from __future__ import annotations

import datetime as dt
import re
from xml.etree.ElementTree import Element, SubElement

import pytest

from schemas.report import Indication
from signing.errors import SealingError
from signing.ofd.drawn import EVERYWHERE, ink_boxes, object_box
from signing.ofd.package import DEFAULT_LIMITS, DrawingBudget, Limits
from signing.ofd.verifier import OfdVerifier
from signing.ofd.writer import sample_ofd, write_package
from tests.attacks.ofd_copy_forge import annotation, other_department, seal, vault_maker
from tests.attacks.ofd_forge import GENUINE_LINES, passes
from tests.attacks.ofd_pages import PAGE, flagged, genuine_page, issued, passing_copy
from tests.helpers.ofd import ofd_parts, ofd_sealer, sm2_bundle
from tests.helpers.pki import MARKET_DEPT

BUDGET_REASON = "path data tokens and glyph deltas to place in the file"
CLOSES = 800_000
"""Bare C commands in each of the three parts: 2.4 million tokens, past the 2 million of
the file's budget; each part ~800 KB, under the 1 MiB above which the 100-fold rule applies."""


def _with_path(page: bytes, path: str, attrs: str = "") -> bytes:
    """``page`` with a path object at x 100, y 200 (clear of the text at y 30-76, of the
    stamps and of the corners a copy's 加注 takes), drawing ``path``."""
    obj = (
        f'<ofd:PathObject ID="90" Boundary="100 200 5 5"{attrs}>'
        f"<ofd:AbbreviatedData>{path}</ofd:AbbreviatedData></ofd:PathObject>"
    )
    found, count = re.subn(rb"</ofd:Layer>", obj.encode() + b"</ofd:Layer>", page, count=1)
    assert count == 1
    return found


def _template(path: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ofd:Page xmlns:ofd="http://www.ofdspec.org/2016"><ofd:Content><ofd:Layer ID="1">'
        '<ofd:PathObject ID="91" Boundary="10 280 5 5">'
        f"<ofd:AbbreviatedData>{path}</ofd:AbbreviatedData></ofd:PathObject>"
        "</ofd:Layer></ofd:Content></ofd:Page>"
    ).encode()


def _closes_license() -> bytes:
    """The genuine license, its page and two templates of the page each drawing one path
    of ``M 0 0`` and :data:`CLOSES` bare ``C``, sealed by the market regulator."""
    closes = "M 0 0 " + "C" * CLOSES
    parts = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))
    parts[PAGE] = _with_path(parts[PAGE], closes).replace(
        b"<ofd:Content>",
        b'<ofd:Template TemplateID="901"/><ofd:Template TemplateID="902"/><ofd:Content>',
        1,
    )
    templates = "".join(
        f'<ofd:TemplatePage ID="{901 + i}" BaseLoc="Tpls/Tpl_{i}/Content.xml"/>' for i in (0, 1)
    )
    doc = parts["Doc_0/Document.xml"]
    parts["Doc_0/Document.xml"] = doc.replace(
        b"</ofd:CommonData>", templates.encode() + b"</ofd:CommonData>", 1
    )
    for i in (0, 1):
        parts[f"Doc_0/Tpls/Tpl_{i}/Content.xml"] = _template(closes)
    assert all(len(v) < 1024 * 1024 for v in parts.values())
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    return ofd_sealer(MARKET_DEPT).seal_ofd(
        write_package(parts), boundary=(150, 230, 40, 40), at=at
    )


def test_a_later_stamp_over_pages_of_bare_closes_is_refused_by_the_file_budget() -> None:
    lic = _closes_license()
    assert len(lic) < 100_000  # 2.4 MB of path data, zipped
    assert DEFAULT_LIMITS.max_drawing_tokens < 3 * CLOSES
    assert passes(lic)  # nothing places the objects: no budget spent
    # another department's stamp on blank space: every object of page 1 (its content and
    # both templates) is placed, and the third part runs past the file's budget
    forged = seal(ofd_parts(lic), other_department(), box=(150, 120, 40, 40))
    flagged(forged, BUDGET_REASON)


def test_the_copy_maker_stops_at_the_same_budget() -> None:
    with pytest.raises(SealingError, match=BUDGET_REASON):
        vault_maker().make(_closes_license(), annotation())


def test_glyph_deltas_count_toward_the_same_budget() -> None:
    # end to end with a small budget: the DeltaX values of a text object of 500 glyphs are
    # read (as far as its glyphs reach: 499) out of the same per-file budget as path data
    text = (
        '<ofd:TextObject ID="92" Boundary="10 280 5 5" Font="2" Size="1">'
        f'<ofd:TextCode X="0" Y="1" DeltaX="{" ".join(["0"] * 600)}">{"a" * 500}'
        "</ofd:TextCode></ofd:TextObject></ofd:Layer>"
    )
    page = genuine_page().replace(b"</ofd:Layer>", text.encode(), 1)
    forged = seal(ofd_parts(issued(content=page)), other_department())
    for budget, indication in ((499, Indication.TOTAL_PASSED), (498, Indication.TOTAL_FAILED)):
        verifier = OfdVerifier(sm2_bundle(), limits=Limits(max_drawing_tokens=budget))
        report = verifier.verify(forged)
        assert report.indication is indication, report.signatures[0].reasons
    assert BUDGET_REASON in " ".join(report.signatures[0].reasons)


# the corpus's largest path: converter-testPathClip.ofd, 20,493 tokens; a glyph outline of
# the vault's 加注 has up to ~2,900 (28,646 in all)
REAL_SIZED = "M 0 0 " + "Q 1 2 3 4 B 1 2 3 4 5 5 L 2 2 C " * 1_400


@pytest.mark.parametrize("attrs", ["", ' Fill="true" Stroke="false"'], ids=["stroked", "filled"])
def test_a_real_sized_path_still_passes_under_a_later_stamp_and_in_a_copy(attrs: str) -> None:
    assert len(REAL_SIZED.split()) > 20_493
    lic = issued(content=_with_path(genuine_page(), REAL_SIZED, attrs))
    assert passes(seal(ofd_parts(lic), other_department(), box=(150, 120, 40, 40)))
    passing_copy(lic)


def test_a_later_stamp_over_a_real_sized_path_is_still_flagged() -> None:
    # the path reaches x 100-105, y 200-205 (its points 0..5 from the Boundary's origin)
    lic = issued(content=_with_path(genuine_page(), REAL_SIZED))
    flagged(seal(ofd_parts(lic), other_department(), box=(103, 203, 10, 10)))


def _path(data: str, **attrs: str) -> Element:
    el = Element("PathObject", Boundary="0 0 1 1", LineWidth="0", **attrs)
    SubElement(el, "AbbreviatedData").text = data
    return el


@pytest.mark.parametrize(
    ("data", "box", "filled"),
    [
        # every point, control points and moves included; a fill only what its segments reach
        ("M 50 50 M 1 1 L 2 2 M 9 9", (0, 0, 50, 50), (1, 1, 1, 1)),
        ("L 2 2", (0, 0, 2, 2), (0, 0, 2, 2)),  # a segment from the origin
        ("M1 1Q3-1 2 2C", (0, -1, 3, 3), (1, -1, 2, 3)),  # no white space needed
        # an arc: its end point widened by its ellipse's diameter, radii too small for the
        # chord (10) scaled up to span it (red team 12, r12-01)
        ("M 0 0 A 5 5 0 0 1 6 8", (-4, -2, 20, 20), (-4, -2, 20, 20)),
        ("M 0 0 A 1 1 0 0 1 6 8", (-4, -2, 20, 20), (-4, -2, 20, 20)),
        ("M 4 4", (0, 0, 4, 4), None),  # a move alone draws nothing when filled
        # unreadable: the whole page, a move that draws nothing too
        ("M 1 1 L 2 2 M 1e400 1", EVERYWHERE, EVERYWHERE),
        ("M # 1 L 2 2", EVERYWHERE, EVERYWHERE),
        ("M 1 1 L 2", EVERYWHERE, EVERYWHERE),
        ("M 1, 1", EVERYWHERE, EVERYWHERE),
        ("M 1 1 X 2 2", EVERYWHERE, EVERYWHERE),
    ],
)
def test_path_data_is_placed_as_before(
    data: str, box: tuple[float, ...], filled: tuple[float, ...] | None
) -> None:
    # read by regular expressions now, not token by token: what is placed is unchanged
    work = DrawingBudget(1000)
    assert object_box(_path(data), work) == box
    assert ink_boxes(_path(data, Fill="true"), work) == ([filled] if filled else [])
    assert work.left < 1000 or "#" in data  # charged (not when refused unread)
