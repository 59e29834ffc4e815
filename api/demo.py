"""``evault demo``: the embedded default, filled with sample data, ready to call.

Idempotent on one data directory: the demo PKI, trust bundle, departments, credentials,
holders and licenses made by a first run are reused by the next (credentials are kept in
``DIR/demo-credentials.json``, which the operator may read: it is a demo).

Sample data: three issuing departments (市场监督管理局: 营业执照 and 食品经营许可证 for the
demo company; 公安局: 居住证 for two citizens; 自然资源和规划局: a 不动产权证书), two using
departments (住房和城乡建设局 with a standing permission for 营业执照 and 居住证; 税务局 with
none, so it needs the holder's consent), an auditor (audit:read), two citizens and one
company. Every license is drawn like the real one in Chinese (:mod:`api.demo_licenses`) and
ingested through the real intake: the 营业执照 and 居住证 as PDFs sealed PAdES B-LT by their
issuer's demo seal; the 食品经营许可证 and the 不动产权证书 as OFD files (GB/T 33190) sealed
with their issuer's SM2 electronic seal (GB/T 38540 V4, with the seal's image) from the
demo's SM2 PKI (:mod:`api.demo_ofd`), whose root is in the demo trust bundle too.

``DIR/samples/`` holds one more license, drawn but neither sealed nor pushed, with its
metadata: what an issuing department's developer seals and pushes to try the API.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.demo_agents import seed_company_agents
from api.demo_fields import declare_demo_fields, demo_field_values
from api.demo_hsm import DemoHsm, prepare_demo_hsm
from api.demo_licenses import SampleLicense, render_license
from api.demo_materials import seed_materials
from schemas.identifiers import (
    citizen_id_check_char,
    credit_code_check_char,
    organization_code_check_char,
)
from schemas.license import LicenseMetadata
from schemas.license_id import LicenseId
from vault.errors import ConfigError
from vault.settings import Settings

__all__ = ["DemoSummary", "prepare_demo", "serving_settings"]

CREDENTIALS_FILE = "demo-credentials.json"
SAMPLES_DIR = "samples"


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
LAND = ("福州市自然资源和规划局", _code("11350100MB000005"))
WINDOW = ("福州市政务服务中心综合窗口", _code("11350100MB000007"))

# (证照类型代码, 证照名称, 持证主体代码类型, issuing department)
BUSINESS = ("11100000000013338W021", "营业执照", "001", MARKET)
FOOD = ("11100000000013338W051", "食品经营许可证", "001", MARKET)
RESIDENCE = ("11100000000013338W031", "居住证", "111", POLICE)
PROPERTY = ("11100000000013338W061", "不动产权证书", "111", LAND)
LICENSE_TYPES = (BUSINESS, FOOD, RESIDENCE, PROPERTY)

HOLDERS = (
    ("张三", "11010519491231002X", "111"),
    ("李四", _citizen("32010219900307123"), "111"),
    ("福州示例科技有限公司", "91350100M000100Y43", "001"),
    # 法人空间: the company's 法定代表人 (as its 营业执照 names him) and its 经办人
    ("王建国", _citizen("35010219800815201"), "111"),
    ("陈晓燕", _citizen("35010419920611302"), "111"),
)
COMPANY_ADDRESS = "福建省福州市鼓楼区软件大道89号福州软件园A区12号楼3层"

# (department, roles, scopes, standing permissions)
DEPARTMENTS: tuple[
    tuple[tuple[str, str], tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...
] = (
    (MARKET, ("issuer",), ("licenses:issue",), ()),
    (POLICE, ("issuer",), ("licenses:issue",), ()),
    (LAND, ("issuer",), ("licenses:issue",), ()),
    (HOUSING, ("user",), ("licenses:use",), (BUSINESS[0], RESIDENCE[0])),
    (TAX, ("user",), ("licenses:use",), ()),
    (AUDIT, ("user",), ("audit:read",), ()),
    (WINDOW, ("user",), ("materials:deposit",), ()),
)

# (serial, license type, holder index, 证照编号, printed fields)
LICENSES: tuple[tuple[int, tuple[str, str, str, Any], int, str, dict[str, str]], ...] = (
    (
        1,
        RESIDENCE,
        0,
        "闽榕居2024000101",
        {
            "证件抬头": "福建省居住证",
            "性别": "女",
            "民族": "汉",
            "出生": "1949年12月31日",
            "居住地址": "福建省福州市鼓楼区五四路158号环球广场1单元1203室",
            "签注记录": "已签注",
        },
    ),
    (
        2,
        RESIDENCE,
        1,
        "闽榕居2024000102",
        {
            "证件抬头": "福建省居住证",
            "性别": "男",
            "民族": "汉",
            "出生": "1990年03月07日",
            "居住地址": "福建省福州市仓山区浦上大道216号6座805室",
            "签注记录": "已签注",
        },
    ),
    (
        3,
        BUSINESS,
        2,
        "91350100M000100Y43",
        {
            "类型": "有限责任公司（自然人投资或控股）",
            "法定代表人": "王建国",
            "注册资本": "壹佰万圆整",
            "成立日期": "2018年05月16日",
            "营业期限": "2018年05月16日至长期",
            "住所": COMPANY_ADDRESS,
            "经营范围": "一般项目：软件开发；信息系统集成服务；信息技术咨询服务；数据处理服务；"
            "技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广。（除依法须经批准的"
            "项目外，凭营业执照依法自主开展经营活动）",
        },
    ),
    (
        4,
        FOOD,
        2,
        "JY13501020004212",
        {
            "法定代表人（负责人）": "王建国",
            "住所": COMPANY_ADDRESS,
            "经营场所": "福建省福州市鼓楼区软件大道89号福州软件园A区12号楼1层",
            "主体业态": "单位食堂（职工食堂）",
            "经营项目": "热食类食品制售",
            "日常监督管理机构": "福州市鼓楼区市场监督管理局",
            "日常监督管理人员": "陈明、林华",
            "投诉举报电话": "12315",
            "签发人": "刘志强",
        },
    ),
    (
        5,
        PROPERTY,
        1,
        "闽（2024）福州市不动产权第0012345号",
        {
            "共有情况": "单独所有",
            "坐落": "福州市仓山区浦上大道216号6座805单元",
            "不动产单元号": "350104 008012 GB00123 F00060805",
            "权利类型": "国有建设用地使用权/房屋所有权",
            "权利性质": "出让/商品房",
            "用途": "城镇住宅用地/住宅",
            "面积": "共有宗地面积15236.8平方米/房屋建筑面积89.56平方米",
            "使用期限": "国有建设用地使用权2012年06月18日起2082年06月17日止",
            "权利其他状况": "专有建筑面积72.18平方米，分摊建筑面积17.38平方米；房屋结构：钢筋"
            "混凝土结构；房屋总层数：32层，所在层：8层",
        },
    ),
)

#: The license an issuer's developer seals and pushes (not in the vault until then).
SPECIMEN = (
    6,
    RESIDENCE,
    ("王芳", _citizen("33010619880816502"), "111"),
    "闽榕居2024000106",
    {
        "证件抬头": "福建省居住证",
        "性别": "女",
        "民族": "汉",
        "出生": "1988年08月16日",
        "居住地址": "福建省福州市晋安区福新东路289号3座1702室",
        "签注记录": "首次签发",
    },
)
SPECIMEN_NAME = "residence-permit-2024000106"

_SEAL_LABELS = {LAND[1]: "不动产登记专用章"}
#: The license types the demo issues as OFD files sealed with SM2, and their issuers.
OFD_TYPES = frozenset({FOOD[0], PROPERTY[0]})
OFD_ISSUERS = (MARKET, LAND)
_VALID_YEARS = {BUSINESS[0]: None, FOOD[0]: 5, RESIDENCE[0]: 5, PROPERTY[0]: None}


@dataclass(frozen=True)
class DemoSummary:
    data_dir: Path
    base_url: str
    credentials_file: Path
    document: dict[str, Any]
    settings: Settings | None = None
    """The settings to serve the demo with (the seal key in SoftHSM2 when there is one)."""
    hsm: DemoHsm | None = None
    """Where the vault's seal key is (:mod:`api.demo_hsm`)."""

    @property
    def hsm_note(self) -> str | None:
        """The line for stderr when the seal key is a file because SoftHSM2 is missing."""
        if self.hsm is None or self.hsm.fallback is None:
            return None
        return f"evault demo: the vault's seal key is a file, not in an HSM: {self.hsm.fallback}"


