"""Red-team forgeries of OFD licenses against ``signing.ofd`` and intake's report rules.

Each forgery starts from a license the market regulator really sealed with the test SM2
PKI and shows other license data (holder 李四, number JY99999999, valid to 2099) or another
issuer's seal. A test marked ``xfail(strict=True)`` is a forgery that passes today: it
asserts the outcome we want (flagged), so the fix flips it to a pass (and strict xfail then
fails until the mark is removed). The unmarked tests are forgeries that are flagged today
and must stay so. Each xfail forgery has an unmarked twin checking that the attack is real:
what a viewer would show is the forged data.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from tongsuopy.crypto.exceptions import InternalError

from schemas.report import Indication
from signing.ofd.sealer import OfdSealer
from signing.ofd.writer import sample_ofd
from tests.attacks import ofd_forge as forge
from tests.attacks.ofd_forge import (
    FORGED_LINES,
    accepted_by_intake,
    forged_document,
    genuine,
    intake_refusal,
    passes,
    verify,
)
from tests.helpers.ofd import license_ofd, ofd_parts, rebuild_ofd, sm2_pki
from tests.helpers.pki import DEPARTMENTS, MARKET_DEPT

MARKET = DEPARTMENTS[0][0]
POLICE = DEPARTMENTS[1][0]
PAGE = "Doc_0/Pages/Page_0/Content.xml"
FORGED_NAME = "李四".encode()


def _forged_page() -> bytes:
    return forged_document("Doc_0")[PAGE]


def _assert_flagged(data: bytes) -> None:
    report = verify(data)
    assert report.indication is not Indication.TOTAL_PASSED, "the forgery verifies"
    assert not accepted_by_intake(data), "intake accepts the forgery"


def test_the_originals_are_genuine() -> None:
    """Both verify; intake takes the KingGrid layout only when its DocInfo shows nothing
    (this one has a Title: see test_ofd_drawn_parts.py)."""
    for data in (genuine(), genuine(cover_ofd_xml=False)):
        assert passes(data)
        assert FORGED_NAME not in b"".join(ofd_parts(data).values())
    assert accepted_by_intake(genuine())
    assert intake_refusal(genuine(cover_ofd_xml=False)) == "unsigned_document_info"


# -- 1. OFD.xml left out of the References (KingGrid tax-bureau seals do) -----------------


def _second_docbody() -> bytes:
    """A forged document as the first DocBody, the sealed one second."""
    parts = ofd_parts(genuine(cover_ofd_xml=False))
    parts.update(forged_document())
    parts["OFD.xml"] = forge.with_docbody_first(parts["OFD.xml"], "Doc_1/Document.xml")
    return rebuild_ofd(parts)


def _docroot_twice(first: bytes) -> bytes:
    """The sealed DocRoot first (read by the verifier), a forged one second."""
    parts = ofd_parts(genuine(cover_ofd_xml=False))
    parts.update(forged_document())
    old = b"<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>"
    parts["OFD.xml"] = parts["OFD.xml"].replace(
        old, first + b"<ofd:DocRoot>Doc_1/Document.xml</ofd:DocRoot>"
    )
    return rebuild_ofd(parts)


DOCROOT_FORGERIES = {
    "second-docbody": _second_docbody,
    "docroot-twice": lambda: _docroot_twice(b"<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>"),
    "docroot-foreign-namespace": lambda: _docroot_twice(
        b'<x:DocRoot xmlns:x="urn:not-ofd">Doc_0/Document.xml</x:DocRoot>'
    ),
}


@pytest.mark.parametrize("name", sorted(DOCROOT_FORGERIES))
def test_unprotected_ofd_xml_forgery_is_real(name: str) -> None:
    """The first DocBody (what viewers open), the last DocRoot (last-wins binders) and the
    DocRoot in the OFD namespace (ofdrw's NSStrictMode) are the forged document."""
    data = DOCROOT_FORGERIES[name]()
    ofd_xml = ofd_parts(data)["OFD.xml"].decode()
    ofd_roots = re.findall(r"<ofd:DocRoot>([^<]*)</ofd:DocRoot>", ofd_xml)
    assert ofd_roots[0 if name == "second-docbody" else -1] == "Doc_1/Document.xml"
    assert FORGED_NAME in ofd_parts(data)["Doc_1/Pages/Page_0/Content.xml"]


@pytest.mark.parametrize("name", sorted(DOCROOT_FORGERIES))
def test_unprotected_ofd_xml_forgery_is_flagged(name: str) -> None:
    _assert_flagged(DOCROOT_FORGERIES[name]())


def test_docroot_swapped_in_unprotected_ofd_xml_is_flagged() -> None:
    parts = ofd_parts(genuine(cover_ofd_xml=False))
    parts.update(forged_document())
    parts["OFD.xml"] = parts["OFD.xml"].replace(b"Doc_0/Document.xml", b"Doc_1/Document.xml")
    _assert_flagged(rebuild_ofd(parts))
    assert intake_refusal(rebuild_ofd(parts)) == "modified_after_signing"


def test_second_docbody_in_protected_ofd_xml_is_flagged() -> None:
    parts = ofd_parts(genuine())
    parts.update(forged_document())
    parts["OFD.xml"] = forge.with_docbody_first(parts["OFD.xml"], "Doc_1/Document.xml")
    report = verify(rebuild_ofd(parts))
    assert report.indication is Indication.TOTAL_FAILED
    assert "OFD.xml" in " ".join(report.reasons)


# -- 2. ZIP entry names that alias a signed part on extraction ---------------------------


def _alias_ofd_xml() -> bytes:
    ofd_xml = ofd_parts(genuine())["OFD.xml"].replace(b"Doc_0/Document.xml", b"Doc_1/Document.xml")
    ofd_xml = re.sub(rb"<ofd:Signatures>.*?</ofd:Signatures>", b"", ofd_xml)
    return forge.append_entries(genuine(), {**forged_document(), "ofd.xml": ofd_xml})


ALIAS_FORGERIES = {
    "page-lower-case": lambda: forge.append_entries(genuine(), {PAGE.lower(): _forged_page()}),
    "page-trailing-dot": lambda: forge.append_entries(genuine(), {PAGE + ".": _forged_page()}),
    "page-trailing-space": lambda: forge.append_entries(genuine(), {PAGE + " ": _forged_page()}),
    "ofd-xml-lower-case": _alias_ofd_xml,
}


@pytest.mark.parametrize("name", sorted(ALIAS_FORGERIES))
def test_alias_forgery_is_real(name: str) -> None:
    """Unpacked on a case-insensitive file system, the forged entry replaces the signed one."""
    seen = forge.case_insensitive_extraction(ALIAS_FORGERIES[name]())
    if name == "ofd-xml-lower-case":
        assert b"Doc_1/Document.xml" in seen["ofd.xml"]
        assert FORGED_NAME in seen["doc_1/pages/page_0/content.xml"]
    else:
        assert FORGED_NAME in seen[PAGE.casefold()]


@pytest.mark.parametrize("name", sorted(ALIAS_FORGERIES))
def test_alias_forgery_is_flagged(name: str) -> None:
    _assert_flagged(ALIAS_FORGERIES[name]())


def _raw_zip(extra_name: str) -> bytes:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in [*ofd_parts(genuine()).items(), (extra_name, _forged_page())]:
            zf.writestr(zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)), data)
    return out.getvalue()


