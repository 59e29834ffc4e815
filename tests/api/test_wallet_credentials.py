"""Done-when of issue 17 part 2, over HTTP: a credential issued through OpenID4VCI (this
test is the wallet, with its own key), presented with exactly two of its fields; the
verifier sees exactly those two; after the license is revoked the same presentation reads
revoked. Then the attacks on the flow, each refused."""

from __future__ import annotations

import json
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from jwcrypto import jwk, jws
from sd_jwt.holder import SDJWTHolder

from tests.api.conftest import HOLDER, Api

VERIFIER_AUD, VERIFIER_NONCE = "https://verifier.example.gov.cn", "8c1f7d0e6a"


@dataclass
class Wallet:
    """A wallet as a test: its key and the calls OpenID4VCI makes it do."""

    api: Api
    key: jwk.JWK

    @classmethod
    def new(cls, api: Api) -> Wallet:
        return cls(api, jwk.JWK.generate(kty="EC", crv="P-256"))

    def proof(self, *, aud: str, nonce: str, iat: int | None = None) -> str:
        token = jws.JWS(json.dumps({"aud": aud, "nonce": nonce, "iat": iat or int(time.time())}))
        header = {
            "alg": "ES256",
            "typ": "openid4vci-proof+jwt",
            "jwk": self.key.export_public(as_dict=True),
        }
        token.add_signature(self.key, alg="ES256", protected=json.dumps(header))
        return str(token.serialize(compact=True))

    def token(self, offer: dict[str, Any], tx_code: str | None) -> Any:
        grant = offer["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]
        form = {
            "grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code",
            "pre-authorized_code": grant["pre-authorized_code"],
        }
        if tx_code is not None:
            form["tx_code"] = tx_code
        return self.api.client.post("/oid4vci/token", data=form)

    def credential(self, access_token: str, proof: str) -> Any:
        return self.api.client.post(
            "/oid4vci/credential",
            headers={"Authorization": f"Bearer {access_token}"},
            json={"credential_configuration_id": "evault_license", "proofs": {"jwt": [proof]}},
        )

    def nonce(self) -> str:
        r = self.api.client.post("/oid4vci/nonce")
        assert r.status_code == 200, r.text
        return str(r.json()["c_nonce"])

    def present(self, credential: str, fields: list[str]) -> str:
        holder = SDJWTHolder(credential)
        holder.create_presentation(
            {name: True for name in fields},
            nonce=VERIFIER_NONCE,
            aud=VERIFIER_AUD,
            holder_key=self.key,
        )
        return str(holder.sd_jwt_presentation)


def _offer(api: Api, license_id: str, **body: Any) -> dict[str, Any]:
    r = api.client.post(
        f"/v1/me/licenses/{license_id}/credential-offer", headers=api.holder(), json=body
    )
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    # what a wallet scans: the offer travels in the link, URL-encoded
    link = urllib.parse.urlsplit(out["offer_link"])
    assert link.scheme == "openid-credential-offer"
    scanned = json.loads(urllib.parse.parse_qs(link.query)["credential_offer"][0])
    assert scanned == out["credential_offer"]
    return out


def _take(api: Api, wallet: Wallet, license_id: str) -> str:
    """The whole OpenID4VCI pre-authorized code flow; returns the SD-JWT VC."""
    offer = _offer(api, license_id)
    meta = api.client.get("/.well-known/openid-credential-issuer").json()
    assert meta["credential_issuer"] == offer["credential_offer"]["credential_issuer"]
    assert "evault_license" in meta["credential_configurations_supported"]
    r = wallet.token(offer["credential_offer"], offer["tx_code"])
    assert r.status_code == 200, r.text
    access = r.json()["access_token"]
    proof = wallet.proof(aud=meta["credential_issuer"], nonce=wallet.nonce())
    r = wallet.credential(access, proof)
    assert r.status_code == 200, r.text
    return str(r.json()["credentials"][0]["credential"])


def _verify(api: Api, presentation: str) -> dict[str, Any]:
    r = api.client.post(
        "/v1/credentials/verify",
        json={"presentation": presentation, "nonce": VERIFIER_NONCE, "audience": VERIFIER_AUD},
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


@pytest.fixture
def license_id(api: Api) -> str:
    r = api.push(1)
    assert r.status_code == 201, r.text
    return str(r.json()["license"]["id"])


def test_done_when_two_fields_then_revoked(api: Api, license_id: str) -> None:
    wallet = Wallet.new(api)
    credential = _take(api, wallet, license_id)
    presentation = wallet.present(credential, ["license_number", "license_name"])

    result = _verify(api, presentation)
    assert result["accepted"] is True, result
    assert result["status"] == "valid"
    assert result["disclosed_fields"] == ["license_name", "license_number"]
    mine = api.client.get("/v1/me/licenses", headers=api.holder()).json()["licenses"][0]
    assert result["disclosed"] == {"license_number": mine["number"], "license_name": mine["name"]}

    r = api.client.patch(
        f"/v1/licenses/{license_id}/status",
        headers=api.dept("market"),
        json={"status": "吊销", "reason": "违法经营"},
    )
    assert r.status_code == 200, r.text
    again = _verify(api, presentation)
    assert again["valid"] is True  # still the vault's signature and the wallet's key...
    assert again["status"] == "revoked"  # ...but the status list says revoked
    assert again["accepted"] is False
    assert again["disclosed_fields"] == ["license_name", "license_number"]


def test_issuance_is_in_the_holders_access_log(api: Api, license_id: str) -> None:
    _take(api, Wallet.new(api), license_id)
    log = api.client.get("/v1/me/access-log", headers=api.holder()).json()["entries"]
    actions = [e["action"] for e in log]
    assert "credential_issue" in actions and "credential_offer" in actions


def test_credential_holds_no_id_number_and_only_digests_in_clear(api: Api, license_id: str) -> None:
    credential = _take(api, Wallet.new(api), license_id)
    issuer_jwt, *disclosures = credential.rstrip("~").split("~")
    body = issuer_jwt.split(".")[1]
    clear = json.loads(urllib.parse.unquote(_b64(body)))
    assert set(clear) <= {"iss", "vct", "iat", "exp", "status", "cnf", "_sd", "_sd_alg"}
    decoded = " ".join(_b64(d) for d in disclosures)
    assert HOLDER not in credential and HOLDER not in decoded
    assert HOLDER[-4:] in decoded  # the masked form is offered


def _b64(text: str) -> str:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()


def test_code_is_single_use_and_tx_code_guesses_end_the_offer(api: Api, license_id: str) -> None:
    wallet = Wallet.new(api)
    offer = _offer(api, license_id)
    r = wallet.token(offer["credential_offer"], None)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    wrong = "000000" if offer["tx_code"] != "000000" else "111111"
    for _ in range(5):
        r = wallet.token(offer["credential_offer"], wrong)
        assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    r = wallet.token(offer["credential_offer"], offer["tx_code"])  # right, but too late
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"

    offer = _offer(api, license_id)
    assert wallet.token(offer["credential_offer"], offer["tx_code"]).status_code == 200
    r = wallet.token(offer["credential_offer"], offer["tx_code"])
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_proof_must_carry_a_fresh_nonce_for_this_issuer(api: Api, license_id: str) -> None:
    wallet = Wallet.new(api)
    offer = _offer(api, license_id)
    access = wallet.token(offer["credential_offer"], offer["tx_code"]).json()["access_token"]
    issuer = offer["credential_offer"]["credential_issuer"]
    r = wallet.credential(access, wallet.proof(aud=issuer, nonce="made-up"))
    assert r.status_code == 400 and r.json()["error"] == "invalid_nonce"
    r = wallet.credential(access, wallet.proof(aud="https://evil.example", nonce=wallet.nonce()))
    assert r.status_code == 400 and r.json()["error"] == "invalid_proof"
    nonce = wallet.nonce()
    r = wallet.credential(access, wallet.proof(aud=issuer, nonce=nonce))
    assert r.status_code == 200, r.text
    r = wallet.credential(access, wallet.proof(aud=issuer, nonce=wallet.nonce()))
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"  # one credential


def test_another_holders_license_cannot_be_offered(api: Api, license_id: str) -> None:
    from tests.api.conftest import OTHER_HOLDER

    r = api.client.post(
        f"/v1/me/licenses/{license_id}/credential-offer", headers=api.holder(OTHER_HOLDER)
    )
    assert r.status_code == 404


def test_a_revoked_license_gets_no_offer(api: Api, license_id: str) -> None:
    api.client.patch(
        f"/v1/licenses/{license_id}/status",
        headers=api.dept("market"),
        json={"status": "注销", "reason": "申请注销"},
    )
    r = api.client.post(
        f"/v1/me/licenses/{license_id}/credential-offer", headers=api.holder(), json={}
    )
    assert r.status_code == 409, r.text


def test_another_wallets_key_cannot_present(api: Api, license_id: str) -> None:
    credential = _take(api, Wallet.new(api), license_id)
    thief = Wallet.new(api)
    result = _verify(api, thief.present(credential, ["license_number"]))
    assert result["accepted"] is False and result["valid"] is False


def test_status_list_and_metadata_are_public(api: Api, license_id: str) -> None:
    credential = _take(api, Wallet.new(api), license_id)
    clear = json.loads(_b64(credential.split(".")[1]))
    uri = clear["status"]["status_list"]["uri"]
    r = api.client.get(urllib.parse.urlsplit(uri).path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/statuslist+jwt")
    jwks = api.client.get("/.well-known/jwt-vc-issuer").json()["jwks"]["keys"]
    assert jwks[0]["kty"] == "EC" and "d" not in jwks[0]
    assert api.client.get(urllib.parse.urlsplit(clear["vct"]).path).json()["vct"] == clear["vct"]
    assert api.client.get("/credentials/status/99").status_code == 404


def test_the_cli_reads_what_the_endpoint_reads(api: Api, license_id: str, tmp_path: Path) -> None:
    """Offline: the trust bundle pins the key the issuer publishes; the status list token
    is the one the vault serves, saved."""
    from typer.testing import CliRunner

    from signing.trust import TrustBundle
    from tests.vault.licenses import trust_bundle
    from vault.cli import build_app

    wallet = Wallet.new(api)
    credential = _take(api, wallet, license_id)
    base = tmp_path
    (base / "p.txt").write_text(wallet.present(credential, ["holder_name", "valid_until"]))
    keys = api.client.get("/.well-known/jwt-vc-issuer").json()["jwks"]["keys"]
    bundle = TrustBundle(roots=trust_bundle().roots, credential_keys=tuple(keys))
    (base / "bundle.json").write_bytes(bundle.dump())
    status_path = urllib.parse.urlsplit(
        json.loads(_b64(credential.split(".")[1]))["status"]["status_list"]["uri"]
    ).path
    args = [
        "credential", "verify", str(base / "p.txt"), "--trust", str(base / "bundle.json"),
        "--nonce", VERIFIER_NONCE, "--aud", VERIFIER_AUD,
        "--status-list", str(base / "s.jwt"), "--json",
    ]  # fmt: skip
    (base / "s.jwt").write_text(api.client.get(status_path).text)
    result = CliRunner().invoke(build_app(), args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["disclosed_fields"] == ["holder_name", "valid_until"]
    api.client.patch(
        f"/v1/licenses/{license_id}/status",
        headers=api.dept("market"),
        json={"status": "暂扣", "reason": "检查中"},
    )
    (base / "s.jwt").write_text(api.client.get(status_path).text)
    result = CliRunner().invoke(build_app(), args)
    assert result.exit_code == 1 and json.loads(result.output)["status"] == "suspended"


def test_a_status_entry_taken_meanwhile_is_drawn_again(
    api: Api, license_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two issuances that draw the same random entry: the second draws again (the unique
    constraint decides), rather than failing or sharing the entry."""
    draws = iter([(1, 5), (1, 5), (1, 6)])
    monkeypatch.setattr("vault.services.wallet.allocate_index", lambda session: next(draws))
    first = _take(api, Wallet.new(api), license_id)
    second = _take(api, Wallet.new(api), license_id)
    indices = [
        json.loads(_b64(c.split(".")[1]))["status"]["status_list"]["idx"] for c in (first, second)
    ]
    assert indices == [5, 6]


def test_production_without_a_credential_key_issues_nothing(api: Api, tmp_path: Path) -> None:
    """No working default in production: every credential route says it is not configured;
    with EVAULT_CREDENTIAL_KEY set, the issuer publishes that key."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from signing.credentials.keys import CredentialKey
    from tests.api.test_ops_auth import _vault_of
    from tests.helpers.production import production_settings
    from vault.settings import load_settings

    settings = load_settings(**production_settings(tmp_path / "prod"))
    with TestClient(create_app(settings, vault=_vault_of(api))) as client:
        for method, path in [
            ("GET", "/.well-known/openid-credential-issuer"),
            ("GET", "/.well-known/jwt-vc-issuer"),
            ("POST", "/oid4vci/nonce"),
            ("GET", "/credentials/status/1"),
        ]:
            r = client.request(method, path)
            assert r.status_code == 404, path
            assert r.json()["type"] == "urn:evault:problem:credentials-not-configured"
    key = CredentialKey.generate()
    (tmp_path / "credential.pem").write_bytes(key.private_pem())
    settings = load_settings(
        **production_settings(tmp_path / "prod"), credential_key=tmp_path / "credential.pem"
    )
    with TestClient(create_app(settings, vault=_vault_of(api))) as client:
        keys = client.get("/.well-known/jwt-vc-issuer").json()["jwks"]["keys"]
        assert [k["kid"] for k in keys] == [key.kid]


def test_a_new_version_makes_the_old_credential_read_revoked(api: Api, license_id: str) -> None:
    """Superseded, like a certified copy of an old version: the holder takes the new one."""
    from tests.vault.licenses import license_pdf, metadata

    wallet = Wallet.new(api)
    presentation = wallet.present(_take(api, wallet, license_id), ["license_number"])
    assert _verify(api, presentation)["status"] == "valid"
    meta = metadata(1, version=2, change_reason="换证")
    r = api.client.post(
        "/v1/licenses",
        headers=api.dept("market"),
        files={"pdf": ("license-2.pdf", license_pdf(2), "application/pdf")},
        data={"metadata": meta.model_dump_json()},
    )
    assert r.status_code == 201 and r.json()["version"] == 2, r.text
    assert _verify(api, presentation)["status"] == "revoked"
    fresh = wallet.present(_take(api, wallet, license_id), ["license_number"])
    assert _verify(api, fresh)["accepted"] is True


def test_a_half_full_status_list_is_followed_by_the_next(
    api: Api, license_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("vault.services.status_lists.LIST_SIZE", 8)
    uris = []
    for _ in range(5):
        credential = _take(api, Wallet.new(api), license_id)
        uris.append(json.loads(_b64(credential.split(".")[1]))["status"]["status_list"]["uri"])
    assert [u.rsplit("/", 1)[1] for u in uris] == ["1", "1", "1", "1", "2"]
    assert api.client.get("/credentials/status/2").status_code == 200
    assert api.client.get("/credentials/status/3").status_code == 404


def test_a_license_revoked_after_the_offer_gets_no_credential(api: Api, license_id: str) -> None:
    wallet = Wallet.new(api)
    offer = _offer(api, license_id)
    access = wallet.token(offer["credential_offer"], offer["tx_code"]).json()["access_token"]
    api.client.patch(
        f"/v1/licenses/{license_id}/status",
        headers=api.dept("market"),
        json={"status": "吊销", "reason": "违法经营"},
    )
    issuer = offer["credential_offer"]["credential_issuer"]
    r = wallet.credential(access, wallet.proof(aud=issuer, nonce=wallet.nonce()))
    assert r.status_code == 400 and r.json()["error"] == "credential_request_denied"
    log = api.client.get("/v1/me/access-log", headers=api.holder()).json()["entries"]
    assert "credential_issue" not in [e["action"] for e in log]
