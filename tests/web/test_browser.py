"""End to end in headless Chromium: a holder's portal, a department's use, a copy's check page,
and the verify page refusing a tampered copy. Screenshots of each page: test-artifacts/web/."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.web.conftest import ARTIFACTS, Site, shoot

pytestmark = pytest.mark.browser

CASE = "FZTAX-2026-0042"
PURPOSE = "个人所得税专项附加扣除"


def _no_console_problems(page: Any) -> None:
    """No CSP violation, missing file or script error was reported by the browser, and
    nothing was asked of another host."""
    assert page.foreign == [], page.foreign
    assert page.problems == [], page.problems


def _login(page: Any, name: str) -> None:
    page.goto("/me")
    assert page.url.endswith("/login?next=/me")
    page.get_by_label(re.compile(name)).check()
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/me")


def _department_copy(site: Site, holder_id: str, dept: str, purpose: str, case: str) -> dict:
    token = site.department_token(dept)
    headers = {"Authorization": f"Bearer {token}"}
    found = httpx.post(
        f"{site.base}/v1/licenses/search",
        headers=headers,
        json={"holder_id": holder_id, "purpose": purpose, "case_no": case},
        timeout=30,
    )
    assert found.status_code == 200, found.text
    license_id = found.json()["licenses"][0]["id"]
    made = httpx.post(
        f"{site.base}/v1/licenses/{license_id}/copies",
        headers=headers,
        json={"purpose": purpose, "case_no": case},
        timeout=120,
    )
    assert made.status_code == 201, made.text
    copy: dict = made.json()
    pdf = httpx.get(copy["download_url"], headers=headers, timeout=30)
    assert pdf.status_code == 200, pdf.text
    copy["pdf"] = pdf.content
    return copy


def test_holder_portal_consent_and_access_log(page: Any, site: Site) -> None:
    holder = site.holder("张三")
    card = _log_in_and_see_my_licenses(page, holder)
    _download_and_copy(page, card)
    _consent_for_the_tax_office(page)
    # The department uses the license over the JSON API within a case (allowed by consent).
    copy = _department_copy(site, holder["holder_id"], "税务局", PURPOSE, CASE)
    _the_access_log_shows_and_filters_the_use(page)
    _revoke_and_see_the_refusal(page, site, holder)
    _share_code_then_english_and_log_out(page)
    _no_console_problems(page)
    assert copy["verify_url"].startswith(site.base + "/v/")


def _log_in_and_see_my_licenses(page: Any, holder: dict[str, Any]) -> Any:
    """Log in (demo) and list my licenses."""
    page.goto("/")
    page.keyboard.press("Tab")  # keyboard users first meet the skip link, then the site
    assert page.evaluate("document.activeElement.textContent") == "跳到正文"
    page.keyboard.press("Enter")
    assert page.url.endswith("/#main")
    shoot(page, "00-home")
    page.goto("/login")
    shoot(page, "01-login")
    _login(page, "张三")
    cards = page.locator("li.license")
    assert cards.count() == 1
    card = cards.first
    assert "居住证" in card.inner_text()
    assert "福州市公安局" in card.inner_text()
    assert "有效" in card.locator(".badge").inner_text()
    assert holder["holder_id"] not in page.content()  # masked only
    assert holder["holder_id"][-4:] in card.inner_text()
    shoot(page, "02-licenses")
    return card


def _download_and_copy(page: Any, card: Any) -> None:
    """Download the original e-certificate; then a certified copy for a purpose I name,
    whose check page says who asked and why."""
    with page.expect_download() as info:
        card.get_by_role("link", name="下载原件").click()
    download = info.value
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"%PDF-") and b"/ByteRange" in data
    assert download.suggested_filename.startswith("license-")

    card.get_by_role("link", name="制作加注件").click()
    page.get_by_label("用途（制作事由）").fill("子女入学")
    page.get_by_label("提交给（可选）").fill("鼓楼区教育局")
    page.get_by_label("有效天数").fill("10")
    shoot(page, "03-copy-form")
    page.get_by_role("button", name="制作").click()
    assert page.locator("h1").inner_text() == "加注件已制作"
    assert "子女入学" in page.locator("main").inner_text()
    shoot(page, "03-copy-made")
    with page.expect_download() as info:
        page.get_by_role("link", name="下载加注件").click()
    assert Path(info.value.path()).read_bytes().count(b"/ByteRange") >= 2
    page.get_by_role("link", name="查看核验页").click()
    assert page.locator("#verdict .verdict-title").inner_text() == "有效"
    assert "子女入学" in page.locator("main").inner_text()
    assert "持证主体本人" in page.locator("main").inner_text()
    page.goto("/me")


def _consent_for_the_tax_office(page: Any) -> None:
    """Consent: the tax office (no standing permission) may use my 居住证 for 2 cases."""
    page.get_by_role("link", name="授权管理").click()
    page.get_by_label("用证部门").select_option(label="国家税务总局福州市税务局")
    page.locator("form[action='/me/consent']").get_by_label("居住证").check()
    page.get_by_label("有效天数").fill("7")
    page.get_by_label("可用次数（办件数，可选）").fill("2")
    page.get_by_role("button", name="授权", exact=True).click()
    page.wait_for_url("**/me/consent?done=grant")
    assert page.get_by_role("status").inner_text() == "授权已生效。"
    grant = page.locator("li.grant").first
    assert "国家税务总局福州市税务局" in grant.inner_text()
    assert "0 / 2" in grant.inner_text()
    shoot(page, "04-consent")


def _the_access_log_shows_and_filters_the_use(page: Any) -> None:
    """The holder sees that use in the access log, and can filter it."""
    page.get_by_role("link", name="用证记录").click()
    entries = page.locator("ol.log li.entry")
    text = entries.all_inner_texts()
    tax_uses = [t for t in text if "国家税务总局福州市税务局" in t and CASE in t]
    assert any("制作加注件" in t for t in tax_uses), text
    assert any("查询" in t for t in tax_uses), text
    assert all("允许" in t for t in tax_uses)
    shoot(page, "05-access-log")
    page.get_by_label("部门").select_option(label="国家税务总局福州市税务局")
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    page.get_by_label("起始日期").fill(today.isoformat())
    page.get_by_label("截止日期").fill(today.isoformat())
    page.get_by_role("button", name="筛选").click()
    filtered = page.locator("ol.log li.entry").all_inner_texts()
    assert filtered and all("国家税务总局福州市税务局" in t for t in filtered), filtered
    page.get_by_label("起始日期").fill((today + dt.timedelta(days=1)).isoformat())
    page.get_by_label("截止日期").fill((today + dt.timedelta(days=2)).isoformat())
    page.get_by_role("button", name="筛选").click()
    assert page.locator("ol.log li.entry").count() == 0
    assert "没有符合条件的记录" in page.content()


def _revoke_and_see_the_refusal(page: Any, site: Site, holder: dict[str, Any]) -> None:
    """Revoke the consent: the department's next new case is refused, and the holder sees it."""
    page.get_by_role("link", name="授权管理").click()
    page.locator("li.grant").first.get_by_role("button", name=re.compile("撤销")).click()
    page.wait_for_url("**/me/consent?done=revoke")
    assert "已撤销" in page.locator("li.grant").first.inner_text()
    token = site.department_token("税务局")
    refused = httpx.post(
        f"{site.base}/v1/licenses/search",
        headers={"Authorization": f"Bearer {token}"},
        json={"holder_id": holder["holder_id"], "purpose": PURPOSE, "case_no": CASE + "-B"},
        timeout=30,
    )
    assert refused.status_code == 403, refused.text
    page.get_by_role("link", name="用证记录").click()
    newest = page.locator("ol.log li.entry").first.inner_text()
    assert "拒绝" in newest and CASE + "-B" in newest


