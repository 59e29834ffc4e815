"""What chain validation runs against, and the validation step itself.

The document's own validation data (its DSS) joins the trust bundle's in one offline
validation context per document, built lazily (:class:`ContextFactory`); parsed
certificates, CRLs and OCSP responses are cached across documents (:class:`ObjectCache`).
:func:`validate` then settles each signature's chain, revocation and signature timestamp.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from schemas.report import SignatureKind
from signing._verify.chain import ChainCache, ChainResult, der_digest, validate_chain
from signing._verify.cms_check import check_cms
from signing._verify.discovery import SUPPORTED_SUBFILTERS, FoundSignature, SignatureStatus

if TYPE_CHECKING:  # pragma: no cover
    from signing.trust import TrustBundle

__all__ = ["ContextFactory", "DocumentData", "ObjectCache", "read_dss", "validate"]

_MAX_DSS_ENTRIES = 2000
_MAX_DSS_DECODED = 64 << 20
"""Most bytes the DSS's entries may decode to together; entries past it are skipped, as
broken ones are (red team pdf13: 250 certificate streams of 1 KB, each inflating to 1 MB,
kept 250 MB decoded in the verifying process). The DSS corpus's largest DSS decodes to
505 KB, its largest entry (a CRL) to 165 KB."""


class ObjectCache:
    """Parsed certificates, CRLs and OCSP responses by the SHA-256 of their DER.

    Validation data repeats across thousands of documents sealed by the same CA; parsing it
    once is one of the caches that make a reused :class:`signing.verify.Verifier` fast.
    """

    def __init__(self, limit: int = 4096) -> None:
        self._items: dict[tuple[str, bytes], Any] = {}
        self._limit = limit
        self.chains = ChainCache()

    def get(self, kind: str, der: bytes) -> Any:
        key = (kind, hashlib.sha256(der).digest())
        hit = self._items.get(key)
        if hit is not None:
            return hit
        from asn1crypto import crl, ocsp, x509

        loader = {"cert": x509.Certificate, "crl": crl.CertificateList, "ocsp": ocsp.OCSPResponse}
        obj = loader[kind].load(der)
        if len(self._items) >= self._limit:
            self._items.clear()
        self._items[key] = obj
        return obj


@dataclass
class DocumentData:
    """The validation data a PDF carries in its DSS (document security store)."""

    certs: list[Any] = field(default_factory=list)
    crls: list[Any] = field(default_factory=list)
    ocsps: list[Any] = field(default_factory=list)
    has_dss: bool = False


def read_dss(reader: Any, cache: ObjectCache) -> DocumentData:
    """The DSS of the file's last revision; broken entries are skipped, none is fatal.
    Each entry decodes within pyHanko's bound for its kind, all of them together within
    :data:`_MAX_DSS_DECODED` (decoding stops there)."""
    from pyhanko.pdf_utils.decode_limits import DecodePurpose

    out = DocumentData()
    left = _MAX_DSS_DECODED
    try:
        root = reader.root
        if "/DSS" not in root:
            return out
        dss = root["/DSS"]
        out.has_dss = True
        for key, kind, purpose, target in (
            ("/Certs", "cert", DecodePurpose.CERTIFICATE, out.certs),
            ("/CRLs", "crl", DecodePurpose.CRL, out.crls),
            ("/OCSPs", "ocsp", DecodePurpose.OCSP_RESPONSE, out.ocsps),
        ):
            for ref in list(dss.get(key, []))[:_MAX_DSS_ENTRIES]:
                if left <= 0:
                    break
                stream = None
                try:
                    stream = ref.get_object()
                    # expected_size: pyHanko stops decoding a few KB past it
                    der = stream.read_data(purpose, expected_size=left)
                    left -= len(der)
                    target.append(cache.get(kind, der))
                except Exception:  # a broken entry is skipped, not fatal
                    left -= _decoded_at_most(stream)
                    continue
    except Exception:  # noqa: S110 - no usable DSS: validation proceeds without it
        pass
    return out


def _decoded_at_most(stream: Any) -> int:
    """What decoding ``stream`` may have produced before it failed: pyHanko's bound for
    any stream (1 MiB, or 1,100 times its encoded size), or nothing for no stream."""
    try:
        return max(1 << 20, 1100 * len(stream.encoded_data))
    except Exception:
        return 0


def _empty_trust_manager() -> Any:
    from pyhanko_certvalidator.registry import SimpleTrustManager

    return SimpleTrustManager.build(trust_roots=[])


class ContextFactory:
    """Makes the offline validation context for a document, lazily and once."""

    def __init__(
        self,
        trust: TrustBundle | None,
        at: dt.datetime | None,
        doc: DocumentData,
        tm: Any,
        chains: ChainCache,
    ):
        self.trust, self.at, self.doc, self.tm, self.chains = trust, at, doc, tm, chains
        self._vcs: dict[str, Any] = {}
        digests = sorted(der_digest(o) for o in (*doc.crls, *doc.ocsps, *doc.certs))
        self.key = (trust.fingerprint if trust is not None else None, tuple(digests))

    def get(self, revocation_mode: str) -> Any:
        """The context for one certvalidator revocation mode (built on first use)."""
        from signing.trust import build_validation_context

        vc = self._vcs.get(revocation_mode)
        if vc is None:
            if self.trust is not None:
                vc = self.trust.validation_context(
                    moment=self.at,
                    other_certs=self.doc.certs,
                    crls=self.doc.crls,
                    ocsps=self.doc.ocsps,
                    revocation_mode=revocation_mode,
                )
            else:
                vc = build_validation_context(
                    trust_manager=self.tm or _empty_trust_manager(),
                    moment=self.at,
                    other_certs=self.doc.certs,
                    crls=self.doc.crls,
                    ocsps=self.doc.ocsps,
                    revocation_mode=revocation_mode,
                )
            self._vcs[revocation_mode] = vc
        return vc

    async def chain(self, cert: Any, extra: list[Any], eku: set[str] | None = None) -> ChainResult:
        return await validate_chain(
            cert,
            extra_certs=extra,
            make_context=self.get,
            cache=self.chains,
            context_key=self.key,
            moment=self.at,
            eku=eku,
        )


async def validate(sig: FoundSignature, vcs: ContextFactory) -> None:
    """Chain, revocation and signature timestamp (the CMS itself is already checked).

    Sets ``sig.status``; what went wrong on the way goes to ``sig.reasons``.
    """
    cms = sig.cms
    if (
        sig.subfilter not in SUPPORTED_SUBFILTERS
        or cms is None
        or not cms.intact
        or cms.signer_cert is None
    ):
        return
    try:
        if sig.kind is SignatureKind.DOC_TIMESTAMP:
            chain = await vcs.chain(cms.signer_cert, cms.certificates, {"time_stamping"})
            sig.status = SignatureStatus(chain)
            return
        status = SignatureStatus(await vcs.chain(cms.signer_cert, cms.certificates))
        if cms.signature_timestamp is not None and cms.signature_value is not None:
            await _signature_timestamp(
                sig, cms.signature_timestamp, cms.signature_value, status, vcs
            )
        sig.status = status
    except Exception as exc:  # certvalidator on hostile input: a verdict, not a crash
        sig.reasons.append(
            f"chain validation failed to run ({type(exc).__name__}: {str(exc)[:120]})"
        )


async def _signature_timestamp(
    sig: FoundSignature, token: bytes, value: bytes, status: SignatureStatus, vcs: ContextFactory
) -> None:
    """The time the signature timestamp ``token`` over the signature ``value`` proves, and
    whether its authority is trusted."""
    tst = check_cms(token, value, subfilter="/ETSI.RFC3161")  # checked as a token
    if not (tst.intact and tst.tst_info is not None and tst.signer_cert is not None):
        sig.reasons.append(
            "the signature timestamp does not verify: " + ("; ".join(tst.reasons) or "unreadable")
        )
        return
    status.ts_time = tst.tst_info["gen_time"].native
    ts_chain = await vcs.chain(tst.signer_cert, tst.certificates, {"time_stamping"})
    status.ts_trusted = ts_chain.trusted and not ts_chain.revoked
    if not status.ts_trusted:
        sig.reasons.append(
            "the signature timestamp's authority is not trusted"
            + (f" ({ts_chain.problem.value})" if ts_chain.problem else "")
        )