def serving_settings(summary: DemoSummary) -> Settings:
    """The settings to serve the prepared demo with; points this process's SoftHSM2 at the
    demo's token first when the seal key is there."""
    from api.demo_hsm import activate

    if summary.hsm is not None:
        activate(summary.hsm)
    assert summary.settings is not None
    return summary.settings


def _pki(settings: Settings) -> Any:
    from api.sealing import demo_pki_dir, demo_pki_password
    from signing.pki import DemoPKI

    directory = demo_pki_dir(settings)
    password = demo_pki_password(settings)
    if (directory / "pki.json").is_file():
        pki = DemoPKI.load(directory, password)
        for (name, code), roles, _scopes, _permits in DEPARTMENTS:
            if "issuer" in roles and code not in pki.department_names:
                raise ConfigError(
                    f"{settings.data_dir} was made by an older evault demo (its PKI has no "
                    f"seal for {name}): remove that directory and run the demo again"
                )
        return pki
    pki = DemoPKI.generate(
        seed=secrets.token_bytes(32),
        departments=[department for department, *_ in DEPARTMENTS],
        now=dt.datetime.now(dt.UTC),
        vault=VAULT,
    )
    pki.save(directory, password)
    return pki


def _sm2_pki(settings: Settings, pki: Any) -> Any:
    from api.demo_ofd import load_sm2_pki
    from api.sealing import demo_pki_dir, demo_pki_password

    return load_sm2_pki(demo_pki_dir(settings), demo_pki_password(settings), OFD_ISSUERS, pki.now)


