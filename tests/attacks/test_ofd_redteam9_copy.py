"""Red team round 9, copies (r9-02, r9-05). r9-02: ofdrw's converters (to images, to PDF by
iText or PDFBox) draw a
page's stamps first and its annotations after them. The copy's 加注 was an annotation whose
first object filled its box white, and the vault's stamp lies inside that box: every
certified copy was shown, printed and converted by ofdrw without the vault's seal. The 加注
is drawn without a fill (its box lies where the page draws nothing)."""

from __future__ import annotations

import datetime as dt
import re

from schemas.report import Indication
from signing.ofd.writer import NS, sample_ofd, write_package
from tests.attacks.ofd_copy_forge import annotation, vault_copy, vault_maker
from tests.attacks.ofd_forge import GENUINE_LINES, market_sealer, passes, verify
from tests.attacks.ofd_pages import PAGE, annotation_box
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
