"""What a file establishes beyond the signature itself: the times its timestamps prove and
the PAdES baseline level (B-B, B-T, B-LT, B-LTA) of each signature.

A timestamp counts only when its token verifies and, when a trust bundle is given, its
authority is trusted: a level is a claim the file proves, not one it makes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from schemas.report import PadesLevel, SignatureKind
from signing._verify.context import DocumentData
from signing._verify.discovery import FoundSignature

__all__ = ["established_time", "pades_level"]


def established_time(sig: FoundSignature, trusted: bool) -> dt.datetime | None:
    """The time a signature timestamp (or a document timestamp) proves: only from a token
    that verifies and, when ``trusted`` (a trust bundle is given), from a trusted
    authority."""
    st, cms = sig.status, sig.cms
    if sig.kind is SignatureKind.DOC_TIMESTAMP:
        if cms is None or not cms.intact or cms.tst_info is None:
            return None
        if trusted and not (st is not None and st.chain.trusted):
            return None
        try:
            return cms.tst_info["gen_time"].native
        except Exception:
            return None
    if st is None or st.ts_time is None or (trusted and not st.ts_trusted):
        return None
    return st.ts_time


def pades_level(
    sig: FoundSignature,
    sigs: list[FoundSignature],
    reader: Any,
    doc: DocumentData,
    intact: bool,
    trusted: bool,
) -> PadesLevel | None:
    """The PAdES baseline level the file establishes for ``sig`` (timestamps count only
    when they verify, and are trusted when a trust bundle is given)."""
    if sig.kind is not SignatureKind.SIGNATURE or not intact:
        return None
    later_ts = [
        s
        for s in sigs
        if s.kind is SignatureKind.DOC_TIMESTAMP
        and established_time(s, trusted) is not None
        and s.signed_revision is not None
        and sig.signed_revision is not None
        and s.signed_revision > sig.signed_revision
    ]
    has_sig_ts = established_time(sig, trusted) is not None
    if not has_sig_ts and not later_ts:
        return PadesLevel.B_B
    if not doc.has_dss or not (doc.certs or doc.crls or doc.ocsps):
        return PadesLevel.B_T
    if not later_ts:  # B-LTA needs a document timestamp: no need to look for the DSS
        return PadesLevel.B_LT
    dss_rev = _dss_revision(reader)
    if dss_rev is not None and any(
        s.signed_revision is not None and s.signed_revision >= dss_rev for s in later_ts
    ):
        return PadesLevel.B_LTA
    return PadesLevel.B_LT


def _dss_revision(reader: Any) -> int | None:
    """The first revision that has a DSS (found once per reader: every signature asks)."""
    known = getattr(reader, "_evault_dss_revision", _UNKNOWN)
    if known is not _UNKNOWN:
        return known if isinstance(known, int) else None
    found: int | None = None
    try:
        for rev in range(reader.xrefs.total_revisions):
            if "/DSS" in reader.get_historical_resolver(rev).root:
                found = int(rev)
                break
    except Exception:
        found = None
    reader._evault_dss_revision = found
    return found


_UNKNOWN = object()
