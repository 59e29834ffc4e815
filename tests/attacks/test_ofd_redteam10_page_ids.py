"""Red team round 10, r10-12: a page ID written ``"01"`` (page 1 to every reader).

The copy maker kept the raw ID while every lookup by page (its area, its content, the
annotations on it) is keyed by the ID as readers resolve it (``"1"``): it found no content
on the page, put the 加注 over the license text, and the vault served a copy that fails
verification. Page IDs are resolved as readers resolve them wherever they are listed.
"""

from __future__ import annotations

import pytest

from signing.errors import SealingError
from tests.attacks.ofd_copy_forge import annotation, vault_maker
from tests.attacks.ofd_forge import passes
from tests.attacks.ofd_pages import genuine_page, issued, passing_copy

LINES = "".join(
    f'<ofd:TextObject ID="{200 + i}" Boundary="10 {150 + 10 * i} 190 8" Font="2" Size="5">'
    f'<ofd:FillColor Value="0 0 0"/><ofd:TextCode X="0" Y="6">第{i}行证照内容</ofd:TextCode>'
    "</ofd:TextObject>"
    for i in range(14)
)


def _numbered(page_id: str, *, full: bool) -> bytes:
    page = genuine_page()
    if full:  # text down to the foot of the page: no corner is clear
        page = page.replace(b"</ofd:Layer>", LINES.encode() + b"</ofd:Layer>", 1)
    return issued(page, stamp=(5, 5, 30, 30), page_id=page_id)


@pytest.mark.parametrize("page_id", ["01", "+1", " 1 "])
def test_a_page_without_a_clear_corner_is_refused_whatever_its_id_is_written(page_id: str) -> None:
    lic = _numbered(page_id, full=True)
    assert passes(lic)
    with pytest.raises(SealingError, match="no corner of page 1 is clear"):
        vault_maker().make(lic, annotation())


def test_a_copy_of_a_page_numbered_01_passes() -> None:
    passing_copy(_numbered("01", full=False))
