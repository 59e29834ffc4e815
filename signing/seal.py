"""PAdES sealing: B-B, B-T, B-LT and B-LTA, with everything that repeats computed once.

A :class:`Sealer` is built once per seal key and reused for every document. It holds the
parsed key (through its :class:`signing.keys.KeySource`), a fixed signature size (no trial
signature per document), and the validation data a B-LT seal embeds (certificates and
CRLs / OCSP responses given by the caller, checked against the seal's chain when the
sealer is built). Sealing never touches the network, except through an external TSA.

Levels:

- B-B: a PAdES signature (``/SubFilter /ETSI.CAdES.detached``).
- B-T: plus an RFC 3161 signature timestamp from the sealer's timestamper.
- B-LT: plus a DSS in the next incremental update (certificates and revocation data).
- B-LTA: plus a document timestamp over all of that.

Errors: unusable input (unreadable, encrypted, locked) raises :class:`SealingError` with
the reason; a failing TSA raises :class:`signing.errors.TimestampError`.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import io
import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils.generic import PdfError
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.sign import fields as sig_fields
from pyhanko.sign.fields import SigFieldSpec, SigSeedSubFilter
from pyhanko.sign.general import SigningError as PyHankoSigningError
from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata, PdfSigner, PdfTimeStamper
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.validation.dss import DocumentSecurityStore, enumerate_ocsp_certs
from pyhanko.stamp import BaseStampStyle

from schemas.report import PadesLevel
from signing._dss import write_dss
from signing._fastwrite import fast_writing
from signing._incremental import IncrementalWriter
from signing._loops import run as run_loop
from signing._pyhanko import to_asn1_all
from signing.errors import SealingError, SealUnavailable, SigningError, TimestampError
from signing.keys import KeySource
from signing.ocsp import says_revoked

__all__ = [
    "AppearanceFactory",
    "PadesLevel",
    "SealAppearance",
    "Sealer",
    "WriterHook",
    "WriterOpener",
]

WriterHook = Callable[[IncrementalPdfFileWriter], None]
"""Called with the incremental writer before the seal is added (same revision)."""

WriterOpener = Callable[[bytes], AbstractContextManager[IncrementalPdfFileWriter]]
"""Opens the PDF for the seal's incremental update (e.g. from parsed originals kept by the
caller); the writer is used only inside the ``with`` block."""

AppearanceFactory = Callable[[IncrementalPdfFileWriter], "SealAppearance"]
"""Builds the appearance from the opened document (e.g. to place it by page size)."""

_MD = "sha256"
_CMS_OVERHEAD = 2048  # signed attributes, algorithm identifiers, signature, DER framing
_EXTERNAL_TOKEN_RESERVE = 12 * 1024  # DER bytes reserved for a token of an external TSA
_TIMESTAMP_FIELD = "DocTimeStamp"


@dataclass(frozen=True)
class SealAppearance:
    """A visible seal: a pyHanko stamp style drawn in ``box`` on ``page``."""

    style: BaseStampStyle
    """e.g. ``pyhanko.stamp.TextStampStyle`` or ``QRStampStyle``."""
    box: tuple[int, int, int, int]
    """(x1, y1, x2, y2) in PDF user space units."""
    page: int = 0
    """Page index; negative counts from the end (-1 = last page)."""
    text_params: Mapping[str, str] = field(default_factory=dict)
    """Values for the style's text template (e.g. ``{"url": ...}`` for a QR stamp)."""


@dataclass(frozen=True)
class _Revocation:
    """Revocation data embedded at B-LT, parsed once."""

    crls: tuple[asn1_crl.CertificateList, ...]
    ocsps: tuple[asn1_ocsp.OCSPResponse, ...]
    expires: _dt.datetime | None
    """The earliest nextUpdate of the CRLs (None: no CRL says)."""
    crl_ders: tuple[bytes, ...] = ()
    ocsp_ders: tuple[bytes, ...] = ()
    ocsp_cert_ders: tuple[bytes, ...] = ()
    """The certificates inside the OCSP responses (their responders'), embedded too."""


