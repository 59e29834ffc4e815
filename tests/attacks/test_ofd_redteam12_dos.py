"""Red team round 12, r12-03 (DoS): every earlier signature re-walked a 1 MB Signatures.xml
tag by tag.

The continue-signing rule rebuilds what Signatures.xml was before later entries were
appended (:mod:`signing.ofd.continuation`). That walk ran once per signature whose
reference to Signatures.xml did not match while every later signature was intact, in a
Python loop per tag, charged to no budget. A CDATA section of ``<a>`` x 333,000 is text to
the XML parser (no element budget counts it) but 333,000 tags to the scan, and deflates to
almost nothing: N attacker seals (their own SM2 keys, each Signature.xml referencing only
Signatures.xml with a junk CheckValue, each SES signature valid, so each intact) made N
scans: N=10, 67 KB, 5.2 s of CPU; N=190, 988 KB, 23.6 s.

Now the file's tags are found once per verification, charged to the file's budget, and a
Signatures.xml holding comments, CDATA or processing instructions (which fail the file
anyway: :mod:`signing.ofd.structure`), or more tags than 200 entries take, has no earlier
form searched.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import time
from collections.abc import Callable

import pytest

from schemas.report import Indication
from signing.ofd import continuation
from signing.ofd.sm2 import SM2_SM3_OID, SM3_OID
from signing.ofd.verifier import _Check
from signing.ofd.writer import NS, sample_ofd, write_package
from tests.attacks.ofd_copy_forge import own_sealer
from tests.attacks.ofd_forge import GENUINE_LINES, genuine, market_sealer, verify
from tests.helpers.ofd import ofd_parts

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
SIGS = "Doc_0/Signs/Signatures.xml"
_MB = 1_000_000


@functools.cache
def _sealed(seals: int, pages: int = 0) -> tuple[tuple[tuple[str, bytes], ...], str]:
    """The parts of the genuine license (with ``pages`` more pages) with ``seals`` attacker
    seals appended, each referencing only Signatures.xml (junk CheckValue, its SES
    signature valid), and the Signatures.xml entries listing the issuer's seal and theirs."""
    parts = ofd_parts(genuine() if not pages else _paged(pages))
    sealer = own_sealer()
    junk = base64.b64encode(b"\0" * 32).decode()
    made = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)
    entries = ['<ofd:Signature ID="1" Type="Seal" BaseLoc="/Doc_0/Signs/Sign_0/Signature.xml"/>']
    for k in range(1, seals + 1):
        folder = f"Doc_0/Signs/Sign_{k}"
        xml = (
            f'{HEAD}<ofd:Signature xmlns:ofd="{NS}"><ofd:SignedInfo>'
            '<ofd:Provider ProviderName="x" Version="1.0" Company="x"/>'
            f"<ofd:SignatureMethod>{SM2_SM3_OID}</ofd:SignatureMethod>"
            "<ofd:SignatureDateTime>20260530080000Z</ofd:SignatureDateTime>"
            f'<ofd:References CheckMethod="{SM3_OID}"><ofd:Reference FileRef="/{SIGS}">'
            f"<ofd:CheckValue>{junk}</ofd:CheckValue></ofd:Reference></ofd:References>"
            f"</ofd:SignedInfo><ofd:SignedValue>/{folder}/SignedValue.dat</ofd:SignedValue>"
            "</ofd:Signature>"
        ).encode()
        parts[f"{folder}/Signature.xml"] = xml
        parts[f"{folder}/SignedValue.dat"] = sealer._signed_value(xml, folder, made)
        entries.append(
            f'<ofd:Signature ID="{k + 1}" Type="Seal" BaseLoc="/{folder}/Signature.xml"/>'
        )
    return tuple(parts.items()), "".join(entries)


def _paged(pages: int) -> bytes:
    """The genuine license's content with ``pages`` more pages, sealed by the issuer."""
    parts = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))
    page = parts["Doc_0/Pages/Page_0/Content.xml"]
    listed = "".join(
        f'<ofd:Page ID="{1000 + i}" BaseLoc="Pages/P_{i}/Content.xml"/>' for i in range(pages)
    )
    doc = parts["Doc_0/Document.xml"]
    parts["Doc_0/Document.xml"] = doc.replace(b"</ofd:Pages>", listed.encode() + b"</ofd:Pages>")
    parts.update({f"Doc_0/Pages/P_{i}/Content.xml": page for i in range(pages)})
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    return market_sealer().seal_ofd(write_package(parts), at=at)


def _attacked(seals: int, fill: Callable[[int], str], *, where: str = "maxsignid") -> bytes:
    """:func:`_sealed` with Signatures.xml padded to about 1 MB (under the 1 MiB the
    continue-signing rule reads) by ``fill(room)``: in MaxSignId's text, or before the
    last entry (``"before-last"``), which every earlier seal's guesses remove."""
    items, entries = _sealed(seals)
    parts = dict(items)
    if where == "maxsignid":
        head = f'{HEAD}<ofd:Signatures xmlns:ofd="{NS}"><ofd:MaxSignId>{seals + 1}'
        tail = "</ofd:MaxSignId>" + entries + "</ofd:Signatures>"
    else:
        at = entries.rindex("<ofd:Signature ")
        head = (
            f'{HEAD}<ofd:Signatures xmlns:ofd="{NS}"><ofd:MaxSignId>{seals + 1}</ofd:MaxSignId>'
            + entries[:at]
        )
        tail = entries[at:] + "</ofd:Signatures>"
    parts[SIGS] = (head + fill(_MB - len(head) - len(tail)) + tail).encode()
    assert _MB - 100 < len(parts[SIGS]) <= _MB
    return write_package(parts)