@pytest.mark.parametrize(
    "name",
    [PAGE, "./" + PAGE, PAGE.replace("Pages/", "Pages//"), PAGE.replace("/", "\\"), "/" + PAGE],
)
def test_same_name_spellings_are_refused(name: str) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
        data = _raw_zip(name)
    report = verify(data)
    assert report.indication is Indication.TOTAL_FAILED
    assert "cannot be read" in report.reasons[0]
    assert intake_refusal(data) == "unsigned"


# -- 3. local file entries no central directory record accounts for ---------------------


def _ghost_entries() -> bytes:
    forged = ofd_parts(sample_ofd("食品经营许可证", FORGED_LINES))
    return forge.local_entries(forged) + genuine()


def test_ghost_entries_are_what_a_streaming_reader_sees() -> None:
    seen = forge.streamed_entries(_ghost_entries())
    assert FORGED_NAME in seen[PAGE]


def test_ghost_entries_are_flagged() -> None:
    _assert_flagged(_ghost_entries())


# -- 4. Signatures.xml (not protected by the demo sealer) --------------------------------


def _with_untrusted_seal() -> bytes:
    rogue = forge.attacker_pki()
    return OfdSealer(rogue.signers[POLICE], rogue.seal_for(POLICE)).seal_ofd(genuine())


