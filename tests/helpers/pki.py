"""A seeded demo PKI, sample PDFs and sealed PDFs for every test that needs them.

Usage (from any test module)::

    from tests.helpers.pki import demo_pki, sample_pdf, sealed_pdf, MARKET_DEPT

    pki = demo_pki()                                  # cached, same for the whole process
    data = sealed_pdf(PadesLevel.B_LT, MARKET_DEPT)   # cached per (level, department)

Everything is real: EC P-256 keys, an in-process RFC 3161 TSA, CRLs embedded at B-LT.
The PKI is generated for the start of the current UTC day (certificates valid from one day
earlier for five years, CRLs for a year), so files sealed now validate now.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
from collections.abc import Iterable

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.content import RawContent
from pyhanko.pdf_utils.writer import PdfFileWriter

from signing.keys import LocalKeySource
from signing.pki import DemoPKI, Identity
from signing.seal import PadesLevel, Sealer
from signing.timestamps import EmbeddedTSA
from signing.trust import TrustBundle

__all__ = [
    "DEPARTMENTS",
    "MARKET_DEPT",
    "PUBLIC_SECURITY_DEPT",
    "SEED",
    "VAULT_CODE",
    "demo_pki",
    "demo_trust_bundle",
    "embedded_tsa",
    "pki_now",
    "sample_pdf",
    "sealed_pdf",
    "sealer",
    "sealer_for",
    "self_signed_sealer",
]

SEED = b"evault test PKI seed"
MARKET_DEPT = "113501000036043600"
"""福州市市场监督管理局 (valid GB 32100 check character)."""
PUBLIC_SECURITY_DEPT = "11350100MB0000019U"
"""福州市公安局."""
HOUSING_DEPT = "11350100MB0000027N"
"""福州市住房和城乡建设局."""
VAULT_CODE = "12350000MB00000359"
"""The vault's own 统一社会信用代码 (its seal certifies copies)."""
DEPARTMENTS: tuple[tuple[str, str], ...] = (
    ("福州市市场监督管理局", MARKET_DEPT),
    ("福州市公安局", PUBLIC_SECURITY_DEPT),
    ("福州市住房和城乡建设局", HOUSING_DEPT),
)


def pki_now() -> dt.datetime:
    """The moment the test PKI is generated for: the start of the current UTC day."""
    return dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)


@functools.cache
def demo_pki() -> DemoPKI:
    """The seeded demo PKI (cached per process)."""
    return DemoPKI.generate(
        seed=SEED,
        departments=DEPARTMENTS,
        now=pki_now(),
        vault=("evault 电子证照库", VAULT_CODE),
    )


def demo_trust_bundle(*, crls: bool = False) -> TrustBundle:
    """A trust bundle of :func:`demo_pki`: its root, issuing CA and the vault's seal
    (``crls``: also its CRLs; without them revocation data must come from the file)."""
    pki = demo_pki()
    return TrustBundle.from_certificates(
        roots=[pki.root.certificate],
        intermediates=[pki.issuing_ca.certificate],
        vault_seal=pki.vault_seal.certificate,
        crls=pki.crls() if crls else (),
    )


@functools.cache
def embedded_tsa() -> EmbeddedTSA:
    """The in-process TSA of :func:`demo_pki` (real clock)."""
    pki = demo_pki()
    return EmbeddedTSA(
        certificate=pki.tsa.certificate, private_key=pki.tsa.private_key, chain=pki.chain
    )


def sealer_for(pki: DemoPKI, identity: Identity, *, check_chain: bool = True) -> Sealer:
    """A sealer for ``identity`` of ``pki``, embedding ``pki``'s CRLs at B-LT.

    ``check_chain=False`` lets a revoked seal seal (to produce files that must fail).
    """
    source = LocalKeySource(
        certificate=identity.certificate, private_key=identity.private_key, chain=pki.chain
    )
    tsa = EmbeddedTSA(
        certificate=pki.tsa.certificate, private_key=pki.tsa.private_key, chain=pki.chain
    )
    return Sealer(source, timestamper=tsa, crls=pki.crls(), check_chain=check_chain)


@functools.cache
def sealer(department_credit_code: str | None = None) -> Sealer:
    """The cached sealer of a department of :func:`demo_pki` (``None``: the vault's seal)."""
    pki = demo_pki()
    if department_credit_code is None or department_credit_code == VAULT_CODE:
        identity = pki.vault_seal
    else:
        identity = pki.issuing_department_seal(department_credit_code)
    return sealer_for(pki, identity)


