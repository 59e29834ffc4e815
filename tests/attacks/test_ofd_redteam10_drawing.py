"""Red team round 10, r10-11 and r10-11b: strokes wider than the placement counted.

r10-11: the issuer's page draws ``M 0 297 L 210 297`` with no LineWidth of its own and
``DrawParam="60"``, a resource whose LineWidth is 130 mm. GB/T 33190 (an object takes its
DrawParam's LineWidth when it has none) and ofdrw's PDF converter stroke a black band over
y 232..297; the placement (signing/ofd/drawn.py ``ink_boxes``) read only the path's own
attribute, saw a hairline on the bottom edge, and the copy maker put the 加注 bottom left,
black on black. r10-11b: a one-glyph text with ``Stroke="true" LineWidth="100"``: text was
never widened by its stroke.

The stroke counted now is the widest any reader may draw (signing/ofd/drawparams.py): the
object's own attributes, its DrawParam with its ``Relative`` chain, the DrawParams of the
Layers it is in (PublicRes, DocumentRes, the page's PageRes), the defaults; the MiterLimit
too (a sharp miter join reaches MiterLimit half-widths), text and an image's Border too. A
DrawParam that cannot be resolved places the object everywhere.

Each wide stroke below: the copy maker does not put the 加注 over it, and a copy sealed by
the vault with the 加注 there (bottom left, where the maker used to put it) is flagged.
"""

from __future__ import annotations

import datetime as dt

import pytest

from signing.errors import SealingError
from signing.ofd.writer import NS, sample_ofd, write_package
from tests.attacks.ofd_copy_forge import (
    add_annotation,
    annotation,
    other_department,
    page_annot,
    seal,
    text,
    vault_maker,
    vault_sealer,
)
from tests.attacks.ofd_forge import GENUINE_LINES, passes
from tests.attacks.ofd_pages import ONE_PX_PNG, PAGE, annotation_box, flagged, passing_copy
from tests.helpers.ofd import ofd_parts, ofd_sealer
from tests.helpers.pki import MARKET_DEPT

_STAMP = (150.0, 230.0, 40.0, 40.0)
"""The issuer's stamp (bottom right)."""
_COPY_BOX = (10.0, 247.489, 112.889, 39.511)
"""Where the vault's copy of the sample license puts its 加注 (bottom left)."""
_COPY_STAMP = (31.69, 252.24, 30.0, 30.0)
"""Where its vault stamp goes (inside the 加注)."""

_BAND = "<ofd:AbbreviatedData>M 0 297 L 210 297</ofd:AbbreviatedData>"
"""The page's bottom edge: a hairline, or a band when stroked wide."""


def _path(attrs: str, data: str = _BAND) -> str:
    return (
        f'<ofd:PathObject ID="61" Boundary="0 0 210 297" Stroke="true" Fill="false" {attrs}>'
        f'<ofd:StrokeColor Value="0 0 0"/>{data}</ofd:PathObject>'
    )


def _params(*params: str) -> str:
    return "<ofd:DrawParams>" + "".join(params) + "</ofd:DrawParams>"


_WIDE = '<ofd:DrawParam ID="60" LineWidth="130"/>'
_TEXT = (
    '<ofd:TextObject ID="62" Boundary="60 295 2 2" Font="2" Size="1" Fill="true" {}>'
    '<ofd:FillColor Value="0 0 0"/><ofd:StrokeColor Value="0 0 0"/>'
    '<ofd:TextCode X="0" Y="1">一</ofd:TextCode></ofd:TextObject>'
)
# A sharp V: its miter join at (150, 270) points left, 50 mm long when the MiterLimit
# allows it (half-width / sin(half the angle)), into the 加注's box.
_V = "<ofd:AbbreviatedData>M 200 269.5 L 150 270 L 200 270.5</ofd:AbbreviatedData>"