def _share_code_then_english_and_log_out(page: Any) -> None:
    """A share code, shown once."""
    page.get_by_role("link", name="授权管理").click()
    page.get_by_role("button", name="生成分享码").click()
    code = page.locator("#share-code").inner_text()
    assert re.fullmatch(r"[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}", code), code
    shoot(page, "05-share-code")
    page.get_by_role("link", name="English").click()
    page.get_by_role("link", name="My licenses").click()
    assert page.locator("h1").inner_text() == "My licenses"
    assert "valid" in page.locator("li.license .badge").first.inner_text()
    shoot(page, "02-licenses-en")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login?notice=logout")
    assert page.get_by_role("status").first.inner_text() == "You have logged out."
    page.goto("/")
    shoot(page, "00-home-en")


def test_copy_check_page_as_scanned_and_in_english(page: Any, site: Site) -> None:
    holder = site.holder("福州示例科技有限公司")
    copy = _department_copy(site, holder["holder_id"], "住房和城乡建设局", "住房保障", "ZJ-1")
    page.goto(copy["verify_url"])  # what the QR code holds
    verdict = page.locator("#verdict")
    assert verdict.locator(".verdict-title").inner_text() == "有效"
    body = page.locator("main").inner_text()
    for expected in ("营业执照", "福州市市场监督管理局", "福州市住房和城乡建设局", "住房保障"):
        assert expected in body
    assert holder["holder_id"] not in page.content()
    assert holder["holder_id"][-4:] in body and "*" in body
    assert "evault verify" in body
    shoot(page, "06-copy-check")
    page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#verdict .verdict-title").inner_text() == "Valid"
    assert "Verify offline" in page.locator("main").inner_text()
    shoot(page, "07-copy-check-en")
    _no_console_problems(page)
    missing = page.goto("/v/not-a-copy-id")
    assert missing.status == 404
    assert page.locator("h1").inner_text() == "Not found"  # the English choice is kept


