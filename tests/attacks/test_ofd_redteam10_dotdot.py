"""Red team round 10, r10-08: ``<Annotations>Nope/../Annots/Annotations.xml</Annotations>``.

The verifier and the copy maker folded ``..`` textually (``Doc_0/Annots/Annotations.xml``);
ofdrw's ``exist()`` walks the unpacked path on the file system, where ``Doc_0/Nope`` does
not exist, so no ofdrw reader read the list the copy's 加注 was added to, and the copy
passed. r10-08b: the same through a folder only a ZIP folder entry makes, which a holder
may drop. Now a ``..`` that leaves a folder holding no part is a location readers differ
on: refused, by the verifier and the copy maker.
"""

from __future__ import annotations

import datetime as dt

import pytest

from schemas.report import Indication
from signing.errors import SealingError
from signing.ofd.writer import NS, sample_ofd, write_package
from tests.attacks.ofd_copy_forge import annotation, vault_maker
from tests.attacks.ofd_forge import GENUINE_LINES, intake_refusal, verify
from tests.attacks.ofd_pages import passing_copy
from tests.helpers.ofd import ofd_parts, ofd_sealer
from tests.helpers.pki import MARKET_DEPT

DOC = "Doc_0/Document.xml"


def _listed(loc: str, *, folder_entry: str | None = None) -> bytes:
    parts = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))
    parts[DOC] = parts[DOC].replace(
        b"</ofd:Pages>", f"</ofd:Pages><ofd:Annotations>{loc}</ofd:Annotations>".encode(), 1
    )
    parts["Doc_0/Annots/Annotations.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Annotations xmlns:ofd="{NS}">'
        "</ofd:Annotations>"
    ).encode()
    if folder_entry is not None:
        parts[folder_entry] = b""
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    return ofd_sealer(MARKET_DEPT).seal_ofd(write_package(parts), at=at)


@pytest.mark.parametrize(
    ("loc", "entry"),
    [
        ("Nope/../Annots/Annotations.xml", None),
        ("Sub/../Annots/Annotations.xml", "Doc_0/Sub/"),
        ("/Doc_0/Nope/../Annots/Annotations.xml", None),
    ],
    ids=["missing-folder", "folder-entry-only", "absolute"],
)
def test_a_location_back_out_of_a_folder_with_no_part_is_refused(
    loc: str, entry: str | None
) -> None:
    lic = _listed(loc, folder_entry=entry)
    report = verify(lic)
    assert report.indication is Indication.TOTAL_FAILED
    assert "which holds no part" in " ".join(report.signatures[0].reasons), report.signatures[
        0
    ].reasons
    assert intake_refusal(lic) is not None
    with pytest.raises(SealingError, match="which holds no part"):
        vault_maker().make(lic, annotation())


def test_a_location_back_out_of_a_folder_with_parts_is_copied() -> None:
    passing_copy(_listed("Pages/../Annots/Annotations.xml"))
