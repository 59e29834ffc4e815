"""The demo's sample licenses: Chinese that text extraction gives back, and room for the 加注.

Each sample is rendered as the demo renders it; poppler's ``pdftotext`` must find its
Chinese fields (no ``?`` or replacement character: the font has a ToUnicode map), and the
corner where a certified copy puts its 加注 must be blank in the signed page, or the
verifier refuses every copy of it (the copy's widget would cover signed content).
"""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest

from api.demo.drawing import SampleLicense, render_license
from api.demo.samples import HOLDERS, LICENSES, SPECIMEN, sample
from signing._verify.visual import Rect, blank_under
from signing.copies.appearance import DEFAULT_SIZE
from signing.copies.maker import CopyPlacement
from signing.errors import SealingError
from tests.conftest import require_tool

DAY = dt.date(2026, 3, 15)
SAMPLES = [
    (number, *sample(serial, kind, HOLDERS[holder], number, fields, DAY))
    for serial, kind, holder, number, fields in LICENSES
] + [(SPECIMEN[3], *sample(*SPECIMEN[:2], SPECIMEN[2], *SPECIMEN[3:], DAY))]


@pytest.mark.parametrize(("number", "meta", "drawn"), SAMPLES, ids=[s[0] for s in SAMPLES])
def test_sample_reads_back_in_chinese(
    number: str, meta: object, drawn: SampleLicense, tmp_path: Path
) -> None:
    pdftotext = require_tool("pdftotext")
    path = tmp_path / "license.pdf"
    path.write_bytes(render_license(drawn))
    text = subprocess.run(
        [pdftotext, "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    flat = "".join(text.split())
    for expected in (drawn.kind[:2], number, drawn.holder_name, "2026年03月15日"):
        assert "".join(expected.split()) in flat, (expected, text)
    assert "?" not in text and "\ufffd" not in text, text
    for value in drawn.fields.values():
        assert "".join(value.split())[:6] in flat, (value, text)


@pytest.mark.parametrize(("number", "meta", "drawn"), SAMPLES, ids=[s[0] for s in SAMPLES])
def test_sample_leaves_the_copy_corner_blank(
    number: str, meta: object, drawn: SampleLicense
) -> None:
    require_tool("pdftoppm")
    placement = CopyPlacement()
    pdf = render_license(drawn)
    width = 842.0 if drawn.kind == "营业执照" else 595.0
    w, h = DEFAULT_SIZE
    right = width - placement.margin
    corner = Rect(right - w, placement.margin, right, placement.margin + h)
    assert blank_under(pdf, [(0, corner)]) == [True], number


def test_a_character_outside_the_font_is_refused() -> None:
    drawn = SAMPLES[0][2]
    odd = SampleLicense(**{**drawn.__dict__, "holder_name": "张㎡"})
    with pytest.raises(SealingError, match="U\\+33A1"):
        render_license(odd)