def _nested_entry() -> bytes:
    parts = ofd_parts(_with_untrusted_seal())
    path = "Doc_0/Signs/Signatures.xml"
    parts[path] = re.sub(
        rb'(<ofd:Signature ID="2"[^>]*/>)', rb"<ofd:Hidden>\1</ofd:Hidden>", parts[path]
    )
    return rebuild_ofd(parts)


def test_untrusted_seal_added_is_refused() -> None:
    data = _with_untrusted_seal()
    assert verify(data).indication is Indication.INDETERMINATE
    assert intake_refusal(data) == "untrusted_chain"


def test_untrusted_seal_in_a_foreign_namespace_is_still_checked() -> None:
    parts = ofd_parts(_with_untrusted_seal())
    path = "Doc_0/Signs/Signatures.xml"
    parts[path] = re.sub(
        rb'<ofd:Signature (ID="2")', rb'<x:Signature xmlns:x="urn:x" \1', parts[path]
    )
    data = rebuild_ofd(parts)
    report = verify(data)
    assert [s.chain_trusted for s in report.signatures] == [True, False]
    assert "namespace" in " ".join(report.reasons)
    assert intake_refusal(data) == "modified_after_signing"


def test_nested_entry_is_there_for_a_deep_search() -> None:
    from xml.etree.ElementTree import fromstring

    root = fromstring(ofd_parts(_nested_entry())["Doc_0/Signs/Signatures.xml"])
    found = [el.get("BaseLoc") for el in root.iter() if el.tag.endswith("}Signature")]
    assert len(found) == 2  # getElementsByTagName finds the untrusted seal's stamp


def test_nested_entry_is_flagged() -> None:
    _assert_flagged(_nested_entry())


def test_dropped_entry_leaves_an_unsigned_file() -> None:
    parts = ofd_parts(genuine())
    path = "Doc_0/Signs/Signatures.xml"
    parts[path] = re.sub(rb"<ofd:Signature [^>]*/>", b"", parts[path])
    assert intake_refusal(rebuild_ofd(parts)) == "unsigned"


@pytest.mark.parametrize("trusted", [True, False])
def test_page_changed_then_sealed_again_is_flagged(trusted: bool) -> None:
    parts = ofd_parts(genuine())
    parts[PAGE] = _forged_page()
    pki = sm2_pki() if trusted else forge.attacker_pki()
    resealed = OfdSealer(pki.signers[POLICE], pki.seal_for(POLICE)).seal_ofd(rebuild_ofd(parts))
    report = verify(resealed)
    assert report.indication is Indication.TOTAL_FAILED
    assert PAGE in " ".join(report.signatures[0].reasons)
    assert intake_refusal(resealed) == "modified_after_signing"


def test_seal_transplanted_from_another_license_is_flagged() -> None:
    parts = ofd_parts(genuine())
    donor = ofd_parts(license_ofd(2))
    parts.update({p: d for p, d in donor.items() if p.startswith("Doc_0/Signs/")})
    assert verify(rebuild_ofd(parts)).indication is Indication.TOTAL_FAILED
    assert intake_refusal(rebuild_ofd(parts)) == "modified_after_signing"


def test_revoked_signer_is_refused_by_intake() -> None:
    from signing.ofd.verifier import OfdVerifier

    pki = sm2_pki()
    bundle = pki.trust_bundle(revoked=[pki.signers[MARKET].cert])
    verifier = OfdVerifier(bundle)
    assert verifier.verify(genuine()).indication is not Indication.TOTAL_PASSED
    assert intake_refusal(genuine(), verifier=verifier) == "certificate_revoked"


# -- 5. the seal: who may make one ------------------------------------------------------


def _seal_made_by_the_signer() -> bytes:
    """The market's signer makes itself a seal named and pictured 福州市公安局, and seals
    a license with it: no seal maker (印章制作单位) involved."""
    signer = sm2_pki().signers[MARKET]
    seal = forge.self_made_seal(signer, signer, POLICE)
    return OfdSealer(signer, seal).seal_ofd(sample_ofd("居住证", FORGED_LINES))


def test_seal_made_by_the_signer_shows_another_department() -> None:
    report = verify(_seal_made_by_the_signer())
    assert report.signatures[0].seal_name == f"{POLICE}电子印章"
    assert report.signatures[0].signer_credit_code == MARKET_DEPT


