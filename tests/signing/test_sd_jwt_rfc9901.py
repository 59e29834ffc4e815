"""The SD-JWT library against RFC 9901's own examples, and the Token Status List draft's.

The examples: RFC 9901 Section 5.1 (the issuer-signed JWT and its Disclosures) and 5.2
(a presentation with a Key Binding JWT), signed with the keys of Appendix A.5; the status
lists of draft-ietf-oauth-status-list Section 4.1 (1 and 2 bits per entry).

Finding (kept as tests): the reference implementation (sd-jwt 0.10.4, Feb 2024, before the
RFC) verifies the RFC's presentation and computes the same ``sd_hash``, but it accepts a
Disclosure no digest references (RFC 9901 7.1 step 5 says reject) and never reads the
KB-JWT's ``iat``; :func:`signing.credentials.sdjwt.verify_presentation` adds those checks.
"""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from jwcrypto import jwk
from sd_jwt.verifier import SDJWTVerifier

from signing.credentials.status_list import StatusList

# RFC 9901 Section 5.1: the issuer-signed JWT; Section 5.2: the Key Binding JWT.
JWT = (
    "eyJhbGciOiAiRVMyNTYiLCAidHlwIjogImV4YW1wbGUrc2Qtand0In0."
    + "eyJfc2QiOiBbIkNyUWU3UzVrcUJBSHQtbk1ZWGdjNmJkdDJTSDVhVFkxc1VfTS1QZ2tq"
    + "UEkiLCAiSnpZakg0c3ZsaUgwUjNQeUVNZmVadTZKdDY5dTVxZWhabzdGN0VQWWxTRSIs"
    + "ICJQb3JGYnBLdVZ1Nnh5bUphZ3ZrRnNGWEFiUm9jMkpHbEFVQTJCQTRvN2NJIiwgIlRH"
    + "ZjRvTGJnd2Q1SlFhSHlLVlFaVTlVZEdFMHc1cnREc3JaemZVYW9tTG8iLCAiWFFfM2tQ"
    + "S3QxWHlYN0tBTmtxVlI2eVoyVmE1TnJQSXZQWWJ5TXZSS0JNTSIsICJYekZyendzY002"
    + "R242Q0pEYzZ2Vks4QmtNbmZHOHZPU0tmcFBJWmRBZmRFIiwgImdiT3NJNEVkcTJ4Mkt3"
    + "LXc1d1BFemFrb2I5aFYxY1JEMEFUTjNvUUw5Sk0iLCAianN1OXlWdWx3UVFsaEZsTV8z"
    + "Smx6TWFTRnpnbGhRRzBEcGZheVF3TFVLNCJdLCAiaXNzIjogImh0dHBzOi8vaXNzdWVy"
    + "LmV4YW1wbGUuY29tIiwgImlhdCI6IDE2ODMwMDAwMDAsICJleHAiOiAxODgzMDAwMDAw"
    + "LCAic3ViIjogInVzZXJfNDIiLCAibmF0aW9uYWxpdGllcyI6IFt7Ii4uLiI6ICJwRm5k"
    + "amtaX1ZDem15VGE2VWpsWm8zZGgta284YUlLUWM5RGxHemhhVllvIn0sIHsiLi4uIjog"
    + "IjdDZjZKa1B1ZHJ5M2xjYndIZ2VaOGtoQXYxVTFPU2xlclAwVmtCSnJXWjAifV0sICJf"
    + "c2RfYWxnIjogInNoYS0yNTYiLCAiY25mIjogeyJqd2siOiB7Imt0eSI6ICJFQyIsICJj"
    + "cnYiOiAiUC0yNTYiLCAieCI6ICJUQ0FFUjE5WnZ1M09IRjRqNFc0dmZTVm9ISVAxSUxp"
    + "bERsczd2Q2VHZW1jIiwgInkiOiAiWnhqaVdXYlpNUUdIVldLVlE0aGJTSWlyc1ZmdWVj"
    + "Q0U2dDRqVDlGMkhaUSJ9fX0."
    + "MczwjBFGtzf-6WMT-hIvYbkb11NrV1WMO-jTijpMPNbswNzZ87wY2uHz"
    + "-CXo6R04b7jYrpj9mNRAvVssXou1iw"
)
FAMILY = "WyJlbHVWNU9nM2dTTklJOEVZbnN4QV9BIiwgImZhbWlseV9uYW1lIiwgIkRvZSJd"
ADDRESS = (
    "WyJBSngtMDk1VlBycFR0TjRRTU9xUk9BIiwgImFkZHJlc3MiLCB7InN0cmVldF9hZGRyZXNzIjogIjEyMyBNYWlu"
    "IFN0IiwgImxvY2FsaXR5IjogIkFueXRvd24iLCAicmVnaW9uIjogIkFueXN0YXRlIiwgImNvdW50cnkiOiAiVVMifV0"
)
GIVEN = "WyIyR0xDNDJzS1F2ZUNmR2ZyeU5STjl3IiwgImdpdmVuX25hbWUiLCAiSm9obiJd"
US = "WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIlVTIl0"
KB = (
    "eyJhbGciOiAiRVMyNTYiLCAidHlwIjogImtiK2p3dCJ9."
    + "eyJub25jZSI6ICIxMjM0NTY3ODkwIiwgImF1ZCI6ICJodHRwczovL3ZlcmlmaWVyLmV4YW1wbGUub3Jn"
    + "IiwgImlhdCI6IDE3NDg1MzcyNDQsICJzZF9oYXNoIjogIjBfQWYtMkItRWhMV1g1eWRoX3cyeHp3bU82"
    + "aU02NkJfMlFDRWFuSTRmVVkifQ."
    + "T3SIus2OidNl41nmVkTZVCKKhOAX97aOldMyHFiYjHm261eLiJ1YiuONFiMN8QlCmYzDlBLAdPvrXh52"
    + "KaLgUQ"
)