def test_verify_page_passes_a_copy_and_refuses_a_tampered_one(
    page: Any, site: Site, tmp_path: Any
) -> None:
    holder = site.holder("李四")
    # 李四 has no consent and the housing office has a standing permission for 居住证.
    copy = _department_copy(site, holder["holder_id"], "住房和城乡建设局", "公租房申请", "ZJ-2")
    genuine = tmp_path / "copy.pdf"
    genuine.write_bytes(copy["pdf"])
    marker = b"/MediaBox [ 0 0 595 842 ]"  # the issuer's page, inside its seal
    assert marker in copy["pdf"]
    tampered = tmp_path / "copy-tampered.pdf"
    tampered.write_bytes(copy["pdf"].replace(marker, b"/MediaBox [ 0 0 595 843 ]", 1))

    page.goto("/verify")
    shoot(page, "08-verify-form")
    page.get_by_label("PDF 或 OFD 文件").set_input_files(str(genuine))
    page.get_by_role("button", name="验证").click()
    assert "通过" in page.locator("#verdict").inner_text()
    seals = page.locator("li.seal")
    assert seals.count() >= 2  # the issuer's seal and the vault's
    assert "完好（未被篡改）: 是" in seals.first.inner_text()
    assert "福州市公安局" in seals.first.inner_text()
    record = page.locator("#vault-record").inner_text()
    assert "证照库制作的加注件" in record and "有效" in record, record
    shoot(page, "09-verify-passed")

    page.get_by_role("link", name="验证另一个文件").click()
    page.get_by_label("PDF 或 OFD 文件").set_input_files(str(tampered))
    page.get_by_role("button", name="验证").click()
    verdict = page.locator("#verdict").inner_text()
    assert "未通过" in verdict, verdict
    first = page.locator("li.seal").first.inner_text()
    assert "完好（未被篡改）: 否" in first, first
    assert "验证失败：签章所覆盖的内容已被改动" in first  # TOTAL_FAILED / HASH_FAILURE, in words
    assert "签章所覆盖内容的摘要不符" in first  # the reason, in Chinese
    page.get_by_text("查看 JSON 报告").click()
    json_text = page.locator("details.json pre").inner_text()
    assert '"indication": "TOTAL_FAILED"' in json_text
    shoot(page, "10-verify-refused")
    _no_console_problems(page)