def _round_up(value: int, step: int = 1024) -> int:
    return -(-value // step) * step


class Sealer:
    """Seals PDFs with one key; build once, call :meth:`seal` for every document."""

    def __init__(
        self,
        key_source: KeySource,
        *,
        timestamper: TimeStamper | None = None,
        validation_certs: Sequence[x509.Certificate] = (),
        crls: Sequence[bytes] = (),
        ocsp_responses: Sequence[bytes] = (),
        timestamp_reserve: int | None = None,
        check_chain: bool = True,
        clock: Callable[[], _dt.datetime] | None = None,
    ) -> None:
        """Prepare a sealer.

        ``timestamper``: needed for B-T and above (an ``EmbeddedTSA`` or ``HttpTSA``).
        ``validation_certs``: extra certificates to embed at B-LT (e.g. an external TSA's
        issuers when its tokens do not carry them; an embedded TSA's certificates and the
        certificates inside tokens from an ``HttpTSA`` are added automatically). ``crls`` and
        ``ocsp_responses`` (DER): revocation data for the seal's chain and the TSA's,
        required for B-LT. ``timestamp_reserve``: DER bytes to reserve for a timestamp
        token (default: measured once for an embedded TSA, 12 KiB otherwise).
        ``check_chain``: refuse a chain that does not link up or that ``crls`` revoke
        (``False`` only to produce files that must fail verification, in tests and demos).
        ``clock``: the time against which the revocation data's expiry is checked (default:
        now, UTC).
        """
        self._clock = clock or (lambda: _dt.datetime.now(_dt.UTC))
        self._key_source = key_source
        self._signer = key_source.signer
        self._timestamper = timestamper
        self._check = check_chain
        self._revocation = self._prepare_revocation(crls, ocsp_responses)
        tsa_certs: list[x509.Certificate] = list(getattr(timestamper, "certificates", ()))
        certs = [key_source.certificate, *key_source.chain, *tsa_certs, *validation_certs]
        unique = list(dict.fromkeys(certs))
        self._dss_certs = to_asn1_all(unique)
        self._dss_cert_ders = [c.public_bytes(Encoding.DER) for c in unique]

        chain_size = sum(len(c.dump()) for c in to_asn1_all(certs[: 1 + len(key_source.chain)]))
        self._sig_reserve = _round_up(2 * (chain_size + _CMS_OVERHEAD))
        if timestamper is None:
            token_size = 0
        elif timestamp_reserve is not None:
            token_size = timestamp_reserve
        elif hasattr(timestamper, "token_size"):
            token_size = int(timestamper.token_size()) + 512
        else:
            token_size = _EXTERNAL_TOKEN_RESERVE
        self._ts_reserve = _round_up(2 * token_size)

    @property
    def key_source(self) -> KeySource:
        return self._key_source

    def update_revocation_data(
        self, *, crls: Sequence[bytes], ocsp_responses: Sequence[bytes] = ()
    ) -> None:
        """Replace the CRLs / OCSP responses embedded at B-LT (e.g. a daily CRL refresh).

        Checked like the constructor's; the swap is atomic for concurrent seals.
        """
        self._revocation = self._prepare_revocation(crls, ocsp_responses)

    def _prepare_revocation(
        self, crls: Sequence[bytes], ocsp_responses: Sequence[bytes]
    ) -> _Revocation:
        try:
            parsed_crls = [asn1_crl.CertificateList.load(bytes(c)) for c in crls]
            parsed_ocsps = [asn1_ocsp.OCSPResponse.load(bytes(o)) for o in ocsp_responses]
            for item in (*parsed_crls, *parsed_ocsps):
                item.native  # noqa: B018 - parse fully now, not during a seal
            expiries = [x509.load_der_x509_crl(bytes(c)).next_update_utc for c in crls]
            expiries += [_ocsp_expiry(bytes(o)) for o in ocsp_responses]
        except ValueError as exc:
            raise SealingError(f"unreadable revocation data: {exc}") from None
        if self._check:
            self._check_chain(self._key_source, crls, ocsp_responses)
        known = [e for e in expiries if e is not None]
        return _Revocation(
            crls=tuple(parsed_crls),
            ocsps=tuple(parsed_ocsps),
            expires=min(known) if known else None,
            crl_ders=tuple(bytes(c) for c in crls),
            ocsp_ders=tuple(bytes(o) for o in ocsp_responses),
            ocsp_cert_ders=tuple(c.dump() for o in parsed_ocsps for c in enumerate_ocsp_certs(o)),
        )

    # -- construction-time checks -------------------------------------------------------

    @staticmethod
    def _check_chain(
        key_source: KeySource, crls: Sequence[bytes], ocsp_responses: Sequence[bytes] = ()
    ) -> None:
        """The chain must link up by signature, and no given CRL or OCSP response may
        revoke a member."""
        cert = key_source.certificate
        usage = _key_usage(cert)
        if usage is not None and not (usage.digital_signature or usage.content_commitment):
            raise SealingError("the seal certificate's keyUsage allows no signatures")
        parsed_crls = []
        for der in crls:
            try:
                parsed_crls.append(x509.load_der_x509_crl(bytes(der)))
            except ValueError as exc:
                raise SealingError(f"unreadable CRL: {exc}") from None
        path = [cert, *key_source.chain]
        for child, parent in itertools.pairwise(path):
            try:
                child.verify_directly_issued_by(parent)
            except (ValueError, TypeError, InvalidSignature):
                raise SealingError(
                    f"the key source's chain is broken: {child.subject.rfc4514_string()} "
                    f"is not issued by {parent.subject.rfc4514_string()}"
                ) from None
        for child, parent in itertools.pairwise(path):
            if any(says_revoked(bytes(o), child, parent) for o in ocsp_responses):
                raise SealingError(
                    f"certificate {child.serial_number:#x} "
                    f"({child.subject.rfc4514_string()}) is revoked (OCSP)"
                )
        for member in path:
            for crl in parsed_crls:
                if crl.issuer != member.issuer:
                    continue
                if crl.get_revoked_certificate_by_serial_number(member.serial_number):
                    raise SealingError(
                        f"certificate {member.serial_number:#x} "
                        f"({member.subject.rfc4514_string()}) is revoked"
                    )

    def _known_dss_ders(self, level: PadesLevel) -> list[bytes]:
        """:meth:`_known_dss_certs` as DER (the sealer's own prepared once)."""
        ders = self._dss_cert_ders
        seen = getattr(self._timestamper, "token_certificates", None)
        if level.timestamped and seen is not None:
            ders = list(dict.fromkeys([*ders, *(c.dump() for c in seen())]))
        return ders

    def _known_dss_certs(self, level: PadesLevel) -> list[Any]:
        """The DSS certificates, plus those seen so far in an external TSA's tokens."""
        certs = self._dss_certs
        seen = getattr(self._timestamper, "token_certificates", None)  # our TSA clients
        if level.timestamped and seen is not None:
            known = {c.dump() for c in certs}
            certs = certs + [c for c in seen() if c.dump() not in known]
        return certs

    # -- sealing --------------------------------------------------------------------------

    def seal(
        self,
        pdf: bytes,
        *,
        level: PadesLevel,
        field_name: str | None = None,
        reason: str | None = None,
        location: str | None = None,
        appearance: SealAppearance | AppearanceFactory | None = None,
        before_sign: WriterHook | None = None,
        dss_in_signed_revision: bool = False,
        open_writer: WriterOpener | None = None,
    ) -> bytes:
        """Seal ``pdf`` at ``level``; the sealed file (the input plus incremental updates).

        ``appearance``: a :class:`SealAppearance`, or a function of the opened document
        returning one (called after ``before_sign``). ``dss_in_signed_revision``: at B-LT and
        B-LTA, write the DSS (the sealer's certificates and revocation data) into the same
        incremental update as the signature instead of the next one: one revision less,
        and the signature covers its own validation data. ``open_writer``: how to open
        ``pdf`` (default: parse it).

        Outside an event loop only; inside one (FastAPI) await :meth:`seal_async`.
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise SealingError("Sealer.seal called inside a running event loop: use seal_async")
        return run_loop(
            self.seal_async(
                pdf,
                level=level,
                field_name=field_name,
                reason=reason,
                location=location,
                appearance=appearance,
                before_sign=before_sign,
                dss_in_signed_revision=dss_in_signed_revision,
                open_writer=open_writer,
            )
        )

    async def seal_async(
        self,
        pdf: bytes,
        *,
        level: PadesLevel,
        field_name: str | None = None,
        reason: str | None = None,
        location: str | None = None,
        appearance: SealAppearance | AppearanceFactory | None = None,
        before_sign: WriterHook | None = None,
        dss_in_signed_revision: bool = False,
        open_writer: WriterOpener | None = None,
    ) -> bytes:
        """Seal ``pdf`` at ``level`` (the async form of :meth:`seal`)."""
        level = PadesLevel(level)
        if level.timestamped and self._timestamper is None:
            raise SealingError(f"{level} needs a timestamper; this sealer has none")
        revocation = self._revocation
        if level.long_term:
            if not (revocation.crls or revocation.ocsps):
                raise SealingError(f"{level} needs revocation data (CRLs or OCSP responses)")
            if revocation.expires is not None and revocation.expires <= self._clock():
                raise SealUnavailable(
                    f"the revocation data expired at {revocation.expires.isoformat()}: "
                    "update it (Sealer.update_revocation_data) before sealing at " + level
                )
        try:
            return await self._seal(
                bytes(pdf),
                revocation=revocation,
                level=level,
                field_name=field_name,
                reason=reason,
                location=location,
                appearance=appearance,
                before_sign=before_sign,
                dss_in_signed_revision=dss_in_signed_revision,
                open_writer=open_writer,
            )
        except (SigningError, TimestampError):
            raise
        except PdfReadError as exc:
            raise SealingError(f"not a readable PDF: {exc}") from None
        except PyHankoSigningError as exc:
            raise SealingError(f"pyHanko refused to seal: {exc}") from None
        except (PdfError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
            raise SealingError(f"cannot seal this PDF: {type(exc).__name__}: {exc}") from None
        except Exception as exc:  # e.g. a PKCS#11 token failing mid-signature
            raise SealingError(f"sealing failed: {type(exc).__name__}: {exc}") from None

    async def _seal(
        self, pdf: bytes, *, open_writer: WriterOpener | None, **arguments: Any
    ) -> bytes:
        if not pdf.lstrip()[:5] == b"%PDF-":
            raise SealingError("not a PDF: the file does not start with %PDF-")
        with (open_writer or _parse)(pdf) as writer, fast_writing():
            return await self._seal_writer(writer, **arguments)

    async def _seal_writer(
        self,
        writer: IncrementalPdfFileWriter,
        *,
        revocation: _Revocation,
        level: PadesLevel,
        field_name: str | None,
        reason: str | None,
        location: str | None,
        appearance: SealAppearance | AppearanceFactory | None,
        before_sign: WriterHook | None,
        dss_in_signed_revision: bool = False,
    ) -> bytes:
        if writer.security_handler is not None:
            raise SealingError("the PDF is encrypted: an encrypted file cannot be sealed")
        name = field_name or _free_field_name(writer, "Seal")
        if before_sign is not None:
            before_sign(writer)
        if callable(appearance):
            appearance = appearance(writer)
        dss_now = level.long_term and dss_in_signed_revision
        if dss_now:
            write_dss(
                writer,
                certs=[*self._known_dss_ders(level), *revocation.ocsp_cert_ders],
                ocsps=revocation.ocsp_ders,
                crls=revocation.crl_ders,
            )
        meta = PdfSignatureMetadata(
            field_name=name,
            md_algorithm=_MD,
            subfilter=SigSeedSubFilter.PADES,
            reason=reason,
            location=location,
        )
        field_spec = None
        stamp_style = None
        text_params = None
        if appearance is not None:
            field_spec = SigFieldSpec(
                sig_field_name=name, on_page=appearance.page, box=appearance.box
            )
            stamp_style = appearance.style
            text_params = dict(appearance.text_params)
        signer = PdfSigner(
            meta,
            self._signer,
            timestamper=self._timestamper if level.timestamped else None,
            stamp_style=stamp_style,
            new_field_spec=field_spec,
        )
        reserve = self._sig_reserve + (self._ts_reserve if level.timestamped else 0)
        output = io.BytesIO()
        await signer.async_sign_pdf(
            writer,
            bytes_reserved=reserve,
            appearance_text_params=text_params,
            output=output,
        )
        if level.long_term and not dss_now:
            DocumentSecurityStore.add_dss(
                output_stream=output,
                sig_contents=None,
                certs=self._known_dss_certs(level),
                crls=list(revocation.crls),
                ocsps=list(revocation.ocsps),
                force_write=True,
                strict=False,
            )
        if level is PadesLevel.B_LTA:
            assert self._timestamper is not None
            ts_writer = IncrementalPdfFileWriter(output, strict=False)
            stamper = PdfTimeStamper(
                self._timestamper, field_name=_free_field_name(ts_writer, _TIMESTAMP_FIELD)
            )
            await stamper.async_timestamp_pdf(
                ts_writer, _MD, bytes_reserved=self._ts_reserve, in_place=True
            )
        return output.getvalue()


@contextmanager
def _parse(pdf: bytes) -> Iterator[IncrementalPdfFileWriter]:
    """The default :data:`WriterOpener`: parse ``pdf`` for this seal only."""
    yield IncrementalWriter(io.BytesIO(pdf), strict=False)


def _free_field_name(writer: IncrementalPdfFileWriter, stem: str) -> str:
    """``stem`` + the smallest number not yet used by a signature field."""
    taken = {name for name, _, _ in sig_fields.enumerate_sig_fields(writer)}
    number = 1
    while f"{stem}{number}" in taken:
        number += 1
    return f"{stem}{number}"


def _ocsp_expiry(der: bytes) -> _dt.datetime | None:
    """The earliest ``nextUpdate`` of an OCSP response's answers (ValueError: unreadable)."""
    from cryptography.x509 import ocsp

    ends = [r.next_update_utc for r in ocsp.load_der_ocsp_response(der).responses]
    known = [e for e in ends if e is not None]
    return min(known) if known else None


def _key_usage(certificate: x509.Certificate) -> x509.KeyUsage | None:
    try:
        return certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None