def test_seal_made_by_the_signer_is_flagged() -> None:
    _assert_flagged(_seal_made_by_the_signer())


# -- 6. hostile values: a verdict, never an exception -------------------------------------


def _naive_time_seal() -> bytes:
    rogue = forge.attacker_pki()
    signer = rogue.signers[POLICE]
    seal = forge.self_made_seal(rogue.maker, signer, POLICE, naive_times=True)
    return forge.UncheckedSealer(signer, seal).seal_ofd(genuine())


def test_seal_times_without_a_zone_give_a_verdict() -> None:
    report = verify(_naive_time_seal())
    assert report.indication is not Indication.TOTAL_PASSED
    assert "carries no time zone" in " ".join(report.reasons)


def test_evault_refuses_to_seal_with_a_seal_without_time_zones() -> None:
    from signing.errors import SealingError

    rogue = forge.attacker_pki()
    signer = rogue.signers[POLICE]
    seal = forge.self_made_seal(rogue.maker, signer, POLICE, naive_times=True)
    with pytest.raises(SealingError, match="no time zone"):
        OfdSealer(signer, seal)


def _central_directory_version() -> bytes:
    data = bytearray(genuine())
    at = data.rfind(b"PK\x01\x02")
    data[at + 6] = 0xFF  # "version needed to extract" of the last central-directory record
    return bytes(data)


def _negative_sm2_value() -> bytes:
    """The genuine SES_Signature with its (unsigned) signature value replaced by r = -1."""
    from asn1crypto import algos

    from signing.ofd.ses import SesSignatureV4

    parts = ofd_parts(genuine())
    path = "Doc_0/Signs/Sign_0/SignedValue.dat"
    sig = SesSignatureV4.load(parts[path])
    value = SesSignatureV4(
        {
            "to_sign": sig["to_sign"],
            "cert": sig["cert"],
            "signature_alg_id": sig["signature_alg_id"],
            "signature": algos.DSASignature({"r": -1, "s": 1}).dump(),
        }
    )
    return rebuild_ofd({**parts, path: value.dump()})


def _broken_issuer_name() -> bytes:
    """The genuine signer certificate (outside TBS_Sign in V4) with one tag of its issuer
    name changed: the key, so the SM2 signature, still verifies."""
    parts = ofd_parts(genuine())
    path = "Doc_0/Signs/Sign_0/SignedValue.dat"
    raw = bytearray(parts[path])
    at = raw.rfind(b"evault Demo SM2 Issuing CA")
    assert raw[at - 2] == 0x0C  # UTF8String
    raw[at - 2] = 0x9B  # [CONTEXT 27]: no DirectoryString
    return rebuild_ofd({**parts, path: bytes(raw)})


def _undecodable_issuer_name() -> bytes:
    """The genuine signer certificate with a byte of its issuer name's UTF8String made
    invalid UTF-8 (fuzzing found this UnicodeDecodeError in chain building)."""
    parts = ofd_parts(genuine())
    path = "Doc_0/Signs/Sign_0/SignedValue.dat"
    raw = bytearray(parts[path])
    at = raw.rfind(b"evault Demo SM2 Issuing CA")
    raw[at] = 0xFF  # never valid in UTF-8
    return rebuild_ofd({**parts, path: bytes(raw)})


def _naive_time_signature() -> bytes:
    """The genuine seal used by its real signer, with a TBS_Sign timeInfo without a zone
    (signed again): the seal's validity (aware) is compared with it."""
    from asn1crypto import core

    from signing.der import der_tlv

    parts = ofd_parts(genuine())
    path = "Doc_0/Signs/Sign_0/SignedValue.dat"
    outer = core.Sequence.load(parts[path])
    tbs = core.Sequence.load(outer[0].dump())
    fields = [tbs[i].dump() for i in range(len(tbs))]
    at = next(i for i, f in enumerate(fields) if f[:1] == b"\x18")
    fields[at] = b"\x18\x0e20260101120000"
    to_sign = der_tlv(0x30, b"".join(fields))
    signature = sm2_pki().signers[MARKET].key.sign(to_sign)
    rest = [outer[i].dump() for i in range(1, len(outer))]
    rest[2] = der_tlv(0x03, b"\x00" + signature)
    return rebuild_ofd({**parts, path: der_tlv(0x30, to_sign + b"".join(rest))})