def test_verify_page_shows_the_vault_status_of_a_revoked_original(
    page: Any, site: Site, tmp_path: Path
) -> None:
    """The seal still verifies (the file is intact), and the vault's record says 吊销."""
    holder = site.holder("李四")
    headers = {"Authorization": f"Bearer {holder['token']}"}
    mine = httpx.get(f"{site.base}/v1/me/licenses", headers=headers, timeout=30)
    assert mine.status_code == 200, mine.text
    deed = next(lic for lic in mine.json()["licenses"] if lic["name"] == "不动产权证书")
    original = httpx.get(
        f"{site.base}/v1/me/licenses/{deed['id']}/pdf", headers=headers, timeout=30
    )
    assert original.status_code == 200, original.text
    path = tmp_path / "deed.ofd"  # the demo issues its 不动产权证书 as OFD
    path.write_bytes(original.content)
    revoked = httpx.patch(
        f"{site.base}/v1/licenses/{deed['id']}/status",
        headers={"Authorization": f"Bearer {site.department_token('自然资源和规划局')}"},
        json={"status": "吊销", "reason": "登记错误，依法撤回"},
        timeout=30,
    )
    assert revoked.status_code == 200, revoked.text

    page.goto("/verify")
    page.get_by_label("PDF 或 OFD 文件").set_input_files(str(path))
    page.get_by_role("button", name="验证").click()
    assert "通过" in page.locator("#verdict").inner_text()
    record = page.locator("#vault-record")
    assert "证照库收录的证照原件" in record.inner_text()
    assert record.locator(".badge").inner_text() == "吊销"
    assert "现在不能使用" in record.inner_text()
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    shoot(page, "11-verify-revoked-original")
    _no_console_problems(page)


def test_api_docs_work_offline_and_no_page_loads_from_other_hosts(page: Any, site: Site) -> None:
    """/docs renders from the installed assets; every page stays on this host."""
    page.goto("/docs")
    page.locator(".swagger-ui .opblock").first.wait_for()
    assert page.locator(".swagger-ui .opblock").count() > 20
    assert "/v1/licenses/search" in page.locator(".swagger-ui").inner_text()
    page.screenshot(path=str(ARTIFACTS / "12-api-docs.png"))
    assert httpx.get(f"{site.base}/redoc", timeout=30).status_code == 404  # its logo is remote
    for path in ("/", "/login", "/verify", "/?lang=en", "/verify", "/?lang=zh"):
        page.goto(path)
        assert page.locator("header .brand-name").inner_text()
        assert "主办单位" in page.locator("footer").inner_text() or "Operated by" in (
            page.locator("footer").inner_text()
        )
    _login(page, "福州示例科技有限公司")
    for path in ("/me", "/me/consent", "/me/log"):
        page.goto(path)
    _no_console_problems(page)


def test_an_agent_acts_for_the_company_in_the_portal(page: Any, site: Site) -> None:
    _login(page, "陈晓燕")
    page.get_by_role("link", name="法人空间").click()
    page.wait_for_url("**/me/companies")
    shoot(page, "12-company-spaces")
    page.get_by_role("link", name="代表该企业办理").click()
    page.wait_for_url(re.compile(r".*/me/co/co_[^/]+$"))
    banner = page.locator(".acting")
    assert "福州示例科技有限公司" in banner.inner_text() and "经办人" in banner.inner_text()
    assert page.locator("li.license").count() >= 1
    shoot(page, "13-company-licenses")
    page.goto(page.url + "/consent")
    assert "无权办理" in page.locator("h1").inner_text()
    shoot(page, "14-company-refused")
    assert [p for p in page.problems if "403" in p] == page.problems != []  # the refusal itself
    page.problems.clear()
    page.get_by_role("link", name="返回个人空间").click()
    page.wait_for_url("**/me")
    assert page.locator(".acting").count() == 0
    _no_console_problems(page)
