"""Red team round 10, r10-12: a page ID written "01" (page 1 to every reader and to the
verifier, :func:`signing.ofd.package.ref_id`). The copy maker looked its page up by the
raw text, found no content and no stamps on "01", and put the 加注 over the license's
text: a copy every verification refuses, which the vault handed out. The sealer and the
copy maker now name pages as the verifier compares them (``signing/ofd/sealer.py``,
``page_ids``)."""

from __future__ import annotations

import pytest

from signing.errors import SealingError
from signing.ofd.writer import sample_ofd, write_package
from tests.attacks.ofd_copy_forge import annotation, vault_maker
from tests.attacks.ofd_forge import GENUINE_LINES, passes
from tests.attacks.ofd_pages import PAGE, passing_copy
from tests.helpers.ofd import ofd_parts, ofd_sealer
from tests.helpers.pki import MARKET_DEPT

DOCUMENT = "Doc_0/Document.xml"


def _license(page_id: str, *, text_at_bottom: bool) -> bytes:
    """The market regulator's license with its page declared as ``page_id``; with text
    across the bottom of the page when ``text_at_bottom`` (the corners the 加注 tries
    first are then taken)."""
    parts = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))
    document = parts[DOCUMENT].replace(b'<ofd:Page ID="1"', f'<ofd:Page ID="{page_id}"'.encode())
    assert document != parts[DOCUMENT]
    parts[DOCUMENT] = document
    if text_at_bottom:
        lines = "".join(
            f'<ofd:TextObject ID="{300 + i}" Boundary="10 {200 + 7 * i} 190 6" Font="2" '
            f'Size="5"><ofd:TextCode X="0" Y="5">第{i}行证照内容</ofd:TextCode></ofd:TextObject>'
            for i in range(13)
        )
        parts[PAGE] = parts[PAGE].replace(b"</ofd:Layer>", lines.encode() + b"</ofd:Layer>")
    sealer = ofd_sealer(MARKET_DEPT)
    return sealer.seal_ofd(write_package(parts), boundary=(160, 20, 30, 30))


@pytest.mark.parametrize("page_id", ["01", " 1 ", "+1"])
def test_copy_maker_sees_the_text_of_a_page_whose_id_is_written_otherwise(page_id: str) -> None:
    lic = _license(page_id, text_at_bottom=True)
    assert passes(lic)
    with pytest.raises(SealingError, match="no corner of page 1 is clear"):
        vault_maker().make(lic, annotation())


def test_copy_of_a_page_whose_id_is_written_otherwise_verifies() -> None:
    assert passing_copy(_license("01", text_at_bottom=False))