HOSTILE = {
    "zip-version-needed": (_central_directory_version, NotImplementedError),
    "negative-sm2-r": (_negative_sm2_value, InternalError),
    "issuer-name-tag": (_broken_issuer_name, ValueError),
    "issuer-name-utf8": (_undecodable_issuer_name, UnicodeDecodeError),
    "naive-signing-time": (_naive_time_signature, TypeError),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_value_gives_a_verdict(name: str) -> None:
    """Each raised ``HOSTILE[name][1]`` inside the verifier once; now a verdict."""
    build = HOSTILE[name][0]
    report = verify(build())
    assert report.indication is not Indication.TOTAL_PASSED
    assert not accepted_by_intake(build())


# -- 7. a V1 seal that lists no certificate (as iOFD's do) -------------------------------


def _v1_police_seal_used_by(department: str, listed: bool) -> bytes:
    """The police's V1 seal, made by the seal maker, copied out of any police license (a
    seal travels inside every signed value), used by ``department``'s signer."""
    from asn1crypto import core

    pki = sm2_pki()
    cert_list: list[Any] = (
        [core.OctetString(pki.signers[POLICE].cert)] if listed else [core.IA5String("1")]
    )
    seal = forge.v1_seal(pki.maker, POLICE, cert_list)
    return forge.V1Sealer(pki.signers[department], seal).seal_ofd(
        sample_ofd("居住证", FORGED_LINES)
    )


def test_v1_seal_listing_its_certificate_passes_for_its_own_department() -> None:
    data = _v1_police_seal_used_by(POLICE, listed=True)
    report = verify(data)
    assert report.indication is Indication.TOTAL_PASSED, report.reasons
    assert (report.signatures[0].signature_format or "").startswith("SES_Signature V1")


def test_v1_seal_listing_nothing_is_indeterminate_even_for_its_own_department() -> None:
    """A seal that binds no signer cannot tell its department's use from anyone's reuse of
    a copy (every signed value carries the seal): it is not trusted for anyone."""
    report = verify(_v1_police_seal_used_by(POLICE, listed=False))
    assert report.indication is Indication.INDETERMINATE
    assert report.signatures[0].intact
    assert "lists no signer certificate" in " ".join(report.reasons)


def test_v1_seal_listing_its_certificate_refuses_another_signer() -> None:
    data = _v1_police_seal_used_by(MARKET, listed=True)
    assert verify(data).indication is Indication.INDETERMINATE
    assert intake_refusal(data) == "verification_failed"


def test_v1_seal_listing_nothing_is_used_by_another_department() -> None:
    report = verify(_v1_police_seal_used_by(MARKET, listed=False))
    assert report.signatures[0].seal_name == f"{POLICE}电子印章"
    assert report.signatures[0].signer_credit_code == MARKET_DEPT


def test_v1_seal_listing_nothing_is_flagged_for_another_signer() -> None:
    _assert_flagged(_v1_police_seal_used_by(MARKET, listed=False))


# -- 8. CRLs: which one counts ------------------------------------------------------------


def _verifier_with_crls(old_first: bool) -> Any:
    from signing.ofd.verifier import OfdVerifier
    from signing.trust import TrustBundle

    pki = sm2_pki()
    old, new = pki.crls(), pki.crls(revoked=[pki.signers[MARKET].cert])
    bundle = TrustBundle.from_certificates(
        roots=[pki.root.cert],
        intermediates=[pki.ca.cert],
        crls=old + new if old_first else new + old,
        seal_makers=[pki.maker.cert],
    )
    return OfdVerifier(bundle)


def test_revocation_on_the_first_crl_is_refused() -> None:
    assert intake_refusal(genuine(), verifier=_verifier_with_crls(False)) == "certificate_revoked"


def test_revocation_on_a_later_crl_is_refused() -> None:
    assert intake_refusal(genuine(), verifier=_verifier_with_crls(True)) == "certificate_revoked"


def test_seal_made_by_an_untrusted_maker_is_refused() -> None:
    """The market's real signer with a seal from a maker outside the trust bundle."""
    signer = sm2_pki().signers[MARKET]
    seal = forge.self_made_seal(forge.attacker_pki().maker, signer, POLICE)
    data = OfdSealer(signer, seal).seal_ofd(sample_ofd("居住证", FORGED_LINES))
    report = verify(data)
    assert report.indication is Indication.INDETERMINATE
    assert "seal maker" in " ".join(report.reasons)
    assert intake_refusal(data) == "verification_failed"