def _trust_bundle(settings: Settings, pki: Any, seal: Any, sm2: Any) -> Path:
    """The demo's trust bundle: the PDF PKI's root and CA, the SM2 PKI's root, CA, CRLs and
    seal maker, the vault's OFD copy seal (``ofd_vault_seals``),
    the vault's seal ``seal``, the log key and the credential key. A seal or key the bundle
    does not name yet is added, the one it replaces kept."""
    from api.demo_ofd import sm2_trust
    from api.ofd_seal import ofd_copy_maker_from_settings
    from signing.trust import TrustBundle
    from vault.credential_key import load_credential_key
    from vault.log.keys import load_log_key

    path = settings.data_dir / "trust-bundle.json"
    log_vkey = load_log_key(settings).verifier().vkey()
    key = load_credential_key(settings)
    credential_keys = [key.public_jwk()] if key is not None else []
    previous: list[bytes] = []
    log_keys = [log_vkey]
    ofd = sm2_trust(sm2)
    maker = ofd_copy_maker_from_settings(settings)
    ofd_vault_seals = [maker.signer_certificate] if maker is not None else []
    if path.is_file():
        old = TrustBundle.load(path)
        previous = [*([old.vault_seal] if old.vault_seal else []), *old.previous_vault_seals]
        log_keys += old.log_keys
        ofd_vault_seals = _kept_ofd_vault_seals(old.ofd_vault_seals, ofd_vault_seals)
        kids = {k["kid"] for k in credential_keys}
        credential_keys += [k for k in old.credential_keys if k["kid"] not in kids]
        if set(ofd["roots"]) <= set(old.roots) and old.crls:
            ofd["crls"] = list(old.crls)  # SM2 signs afresh each time: keep the CRLs issued
    bundle = TrustBundle.from_certificates(
        roots=[pki.root.certificate, *ofd["roots"]],
        intermediates=[pki.issuing_ca.certificate, *ofd["intermediates"]],
        vault_seal=seal,
        previous_vault_seals=previous,
        crls=ofd["crls"],
        log_keys=log_keys,
        credential_keys=credential_keys,
        seal_makers=ofd["seal_makers"],
        ofd_vault_seals=ofd_vault_seals,
        description="evault demo trust bundle (not for production)",
    )
    if not path.is_file() or path.read_bytes() != bundle.dump():
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(bundle.dump())
        tmp.replace(path)
    return path


def _kept_ofd_vault_seals(old: tuple[bytes, ...], current: list[bytes]) -> list[bytes]:
    """The pinned OFD vault seals: the bundle's, and the current one unless one of them
    has its key (the demo's copy seal certificate is issued afresh at each start, for the
    same key; the verifier pins by key, so the bundle stays the same)."""
    from asn1crypto import x509

    def key(der: bytes) -> bytes:
        return bytes(x509.Certificate.load(der).public_key.dump())

    have = {key(d) for d in old}
    return [*old, *(d for d in current if key(d) not in have)]


