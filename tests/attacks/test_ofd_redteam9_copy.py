"""Red team round 9, r9-02: ofdrw's converters (to images, to PDF by iText or PDFBox) draw a
page's stamps first and its annotations after them. The copy's 加注 was an annotation whose
first object filled its box white, and the vault's stamp lies inside that box: every
certified copy was shown, printed and converted by ofdrw without the vault's seal. The 加注
is drawn without a fill (its box lies where the page draws nothing)."""

from __future__ import annotations

import re

from schemas.report import Indication
from tests.attacks.ofd_copy_forge import vault_copy
from tests.attacks.ofd_forge import verify
from tests.attacks.ofd_pages import annotation_box
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
