"""Red team round 12, r12-08 (DoS): every seal rebuilt each later same-signer seal's set of
covered parts, walking all of its References each time.

``_Check._coverage`` took, for each of N seals, the union of ``covered_parts()`` of every
later seal of the same signer certificate, and ``covered_parts()`` walked all R References
of that seal on each call: N² × R steps charged to no budget. 199 seals of one untrusted
attacker certificate, each Signature.xml holding 900 identical ``<Reference FileRef="/j"/>``
(they deflate to nothing) on a genuine license: 341 KB, 3.8-4.3 s of CPU per verification.

Now each seal's covered parts are found once per file, a later same-signer seal is asked
only about the drawn parts its own References leave out, a Signature.xml naming one part
twice is refused (no producer in the corpus does; one seal's References name each part
once), and a Signature.xml may hold no more References than a package may hold parts.
"""

from __future__ import annotations

import base64
import datetime as dt
import re

import pytest

from schemas.report import Indication, SubIndication
from signing.ofd import verifier as verifier_module
from signing.ofd.package import DEFAULT_LIMITS
from signing.ofd.sealer import OfdSealer
from signing.ofd.sm2 import SM2_SM3_OID, SM3_OID, sm3
from signing.ofd.writer import NS, sample_ofd, write_package
from tests.attacks.ofd_copy_forge import own_sealer
from tests.attacks.ofd_forge import GENUINE_LINES, genuine, market_sealer, market_signer, verify
from tests.helpers.ofd import ofd_parts

SIGS = "Doc_0/Signs/Signatures.xml"
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
AT = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)


def _same_signer_seals(count: int, references: str, parts: dict[str, bytes] | None = None) -> bytes:
    """The genuine license with ``count`` intact seals of ONE attacker certificate added
    (Doc_0/Signs/Sign_1..), each Signature.xml's References being ``references`` (the red
    team's r12_08 script)."""
    parts = dict(parts or ofd_parts(genuine()))
    sealer = own_sealer()
    entries = []
    for k in range(1, count + 1):
        folder = f"Doc_0/Signs/Sign_{k}"
        xml = (
            f'{HEAD}<ofd:Signature xmlns:ofd="{NS}"><ofd:SignedInfo>'
            '<ofd:Provider ProviderName="x" Version="1.0" Company="x"/>'
            f"<ofd:SignatureMethod>{SM2_SM3_OID}</ofd:SignatureMethod>"
            "<ofd:SignatureDateTime>20260530080000Z</ofd:SignatureDateTime>"
            f'<ofd:References CheckMethod="{SM3_OID}">{references}</ofd:References>'
            f"</ofd:SignedInfo><ofd:SignedValue>/{folder}/SignedValue.dat</ofd:SignedValue>"
            "</ofd:Signature>"
        ).encode()
        parts[f"{folder}/Signature.xml"] = xml
        parts[f"{folder}/SignedValue.dat"] = sealer._signed_value(xml, folder, AT)
        entries.append(
            f'<ofd:Signature ID="{k + 100}" Type="Seal" BaseLoc="/{folder}/Signature.xml"/>'
        )
    sigs = parts[SIGS].decode()
    parts[SIGS] = sigs.replace("</ofd:Signatures>", "".join(entries) + "</ofd:Signatures>").encode()
    return write_package(parts)


def _pages_then_seals(pages: int, seals: int) -> bytes:
    """A license of ``pages`` pages the issuer sealed, then ``seals`` seals of one attacker
    certificate each referencing one missing part, listed before the issuer's entry: each
    attacker seal leaves every page out, and each page was asked of every later seal in
    turn (the issuer's last): seals² × pages questions."""
    parts = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))
    doc = parts["Doc_0/Document.xml"].decode()
    listed = "".join(
        f'<ofd:Page ID="{100 + k}" BaseLoc="Pages/Page_{k}/Content.xml"/>' for k in range(pages)
    )
    parts["Doc_0/Document.xml"] = doc.replace(
        '<ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/>', listed
    ).encode()
    content = parts["Doc_0/Pages/Page_0/Content.xml"]
    parts.update({f"Doc_0/Pages/Page_{k}/Content.xml": content for k in range(pages)})
    sealed = ofd_parts(market_sealer().seal_ofd(write_package(parts), at=AT))
    data = _same_signer_seals(seals, '<ofd:Reference FileRef="/j"/>', sealed)
    parts = ofd_parts(data)
    sigs = parts[SIGS].decode()
    issuer = re.search(r"<ofd:Signature [^>]*Sign_0[^>]*/>", sigs)
    assert issuer is not None
    sigs = sigs.replace(issuer.group(0), "", 1)
    parts[SIGS] = sigs.replace("</ofd:Signatures>", issuer.group(0) + "</ofd:Signatures>").encode()
    return write_package(parts)


def _resealed(edit: str, by: str) -> bytes:
    """The genuine license whose issuer's Signature.xml has ``edit`` replaced by ``by`` and
    is signed again by the issuer: an intact, trusted seal over the edited References."""
    parts = ofd_parts(genuine())
    path = "Doc_0/Signs/Sign_0/Signature.xml"
    xml = parts[path].decode()
    assert edit in xml
    parts[path] = xml.replace(edit, by, 1).encode()
    sealer = OfdSealer(market_signer(), parts["Doc_0/Signs/Sign_0/Seal.esl"])
    parts["Doc_0/Signs/Sign_0/SignedValue.dat"] = sealer._signed_value(
        parts[path], "Doc_0/Signs/Sign_0", AT
    )
    return write_package(parts)


