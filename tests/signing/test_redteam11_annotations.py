"""Red team 11, r11-06: an annotation added after signing with /F NoView + ToggleNoView
(288) and a red box over the holder's line: pdfium and poppler draw no NoView annotation,
so the pages compared identical and the file passed with a warning; by ISO 32000 12.5.3 a
conforming viewer shows it when the mouse moves over the holder's name."""

from __future__ import annotations

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from schemas.report import Indication
from signing.verify import Verifier
from tests.helpers.forgeries import _forged_ap, _with_annotation
from tests.helpers.licenses import sealed_license
from tests.helpers.pki import demo_trust_bundle


@pytest.mark.parametrize("flags", [256 + 32, 256, 256 + 4])
def test_an_annotation_shown_on_user_interaction_is_refused(flags: int) -> None:
    def part(writer: IncrementalPdfFileWriter) -> dict[str, generic.PdfObject]:
        return {"AP": _forged_ap(writer), "F": generic.NumberObject(flags)}

    forged = _with_annotation(sealed_license(), "Square", part)
    report = Verifier(demo_trust_bundle(), isolation="thread").verify(forged)
    assert report.indication is not Indication.TOTAL_PASSED
    reasons = " ".join(r for s in report.signatures for r in s.reasons)
    assert "ToggleNoView" in reasons, reasons
