"""``evault demo``: the embedded default, filled with sample data, ready to call.

Idempotent on one data directory: the demo PKI, trust bundle, departments, credentials,
holders and licenses made by a first run are reused by the next (credentials are kept in
``DIR/demo-credentials.json``, which the operator may read: it is a demo).

Sample data: two issuing departments (市场监督管理局: 营业执照 and 食品经营许可证 for
companies; 公安局: 居住证 for citizens), two using departments (住房和城乡建设局 with a standing
permission for 营业执照 and 居住证; 税务局 with none, so it needs the holder's consent), an
auditor (audit:read), two citizens and one company. Every license is a PDF sealed PAdES
B-LT by its issuer's demo seal and ingested through the real intake.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from schemas.identifiers import (
    citizen_id_check_char,
    credit_code_check_char,
    organization_code_check_char,
)
from schemas.license import LicenseMetadata
from schemas.license_id import LicenseId
from vault.settings import Settings

__all__ = ["DemoSummary", "prepare_demo"]

CREDENTIALS_FILE = "demo-credentials.json"


def _code(body16: str) -> str:
    """A 统一社会信用代码 from its first 16 characters: both checks (GB 11714, GB 32100)."""
    body17 = body16 + organization_code_check_char(body16[8:16])
    return body17 + credit_code_check_char(body17)


def _citizen(body17: str) -> str:
    return body17 + citizen_id_check_char(body17)


VAULT = ("evault 电子证照库", _code("12350000MB000003"))
MARKET = ("福州市市场监督管理局", _code("1135010000360436"))
POLICE = ("福州市公安局", _code("11350100MB000001"))
HOUSING = ("福州市住房和城乡建设局", _code("11350100MB000002"))
TAX = ("国家税务总局福州市税务局", _code("11350100MB000003"))
AUDIT = ("福州市审计局", _code("11350100MB000004"))

BUSINESS = ("11100000000013338W021", "营业执照", "001")
FOOD = ("11100000000013338W051", "食品经营许可证", "001")
RESIDENCE = ("11100000000013338W031", "居住证", "111")

HOLDERS = (
    ("张三", "11010519491231002X", "111"),
    ("李四", _citizen("35010219900307123"), "111"),
    ("福州示例科技有限公司", "91350100M000100Y43", "001"),
)

# (department, roles, scopes, standing permissions)
DEPARTMENTS: tuple[
    tuple[tuple[str, str], tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...
] = (
    (MARKET, ("issuer",), ("licenses:issue",), ()),
    (POLICE, ("issuer",), ("licenses:issue",), ()),
    (HOUSING, ("user",), ("licenses:use",), (BUSINESS[0], RESIDENCE[0])),
    (TAX, ("user",), ("licenses:use",), ()),
    (AUDIT, ("user",), ("audit:read",), ()),
)

# (serial, type, issuer, holder index, number)
LICENSES = (
    (1, RESIDENCE, POLICE, 0, "闽榕居2024000101"),
    (2, RESIDENCE, POLICE, 1, "闽榕居2024000102"),
    (3, BUSINESS, MARKET, 2, "91350100M000100Y43"),
    (4, FOOD, MARKET, 2, "JY13501000000042"),
)


@dataclass(frozen=True)
class DemoSummary:
    data_dir: Path
    base_url: str
    credentials_file: Path
    document: dict[str, Any]


def _pki(settings: Settings) -> Any:
    from api.sealing import demo_pki_dir, demo_pki_password
    from signing.pki import DemoPKI

    directory = demo_pki_dir(settings)
    password = demo_pki_password(settings)
    if (directory / "pki.json").is_file():
        return DemoPKI.load(directory, password)
    departments = [MARKET, POLICE, HOUSING, TAX, AUDIT]
    pki = DemoPKI.generate(
        seed=secrets.token_bytes(32),
        departments=departments,
        now=dt.datetime.now(dt.UTC),
        vault=VAULT,
    )
    pki.save(directory, password)
    return pki


def _trust_bundle(settings: Settings, pki: Any) -> Path:
    from signing.trust import TrustBundle

    path = settings.data_dir / "trust-bundle.json"
    if not path.is_file():
        bundle = TrustBundle.from_certificates(
            roots=[pki.root.certificate],
            intermediates=[pki.issuing_ca.certificate],
            vault_seal=pki.vault_seal.certificate,
            description="evault demo trust bundle (not for production)",
        )
        path.write_bytes(bundle.dump())
    return path


def _sample_pdf(lines: list[str]) -> bytes:
    """A one-page A4 PDF with ASCII lines in Helvetica (the sealed original)."""
    import io

    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.content import RawContent
    from pyhanko.pdf_utils.writer import PdfFileWriter

    def esc(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

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
    ops = []
    y = 760
    for i, line in enumerate(lines):
        size = 20 if i == 0 else 12
        ops.append(f"BT /F1 {size} Tf 72 {y} Td ({esc(line)}) Tj ET")
        y -= 34 if i == 0 else 20
    content = RawContent(" ".join(ops).encode("ascii"))
    resources = generic.DictionaryObject(
        {generic.pdf_name("/Font"): generic.DictionaryObject({generic.pdf_name("/F1"): font})}
    )
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


def _load_document(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def prepare_demo(settings: Settings) -> DemoSummary:
    """Create (or reuse) everything the demo needs in ``settings.data_dir``."""
    from cryptography.hazmat.primitives import hashes

    from api.auth.holders import HolderAuthenticator
    from signing.keys import LocalKeySource
    from signing.seal import PadesLevel, Sealer
    from signing.timestamps import EmbeddedTSA
    from vault.bootstrap import open_vault
    from vault.services import catalog
    from vault.services.credentials import issue_credentials, set_scopes
    from vault.services.intake import ingest
    from vault.services.lifecycle import find_license

    assert settings.is_demo
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    pki = _pki(settings)
    bundle_path = _trust_bundle(settings, pki)
    credentials_path = settings.data_dir / CREDENTIALS_FILE
    previous = _load_document(credentials_path)
    known = {d.get("credit_code"): d for d in previous.get("departments", [])}
    vault = open_vault(settings)
    departments_out: list[dict[str, Any]] = []
    ids: dict[str, int] = {}
    try:
        with vault.session() as session:
            for (name, code), roles, scopes, _permits in DEPARTMENTS:
                department = catalog.find_department_by_code(session=session, credit_code=code)
                if department is None:
                    department = catalog.create_department(
                        session=session,
                        name=name,
                        credit_code=code,
                        issuer="issuer" in roles,
                        user="user" in roles,
                    )
                ids[code] = department.id
                set_scopes(session=session, department_id=department.id, scopes=scopes)
                if "issuer" in roles:
                    seal = pki.issuing_department_seal(code).certificate
                    catalog.add_seal_certificate(
                        session=session,
                        department_id=department.id,
                        fingerprint=seal.fingerprint(hashes.SHA256()).hex(),
                        label="demo seal",
                    )
            for code_, type_name, kind in (BUSINESS, FOOD, RESIDENCE):
                issuer_code = POLICE[1] if code_ == RESIDENCE[0] else MARKET[1]
                try:
                    catalog.get_license_type(session=session, code=code_)
                except Exception:
                    catalog.create_license_type(
                        session=session,
                        code=code_,
                        name=type_name,
                        holder_kind=kind,
                        issuer_department_ids=[ids[issuer_code]],
                    )
            for (_, code), _roles, _scopes, permits in DEPARTMENTS:
                for type_code in permits:
                    license_type = catalog.get_license_type(session=session, code=type_code)
                    catalog.grant_standing_permission(
                        session=session, department_id=ids[code], license_type_id=license_type.id
                    )
            for (name, code), roles, scopes, permits in DEPARTMENTS:
                department = catalog.get_department(session=session, department_id=ids[code])
                old = known.get(code)
                if (
                    old
                    and old.get("client_id") == department.oauth_client_id
                    and old.get("client_secret")
                ):
                    client_id, secret = str(old["client_id"]), str(old["client_secret"])
                else:
                    creds = issue_credentials(session=session, department_id=department.id)
                    client_id, secret = creds.client_id, creds.client_secret
                departments_out.append(
                    {
                        "name": name,
                        "credit_code": code,
                        "roles": list(roles),
                        "scopes": list(scopes),
                        "standing_permissions": list(permits),
                        "client_id": client_id,
                        "client_secret": secret,
                    }
                )

        tsa = EmbeddedTSA(
            certificate=pki.tsa.certificate, private_key=pki.tsa.private_key, chain=pki.chain
        )
        today = dt.datetime.now(dt.UTC).date()
        for serial, (type_code, type_name, _), (iname, icode), holder_index, number in LICENSES:
            hname, hid, hkind = HOLDERS[holder_index]
            with vault.session() as session:
                existing = find_license(
                    session=session,
                    type_code=type_code,
                    issuer_department_id=ids[icode],
                    number=number,
                )
                if existing is not None:
                    continue
            identity = pki.issuing_department_seal(icode)
            source = LocalKeySource(
                certificate=identity.certificate, private_key=identity.private_key, chain=pki.chain
            )
            sealer = Sealer(source, timestamper=tsa, crls=pki.crls())
            pdf = sealer.seal(
                _sample_pdf(
                    [
                        f"evault demo license #{serial}",
                        f"type {type_code}",
                        f"number {number.encode('ascii', 'replace').decode()}",
                        f"issuer {icode}",
                        f"issued {today.isoformat()}",
                    ]
                ),
                level=PadesLevel.B_LT,
                reason="issued",
            )
            meta = LicenseMetadata(
                name=type_name,
                type_code=type_code,
                number=number,
                license_identifier=str(
                    LicenseId.build(
                        type_code=type_code,
                        issuer_code=icode,
                        serial=f"{today.year}{serial:07d}",
                        version=1,
                    )
                ),
                issuer_name=iname,
                issuer_code=icode,
                issue_date=today,
                holder_name=hname,
                holder_id=hid,
                holder_id_type=hkind,
                valid_from=today,
                valid_until=today.replace(year=today.year + 5),
            )
            with vault.session() as session:
                ingest(
                    session=session,
                    blobs=vault.blobs,
                    verifier=vault.verifier,
                    crypto=vault.crypto,
                    metadata=meta,
                    pdf=pdf,
                    pushed_by_department_id=ids[icode],
                    file_name=f"demo-{serial}.pdf",
                    require_revocation=settings.intake_require_revocation,
                )
    finally:
        vault.close()

    holders_auth = HolderAuthenticator(settings)
    base_url = settings.public_base_url.rstrip("/")
    document: dict[str, Any] = {
        "base_url": base_url,
        "data_dir": str(settings.data_dir),
        "trust_bundle": str(bundle_path),
        "token_url": f"{base_url}/v1/oauth/token",
        "departments": departments_out,
        "holders": [
            {
                "name": name,
                "holder_id": hid,
                "holder_id_type": kind,
                "token": holders_auth.mint_demo(hid),
            }
            for name, hid, kind in HOLDERS
        ],
        "license_types": [
            {"code": code, "name": name, "holder_kind": kind}
            for code, name, kind in (BUSINESS, FOOD, RESIDENCE)
        ],
    }
    tmp = credentials_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(credentials_path)
    return DemoSummary(settings.data_dir, base_url, credentials_path, document)


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
        " demo-credentials.json, or make one with `evault dev-token`):",
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
        f"  HOLDER_TOKEN=$(evault dev-token --data {summary.data_dir} \\",
        f"      --holder {holder['holder_id']})",
        f'  curl -s {base}/v1/me/licenses -H "Authorization: Bearer $HOLDER_TOKEN"',
    ]
    return "\n".join(lines)
