"""The credential pages over HTTP: a holder's QR code (which a reader decodes to the offer),
and the verifier's page showing exactly what a presentation disclosed."""

from __future__ import annotations

import json
import re
import time
import urllib.parse
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from jwcrypto import jwk, jws
from sd_jwt.holder import SDJWTHolder

from api.app import create_app
from api.pages.web import CSP
from tests.web.conftest import DemoData, csrf_of, login


@pytest.fixture(scope="module")
def client(demo_data: DemoData) -> Iterator[TestClient]:
    with TestClient(create_app(demo_data.settings("http://testserver"))) as c:
        yield c


def _offer_page(client: TestClient) -> tuple[str, str]:
    login(client)
    listing = client.get("/me")
    license_id = re.search(r'href="/me/licenses/([^/"]+)/wallet"', listing.text)
    assert license_id is not None, "no 'add to wallet' link on /me"
    form = client.get(f"/me/licenses/{license_id.group(1)}/wallet")
    assert form.status_code == 200 and "SD-JWT" in form.text
    r = client.post(
        f"/me/licenses/{license_id.group(1)}/wallet",
        data={"tx_code": "on", "csrf_token": csrf_of(form.text)},
    )
    assert r.status_code == 201, r.text
    assert r.headers["content-security-policy"] == CSP
    return license_id.group(1), r.text


def _decode_qr(html: str) -> str:
    """Draw the page's SVG path (runs ``M x y h w v1 h-w z``) and read it with zxing-cpp."""
    import zxingcpp
    from PIL import Image, ImageDraw

    side = int(re.search(r'viewBox="0 0 (\d+) \d+"', html).group(1))  # type: ignore[union-attr]
    scale = 6
    image = Image.new("L", (side * scale, side * scale), 255)
    draw = ImageDraw.Draw(image)
    path = re.search(r'<path fill="#000" d="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    for x, y, w in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", path):
        x0, y0 = int(x) * scale, int(y) * scale
        draw.rectangle([x0, y0, x0 + int(w) * scale - 1, y0 + scale - 1], fill=0)
    found = zxingcpp.read_barcodes(image)
    assert found, "the QR code does not decode"
    return str(found[0].text)


def test_offer_page_shows_a_qr_a_reader_decodes_to_the_offer(client: TestClient) -> None:
    _, html = _offer_page(client)
    link = re.search(r'href="(openid-credential-offer://[^"]+)"', html).group(1)  # type: ignore[union-attr]
    link = link.replace("&amp;", "&")
    assert _decode_qr(html) == link
    offer = json.loads(
        urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["credential_offer"][0]
    )
    assert offer["credential_configuration_ids"] == ["evault_license"]
    code = re.search(r'<dd class="mono">(\d{6})</dd>', html)
    assert code is not None  # the transaction code, shown once
    assert "<script" not in html and "style=" not in html


def test_the_verifier_page_lists_exactly_the_disclosed_fields(client: TestClient) -> None:
    _, html = _offer_page(client)
    link = re.search(r'href="(openid-credential-offer://[^"]+)"', html).group(1)  # type: ignore[union-attr]
    offer = json.loads(
        urllib.parse.parse_qs(urllib.parse.urlsplit(link.replace("&amp;", "&")).query)[
            "credential_offer"
        ][0]
    )
    code = re.search(r'<dd class="mono">(\d{6})</dd>', html).group(1)  # type: ignore[union-attr]
    grant = offer["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]
    token = client.post(
        "/oid4vci/token",
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code",
            "pre-authorized_code": grant["pre-authorized_code"],
            "tx_code": code,
        },
    ).json()["access_token"]
    key = jwk.JWK.generate(kty="EC", crv="P-256")
    nonce = client.post("/oid4vci/nonce").json()["c_nonce"]
    proof = jws.JWS(
        json.dumps({"aud": offer["credential_issuer"], "nonce": nonce, "iat": int(time.time())})
    )
    header = {"alg": "ES256", "typ": "openid4vci-proof+jwt", "jwk": key.export_public(as_dict=True)}
    proof.add_signature(key, alg="ES256", protected=json.dumps(header))
    r = client.post(
        "/oid4vci/credential",
        headers={"Authorization": f"Bearer {token}"},
        json={"proofs": {"jwt": [proof.serialize(compact=True)]}},
    )
    assert r.status_code == 200, r.text
    holder = SDJWTHolder(r.json()["credentials"][0]["credential"])
    holder.create_presentation(
        {"issuer_name": True, "license_type_name": True},
        nonce="page-nonce",
        aud="http://testserver/credentials/check",
        holder_key=key,
    )
    client.cookies.clear()
    form = client.get("/credentials/check?lang=en")
    assert form.status_code == 200 and "Check a license credential" in form.text
    result = client.post(
        "/credentials/check",
        data={
            "presentation": holder.sd_jwt_presentation,
            "nonce": "page-nonce",
            "audience": "http://testserver/credentials/check",
            "csrf_token": csrf_of(form.text),
        },
    )
    assert result.status_code == 200, result.text
    assert "Valid and not revoked" in result.text
    shown = re.findall(r"<div><dt>([^<]+)</dt><dd>", result.text)
    assert sorted(shown[2:]) == ["Issuer", "License type"]  # after the two verdict facts
    assert "Holder" not in shown
    login(client)  # the holder sees the offer and the issuance in its access log
    log = client.get("/me/log?lang=en")
    assert "wallet offer made" in log.text and "taken into a wallet" in log.text


def test_the_pages_refuse_a_form_without_its_csrf_token(client: TestClient) -> None:
    client.cookies.clear()
    r = client.post("/credentials/check", data={"presentation": "x", "nonce": "n", "audience": "a"})
    assert r.status_code == 403
    assert client.get("/me/licenses/x/wallet", follow_redirects=False).status_code == 303
