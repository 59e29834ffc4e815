"""PAdES sealing at every level, validated by pyHanko against the demo root only."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator import ValidationContext

from signing._pyhanko import to_asn1
from signing.errors import SealingError
from signing.keys import LocalKeySource
from signing.pki import DemoPKI
from signing.seal import PadesLevel, SealAppearance, Sealer
from tests.helpers.pki import MARKET_DEPT, sample_pdf, sealed_pdf, sealer_for


def _der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def _validate(pki: DemoPKI, data: bytes, index: int = 0) -> PdfSignatureStatus:
    """pyHanko validation, trusting only the demo root; revocation data from the file only."""
    reader = PdfFileReader(io.BytesIO(data))
    root = to_asn1(pki.root.certificate)
    settings = {"trust_roots": [root], "allow_fetching": False, "revocation_mode": "hard-fail"}
    try:
        context = DocumentSecurityStore.read_dss(reader).as_validation_context(settings)
    except Exception:  # no DSS: B-B / B-T
        context = ValidationContext(
            trust_roots=[root], allow_fetching=False, revocation_mode="soft-fail"
        )
    return validate_pdf_signature(reader.embedded_signatures[index], context)


@pytest.mark.parametrize("level", list(PadesLevel))
def test_every_level_validates(pki: DemoPKI, level: PadesLevel) -> None:
    data = sealed_pdf(level, MARKET_DEPT)
    status = _validate(pki, data)
    assert status.intact and status.valid and status.trusted
    assert status.bottom_line
    assert status.signing_cert.dump() == _der(pki.issuing_department_seal(MARKET_DEPT).certificate)
    reader = PdfFileReader(io.BytesIO(data))
    sig_dict = reader.embedded_signatures[0].sig_object
    assert sig_dict["/SubFilter"] == "/ETSI.CAdES.detached"
    assert sig_dict["/Reason"] == "issued"
    assert sig_dict["/Location"] == "Fuzhou"
    if level is PadesLevel.B_B:
        assert status.timestamp_validity is None
    else:
        assert status.timestamp_validity is not None
        assert status.timestamp_validity.valid and status.timestamp_validity.trusted


@pytest.mark.parametrize("level", [PadesLevel.B_LT, PadesLevel.B_LTA])
def test_long_term_levels_embed_certificates_and_crls(pki: DemoPKI, level: PadesLevel) -> None:
    reader = PdfFileReader(io.BytesIO(sealed_pdf(level, MARKET_DEPT)))
    dss = reader.root["/DSS"]
    embedded = {ref.get_object().data for ref in dss["/Certs"]}
    for cert in (
        pki.issuing_department_seal(MARKET_DEPT).certificate,
        pki.issuing_ca.certificate,
        pki.root.certificate,
        pki.tsa.certificate,
    ):
        assert _der(cert) in embedded
    assert {ref.get_object().data for ref in dss["/CRLs"]} == set(pki.crls())
    # B-LT: signature revision, then the DSS revision (B-LTA: then a document timestamp)
    assert reader.xrefs.total_revisions == (3 if level is PadesLevel.B_LT else 4)


def test_b_lta_ends_with_a_valid_document_timestamp(pki: DemoPKI) -> None:
    data = sealed_pdf(PadesLevel.B_LTA, MARKET_DEPT)
    reader = PdfFileReader(io.BytesIO(data))
    names = [s.field_name for s in reader.embedded_signatures]
    assert names == ["Seal1", "DocTimeStamp1"]
    timestamp = reader.embedded_signatures[1]
    assert timestamp.sig_object["/Type"] == "/DocTimeStamp"
    assert timestamp.sig_object["/SubFilter"] == "/ETSI.RFC3161"
    from pyhanko.sign.validation import validate_pdf_timestamp

    context = ValidationContext(trust_roots=[to_asn1(pki.root.certificate)], allow_fetching=False)
    status = validate_pdf_timestamp(timestamp, validation_context=context)
    assert status.valid and status.intact and status.trusted


def test_a_second_seal_keeps_the_first_valid(
    pki: DemoPKI, department_sealer: Sealer, vault_sealer: Sealer
) -> None:
    first = department_sealer.seal(sample_pdf(), level=PadesLevel.B_LT)
    both = vault_sealer.seal(first, level=PadesLevel.B_LT)
    assert both.startswith(first)
    reader = PdfFileReader(io.BytesIO(both))
    assert [s.field_name for s in reader.embedded_signatures] == ["Seal1", "Seal2"]
    for index in (0, 1):
        status = _validate(pki, both, index)
        assert status.intact and status.valid and status.trusted
    assert _validate(pki, both, 1).signing_cert.dump() == _der(pki.vault_seal.certificate)


def test_field_name_can_be_chosen(department_sealer: Sealer) -> None:
    data = department_sealer.seal(sample_pdf(), level=PadesLevel.B_B, field_name="IssuerSeal")
    reader = PdfFileReader(io.BytesIO(data))
    assert reader.embedded_signatures[0].field_name == "IssuerSeal"


def test_visible_appearance_is_drawn_in_its_box(pki: DemoPKI, department_sealer: Sealer) -> None:
    appearance = SealAppearance(
        style=TextStampStyle(stamp_text="Sealed by %(signer)s"), box=(300, 50, 550, 120)
    )
    data = department_sealer.seal(sample_pdf(), level=PadesLevel.B_T, appearance=appearance)
    reader = PdfFileReader(io.BytesIO(data))
    widget = reader.embedded_signatures[0].sig_field
    assert [int(v) for v in widget["/Rect"]] == [300, 50, 550, 120]
    assert "/AP" in widget
    assert _validate(pki, data).bottom_line


def test_before_sign_hook_changes_are_covered(pki: DemoPKI, department_sealer: Sealer) -> None:
    def add_note(writer: IncrementalPdfFileWriter) -> None:
        writer.root[generic.pdf_name("/EvaultNote")] = generic.TextStringObject("copy 7")
        writer.update_root()

    data = department_sealer.seal(sample_pdf(), level=PadesLevel.B_B, before_sign=add_note)
    reader = PdfFileReader(io.BytesIO(data))
    assert reader.root["/EvaultNote"] == "copy 7"
    status = _validate(pki, data)
    assert status.bottom_line
    assert status.coverage.name == "ENTIRE_FILE"


def test_seal_async_inside_a_running_loop(pki: DemoPKI, department_sealer: Sealer) -> None:
    async def inside() -> bytes:
        with pytest.raises(SealingError, match="inside a running event loop: use seal_async"):
            department_sealer.seal(sample_pdf(), level=PadesLevel.B_B)
        return await department_sealer.seal_async(sample_pdf(), level=PadesLevel.B_LT)

    assert _validate(pki, asyncio.run(inside())).bottom_line


def test_revoked_seal_is_refused_when_building_the_sealer(pki: DemoPKI) -> None:
    identity = pki.issuing_department_seal(MARKET_DEPT)
    revoked = pki.revoke(identity.serial, pki.now + dt.timedelta(hours=1))
    with pytest.raises(SealingError, match=r"certificate 0x[0-9a-f]+ \(.*\) is revoked"):
        sealer_for(revoked, identity)


def test_embedded_crl_revoking_the_seal_makes_validation_fail(pki: DemoPKI) -> None:
    identity = pki.issuing_department_seal(MARKET_DEPT)
    revoked = pki.revoke(identity.serial, dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2))
    data = sealer_for(revoked, identity, check_chain=False).seal(
        sample_pdf(), level=PadesLevel.B_LT
    )
    status = _validate(pki, data)
    assert status.intact and status.valid
    assert not status.bottom_line
    assert status.trust_problem_indic is not None
    assert status.trust_problem_indic.name.startswith("REVOKED")  # before signing: _NO_POE


def test_broken_chain_is_refused(pki: DemoPKI) -> None:
    identity = pki.issuing_department_seal(MARKET_DEPT)
    source = LocalKeySource(
        certificate=identity.certificate,
        private_key=identity.private_key,
        chain=[pki.root.certificate],
    )
    with pytest.raises(SealingError, match=r"chain is broken: .* is not issued by .*Root CA"):
        Sealer(source)


def test_levels_need_their_ingredients(pki: DemoPKI) -> None:
    identity = pki.vault_seal
    source = LocalKeySource(
        certificate=identity.certificate, private_key=identity.private_key, chain=pki.chain
    )
    bare = Sealer(source)
    with pytest.raises(SealingError, match="B-T needs a timestamper; this sealer has none"):
        bare.seal(sample_pdf(), level=PadesLevel.B_T)
    from tests.helpers.pki import embedded_tsa

    no_crls = Sealer(source, timestamper=embedded_tsa())
    with pytest.raises(SealingError, match="B-LT needs revocation data"):
        no_crls.seal(sample_pdf(), level=PadesLevel.B_LT)
    assert _validate(pki, bare.seal(sample_pdf(), level=PadesLevel.B_B)).bottom_line


def test_unreadable_revocation_data_is_refused(pki: DemoPKI) -> None:
    identity = pki.vault_seal
    source = LocalKeySource(
        certificate=identity.certificate, private_key=identity.private_key, chain=pki.chain
    )
    with pytest.raises(SealingError, match="unreadable revocation data"):
        Sealer(source, crls=[b"\x30\x03abc"])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not a PDF: the file does not start with %PDF-"),
        (b"hello world", "not a PDF"),
        (b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF", "not a readable PDF: startxref not found"),
    ],
)
def test_malformed_input(department_sealer: Sealer, data: bytes, message: str) -> None:
    with pytest.raises(SealingError, match=message):
        department_sealer.seal(data, level=PadesLevel.B_B)


def test_truncated_input(department_sealer: Sealer) -> None:
    data = sample_pdf()
    with pytest.raises(SealingError, match="not a readable PDF: Could not read malformed PDF file"):
        department_sealer.seal(data[: len(data) // 2], level=PadesLevel.B_B)


def test_encrypted_input(department_sealer: Sealer) -> None:
    from pyhanko.pdf_utils.writer import copy_into_new_writer

    writer = copy_into_new_writer(PdfFileReader(io.BytesIO(sample_pdf())))
    writer.encrypt("owner", "user")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(SealingError, match="the PDF is encrypted"):
        department_sealer.seal(out.getvalue(), level=PadesLevel.B_B)


def test_document_locked_by_a_certification_signature(
    pki: DemoPKI, department_sealer: Sealer
) -> None:
    identity = pki.issuing_department_seal(MARKET_DEPT)
    signer = LocalKeySource(
        certificate=identity.certificate, private_key=identity.private_key, chain=pki.chain
    ).signer
    locked = signers.sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(sample_pdf())),
        signers.PdfSignatureMetadata(
            field_name="Author", certify=True, docmdp_permissions=MDPPerm.NO_CHANGES
        ),
        signer=signer,
    ).getvalue()
    with pytest.raises(
        SealingError, match="pyHanko refused to seal: Author signature forbids all changes"
    ):
        department_sealer.seal(locked, level=PadesLevel.B_B)


def test_cms_is_strict_der_with_the_pades_attributes(pki: DemoPKI) -> None:
    from asn1crypto import cms

    reader = PdfFileReader(io.BytesIO(sealed_pdf(PadesLevel.B_T, MARKET_DEPT)))
    contents = bytes(reader.embedded_signatures[0].sig_object["/Contents"])
    # the DER's own length says where it ends (its last byte may be 0x00: no rstrip)
    info = cms.ContentInfo.load(contents, strict=False)
    der = info.dump()
    assert contents == der + bytes(len(contents) - len(der))  # then only padding
    reparsed = info["content"]
    # parse what the fast path writes itself (.native on the whole token takes seconds in
    # asn1crypto, for pyHanko's own output too)
    reparsed["certificates"].native  # noqa: B018
    reparsed["signer_infos"][0]["signed_attrs"].native  # noqa: B018
    signer_info = reparsed["signer_infos"][0]
    signed = [a["type"].native for a in signer_info["signed_attrs"]]
    assert sorted(signed) == ["content_type", "message_digest", "signing_certificate_v2"]
    assert [a["type"].native for a in signer_info["unsigned_attrs"]] == [
        "signature_time_stamp_token"
    ]
    assert signer_info["signature_algorithm"]["algorithm"].native == "sha256_ecdsa"
    embedded = {c.chosen.dump() for c in reparsed["certificates"]}
    chain = [pki.issuing_department_seal(MARKET_DEPT).certificate, *pki.chain]
    assert embedded == {_der(c) for c in chain}


def test_rsa_seal_validates() -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    from tests.helpers.pki import embedded_tsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "RSA seal")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    sealer = Sealer(LocalKeySource(certificate=cert, private_key=key), timestamper=embedded_tsa())
    data = sealer.seal(sample_pdf(), level=PadesLevel.B_T)
    signature = PdfFileReader(io.BytesIO(data)).embedded_signatures[0]
    context = ValidationContext(trust_roots=[to_asn1(cert)], allow_fetching=False)
    status = validate_pdf_signature(signature, context)
    assert status.intact and status.valid and status.trusted
    assert signature.signer_info["signature_algorithm"]["algorithm"].native == "rsassa_pkcs1v15"


# -- evault seal -------------------------------------------------------------------------------


def test_cli_seal_with_a_demo_pki(pki: DemoPKI, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from vault.cli import build_app

    pki.save(tmp_path / "pki", "cli pass")
    source = tmp_path / "in.pdf"
    source.write_bytes(sample_pdf())
    out = tmp_path / "out.pdf"
    arguments = ["seal", str(source), "-o", str(out), "--demo-pki", str(tmp_path / "pki")]
    result = CliRunner().invoke(
        build_app(),
        [*arguments, "--department", MARKET_DEPT, "--level", "B-LT", "--reason", "issued"],
        env={"EVAULT_PKI_PASSWORD": "cli pass"},
    )
    assert result.exit_code == 0, result.output
    assert f"sealed (B-LT) -> {out}" in result.output
    status = _validate(pki, out.read_bytes())
    assert status.bottom_line
    assert status.signing_cert.dump() == _der(pki.issuing_department_seal(MARKET_DEPT).certificate)


def test_cli_seal_errors_are_one_line(pki: DemoPKI, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from vault.cli import build_app

    pki.save(tmp_path / "pki", "cli pass")
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"not a pdf")
    runner = CliRunner()
    env = {"EVAULT_PKI_PASSWORD": "cli pass"}
    base = ["seal", str(bad), "-o", str(tmp_path / "o.pdf"), "--demo-pki", str(tmp_path / "pki")]
    result = runner.invoke(build_app(), base, env=env)
    assert result.exit_code == 1
    assert result.output.strip() == ("evault: not a PDF: the file does not start with %PDF-")
    result = runner.invoke(build_app(), [*base, "--level", "B-X"], env=env)
    assert result.exit_code == 2
    assert "unknown level 'B-X'" in result.output
    result = runner.invoke(build_app(), base, env={"EVAULT_PKI_PASSWORD": "wrong"})
    assert result.exit_code == 1
    assert "wrong password or not a PKCS#12 file" in result.output
    assert not (tmp_path / "o.pdf").exists()


def test_expired_revocation_data_is_refused_until_updated(pki: DemoPKI) -> None:
    identity = pki.vault_seal
    source = LocalKeySource(
        certificate=identity.certificate, private_key=identity.private_key, chain=pki.chain
    )
    from tests.helpers.pki import embedded_tsa

    old = pki.now - dt.timedelta(days=400)  # nextUpdate = old + 365 days: in the past
    sealer = Sealer(source, timestamper=embedded_tsa(), crls=pki.crls(at=old))
    with pytest.raises(SealingError, match=r"the revocation data expired at .*: update it"):
        sealer.seal(sample_pdf(), level=PadesLevel.B_LT)
    assert _validate(pki, sealer.seal(sample_pdf(), level=PadesLevel.B_T)).bottom_line
    sealer.update_revocation_data(crls=pki.crls())
    assert _validate(pki, sealer.seal(sample_pdf(), level=PadesLevel.B_LT)).bottom_line


def test_update_revocation_data_checks_the_chain(pki: DemoPKI) -> None:
    identity = pki.issuing_department_seal(MARKET_DEPT)
    sealer = sealer_for(pki, identity)
    revoked = pki.revoke(identity.serial, dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    with pytest.raises(SealingError, match="is revoked"):
        sealer.update_revocation_data(crls=revoked.crls())
    assert _validate(pki, sealer.seal(sample_pdf(), level=PadesLevel.B_LT)).bottom_line
