"""Red team round 10, r10-06 (DoS, anyone): what readers read and the verifier refuses
(``Package.unread``) was de-duplicated by a scan of the list of earlier reasons, one per
location: 96,000 font files named ``a  b<i>.ttf`` (a run of two spaces: readers differ on
the location) in a 558 KB file took 33.4 s of CPU before its verdict, 24,000 in one part
9.1 s. The reasons are kept in a dict now, and a report lists the first 50 of them and
counts the rest (each fails every signature, up to 200 of them)."""

from __future__ import annotations

import time

from schemas.report import Indication
from signing.ofd.package import MAX_UNREAD_LISTED, OfdFormatError, Package
from signing.ofd.writer import NS, sample_ofd, write_package
from tests.attacks.ofd_forge import GENUINE_LINES, genuine, verify
from tests.helpers.ofd import ofd_parts, ofd_sealer
from tests.helpers.pki import MARKET_DEPT


def test_many_locations_readers_differ_on_are_counted_in_linear_time() -> None:
    """300,000 distinct odd locations: a list scan per location is 4.5e10 comparisons
    (many minutes); kept in a dict, about a second."""
    with Package(genuine()) as pkg:
        started = time.process_time()
        for i in range(300_000):
            try:
                pkg.resolve(f"a  b{i}.ttf", "Doc_0")
            except OfdFormatError:
                pass
            else:
                raise AssertionError("a run of two spaces is a location readers differ on")
        spent = time.process_time() - started
        unread = pkg.unread
    assert spent < 30, f"{spent:.1f} s of CPU for 300,000 locations"
    assert len(unread) == MAX_UNREAD_LISTED + 1
    assert "'a  b0.ttf'" in unread[0]
    assert unread[-1] == f"and {300_000 - MAX_UNREAD_LISTED} more parts or locations refused alike"


def _fonts(count: int, parts: int) -> bytes:
    """r10-06's file: the genuine license with ``count`` fonts per resource part, each
    naming a location readers differ on, in PublicRes and ``parts - 1`` DocumentRes."""
    files = ofd_parts(genuine())
    doc = "Doc_0/Document.xml"
    extra = "".join(f"<ofd:DocumentRes>Res{j}.xml</ofd:DocumentRes>" for j in range(1, parts))
    files[doc] = files[doc].replace(b"</ofd:PublicRes>", b"</ofd:PublicRes>" + extra.encode())
    for j in range(parts):
        fonts = "".join(
            f'<ofd:Font ID="{1000 + j * count + i}" FontName="x">'
            f"<ofd:FontFile>a  b{j}x{i}.ttf</ofd:FontFile></ofd:Font>"
            for i in range(count)
        )
        files["Doc_0/PublicRes.xml" if j == 0 else f"Doc_0/Res{j}.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Res xmlns:ofd="{NS}" BaseLoc="Res">'
            f"<ofd:Fonts>{fonts}</ofd:Fonts></ofd:Res>"
        ).encode()
    return write_package(files)


def test_r10_06_file_is_failed_quickly_with_a_short_report() -> None:
    """24,000 odd font locations in one part: 9.1 s of CPU before, the report's reasons
    one per location; now well under a second and 50 of them listed, the rest counted."""
    data = _fonts(24_000, 1)
    started = time.process_time()
    report = verify(data)
    spent = time.process_time() - started
    assert report.indication is Indication.TOTAL_FAILED
    reasons = report.signatures[0].reasons
    odd = [r for r in reasons if r.startswith("readers differ on the location 'a  b0x")]
    assert len(odd) == MAX_UNREAD_LISTED
    assert "and 23950 more parts or locations refused alike" in reasons
    assert len(reasons) < 120, len(reasons)
    assert spent < 5, f"{spent:.1f} s of CPU"


def test_the_sealer_finds_a_free_signature_folder_past_thousands_of_taken_ones() -> None:
    """r10-06's class in the sealer: it tried ``Sign_<n>`` folders one number at a time,
    scanning every part for each (O(N²) in the parts of an original); the folders are
    collected once now. An original with parts under Sign_0 .. Sign_3999 is sealed into
    Sign_4000."""
    files = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))
    for i in range(4000):
        files[f"Doc_0/Signs/Sign_{i}/Note_{i}.txt"] = b"x"
    started = time.process_time()
    sealed = ofd_sealer(MARKET_DEPT).seal_ofd(write_package(files))
    spent = time.process_time() - started
    added = set(ofd_parts(sealed)) - set(files)
    assert "Doc_0/Signs/Sign_4000/Signature.xml" in added, sorted(added)
    assert spent < 20, f"{spent:.1f} s of CPU"
