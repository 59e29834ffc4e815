"""The CMS check's certificate cache (signing/_verify/cms_check.py) never makes a file's
verdict depend on what the process verified before (attacker review of the verify speed-up:
a SEQUENCE that is no certificate, added to the unsigned certificate set of a genuine seal,
was cached unparsed; the next check of the same bytes parsed it through ``bool()`` and
reported the signature as not intact)."""

from __future__ import annotations

import binascii
import re

from asn1crypto import cms

from signing._verify import cms_check
from signing.seal import PadesLevel
from signing.verify import Verifier
from tests.helpers.pki import demo_trust_bundle, sealed_pdf


def _tlv(tag: int, body: bytes) -> bytes:
    """DER tag-length-value, by hand: rebuilding the set with asn1crypto parses the junk entry
    while encoding it, and the cache bug then no longer shows."""
    n = len(body)
    length = bytes([n]) if n < 128 else bytes([0x80 | ((n.bit_length() + 7) // 8)])
    if n >= 128:
        length += n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag]) + length + body


def _with_junk_certificate(pdf: bytes, junk: bytes) -> bytes:
    """``pdf`` with ``junk`` appended to its CMS's certificate set (not signed, not in the
    ByteRange), in the zero padding of /Contents."""
    a, b, c, _ = map(int, re.search(rb"/ByteRange\s*\[\s*(\d+) (\d+) (\d+) (\d+)", pdf).groups())  # type: ignore[union-attr]
    start, end = a + b + 1, c - 1
    info = cms.ContentInfo.load(binascii.unhexlify(pdf[start:end]), strict=False)
    sd = info["content"]
    certs = b"".join(choice.dump() for choice in sd["certificates"]) + junk
    parts = [sd[name].dump() for name in ("version", "digest_algorithms", "encap_content_info")]
    parts.append(_tlv(0xA0, certs))
    parts.append(sd["signer_infos"].dump())
    der = _tlv(0x30, info["content_type"].dump() + _tlv(0xA0, _tlv(0x30, b"".join(parts))))
    hexed = binascii.hexlify(der)
    assert len(hexed) <= end - start
    return pdf[:start] + hexed.ljust(end - start, b"0") + pdf[end:]


def _verdict(verifier: Verifier, data: bytes) -> tuple[str, bool]:
    report = verifier.verify(data)
    return report.indication.value, all(s.intact for s in report.signatures)


def test_a_junk_certificate_entry_gives_the_same_verdict_every_time() -> None:
    forged = _with_junk_certificate(sealed_pdf(PadesLevel.B_B), bytes.fromhex("3003020105"))
    verifier = Verifier(demo_trust_bundle())
    first = _verdict(verifier, forged)
    assert [_verdict(verifier, forged) for _ in range(2)] == [first, first]
    assert cms_check._certs.get(bytes.fromhex("3003020105")) is None  # junk is not kept