def _load_document(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _ensure_catalog(session: Any, pki: Any, ofd_seals: dict[str, str]) -> dict[str, int]:
    """The sample departments (with their seals), license types and standing permissions;
    each department's id by its credit code."""
    from cryptography.hazmat.primitives import hashes

    from vault.errors import NotFound
    from vault.services import catalog
    from vault.services.credentials import set_scopes

    ids: dict[str, int] = {}
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
            if code in ofd_seals:
                catalog.add_seal_certificate(
                    session=session,
                    department_id=department.id,
                    fingerprint=ofd_seals[code],
                    label="demo SM2 seal (OFD)",
                )
    for type_code, type_name, kind, (_, issuer_code) in LICENSE_TYPES:
        try:
            catalog.get_license_type(session=session, code=type_code)
        except NotFound:
            catalog.create_license_type(
                session=session,
                code=type_code,
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
    declare_demo_fields(
        session,
        {name: code for code, name, _kind, _issuer in LICENSE_TYPES},
        {name.removeprefix("福州市"): ids[code] for (name, code), *_ in DEPARTMENTS},
    )
    return ids


def _credentials(session: Any, ids: dict[str, int], known: dict[Any, Any]) -> list[dict[str, Any]]:
    """Each department's client id and secret: the ones of an earlier run, or new ones."""
    from vault.services import catalog
    from vault.services.credentials import issue_credentials

    out: list[dict[str, Any]] = []
    for (name, code), roles, scopes, permits in DEPARTMENTS:
        department = catalog.get_department(session=session, department_id=ids[code])
        old = known.get(code)
        if old and old.get("client_id") == department.oauth_client_id and old.get("client_secret"):
            client_id, secret = str(old["client_id"]), str(old["client_secret"])
        else:
            creds = issue_credentials(session=session, department_id=department.id)
            client_id, secret = creds.client_id, creds.client_secret
        out.append(
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
    return out


def _sample(
    serial: int,
    license_type: tuple[str, str, str, Any],
    holder: tuple[str, str, str],
    number: str,
    fields: dict[str, str],
    today: dt.date,
) -> tuple[LicenseMetadata, SampleLicense]:
    """The metadata the issuer pushes and what its PDF shows, for one sample license."""
    type_code, type_name, _kind, (issuer_name, issuer_code) = license_type
    holder_name, holder_id, holder_kind = holder
    years = _VALID_YEARS[type_code]
    valid_until = today.replace(year=today.year + years) - dt.timedelta(days=1) if years else None
    meta = LicenseMetadata(
        name=type_name,
        type_code=type_code,
        number=number,
        license_identifier=str(
            LicenseId.build(
                type_code=type_code,
                issuer_code=issuer_code,
                serial=f"{today.year}{serial:07d}",
                version=1,
            )
        ),
        issuer_name=issuer_name,
        issuer_code=issuer_code,
        issue_date=today,
        holder_name=holder_name,
        holder_id=holder_id,
        holder_id_type=holder_kind,
        valid_from=today,
        valid_until=valid_until,
        extra=dict(fields),
    )
    drawn = SampleLicense(
        kind=type_name,
        number=number,
        holder_name=holder_name,
        holder_id=holder_id,
        issuer_name=issuer_name,
        issue_date=today,
        valid_until=valid_until,
        fields=fields,
        seal_label=_SEAL_LABELS.get(issuer_code, ""),
    )
    return meta, drawn


class _Issuers:
    """Seals a sample as its issuing department would (PAdES B-LT, the demo's TSA and CRLs)."""

    def __init__(self, pki: Any) -> None:
        from signing.timestamps import EmbeddedTSA

        self._pki = pki
        self._tsa = EmbeddedTSA(
            certificate=pki.tsa.certificate, private_key=pki.tsa.private_key, chain=pki.chain
        )
        self._sealers: dict[str, Any] = {}

    def seal(self, pdf: bytes, issuer_code: str) -> bytes:
        from signing.keys import LocalKeySource
        from signing.seal import PadesLevel, Sealer

        if issuer_code not in self._sealers:
            identity = self._pki.issuing_department_seal(issuer_code)
            source = LocalKeySource(
                certificate=identity.certificate,
                private_key=identity.private_key,
                chain=self._pki.chain,
            )
            self._sealers[issuer_code] = Sealer(
                source, timestamper=self._tsa, crls=self._pki.crls()
            )
        sealed: bytes = self._sealers[issuer_code].seal(
            pdf, level=PadesLevel.B_LT, reason="发证", location="福州市"
        )
        return sealed


def _ingest_samples(
    vault: Any, settings: Settings, issuers: tuple[_Issuers, Any], ids: dict[str, int]
) -> None:
    """Draw, seal and push through the real intake every sample the vault does not hold:
    a PDF sealed PAdES, or for the OFD types an OFD sealed with SM2."""
    from api.demo_ofd import render_ofd
    from vault.services.intake import ingest
    from vault.services.license_fields import store_values
    from vault.services.lifecycle import find_license

    pdf_issuers, ofd_issuers = issuers
    today = dt.datetime.now(dt.UTC).date()
    for serial, license_type, holder_index, number, fields in LICENSES:
        type_code, _name, _kind, (_, issuer_code) = license_type
        with vault.session() as session:
            existing = find_license(
                session=session,
                type_code=type_code,
                issuer_department_id=ids[issuer_code],
                number=number,
            )
        if existing is not None:
            continue
        meta, drawn = _sample(serial, license_type, HOLDERS[holder_index], number, fields, today)
        if type_code in OFD_TYPES:
            label = _SEAL_LABELS.get(issuer_code, "")
            data, kind = ofd_issuers.seal(render_ofd(drawn), issuer_code, label), "ofd"
        else:
            data, kind = pdf_issuers.seal(render_license(drawn), issuer_code), "pdf"
        with vault.session() as session:
            pushed = ingest(
                session=session,
                blobs=vault.blobs,
                verifier=vault.verifier,
                crypto=vault.crypto,
                metadata=meta,
                pdf=data,
                pushed_by_department_id=ids[issuer_code],
                file_name=f"demo-{serial}.{kind}",
                require_revocation=settings.intake_require_revocation,
                declared_type=f"application/{kind}",
            )
            values = demo_field_values(license_type[1], HOLDERS[holder_index], fields)
            if values is not None:
                store_values(
                    session=session, crypto=vault.crypto, license=pushed.license, values=values
                )
                session.commit()


def _write_specimen(settings: Settings) -> Path:
    """``samples/SPECIMEN_NAME.pdf`` (unsealed) and ``.json`` (its metadata), once."""
    directory = settings.data_dir / SAMPLES_DIR
    pdf_path = directory / f"{SPECIMEN_NAME}.pdf"
    if pdf_path.is_file():
        return pdf_path
    serial, license_type, holder, number, fields = SPECIMEN
    meta, drawn = _sample(serial, license_type, holder, number, fields, dt.date.today())
    directory.mkdir(parents=True, exist_ok=True)
    body = meta.model_dump(mode="json", exclude_none=True)
    body["holder_id"] = holder[1]
    pdf_path.with_suffix(".json").write_text(
        json.dumps(body, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    pdf_path.write_bytes(render_license(drawn))
    return pdf_path


def prepare_demo(settings: Settings) -> DemoSummary:
    """Create (or reuse) everything the demo needs in ``settings.data_dir``."""
    from api.auth.holders import HolderAuthenticator
    from vault.bootstrap import open_vault

    assert settings.is_demo
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    from api.demo_ofd import OfdIssuers

    pki = _pki(settings)
    sm2 = _sm2_pki(settings, pki)
    hsm = prepare_demo_hsm(settings, pki)
    seal = hsm.certificate or pki.vault_seal.certificate
    bundle_path = _trust_bundle(settings, pki, seal, sm2)
    ofd_issuers = OfdIssuers(sm2, {code: name for name, code in OFD_ISSUERS})
    credentials_path = settings.data_dir / CREDENTIALS_FILE
    previous = _load_document(credentials_path)
    known = {d.get("credit_code"): d for d in previous.get("departments", [])}
    vault = open_vault(settings)
    try:
        with vault.session() as session:
            ids = _ensure_catalog(session, pki, ofd_issuers.signer_fingerprints())
            departments_out = _credentials(session, ids, known)
        _ingest_samples(vault, settings, (_Issuers(pki), ofd_issuers), ids)
        seed_materials(
            vault,
            settings,
            window_id=ids[WINDOW[1]],
            permits={ids[HOUSING[1]]: ("SFZ", "HKB")},
            holder=HOLDERS[0],
        )
        seed_company_agents(vault, company=HOLDERS[2], representative=HOLDERS[3], agent=HOLDERS[4])
    finally:
        vault.close()
    specimen = _write_specimen(settings)

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
            {
                "code": code,
                "name": name,
                "holder_kind": kind,
                "issuer_code": issuer[1],
                "file_format": "OFD" if code in OFD_TYPES else "PDF",
            }
            for code, name, kind, issuer in LICENSE_TYPES
        ],
        "specimen": {"pdf": str(specimen), "metadata": str(specimen.with_suffix(".json"))},
    }
    tmp = credentials_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(credentials_path)
    serve = settings.model_copy(update=hsm.seal_settings) if hsm.seal_settings else settings
    return DemoSummary(settings.data_dir, base_url, credentials_path, document, serve, hsm)


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