def _license(
    objects: str,
    *,
    public: str = "",
    layer: str = "",
    page_res: str = "",
    image: str = "",
) -> bytes:
    """The market regulator's license whose page also draws ``objects`` (first in its
    layer, whose attributes get ``layer``), PublicRes declaring ``public`` and, with
    ``page_res``, a PageRes part declaring it; ``image`` replaces the sample image's
    closing (a Border inside it)."""
    parts = ofd_parts(
        sample_ofd("食品经营许可证", GENUINE_LINES, image=ONE_PX_PNG if image else None)
    )
    res = "Doc_0/PublicRes.xml"
    parts[res] = parts[res].replace(b"<ofd:Fonts>", public.encode() + b"<ofd:Fonts>")
    page = parts[PAGE].decode()
    opening = page[page.index("<ofd:Layer ") : page.index(">", page.index("<ofd:Layer ")) + 1]
    page = page.replace(opening, opening[:-1] + f" {layer}>" + objects, 1)
    if page_res:
        page = page.replace("<ofd:Content>", "<ofd:PageRes>Res.xml</ofd:PageRes><ofd:Content>")
        parts["Doc_0/Pages/Page_0/Res.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Res xmlns:ofd="{NS}">{page_res}'
            "</ofd:Res>"
        ).encode()
    if image:
        assert "/></ofd:Layer>" in page
        page = page.replace("/></ofd:Layer>", f">{image}</ofd:ImageObject></ofd:Layer>")
    parts[PAGE] = page.encode()
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    return ofd_sealer(MARKET_DEPT).seal_ofd(write_package(parts), boundary=_STAMP, at=at)


def _covered(lic: bytes) -> bytes:
    """The copy the maker used to make of ``lic``: its 加注 bottom left (a line of text),
    sealed with the vault's own copy seal, the vault's stamp inside the box."""
    box = " ".join(f"{v:g}" for v in _COPY_BOX)
    objects = text((5, 5, 100, 8), "复印件与原件一致")
    return seal(add_annotation(lic, page_annot(box, objects)), vault_sealer(), box=_COPY_STAMP)


WIDE = [
    # r10-11 as found: the path's DrawParam gives the width
    pytest.param(_path('DrawParam="60"'), {"public": _params(_WIDE)}, id="r10-11"),
    # the width from the DrawParam its DrawParam is Relative to
    pytest.param(
        _path('DrawParam="61"'),
        {"public": _params(_WIDE, '<ofd:DrawParam ID="61" Relative="60"/>')},
        id="relative",
    ),
    # a smaller width on the path itself: readers differ on which wins (ofdrw's PDF
    # converter sets the DrawParam's over it), the widest counts
    pytest.param(
        _path('DrawParam="60" LineWidth="0.2"'), {"public": _params(_WIDE)}, id="own-and-param"
    ),
    # the width from the Layer's DrawParam (the path names none)
    pytest.param(_path(""), {"public": _params(_WIDE), "layer": 'DrawParam="60"'}, id="layer"),
    # declared in the page's PageRes
    pytest.param(_path('DrawParam="60"'), {"page_res": _params(_WIDE)}, id="page-res"),
    # r10-11b: stroked text, its own LineWidth
    pytest.param(_TEXT.format('Stroke="true" LineWidth="100"'), {}, id="r10-11b"),
    # stroked text, the width from its DrawParam
    pytest.param(
        _TEXT.format('Stroke="true" DrawParam="60"'), {"public": _params(_WIDE)}, id="text-param"
    ),
    # a sharp miter join a MiterLimit of 500 lets reach 50 mm into the 加注's box
    pytest.param(_path('LineWidth="1" MiterLimit="500"', _V), {}, id="miter"),
    pytest.param(
        _path('DrawParam="60"', _V),
        {"public": _params('<ofd:DrawParam ID="60" LineWidth="1" MiterLimit="500"/>')},
        id="miter-param",
    ),
    # a stroke scaled by the CTM: 0.65 mm drawn 200 times larger
    pytest.param(
        _path(
            'LineWidth="0.65" CTM="200 0 0 200 0 0"',
            "<ofd:AbbreviatedData>M 0 1.485 L 1.05 1.485</ofd:AbbreviatedData>",
        ),
        {},
        id="ctm",
    ),
    # an image's Border 130 mm wide
    pytest.param("", {"image": '<ofd:Border LineWidth="130"/>'}, id="image-border"),
]

