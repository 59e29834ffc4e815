"""What ``evault demo`` prints: how to log in and call the API."""

from __future__ import annotations

from api.demo.prepare import DemoSummary
from api.demo.samples import (
    HOUSING,
)

__all__ = ["instructions"]


def _hsm_lines(summary: DemoSummary) -> list[str]:
    hsm = summary.hsm
    if hsm is None or hsm.conf is None:
        return []
    chain = hsm.seal_settings["seal_certificates"]
    return [
        f"The vault's seal key is in SoftHSM2 (token {hsm.seal_settings['seal_pkcs11_token']},"
        f" key {hsm.seal_settings['seal_pkcs11_key']}, SOFTHSM2_CONF={hsm.conf});",
        f"  its certificate chain: {chain}",
        "",
    ]


def instructions(summary: DemoSummary) -> str:
    """How to log in and call the API, for the terminal."""
    doc = summary.document
    base = summary.base_url
    housing = next(d for d in doc["departments"] if d["credit_code"] == HOUSING[1])
    holder = doc["holders"][0]
    lines = [
        f"evault demo: data in {summary.data_dir}",
        f"  API:          {base}   (OpenAPI: {base}/docs)",
        f"  credentials:  {summary.credentials_file}",
        "",
        "Departments (client id / secret / scopes):",
    ]
    for d in doc["departments"]:
        lines.append(
            f"  {d['name']}: {d['client_id']} / {d['client_secret']} ({' '.join(d['scopes'])})"
        )
    lines += [
        "",
        "Holders (ID number; each one's token for `Authorization: Bearer` is in"
        " demo-credentials.json, or make one with `./dev dev-token`):",
    ]
    for h in doc["holders"]:
        lines.append(f"  {h['name']} {h['holder_id']}")
    lines += [
        "",
        "Try it (a using department, with its standing permission for 居住证):",
        f"  TOKEN=$(curl -s {base}/v1/oauth/token -d grant_type=client_credentials \\",
        f"      -d client_id={housing['client_id']} -d client_secret={housing['client_secret']} \\",
        "      | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')",
        f'  curl -s {base}/v1/licenses/search -H "Authorization: Bearer $TOKEN" \\',
        "      -H 'Content-Type: application/json' \\",
        f'      -d \'{{"holder_id": "{holder["holder_id"]}", '
        '"purpose": "住房保障", "case_no": "DEMO-1"}\'',
        "",
        "A holder's own licenses:",
        f"  HOLDER_TOKEN=$(./dev dev-token --data {summary.data_dir} \\",
        f"      --holder {holder['holder_id']})",
        f'  curl -s {base}/v1/me/licenses -H "Authorization: Bearer $HOLDER_TOKEN"',
        "",
        *_hsm_lines(summary),
        "Operators and auditors: in this checkout `./dev COMMAND` acts on this demo",
        "  (./dev trust export, ./dev log export --out DIR, ./dev dept add ...).",
        "OFD licenses: the 食品经营许可证 and the 不动产权证书 are OFD files sealed with SM2",
        f"  (GB/T 38540); check one offline: ./dev verify FILE.ofd --trust {doc['trust_bundle']}",
        f"Issuers: seal and push {doc['specimen']['pdf']}",
        "  (./dev seal, then POST /v1/licenses: docs/api.md, Issuing departments).",
    ]
    return "\n".join(lines)