def sample_pdf(text: str = "evault sample license No. 2024-0001", *, pages: int = 1) -> bytes:
    """A small unsigned PDF (A4 pages, ``text`` in Helvetica; ASCII only)."""
    if not text.isascii():
        raise ValueError("sample_pdf writes Helvetica text: give ASCII only")
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return pdf_of_pages(
        f"BT /F1 18 Tf 72 760 Td ({escaped}) Tj ET "
        f"BT /F1 10 Tf 72 60 Td (page {number} of {pages}) Tj ET"
        for number in range(1, pages + 1)
    )


def pdf_of_pages(contents: Iterable[str]) -> bytes:
    """An unsigned PDF of A4 pages, one per content stream (Helvetica as ``/F1``)."""
    writer = PdfFileWriter()
    font = writer.add_object(
        generic.DictionaryObject(
            {
                generic.pdf_name("/Type"): generic.pdf_name("/Font"),
                generic.pdf_name("/Subtype"): generic.pdf_name("/Type1"),
                generic.pdf_name("/BaseFont"): generic.pdf_name("/Helvetica"),
            }
        )
    )
    resources = generic.DictionaryObject(
        {generic.pdf_name("/Font"): generic.DictionaryObject({generic.pdf_name("/F1"): font})}
    )
    for text in contents:
        content = RawContent(text.encode())
        page = generic.DictionaryObject(
            {
                generic.pdf_name("/Type"): generic.pdf_name("/Page"),
                generic.pdf_name("/MediaBox"): generic.ArrayObject(
                    [generic.NumberObject(v) for v in (0, 0, 595, 842)]
                ),
                generic.pdf_name("/Resources"): resources,
                generic.pdf_name("/Contents"): writer.add_object(
                    generic.StreamObject(stream_data=content.render())
                ),
            }
        )
        writer.insert_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@functools.cache
def sealed_pdf(
    level: PadesLevel = PadesLevel.B_LT, department_credit_code: str | None = MARKET_DEPT
) -> bytes:
    """:func:`sample_pdf` sealed at ``level`` by a department (``None``: the vault).

    Cached per (level, department): the same bytes within one process.
    """
    return sealer(department_credit_code).seal(
        sample_pdf(), level=PadesLevel(level), reason="issued", location="Fuzhou"
    )


@functools.cache
def self_signed_sealer(common_name: str) -> Sealer:
    """A sealer whose certificate (EC P-256, subject CN ``common_name``, no credit code)
    signs itself: anyone can make one, no trust bundle holds it. For forgeries that add a
    signature of their own; B-B only (no TSA)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = pki_now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return Sealer(LocalKeySource(certificate=certificate, private_key=key))


@functools.cache
def short_lived_tsa(days: int = 30) -> EmbeddedTSA:
    """A TSA of :func:`demo_pki` whose certificate expires ``days`` after today (UTC):
    timestamps it makes stop being verifiable soon (long-term archive renewal)."""
    from cryptography.x509.oid import ExtendedKeyUsageOID

    pki = demo_pki()
    key = ec.derive_private_key(0x7A5 + days, ec.SECP256R1())
    now = pki_now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"short TSA {days}d")]))
        .issuer_name(pki.issuing_ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(0x5A0000 + days)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(
                pki.issuing_ca.private_key.public_key()
            ),
            critical=False,
        )
        .sign(pki.issuing_ca.private_key, hashes.SHA256())
    )
    return EmbeddedTSA(certificate=certificate, private_key=key, chain=pki.chain)


def sealed_with_short_tsa(
    pdf: bytes, *, days: int = 30, department_credit_code: str = MARKET_DEPT
) -> bytes:
    """``pdf`` sealed at B-LTA by a department, every timestamp by :func:`short_lived_tsa`."""
    pki = demo_pki()
    identity = pki.issuing_department_seal(department_credit_code)
    source = LocalKeySource(
        certificate=identity.certificate, private_key=identity.private_key, chain=pki.chain
    )
    sealer = Sealer(source, timestamper=short_lived_tsa(days), crls=pki.crls())
    return sealer.seal(pdf, level=PadesLevel.B_LTA, reason="issued", location="Fuzhou")