def _cdata(room: int) -> str:
    return "<![CDATA[" + "<a>" * ((room - 12) // 3) + "]]>"


def _repeated(unit: str) -> Callable[[int], str]:
    return lambda room: unit * (room // len(unit))


class _Counted:
    """Counts the tags :func:`signing.ofd.continuation.tags` hands out."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = continuation.tags

        def counted(text: bytes):  # type: ignore[no-untyped-def]
            for tag in real(text):
                self.count += 1
                yield tag

        monkeypatch.setattr(continuation, "tags", counted)


def _cdata_file(seals: int) -> bytes:
    return _attacked(seals, _cdata)


def test_a_cdata_of_tags_in_signatures_xml_is_not_walked_per_seal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lic = _cdata_file(10)
    assert len(lic) < 100_000
    counted = _Counted(monkeypatch)
    started = time.process_time()
    report = verify(lic)
    spent = time.process_time() - started
    assert report.indication is Indication.TOTAL_FAILED
    assert any("CDATA" in r for r in report.reasons), report.reasons
    # 10 walks of 333,000 tags each (twice: the entries, then MaxSignId) were 6.7 million
    # tags and 5.2 s of CPU; now none is walked
    assert counted.count == 0, counted.count
    assert spent < 2, spent


@pytest.mark.parametrize(
    ("filler", "before"),
    [
        # white space a reader skips, walked byte by byte in Python per seal: 8.4 s
        (" ", 8.4),
        # elements, not CDATA: 60,000 tags a walk, 12.3 million tags in all, 6.5 s
        ("<ofd:MaxSignId>1</ofd:MaxSignId>", 6.5),
    ],
    ids=["white-space", "many-elements"],
)
def test_a_large_signatures_xml_without_hidden_markup_is_not_walked_per_seal(
    filler: str, before: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    lic = _attacked(190, _repeated(filler), where="before-last")
    counted = _Counted(monkeypatch)
    started = time.process_time()
    report = verify(lic)
    spent = time.process_time() - started
    assert report.indication is not Indication.TOTAL_PASSED  # seals of no trusted signer
    # the file's tags once, then the cut text's (at most 200 entries') tags per seal
    assert counted.count <= 190 * 500, counted.count
    assert spent < 4, (spent, before)


def test_the_red_teams_file_of_190_seals_is_verified_in_bounded_time() -> None:
    """The file of the finding: 190 attacker seals, 988 KB: 24.4 s of CPU before (under pytest)."""
    lic = _cdata_file(190)
    started = time.process_time()
    report = verify(lic)
    spent = time.process_time() - started
    assert report.indication is Indication.TOTAL_FAILED
    assert spent < 3, spent


def test_continue_signing_still_passes_under_later_seals() -> None:
    """The genuine license re-sealed by another seal: the issuer's Signatures.xml grew by one
    entry and is read as continued (the rule this scan serves)."""
    lic = own_sealer().seal_ofd(genuine(), at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
    report = verify(lic)
    issuer = report.signatures[0]
    assert issuer.indication is Indication.TOTAL_PASSED, issuer.reasons


@pytest.mark.parametrize(
    ("fill", "where"),
    [(_cdata, "maxsignid"), (_repeated("<ofd:MaxSignId>1</ofd:MaxSignId>"), "before-last")],
    ids=["cdata", "tags"],
)
def test_the_reason_says_why_and_reads_in_chinese(fill: Callable[[int], str], where: str) -> None:
    from api.pages.reasons import reason_zh

    report = verify(_attacked(3, fill, where=where))
    said = [
        r for s in report.signatures for r in s.reasons if "earlier forms are not searched" in r
    ]
    assert said
    assert [r for r in said if reason_zh(r) is None] == []


def test_each_shown_part_is_not_asked_of_each_later_seal(monkeypatch: pytest.MonkeyPatch) -> None:
    """1,000 more pages and 100 attacker seals: each seal's coverage asked each shown part
    of each later seal whether it covered it (123,819 questions here, 2.4 s of CPU at
    4,000 pages and 190 seals); now the later seals' covered parts are one set."""
    items, entries = _sealed(100, 1000)
    parts = dict(items)
    parts[SIGS] = (
        f'{HEAD}<ofd:Signatures xmlns:ofd="{NS}"><ofd:MaxSignId>101</ofd:MaxSignId>'
        f"{entries}</ofd:Signatures>"
    ).encode()
    lic = write_package(parts)
    asked = [0]
    real = _Check.reference_matches

    def counted(self: _Check, path: str) -> bool:
        asked[0] += 1
        return real(self, path)

    monkeypatch.setattr(_Check, "reference_matches", counted)
    report = verify(lic)
    assert report.indication is not Indication.TOTAL_PASSED
    assert asked[0] < 20_000, asked[0]