EMAIL = "WyI2SWo3dE0tYTVpVlBHYm9TNXRtdlZBIiwgImVtYWlsIiwgImpvaG5kb2VAZXhhbXBsZS5jb20iXQ"
# Appendix A.5: the issuer's public key.
ISSUER_KEY = jwk.JWK(
    kty="EC",
    crv="P-256",
    x="b28d4MwZMjw8-00CG4xfnn9SLMVMM19SlqZpVb_uNtQ",
    y="Xv5zWwuoaTgdS6hV43yI6gBwTnjukmFQQnJ_kCxzqk8",
)
AUD, NONCE = "https://verifier.example.org", "1234567890"
PRESENTED = "~".join([JWT, FAMILY, ADDRESS, GIVEN, US, ""])


def _b64hash(text: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()


def _payload(token: str) -> dict:
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def _verify(presentation: str) -> dict:
    verifier = SDJWTVerifier(
        presentation, lambda _iss, _header: ISSUER_KEY, expected_aud=AUD, expected_nonce=NONCE
    )
    return verifier.get_verified_payload()


def test_the_rfc_presentation_verifies_and_discloses_what_the_rfc_says() -> None:
    claims = _verify(PRESENTED + KB)
    assert claims["given_name"] == "John"
    assert claims["family_name"] == "Doe"
    assert claims["address"]["street_address"] == "123 Main St"
    assert claims["nationalities"] == ["US"]
    for hidden in ("email", "phone_number", "birthdate", "updated_at"):
        assert hidden not in claims
    assert "_sd" not in claims and "_sd_alg" not in claims


def test_disclosure_digests_and_sd_hash_are_computed_as_in_the_rfc() -> None:
    digests = _payload(JWT)["_sd"]
    for disclosure in (GIVEN, FAMILY, EMAIL, ADDRESS):
        assert _b64hash(disclosure) in digests
    assert _payload(KB)["sd_hash"] == _b64hash(PRESENTED)


@pytest.mark.parametrize(
    ("presentation", "why"),
    [
        (PRESENTED + KB.replace("T3SIus", "T3SIut"), "signature"),
        (PRESENTED.replace(FAMILY + "~", "") + KB, "sd_hash"),
        (JWT.replace("MczwjBF", "NczwjBF") + PRESENTED[len(JWT) :] + KB, "issuer signature"),
    ],
)
def test_the_library_refuses_a_tampered_rfc_presentation(presentation: str, why: str) -> None:
    with pytest.raises(Exception):  # noqa: B017 - the library raises ValueError or jwcrypto's
        _verify(presentation)


def test_gap_the_library_accepts_a_disclosure_nothing_references() -> None:
    """RFC 9901 7.1 step 5: such an SD-JWT MUST be rejected. The library lets it through,
    which is why verify_presentation checks it (tests/signing/test_credentials.py)."""
    stray = base64.urlsafe_b64encode(b'["c2FsdA", "email", "x@example.org"]').rstrip(b"=")
    claims = SDJWTVerifier(
        "~".join([JWT, GIVEN, stray.decode(), ""]), lambda _i, _h: ISSUER_KEY
    ).get_verified_payload()
    assert claims["given_name"] == "John" and "email" not in claims


# draft-ietf-oauth-status-list Section 4.1 examples.
@pytest.mark.parametrize(
    ("bits", "lst", "packed", "statuses"),
    [
        (
            1,
            "eNrbuRgAAhcBXQ",
            bytes([0xB9, 0xA3]),
            [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1],
        ),
        (2, "eNo76fITAAPfAgc", bytes([0xC9, 0x44, 0xF9]), [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]),
    ],
)
def test_status_list_examples(bits: int, lst: str, packed: bytes, statuses: list[int]) -> None:
    decoded = StatusList.from_json({"bits": bits, "lst": lst})
    assert decoded.data == packed
    assert [decoded.get(i) for i in range(len(statuses))] == statuses
    built = StatusList.build(enumerate(statuses), bits=bits, size=len(statuses))
    assert built.data == packed
    assert built.to_json() == {"bits": bits, "lst": lst}
