"""The demo's sample data: its vault, departments, holders, license types and licenses,
and what each sample license's metadata and drawing hold (:func:`sample`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from api.demo.drawing import SampleLicense
from schemas.identifiers import (
    citizen_id_check_char,
    credit_code_check_char,
    organization_code_check_char,
)
from schemas.license import LicenseMetadata
from schemas.license_id import LicenseId

__all__ = [
    "DEPARTMENTS",
    "HOLDERS",
    "LICENSES",
    "LICENSE_TYPES",
    "OFD_ISSUERS",
    "OFD_TYPES",
    "SPECIMEN",
    "VAULT",
    "sample",
]


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

SEAL_LABELS = {LAND[1]: "不动产登记专用章"}
#: The license types the demo issues as OFD files sealed with SM2, and their issuers.
OFD_TYPES = frozenset({FOOD[0], PROPERTY[0]})
OFD_ISSUERS = (MARKET, LAND)
_VALID_YEARS = {BUSINESS[0]: None, FOOD[0]: 5, RESIDENCE[0]: 5, PROPERTY[0]: None}


def sample(
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
        seal_label=SEAL_LABELS.get(issuer_code, ""),
    )
    return meta, drawn