UNRESOLVED = [
    pytest.param(_path('DrawParam="999"'), {}, id="unknown-id"),
    pytest.param(_path(""), {"layer": 'DrawParam="999"'}, id="unknown-layer-param"),
    pytest.param(
        _path('DrawParam="60"'),
        {
            "public": _params(
                '<ofd:DrawParam ID="60" Relative="61"/>', '<ofd:DrawParam ID="61" Relative="60"/>'
            )
        },
        id="cycle",
    ),
    pytest.param(
        _path('DrawParam="60"'),
        {"public": _params('<ofd:DrawParam ID="60" LineWidth="1\uff130"/>')},
        id="unreadable-width",
    ),
    pytest.param(
        _path('DrawParam="60"'),
        {"public": _params('<ofd:DrawParam ID="60" Relative="x"/>')},
        id="unreadable-relative",
    ),
]


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _kept_off(lic: bytes) -> None:
    """``lic`` passes; the copy maker refuses it or puts its 加注 clear of the bottom-left
    corner, and the copy passes."""
    assert passes(lic)
    try:
        copy = vault_maker().make(lic, annotation())
    except SealingError as exc:
        assert "no corner of page 1 is clear" in str(exc)
        return
    box = annotation_box(copy)
    assert not _overlap(box, _COPY_BOX), box
    assert passes(copy)


def _corner_kept(lic: bytes) -> None:
    """The copy maker puts the 加注 of ``lic`` bottom left, and the forgery there (the
    vault's copy seal over a 加注 in that corner) is a genuine copy."""
    assert passing_copy(lic) == _COPY_BOX
    assert passes(_covered(lic))


@pytest.mark.parametrize(("objects", "where"), WIDE)
def test_copy_maker_keeps_the_annotation_off_a_wide_stroke(
    objects: str, where: dict[str, str]
) -> None:
    _kept_off(_license(objects, **where))


@pytest.mark.parametrize(("objects", "where"), WIDE)
def test_vault_sealed_annotation_over_a_wide_stroke_is_flagged(
    objects: str, where: dict[str, str]
) -> None:
    flagged(_covered(_license(objects, **where)), "covers the page's text or other content")


@pytest.mark.parametrize(("objects", "where"), UNRESOLVED)
def test_a_stroke_whose_drawparam_cannot_be_resolved_covers_the_page(
    objects: str, where: dict[str, str]
) -> None:
    lic = _license(objects, **where)
    assert passes(lic)
    with pytest.raises(SealingError, match="no corner of page 1 is clear"):
        vault_maker().make(lic, annotation())
    flagged(_covered(lic), "covers the page's text or other content")


NARROW = [
    pytest.param(_path(""), {}, id="hairline"),
    pytest.param(
        _path('DrawParam="61"'),
        {
            "public": _params(
                '<ofd:DrawParam ID="60" LineWidth="0.5"/>',
                '<ofd:DrawParam ID="61" Relative="60" MiterLimit="4"/>',
            ),
            "layer": 'DrawParam="60"',
        },
        id="narrow-params",
    ),
    pytest.param(_TEXT.format('Stroke="true" LineWidth="0.5"'), {}, id="thin-stroked-text"),
]


@pytest.mark.parametrize(("objects", "where"), NARROW)
def test_narrow_strokes_still_leave_the_corner_free(objects: str, where: dict[str, str]) -> None:
    """The rules above do not refuse a corner a thin stroke leaves free (the tests above
    can fail): the 加注 goes bottom left, and the forgery there is a genuine copy."""
    _corner_kept(_license(objects, **where))


@pytest.mark.parametrize(
    ("attrs", "over"), [('LineWidth="1"', False), ('LineWidth="1" MiterLimit="500"', True)]
)
def test_a_later_stamp_over_a_miter_join_is_flagged(attrs: str, over: bool) -> None:
    """The later-stamp rule places a stroke by half its width, or by the MiterLimit's
    half-widths when one over 4 is written: another department's stamp at (105, 265)
    lies on the 50 mm miter of the sharp V (and clear of it with the default limit)."""
    v = (
        f'<ofd:PathObject ID="61" Boundary="150 269.5 50 1" Stroke="true" {attrs}>'
        "<ofd:AbbreviatedData>M 50 0 L 0 0.5 L 50 1</ofd:AbbreviatedData></ofd:PathObject>"
    )
    lic = _license(v)
    later = seal(ofd_parts(lic), other_department(), box=(105, 265, 10, 10))
    if over:
        flagged(later)
    else:
        assert passes(later)