def _first_reference(data: bytes) -> str:
    xml = ofd_parts(data)["Doc_0/Signs/Sign_0/Signature.xml"].decode()
    start = xml.index("<ofd:Reference ")
    return xml[start : xml.index("</ofd:Reference>", start) + len("</ofd:Reference>")]


def test_the_issuer_seal_resigned_as_it_was_still_passes() -> None:
    ref = _first_reference(genuine())
    assert verify(_resealed(ref, ref)).indication is Indication.TOTAL_PASSED


def test_a_signature_naming_one_part_twice_is_refused() -> None:
    ref = _first_reference(genuine())
    report = verify(_resealed(ref, ref + ref))
    sig = report.signatures[0]
    assert sig.indication is Indication.TOTAL_FAILED
    assert sig.sub_indication is SubIndication.FORMAT_FAILURE
    assert any("twice" in r and "References" in r for r in sig.reasons), sig.reasons


def test_a_signature_naming_one_part_twice_in_two_spellings_is_refused() -> None:
    ref = _first_reference(genuine())
    other = ref.replace('FileRef="/', 'FileRef="/./', 1)
    assert other != ref
    report = verify(_resealed(ref, ref + other))
    sig = report.signatures[0]
    assert sig.indication is Indication.TOTAL_FAILED
    assert any("twice" in r for r in sig.reasons), sig.reasons


def test_references_beyond_what_a_package_may_hold_are_refused() -> None:
    cap = DEFAULT_LIMITS.max_entries
    refs = "".join(f'<ofd:Reference FileRef="/j{i}"/>' for i in range(cap + 1))
    report = verify(_same_signer_seals(1, refs))
    attacker = report.signatures[1]
    assert attacker.indication is Indication.TOTAL_FAILED
    assert any(f"more than {cap} References" in r for r in attacker.reasons), attacker.reasons


def test_the_red_team_file_is_refused_quickly() -> None:
    """199 seals × 900 identical References (341 KB): 3.8-4.3 s of CPU on main."""
    data = _same_signer_seals(199, '<ofd:Reference FileRef="/j"/>' * 900)
    report = verify(data)
    assert report.indication is Indication.TOTAL_FAILED
    assert any("twice" in r for r in report.signatures[1].reasons)
    # The CPU in a fresh process: in a long test run the collector walking the run's
    # whole heap made the same verification cost 8 s in this one.
    spent = _cpu_in_fresh_process(data)
    assert spent < 1.5, f"{spent:.2f} s of CPU"


_TIMED = """
import sys, time
from tests.attacks.ofd_forge import genuine, verify
data = open(sys.argv[1], "rb").read()
verify(genuine())  # the verifier built and warm, as in the test's process
start = time.process_time()
verify(data)
print(time.process_time() - start)
"""


def _cpu_in_fresh_process(data: bytes) -> float:
    """CPU seconds of a verification of ``data`` in a new Python process, once its verifier
    has verified the genuine license."""
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "file.ofd")
        path.write_bytes(data)
        out = subprocess.run(
            [sys.executable, "-c", _TIMED, str(path)],
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        ).stdout
    return float(out.strip().splitlines()[-1])


def test_distinct_references_cost_linear_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Distinct References are allowed (each names a part once): the verifier's lookups of
    them grow with N × R, not N² × R. 60 seals × 300 References: main made ~1.1 M."""
    calls = 0
    real = verifier_module._Check.reference_matches

    def counted(self: verifier_module._Check, path: str) -> bool:
        nonlocal calls
        calls += 1
        return real(self, path)

    monkeypatch.setattr(verifier_module._Check, "reference_matches", counted)
    seals, refs = 60, 300
    data = _same_signer_seals(
        seals, "".join(f'<ofd:Reference FileRef="/j{i}"/>' for i in range(refs))
    )
    report = verify(data)
    assert report.indication is Indication.TOTAL_FAILED
    assert calls < 3 * seals * refs, calls


def test_pages_left_out_by_many_seals_cost_bounded_work() -> None:
    """1,000 pages, 199 attacker seals listed before the issuer's: 6.6 s of CPU on main."""
    data = _pages_then_seals(1000, 199)
    report = verify(data)
    spent = _cpu_in_fresh_process(data)
    issuer = report.signatures[-1]
    assert issuer.signer_subject == verify(genuine()).signatures[0].signer_subject
    assert issuer.indication is Indication.TOTAL_PASSED, issuer.reasons
    assert all(s.indication is Indication.TOTAL_FAILED for s in report.signatures[:-1])
    # 199 × 1,000 questions per seal: past the file's budget the rest read as covered by none
    assert any("too many later seals" in r for s in report.signatures for r in s.reasons)
    assert spent < 2.0, f"{spent:.2f} s of CPU"


def test_many_matching_references_of_one_signer_cost_bounded_work() -> None:
    """199 seals of one signer, each covering the same 450 parts with matching digests (the
    element limits allow no more with CheckValues): each seal took the union of every later
    one's covered parts, twice (6.0 s of CPU on main); now only the parts it leaves out
    are asked of them."""
    parts = ofd_parts(genuine())
    extra = {f"Doc_0/X/{i}.dat": str(i).encode() for i in range(450)}
    parts.update(extra)
    refs = "".join(
        f'<ofd:Reference FileRef="/{path}"><ofd:CheckValue>{base64.b64encode(sm3(data)).decode()}'
        "</ofd:CheckValue></ofd:Reference>"
        for path, data in extra.items()
    )
    data = _same_signer_seals(199, refs, parts)
    report = verify(data)
    spent = _cpu_in_fresh_process(data)  # the fresh-clone run: 8.4 s in the test process
    assert report.indication is Indication.TOTAL_FAILED
    assert spent < 4.0, f"{spent:.2f} s of CPU"
