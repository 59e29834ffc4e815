"""The pages' strings: Chinese first, English on request (``?lang=en``, kept in a cookie).

A small dictionary, no build step: ``STRINGS[key] = (中文, English)``. A key missing here is a
programming error (a test renders every page in both languages).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from api.pages.company_strings import COMPANY_STRINGS
from api.pages.reasons import indication_zh, reason_zh
from api.pages.wallet_strings import WALLET_STRINGS
from schemas.report import Indication, SubIndication

__all__ = ["LANGS", "STRINGS", "Lang", "Translator"]

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")

STRINGS: dict[str, tuple[str, str]] = {
    # layout
    "site": ("电子证照库", "e-License Vault"),
    "skip": ("跳到正文", "Skip to content"),
    "nav.home": ("首页", "Home"),
    "nav.licenses": ("我的证照", "My licenses"),
    "nav.consent": ("授权管理", "Consent"),
    "nav.log": ("用证记录", "Access log"),
    "nav.verify": ("验证文件", "Verify a file"),
    "nav.login": ("登录", "Log in"),
    "nav.logout": ("退出", "Log out"),
    "nav.main": ("主导航", "Main navigation"),
    "lang.switch": ("English", "中文"),
    "lang.switch.label": ("Switch to English", "切换到中文"),
    "site.sub": ("电子证照共享服务平台", "Electronic license sharing service"),
    "footer": (
        "本页不使用第三方资源，不设跟踪。",
        "This site loads nothing from third parties and does not track you.",
    ),
    "footer.operator": ("主办单位", "Operated by"),
    "footer.operator.demo": (
        "evault 演示环境（示例数据，非正式服务）",
        "the evault demo (sample data, not a public service)",
    ),
    "footer.notice": (
        "证照内容以发证部门签发的原件为准。",
        "The original as sealed by the issuing department is authoritative.",
    ),
    "footer.tech": ("技术支持：evault 电子证照库", "Software: evault"),
    "logged_in_as": ("当前登录", "Logged in as"),
    # home
    "home.title": ("电子证照库", "e-License Vault"),
    "home.lead": (
        "查看和下载您的电子证照，授权部门使用，查看每一次用证记录；核验加注件和签章文件。",
        "See and download your e-certificates, give departments consent, see every use of "
        "them, and check certified copies and sealed files.",
    ),
    "home.holder": ("持证人（个人或企业）", "License holders (people and companies)"),
    "home.holder.text": (
        "登录后管理您的证照与授权。",
        "Log in to manage your licenses and consent.",
    ),
    "home.verify": ("核验文件", "Check a file"),
    "home.verify.text": (
        "上传 PDF，查看每个电子签章是否完好、可信、仍然有效。"
        "扫描加注件上的二维码可直接查看其状态。",
        "Upload a PDF to see whether each seal is intact, trusted and still valid. Scan a "
        "certified copy's QR code to see its status.",
    ),
    # login
    "login.title": ("登录", "Log in"),
    "login.demo.note": (
        "演示模式：选择一个示例持证主体登录。正式环境通过统一身份认证登录。",
        "Demo mode: log in as one of the sample holders. A real deployment logs in through "
        "the identity provider.",
    ),
    "login.holder": ("示例持证主体", "Sample holder"),
    "login.submit": ("登录", "Log in"),
    "login.unavailable": (
        "本系统尚未配置持证人登录（统一身份认证）。请联系运营方。",
        "Holder login (the identity provider) is not configured on this vault. Please "
        "contact its operator.",
    ),
    "login.oidc": ("通过统一身份认证登录", "Log in with the identity provider"),
    "login.oidc.note": (
        "您将被转到统一身份认证平台，登录后自动返回。",
        "You will be sent to the identity provider and brought back after logging in.",
    ),
    "login.failed": (
        "登录未完成（已过期、被取消或身份认证平台的回应无效），请重新登录。",
        "The login did not complete (it expired, was cancelled, or the identity provider's "
        "answer was not valid). Please log in again.",
    ),
    "login.required": ("请先登录。", "Please log in first."),
    "logout.done": ("您已退出。", "You have logged out."),
    # licenses
    "lic.title": ("我的证照", "My licenses"),
    "lic.none": ("证照库中还没有您的证照。", "The vault holds no licenses of yours yet."),
    "lic.type": ("证照类型", "Type"),
    "lic.number": ("证照编号", "Number"),
    "lic.issuer": ("颁发机构", "Issuer"),
    "lic.status": ("证照状态", "Status"),
    "lic.validity": ("有效期", "Valid"),
    "lic.identifier": ("证照标识", "Identifier"),
    "lic.holder": ("持证主体", "Holder"),
    "lic.download": ("下载原件", "Download original"),
    "lic.format": ("文件格式", "File format"),
    "lic.format.PDF": ("PDF（PAdES 电子签章）", "PDF (PAdES seal)"),
    "lic.format.OFD": ("OFD（SM2 电子签章，GB/T 38540）", "OFD (SM2 seal, GB/T 38540)"),
    "lic.copy": ("制作加注件", "Make a certified copy"),
    "lic.no_copy_format": (
        "此格式的证照暂不能制作加注件，可下载原件。",
        "Certified copies of licenses in this format are not available yet: download the original.",
    ),
    "lic.unlimited": ("长期", "no end date"),
    # copies
    "copy.title": ("制作加注件", "Make a certified copy"),
    "copy.lead": (
        "加注件是原件加上用途说明、二维码和证照库的电子签章，只可用于您写明的用途。",
        "A certified copy is the original plus a note of its purpose, a QR code and the "
        "vault's seal; it is valid only for the purpose you name.",
    ),
    "copy.purpose": ("用途（制作事由）", "Purpose"),
    "copy.purpose.hint": ("例如：办理入学手续", "e.g. school enrolment"),
    "copy.recipient": ("提交给（可选）", "Given to (optional)"),
    "copy.case_no": ("办件编号（可选）", "Case number (optional)"),
    "copy.days": ("有效天数", "Valid for (days)"),
    "copy.submit": ("制作", "Make copy"),
    "copy.made": ("加注件已制作", "Certified copy made"),
    "copy.reused": (
        "同一用途的加注件仍在有效期内，已为您取回原加注件。",
        "A copy for the same purpose is still valid; here it is again.",
    ),
    "copy.download": ("下载加注件", "Download the copy"),
    "copy.check": ("查看核验页", "Open its check page"),
    "copy.expires": ("有效期截止", "Valid until"),
    # consent
    "grant.title": ("授权管理", "Consent"),
    "grant.lead": (
        "授权某个部门在办事时使用您的证照，或生成一次性分享码当面告知办事人员。随时可以撤销。",
        "Let a department use your licenses when it handles your case, or create a one-time "
        "share code to read out at a counter. You can revoke either at any time.",
    ),
    "grant.new": ("授权部门", "Consent to a department"),
    "grant.department": ("用证部门", "Department"),
    "grant.choose": ("请选择部门", "Choose a department"),
    "grant.types": ("证照类型（不选即全部）", "License types (none ticked: all)"),
    "grant.purpose": ("限定用途（可选）", "Only for this purpose (optional)"),
    "grant.days": ("有效天数", "Valid for (days)"),
    "grant.uses": ("可用次数（办件数，可选）", "Number of cases (optional)"),
    "grant.submit": ("授权", "Give consent"),
    "share.new": ("一次性分享码", "One-time share code"),
    "share.hours": ("有效小时数", "Valid for (hours)"),
    "share.submit": ("生成分享码", "Create share code"),
    "share.made": ("您的一次性分享码", "Your one-time share code"),
    "share.note": (
        "请把此码告诉办事人员。它只显示这一次，第一个使用它的部门在该办件中可用一次。",
        "Read this code to the clerk. It is shown only this once; the first department that "
        "uses it may use your licenses in that one case.",
    ),
    "grant.list": ("我的授权", "My consents and codes"),
    "grant.none": ("暂无授权。", "No consent given yet."),
    "grant.kind.consent": ("部门授权", "Consent"),
    "grant.kind.share_code": ("分享码", "Share code"),
    "grant.any_department": ("任一部门（使用后绑定）", "any department (bound once used)"),
    "grant.all_types": ("全部证照", "all licenses"),
    "grant.expires": ("到期", "Expires"),
    "grant.uses_label": ("已用/可用", "Used / allowed"),
    "grant.state": ("状态", "State"),
    "grant.active": ("有效", "active"),
    "grant.revoked": ("已撤销", "revoked"),
    "grant.expired": ("已过期", "expired"),
    "grant.revoke": ("撤销", "Revoke"),
    "grant.created": ("授权已生效。", "Consent given."),
    "grant.revoked.done": ("已撤销。", "Revoked."),
    # access log
    "log.title": ("用证记录", "Access log"),
    "log.lead": (
        "谁在什么时候、为哪个办件使用了您的哪本证照，每一次都有记录（包括被拒绝的请求）。",
        "Who used which of your licenses, when, and for which case: every use is recorded, "
        "refused requests too.",
    ),
    "log.filter": ("筛选", "Filter"),
    "log.license": ("证照", "License"),
    "log.department": ("部门", "Department"),
    "log.from": ("起始日期", "From"),
    "log.to": ("截止日期", "To"),
    "log.all": ("全部", "all"),
    "log.date_format": (
        "日期格式：年-月-日，如 2026-01-31（北京时间，含首尾两天）。",
        "Dates as year-month-day, e.g. 2026-01-31 (Beijing time, both days included).",
    ),
    "log.apply": ("筛选", "Apply"),
    "log.reset": ("清除", "Clear"),
    "log.none": ("没有符合条件的记录。", "No entries match."),
    "log.when": ("时间", "When"),
    "log.who": ("使用方", "Who"),
    "log.what": ("操作", "What"),
    "log.case": ("用途 / 办件", "Purpose / case"),
    "log.outcome": ("结果", "Outcome"),
    "log.you": ("本人", "you"),
    "log.allowed": ("允许", "allowed"),
    "log.denied": ("拒绝", "refused"),
    "log.basis": ("依据", "Allowed by"),
    "log.more": ("更早的记录", "Older entries"),
    "log.bad_date": ("日期格式应为 YYYY-MM-DD。", "Dates must be YYYY-MM-DD."),
    "action.search": ("查询", "search"),
    "action.read": ("读取", "read"),
    "action.copy": ("制作加注件", "certified copy"),
    "action.download": ("下载", "download"),
    "action.grant": ("授权", "consent given"),
    "action.grant_revoke": ("撤销授权", "consent revoked"),
    "action.share_redeem": ("使用分享码", "share code used"),
    "action.fields": ("调取照面信息", "license fields read"),
    # materials (电子材料库): api/pages/materials_page.py
    "nav.materials": ("我的材料", "My materials"),
    "mat.title": ("我的材料", "My materials"),
    "mat.intro": (
        "窗口收件时与原件核对一致、由证照库加盖电子印章封存的材料。办理其他事项时，"
        "有权限或经您授权的部门直接调用，无需再次提交。",
        "Materials a service window checked against the original and the vault sealed. "
        "Departments with a permission or your consent reuse them in later cases: you need "
        "not hand them in again.",
    ),
    "mat.none": ("证照库中还没有您的材料。", "The vault holds no materials of yours."),
    "mat.state.usable": ("可用", "usable"),
    "mat.state.expired": ("已过期", "expired"),
    "mat.state.superseded": ("已被新材料替代", "superseded"),
    "mat.state.withdrawn": ("已撤回", "withdrawn"),
    "mat.usable_until": ("可用至", "Usable until"),
    "mat.checked": ("收件核验", "Checked"),
    "mat.case": ("收件办件", "Deposited in case"),
    "mat.download": ("下载", "Download"),
    "mat.withdraw": ("撤回（不再提供给部门）", "Withdraw (no longer served)"),
    "mat.uses": ("使用记录", "Uses"),
    "mat.no_uses": ("尚无使用记录。", "Not used yet."),
    "mat.done.withdraw": (
        "已撤回：部门将无法再调用该材料。",
        "Withdrawn: no department gets it now.",
    ),
    "action.material_deposit": ("收件存入材料", "material deposited"),
    "action.material_search": ("查询材料", "materials searched"),
    "action.material_read": ("调用材料", "material fetched"),
    "action.material_withdraw": ("撤回材料", "material withdrawn"),
    "action.case_reference": ("作为办件材料引用", "referenced as a case material"),
    "basis.deposit": ("窗口收件", "deposit at a window"),
    "basis.standing_permission": ("用证目录", "standing permission"),
    "basis.consent": ("您的授权", "your consent"),
    "basis.share_code": ("分享码", "share code"),
    "basis.owner": ("本人", "yourself"),
    # copy check
    "check.title": ("电子证照加注件核验", "Certified copy check"),
    "check.valid": ("有效", "Valid"),
    "check.expired": ("已过期", "Expired"),
    "check.license_invalid": ("证照已失效", "License no longer valid"),
    "check.license": ("证照名称", "License"),
    "check.type": ("证照类型", "Type"),
    "check.identifier": ("证照标识", "Identifier"),
    "check.issuer": ("颁发机构", "Issuer"),
    "check.holder": ("持证主体代码", "Holder"),
    "check.status": ("证照状态", "License status"),
    "check.superseded": ("（已有新版本）", " (a newer version exists)"),
    "check.department": ("用证部门", "Requested by"),
    "check.holder_self": ("持证主体本人", "the holder"),
    "check.purpose": ("制作事由", "Purpose"),
    "check.made": ("制作时间", "Made"),
    "check.expires": ("有效期截止", "Valid until"),
    "check.offline": ("离线核验", "Verify offline"),
    "check.offline.text": (
        "下载信任包，然后运行下列命令；文件的 SHA-256 应为：",
        "Download the trust bundle, then run the command below; the file's SHA-256 must be:",
    ),
    "check.bundle": ("下载信任包", "Download the trust bundle"),
    "check.or_upload": ("或在本站上传文件核验", "or upload the file here"),
    "check.json": ("JSON 格式", "As JSON"),
    "check.tz": ("北京时间", "UTC+8"),
    "notfound.title": ("未找到", "Not found"),
    "notfound.text": (
        "没有这个加注件，或链接不完整。请检查二维码或链接。",
        "There is no such copy, or the link is incomplete. Check the QR code or link.",
    ),
    # verify
    "verify.title": ("验证签章文件", "Verify a sealed file"),
    "verify.lead": (
        "选择或拖入一个 PDF 或 OFD 文件，查看其中每个电子签章："
        "谁签的、何时签的、是否完好、是否可信、是否仍然有效。文件只用于本次核验。",
        "Choose or drop a PDF or OFD file to see each seal in it: who sealed it, when, "
        "whether it is intact, trusted and still valid. The file is used for this check only.",
    ),
    "verify.file": ("PDF 或 OFD 文件", "PDF or OFD file"),
    "verify.ofd.Seal": ("OFD 电子签章", "OFD seal"),
    "verify.ofd.Sign": ("OFD 电子签名", "OFD signature"),
    "verify.seal_name": ("印章名称", "Seal name"),
    "verify.submit": ("验证", "Verify"),
    "verify.result": ("验证结果", "Result"),
    "verify.passed": (
        "通过：所有签章完好、可信且有效",
        "Passed: every seal is intact, trusted and valid",
    ),
    "verify.failed": (
        "未通过：文件被篡改或签章无效",
        "Refused: the file was altered or a seal is invalid",
    ),
    "verify.indeterminate": (
        "无法确认：签章无法被完全验证",
        "Not confirmed: a seal could not be fully verified",
    ),
    "verify.none": ("文件中没有电子签章。", "The file carries no seal."),
    "verify.seal": ("签章", "Seal"),
    "verify.timestamp": ("文档时间戳", "Document timestamp"),
    "verify.who": ("签章者", "Sealed by"),
    "verify.when": ("时间", "When"),
    "verify.intact": ("完好（未被篡改）", "Intact (not altered)"),
    "verify.trusted": ("可信（来自受信任的证书机构）", "Trusted (chains to a trusted root)"),
    "verify.still_valid": ("仍然有效（证书未吊销）", "Still valid (certificate not revoked)"),
    "verify.covers": ("签章覆盖范围", "What the seal covers"),
    "coverage.ENTIRE_FILE": ("整个文件", "the whole file"),
    "coverage.ENTIRE_REVISION": (
        "签章时的整个文件（其后有追加内容，如加注）",
        "the whole file as it was sealed (later additions follow, e.g. a copy's note)",
    ),
    "coverage.CONTIGUOUS_BLOCKS": ("仅文件的一部分", "only part of the file"),
    "coverage.PARTIAL": ("仅文件的一部分", "only part of the file"),
    "coverage.NONE": ("无法确定", "could not be determined"),
    "verify.reasons": ("原因", "Reasons"),
    "verify.file_info": ("文件", "File"),
    "verify.json": ("查看 JSON 报告", "Show the JSON report"),
    "verify.json.api": (
        "同样的报告可通过 POST /v1/verify 获取。",
        "The same report comes from POST /v1/verify.",
    ),
    "verify.again": ("验证另一个文件", "Verify another file"),
    "verify.record": ("证照库记录", "The vault's record"),
    "verify.record.original": ("证照库收录的证照原件", "An original the vault holds"),
    "verify.record.copy": ("证照库制作的加注件", "A certified copy the vault made"),
    "verify.record.status": ("证照当前状态", "License status now"),
    "verify.record.superseded": ("（已有新版本）", "(superseded by a newer version)"),
    "verify.record.copy_state": ("加注件状态", "Copy"),
    "verify.record.check_page": ("查看核验页", "its check page"),
    "verify.record.unusable": (
        "签章完好只说明文件自签章后未被改动；按证照库的记录，该证照现在不能使用。",
        "Intact seals show only that the file was not altered since sealing; by the vault's "
        "record this license cannot be used now.",
    ),
    "verify.empty": ("请选择一个 PDF 或 OFD 文件。", "Please choose a PDF or OFD file."),
    "verify.too_large": ("文件太大。", "The file is too large."),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "unknown": ("未知", "unknown"),
    # errors
    "error.title": ("出错了", "Something went wrong"),
    "error.csrf": (
        "表单已过期或来源不明，请返回重新提交。",
        "The form expired or did not come from this site. Please go back and try again.",
    ),
    "error.not_found": ("未找到。", "Not found."),
    "error.invalid": ("输入有误：", "Invalid input: "),
    "error.conflict": ("无法完成：", "Cannot do that: "),
    "error.storage": (
        "文件存储暂时无法提供此文件，请稍后再试。",
        "The file store cannot provide this file now. Please try again later.",
    ),
    "error.back": ("返回", "Back"),
}
STRINGS.update(WALLET_STRINGS)
STRINGS.update(COMPANY_STRINGS)


@dataclass(frozen=True)
class Translator:
    """``t("key")`` in templates: the string in the page's language."""

    lang: Lang

    @property
    def html_lang(self) -> str:
        return "zh-CN" if self.lang == "zh" else "en"

    @property
    def other(self) -> Lang:
        return "en" if self.lang == "zh" else "zh"

    def __call__(self, key: str) -> str:
        zh, en = STRINGS[key]
        return zh if self.lang == "zh" else en

    def reason(self, text: str) -> tuple[str, Lang]:
        """A verifier's reason in the page's language, with the language it is in (a
        reason without a Chinese pattern stays English)."""
        if self.lang == "zh":
            zh = reason_zh(text)
            if zh is not None:
                return zh, "zh"
        return text, "en"

    def verdict(self, indication: Indication, sub: SubIndication | None) -> str:
        """An ETSI indication for people: Chinese words, or the codes in English."""
        if self.lang == "zh":
            return indication_zh(indication, sub)
        return indication.value + (f" · {sub.value}" if sub is not None else "")
