"""The DSS a certified copy writes in its own revision: the issuer's entries kept, the
vault's certificates and CRLs added once each, nothing parsed twice."""

from __future__ import annotations

import io

from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from signing._dss import write_dss
from signing.pki import DemoPKI
from signing.seal import PadesLevel
from tests.helpers.forgeries import certified_copy
from tests.helpers.pki import MARKET_DEPT, sample_pdf, sealed_pdf


def _streams(reader: PdfFileReader, key: str) -> list[bytes]:
    dss = reader.root["/DSS"]
    return [ref.get_object().data for ref in dss[key]] if key in dss else []


def _refs(reader: PdfFileReader, key: str) -> list[int]:
    array = reader.root["/DSS"][key]
    return [array.raw_get(i).idnum for i in range(len(array))]


def test_a_copy_keeps_the_issuers_dss_and_adds_the_vaults_data_once(pki: DemoPKI) -> None:
    original = sealed_pdf(PadesLevel.B_LT, MARKET_DEPT)
    copy = certified_copy(original)
    before, after = PdfFileReader(io.BytesIO(original)), PdfFileReader(io.BytesIO(copy))
    for key in ("/Certs", "/CRLs"):
        # the issuer's entries first, the same objects; then only new items
        assert _refs(after, key)[: len(_refs(before, key))] == _refs(before, key)
        items = _streams(after, key)
        assert len(items) == len(set(items)), f"{key} holds an item twice"
    certs = set(_streams(after, "/Certs"))
    assert pki.vault_seal.certificate.public_bytes(Encoding.DER) in certs
    assert pki.root.certificate.public_bytes(Encoding.DER) in certs
    assert set(pki.crls()) <= set(_streams(after, "/CRLs"))


def test_a_dss_is_created_when_the_document_has_none() -> None:
    writer = IncrementalPdfFileWriter(io.BytesIO(sample_pdf()), strict=False)
    assert "/DSS" not in writer.root
    write_dss(writer, certs=[b"cert-a", b"cert-b", b"cert-a"], crls=[b"crl"])
    out = io.BytesIO()
    writer.write(out)
    reader = PdfFileReader(io.BytesIO(out.getvalue()))
    assert isinstance(reader.root.raw_get("/DSS"), generic.IndirectObject)
    assert _streams(reader, "/Certs") == [b"cert-a", b"cert-b"]
    assert _streams(reader, "/CRLs") == [b"crl"]
    assert _streams(reader, "/OCSPs") == []


def test_nothing_new_leaves_the_dss_out_of_the_update() -> None:
    first = IncrementalPdfFileWriter(io.BytesIO(sample_pdf()), strict=False)
    write_dss(first, certs=[b"cert-a"], ocsps=[b"ocsp"])
    out = io.BytesIO()
    first.write(out)
    again = IncrementalPdfFileWriter(io.BytesIO(out.getvalue()), strict=False)
    write_dss(again, certs=[b"cert-a"], ocsps=[b"ocsp"])
    assert not again.objects  # nothing to write
    write_dss(again, certs=[b"cert-b"])
    dss_ref = again.root.raw_get("/DSS")
    assert (dss_ref.generation, dss_ref.idnum) in again.objects
    certs = again.root["/DSS"]["/Certs"]
    kept = first.root["/DSS"]["/Certs"].raw_get(0).idnum
    assert len(certs) == 2 and certs.raw_get(0).idnum == kept
