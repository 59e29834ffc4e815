"""signing.credentials: an SD-JWT VC issued, presented by a wallet (the reference holder),
verified; each refusal built as an attack first."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time

import pytest
from jwcrypto import jwk, jws
from sd_jwt.holder import SDJWTHolder

from signing.credentials.keys import CredentialKey
from signing.credentials.sdjwt import issue_sd_jwt_vc, verify_presentation
from signing.credentials.status_list import StatusList
from signing.credentials.tokens import check_proof, read_status_list_token, sign_status_list_token
from signing.errors import CredentialError

AUD, NONCE = "https://verifier.example", "n-0S6_WzA2Mj"
ISSUER = CredentialKey.generate()
WALLET = jwk.JWK.generate(kty="EC", crv="P-256")
FIELDS = {"license_name": "营业执照", "license_number": "N-1", "holder_name": "张三"}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _issue(**extra: object) -> str:
    clear = {"iss": "https://vault.example", "vct": "https://vault.example/t", **extra}
    return issue_sd_jwt_vc(
        key=ISSUER,
        clear=clear,
        disclosable=FIELDS,
        holder_jwk=WALLET.export_public(as_dict=True),
    )


def _present(credential: str, names: list[str], *, aud: str = AUD, nonce: str = NONCE) -> str:
    holder = SDJWTHolder(credential)
    holder.create_presentation(
        {name: True for name in names}, nonce=nonce, aud=aud, holder_key=WALLET
    )
    return str(holder.sd_jwt_presentation)


def _verify(presentation: str, **kw: object) -> object:
    args: dict = {"trusted_keys": [ISSUER.public_jwk()], "audience": AUD, "nonce": NONCE}
    args.update(kw)
    return verify_presentation(presentation, now=_now(), **args)


def test_two_of_three_fields_disclosed_exactly() -> None:
    check = _verify(_present(_issue(), ["license_number", "holder_name"]))
    assert check.valid, check.problems
    assert check.disclosed == {"license_number": "N-1", "holder_name": "张三"}
    assert check.issuer == "https://vault.example"


def test_clear_claims_hold_no_field_value() -> None:
    payload = _issue().split("~")[0].split(".")[1]
    text = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    assert "N-1" not in text and "license_number" not in text


@pytest.mark.parametrize(
    ("kw", "needle"),
    [
        ({"audience": "https://other.example"}, "audience"),
        ({"nonce": "another"}, "nonce"),
        ({"trusted_keys": [CredentialKey.generate().public_jwk()]}, "trusted"),
    ],
)
def test_wrong_verifier_context_is_refused(kw: dict, needle: str) -> None:
    check = _verify(_present(_issue(), ["license_number"]), **kw)
    assert not check.valid
    assert needle in " ".join(check.problems).lower()


def test_presentation_without_key_binding_is_refused() -> None:
    holder = SDJWTHolder(_issue())
    holder.create_presentation({"license_number": True})
    check = _verify(holder.sd_jwt_presentation)
    assert not check.valid and "Key Binding" in check.problems[0]


def test_a_disclosure_nothing_references_is_refused() -> None:
    presentation = _present(_issue(), ["license_number"])
    jwt_part, *rest = presentation.split("~")
    stray = base64.urlsafe_b64encode(b'["c2FsdA", "holder_id", "11010519491231002X"]')
    # the KB-JWT's sd_hash covers the disclosures: make the wallet sign over the stray one
    forged = "~".join([jwt_part, *rest[:-1], stray.rstrip(b"=").decode(), ""])
    kb = jws.JWS(
        json.dumps(
            {
                "nonce": NONCE,
                "aud": AUD,
                "iat": int(time.time()),
                "sd_hash": base64.urlsafe_b64encode(
                    __import__("hashlib").sha256(forged.encode()).digest()
                )
                .rstrip(b"=")
                .decode(),
            }
        )
    )
    kb.add_signature(WALLET, alg="ES256", protected=json.dumps({"alg": "ES256", "typ": "kb+jwt"}))
    check = _verify(forged + kb.serialize(compact=True))
    assert not check.valid and "not referenced" in check.problems[0]


def test_an_old_key_binding_jwt_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sd_jwt.holder.time", lambda: time.time() - 3600)
    check = _verify(_present(_issue(), ["license_number"]))
    assert not check.valid and "older than" in check.problems[0]


def test_an_expired_credential_is_refused() -> None:
    check = _verify(_present(_issue(exp=int(time.time()) - 3600), ["license_number"]))
    assert not check.valid and "expired" in check.problems[0]


def test_garbage_is_a_verdict_not_an_exception() -> None:
    for text in ("", "abc", "a.b.c~", "~~~", "é" * 10):
        assert not _verify(text).valid


def test_status_list_token_round_trip_and_refusals() -> None:
    uri = "https://vault.example/credentials/status/1"
    listing = StatusList.build([(3, 1)], bits=2, size=16)
    token = sign_status_list_token(
        key=ISSUER, uri=uri, issuer="https://vault.example", status_list=listing, now=_now(), ttl=60
    )
    read = read_status_list_token(token, uri=uri, trusted_keys=[ISSUER.public_jwk()], now=_now())
    assert read.status_list.get(3) == 1 and read.status_list.get(2) == 0
    with pytest.raises(CredentialError, match="is for"):
        read_status_list_token(token, uri=uri + "0", trusted_keys=[ISSUER.public_jwk()], now=_now())
    with pytest.raises(CredentialError, match="trusted"):
        read_status_list_token(
            token, uri=uri, trusted_keys=[CredentialKey.generate().public_jwk()], now=_now()
        )
    with pytest.raises(CredentialError, match="expired"):
        read_status_list_token(
            token,
            uri=uri,
            trusted_keys=[ISSUER.public_jwk()],
            now=_now() + dt.timedelta(hours=1),
        )


def test_a_zip_bomb_status_list_is_refused() -> None:
    import zlib

    bomb = base64.urlsafe_b64encode(zlib.compress(bytes(32 * 1024 * 1024), 9)).decode()
    with pytest.raises(CredentialError, match="larger"):
        StatusList.from_json({"bits": 1, "lst": bomb.rstrip("=")})


def _proof(claims: dict, header: dict | None = None) -> str:
    token = jws.JWS(json.dumps(claims))
    protected = header or {
        "alg": "ES256",
        "typ": "openid4vci-proof+jwt",
        "jwk": WALLET.export_public(as_dict=True),
    }
    token.add_signature(WALLET, alg="ES256", protected=json.dumps(protected))
    return str(token.serialize(compact=True))


def test_proof_of_possession() -> None:
    good = {"aud": "https://vault.example", "nonce": "c1", "iat": int(time.time())}
    key = check_proof(_proof(good), audience="https://vault.example", nonce="c1", now=_now())
    assert key["x"] == WALLET.export_public(as_dict=True)["x"]
    for bad, needle in [
        ({**good, "aud": "https://evil.example"}, "not this issuer"),
        ({**good, "nonce": "c2"}, "nonce"),
        ({**good, "iat": int(time.time()) - 3600}, "iat"),
    ]:
        with pytest.raises(CredentialError, match=needle):
            check_proof(_proof(bad), audience="https://vault.example", nonce="c1", now=_now())
    other = jwk.JWK.generate(kty="EC", crv="P-256").export_public(as_dict=True)
    forged = _proof(good, {"alg": "ES256", "typ": "openid4vci-proof+jwt", "jwk": other})
    with pytest.raises(CredentialError, match="signature"):
        check_proof(forged, audience="https://vault.example", nonce="c1", now=_now())


def test_trust_bundle_carries_credential_keys() -> None:
    from signing.errors import TrustError
    from signing.trust import TrustBundle
    from tests.vault.licenses import trust_bundle

    plain = trust_bundle()
    with_key = TrustBundle(roots=plain.roots, credential_keys=({**ISSUER.public_jwk()},))
    assert TrustBundle(roots=plain.roots).fingerprint != with_key.fingerprint
    # a bundle without credential keys keeps the fingerprint it always had
    assert b"credential_keys" not in TrustBundle(roots=plain.roots)._canonical()
    loaded = TrustBundle.load(with_key.dump())
    assert loaded.credential_keys[0]["kid"] == ISSUER.kid
    assert loaded.fingerprint == with_key.fingerprint
    doc = json.loads(with_key.dump())
    doc["credential_keys"][0]["x"] = CredentialKey.generate().public_jwk()["x"]
    with pytest.raises(TrustError, match="fingerprint mismatch"):
        TrustBundle.load(json.dumps(doc).encode())
    with pytest.raises(TrustError, match="credential key #1"):
        TrustBundle(roots=plain.roots, credential_keys=({"kty": "OKP", "kid": "k"},))
    private = {**ISSUER.public_jwk(), "d": "AAAA"}
    with pytest.raises(TrustError, match="private"):
        TrustBundle(roots=plain.roots, credential_keys=(private,))
