"""Long-term archive of sealed PDFs: when the latest timestamp stops proving, renew it.

A PAdES file proves its seals as long as its latest timestamp can be validated: that needs
the timestamp authority's certificate (and its chain) not expired, and revocation data for
it, which CAs publish only while the certificate is valid. :func:`archive_horizon` says
when that ends for a file (the earliest ``notAfter`` among the certificates of its latest
timestamp token). :func:`renew_archive` appends, as PAdES B-LTA (ETSI EN 319 142-1, 5.5)
does, one incremental update with the validation data (a DSS: certificates and CRLs /
OCSP responses) and one with a new document timestamp over everything before; the bytes
before stay untouched, so every seal in the file still verifies.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import io
from collections.abc import Sequence
from dataclasses import dataclass

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.generic import PdfError
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.general import SigningError as PyHankoSigningError
from pyhanko.sign.signers.pdf_signer import PdfTimeStamper
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.validation.dss import DocumentSecurityStore

from signing._verify.fastparse import fast_hex_strings
from signing.errors import SealingError, TimestampError
from signing.seal import _free_field_name

__all__ = ["ArchiveState", "archive_horizon", "renew_archive"]

_MD = "sha256"
_TIMESTAMP_FIELD = "ArchiveTimeStamp"
_TOKEN_RESERVE = 12 * 1024


@dataclass(frozen=True)
class ArchiveState:
    """What the latest timestamp of a file proves, and until when."""

    horizon: _dt.datetime | None
    """When the latest timestamp's certificates expire (None: the file has no timestamp)."""
    document_timestamps: int
    """How many document timestamps the file carries."""


def _open(pdf: bytes) -> PdfFileReader:
    if not pdf.lstrip()[:5] == b"%PDF-":
        raise SealingError("not a PDF: the file does not start with %PDF-")
    try:
        return PdfFileReader(io.BytesIO(pdf), strict=False)
    except (PdfReadError, PdfError, ValueError) as exc:
        raise SealingError(f"cannot read this PDF: {exc}") from None


def _signature_timestamp(signed_data: cms.SignedData) -> cms.SignedData | None:
    for info in signed_data["signer_infos"]:
        for attr in info["unsigned_attrs"] or ():
            if attr["type"].native == "signature_time_stamp_token":
                token: cms.ContentInfo = attr["values"][0]
                content: cms.SignedData = token["content"]
                return content
    return None


def _token_certificates(token: cms.SignedData) -> list[asn1_x509.Certificate]:
    return [c.chosen for c in token["certificates"] or () if c.name == "certificate"]


def _latest_token(reader: PdfFileReader) -> cms.SignedData | None:
    for sig in reversed(reader.embedded_signatures):
        if sig.sig_object_type == "/DocTimeStamp":
            return sig.signed_data
        token = _signature_timestamp(sig.signed_data)
        if token is not None:
            return token
    return None


def archive_horizon(pdf: bytes) -> ArchiveState:
    """When the latest timestamp of ``pdf`` stops being verifiable (see the module)."""
    reader = _open(pdf)
    try:
        with fast_hex_strings():  # pyHanko reads a /Contents hex string in slow Python
            token = _latest_token(reader)
            stamps = len(reader.embedded_timestamp_signatures)
    except (PdfReadError, PdfError, ValueError, KeyError) as exc:
        raise SealingError(f"cannot read the signatures of this PDF: {exc}") from None
    if token is None:
        return ArchiveState(horizon=None, document_timestamps=stamps)
    certificates = _token_certificates(token)
    if not certificates:
        raise SealingError("the latest timestamp token carries no certificate")
    horizon = min(c["tbs_certificate"]["validity"]["not_after"].native for c in certificates)
    return ArchiveState(horizon=horizon, document_timestamps=stamps)


def _dss_certificates(reader: PdfFileReader) -> list[asn1_x509.Certificate]:
    """Every certificate the file's signatures and timestamps carry (for the DSS)."""
    found: dict[bytes, asn1_x509.Certificate] = {}
    for sig in reader.embedded_signatures:
        tokens = [sig.signed_data]
        stamp = _signature_timestamp(sig.signed_data)
        if stamp is not None:
            tokens.append(stamp)
        for token in tokens:
            for cert in _token_certificates(token):
                found[cert.sha256] = cert
    return list(found.values())


def renew_archive(
    pdf: bytes,
    *,
    timestamper: TimeStamper,
    certificates: Sequence[asn1_x509.Certificate] = (),
    crls: Sequence[bytes] = (),
    ocsps: Sequence[bytes] = (),
) -> bytes:
    """``pdf`` plus a DSS update (its own certificates, ``certificates``, ``crls``,
    ``ocsps``) and a new document timestamp from ``timestamper``."""
    from asn1crypto import crl as asn1_crl
    from asn1crypto import ocsp as asn1_ocsp

    reader = _open(pdf)
    if reader.security_handler is not None:
        raise SealingError("the PDF is encrypted: it cannot be renewed")
    try:
        with fast_hex_strings():
            certs = [*_dss_certificates(reader), *certificates]
        output = io.BytesIO(pdf)
        output.seek(0, io.SEEK_END)
        DocumentSecurityStore.add_dss(
            output_stream=output,
            sig_contents=None,
            certs=certs,
            crls=[asn1_crl.CertificateList.load(c) for c in crls],
            ocsps=[asn1_ocsp.OCSPResponse.load(o) for o in ocsps],
            force_write=True,
            strict=False,
        )
        writer = IncrementalPdfFileWriter(output, strict=False)
        stamper = PdfTimeStamper(timestamper, field_name=_free_field_name(writer, _TIMESTAMP_FIELD))
        asyncio.run(
            stamper.async_timestamp_pdf(writer, _MD, bytes_reserved=_TOKEN_RESERVE, in_place=True)
        )
    except TimestampError:
        raise
    except PyHankoSigningError as exc:
        raise SealingError(f"pyHanko refused to renew: {exc}") from None
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise SealingError(f"cannot renew this PDF: {type(exc).__name__}: {exc}") from None
    return output.getvalue()
