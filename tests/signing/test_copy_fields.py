"""Red team round 12, r12-10: a holder's own 制作事由 (purpose) spelled a second, fake
有效期截止时间 line inside the vault-sealed 加注.

``"企业开办" + 19 × U+3000 + "有效期截止时间：2099-12-31 23:59:59（北京时间）"`` (56 characters,
under the 120 allowed; only C0/C1 controls were refused) wrapped so that the fake field
stood on a line of its own above the real one, in the PDF and the OFD copy alike (both lay
the 加注 out with :func:`signing.copies.appearance.layout`). Now a field a caller supplies
(maker, department, purpose, case number) cannot be built into a :class:`CopyAnnotation`
when it holds other white space than single plain spaces, a control or format character,
a colon or one of the 加注's labels (NFKC-folded: look-alike forms are the same), or is
longer than :data:`TEXT_LIMITS`; no continuation line can then start like a field.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
from pathlib import Path

import pytest

from signing.copies import CopyAnnotation, CopyMaker
from signing.copies.annotation import TEXT_LIMITS, annotation_text_problem
from signing.copies.appearance import layout
from signing.errors import SealingError
from signing.seal import PadesLevel
from tests.conftest import require_tool
from tests.helpers.pki import MARKET_DEPT, sealed_pdf, sealer

MADE = dt.datetime(2026, 5, 30, 8, 0, tzinfo=dt.UTC)
FAKE = "有效期截止时间：2099-12-31 23:59:59（北京时间）"
RED_TEAM = "企业开办" + "\u3000" * 19 + FAKE


def _annotation(**fields: str) -> CopyAnnotation:
    base = {
        "copy_id": "Zk2mR4tW8xY1bAq7Vd0cJ9",
        "made_at": MADE,
        "maker": "福建省电子证照库",
        "department": "福州市住房和城乡建设局",
        "purpose": "商品房预售许可申请",
        "case_no": "FZ-2026-00012345",
        "valid_until": MADE + dt.timedelta(days=30),
        "verify_url": "https://vault.example.gov.cn/v/Zk2mR4tW8xY1bAq7Vd0cJ9",
    }
    return CopyAnnotation(**{**base, **fields})  # type: ignore[arg-type]


def test_the_red_team_purpose_cannot_be_in_a_copy() -> None:
    with pytest.raises(SealingError, match=r"purpose contains U\+3000 \(IDEOGRAPHIC SPACE\)"):
        _annotation(purpose=RED_TEAM)
    with pytest.raises(SealingError, match="purpose"):
        dataclasses.replace(_annotation(), purpose=RED_TEAM)


REFUSED = {
    "ideographic spaces": "企业开办\u3000\u3000办理",
    "no-break space": "企业\u00a0开办",
    "two spaces": "企业  开办",
    "a tab": "企业\t开办",
    "a line break": "企业\n开办",
    "a line separator": "企业\u2028开办",
    "a paragraph separator": "企业\u2029开办",
    "zero width space": "企业\u200b开办",
    "zero width joiner": "企业\u200d开办",
    "right-to-left override": "企业\u202e开办",
    "left-to-right isolate": "企业\u2066开办",
    "byte order mark": "\ufeff企业开办",
    "leading space": " 企业开办",
    "trailing space": "企业开办 ",
    "a full-width colon": "企业开办：补正",
    "a plain colon": "10:30 领取",
    "a small colon": "企业开办\ufe55补正",
    "a ratio sign": "企业开办\u2236补正",
    "the validity label": "企业开办有效期截止时间2099-12-31",
    "the validity label, spaced": "企业开办 有 效 期 2099",
    "the maker label": "制作者福建省",
    "the time label": "制作时间2099",
    "the purpose label": "制作事由补正",
    "the case label": "办件编号无",
    "Beijing time": "2099-12-31（北京时间）",
    "a combining mark": "企业开办\u20dd",
    "private use": "企业\ue000开办",
    "not NFC": "Jose\u0301",
}


@pytest.mark.parametrize("field", sorted(TEXT_LIMITS))
@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_field_that_could_read_as_another_is_refused(field: str, case: str) -> None:
    value = REFUSED[case]
    assert annotation_text_problem(field, value) is not None
    with pytest.raises(SealingError, match=f"copy annotation: {field}"):
        _annotation(**{field: value})


@pytest.mark.parametrize("field", sorted(TEXT_LIMITS))
def test_each_field_has_a_length_cap(field: str) -> None:
    limit = TEXT_LIMITS[field]
    _annotation(**{field: "甲" * limit})
    with pytest.raises(SealingError, match=rf"{field} is {limit + 1} characters \(max {limit}\)"):
        _annotation(**{field: "甲" * (limit + 1)})


@pytest.mark.parametrize(
    "value",
    [
        "企业开办",
        "商品房预售许可申请",
        "FZ-2026-00012345",
        "办理贷款 某银行",
        "José",
        "补正材料 第2次",
    ],
)
def test_ordinary_text_is_kept(value: str) -> None:
    assert annotation_text_problem("purpose", value) is None
    assert _annotation(purpose=value).purpose == value


def test_no_line_of_a_laid_out_field_starts_like_a_label() -> None:
    """The longest purpose and case number allowed wrap; each continuation line is in the
    value column, and none holds a colon but the vault's own ``（办件编号：``."""
    purpose = "因企业开办需要提交营业执照复印件" * 4
    annotation = _annotation(purpose=purpose[: TEXT_LIMITS["purpose"]], case_no="A" * 50)
    runs = layout(annotation).runs
    labels = [r for r in runs if r.role == "label"]
    values = [r for r in runs if r.role == "value"]
    assert [r.text for r in labels] == ["制作时间：", "制作者：", "制作事由：", "有效期截止时间："]
    assert min(r.x for r in values) > max(r.x for r in labels)
    for run in values:
        colons = run.text.count("：")
        assert colons == 0 or "（办件编号：" in run.text, run.text


# -- red team 14, r14-03: a field closing its own bracket, synonyms of the validity ----------

R14_DEPARTMENT = "福州市住房和城乡建设局）本件长期有效 截止日期2099年12月31日（"
R14_PURPOSE = "商品房预售许可申请 有效日期至2099年12月31日 23时59分59秒"


def test_the_r14_03_fields_cannot_be_in_a_copy() -> None:
    """r14-03: the department closed the template's ``（为…制作）`` and wrote "本件长期有效
    截止日期2099年12月31日" as the vault's own words; the purpose said "有效日期至2099年…"."""
    assert annotation_text_problem("department", R14_DEPARTMENT) is not None
    assert annotation_text_problem("purpose", R14_PURPOSE) is not None
    with pytest.raises(SealingError, match="copy annotation: department"):
        _annotation(department=R14_DEPARTMENT)
    with pytest.raises(SealingError, match="copy annotation: purpose"):
        _annotation(purpose=R14_PURPOSE)


STRUCTURE = (
    "（）()【】「」『』《》〈〉〔〕[]{}｛｝［］〖〗〘〙〚〛⦅⦆｟｠"  # brackets
    "“”‘’\"'«»‹›〝〞〟＂＇<>＜＞"  # quotes, angle brackets
)
"""Brackets and quotes: the template's own structure and the 「」 a field is shown in."""


@pytest.mark.parametrize("field", sorted(TEXT_LIMITS))
@pytest.mark.parametrize("mark", list(STRUCTURE))
def test_no_field_holds_a_bracket_or_a_quote(field: str, mark: str) -> None:
    """Structural: whatever a field says, it cannot end itself (close ``「…」`` or the
    template's ``（…）``) nor open a bracket of its own that reads as the vault's."""
    value = f"企业开办{mark}补正"
    assert annotation_text_problem(field, value) is not None, (field, mark)
    with pytest.raises(SealingError, match=f"copy annotation: {field}"):
        _annotation(**{field: value})


VALIDITY_CLAIMS = {
    "validity word": "本件长期有效",
    "valid until": "有效至2099",
    "validity date": "有效日期2099年12月31日",
    "deadline": "截止日期2099年12月31日",
    "term": "期限三十日",
    "expires": "2099年到期",
    "lapses": "逾期失效",
    "a date in Chinese": "2099年12月31日",
    "an ISO date": "办理 2099-12-31",
    "a dotted date": "2099.12.31 前",
    "a slashed date": "2099/12/31",
    "a time": "23时59分59秒",
}


@pytest.mark.parametrize("field", ["department", "purpose", "case_no"])
@pytest.mark.parametrize("case", sorted(VALIDITY_CLAIMS))
def test_a_field_stating_a_validity_or_a_date_is_refused(field: str, case: str) -> None:
    """The second line of defence: a field does not state a validity or a date (the 加注's
    own 制作时间 and 有效期截止时间 are the only ones)."""
    assert annotation_text_problem(field, VALIDITY_CLAIMS[case]) is not None


@pytest.mark.parametrize("value", ["FZ-2026-00012345", "2026-0001234", "ZX20261231001"])
def test_a_case_number_with_a_year_is_kept(value: str) -> None:
    assert annotation_text_problem("case_no", value) is None


def test_each_caller_field_is_shown_inside_corner_brackets() -> None:
    """Every character a caller wrote is between a 「 and the 」 it cannot write."""
    annotation = _annotation()
    values = dict(annotation.fields())
    assert values["制作者"] == "福建省电子证照库（为「福州市住房和城乡建设局」制作）"
    assert values["制作事由"] == "「商品房预售许可申请」（办件编号：「FZ-2026-00012345」）"
    text = "".join(r.text for r in layout(annotation).runs)
    for value in ("福州市住房和城乡建设局", "商品房预售许可申请", "FZ-2026-00012345"):
        assert f"「{value}」" in text


def test_the_pdf_copy_shows_the_fields_in_corner_brackets(tmp_path: Path) -> None:
    """The sealed PDF's 加注 as pdftotext reads it."""
    pdftotext = require_tool("pdftotext")
    copy = CopyMaker(sealer(None)).make(
        sealed_pdf(PadesLevel.B_B, MARKET_DEPT),
        _annotation(department="福州市住房和城乡建设局 不动产登记中心", purpose="企业开办"),
    )
    path = tmp_path / "copy.pdf"
    path.write_bytes(copy)
    text = subprocess.run(
        [pdftotext, "-raw", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = "".join(text.split())
    assert "为「福州市住房和城乡建设局不动产登记中心」制作" in flat, text
    assert "制作事由：「企业开办」（办件编号：「FZ-2026-00012345」）" in flat, text


@pytest.mark.parametrize("name", ["福州市市场监督管理局（知识产权局）", "某某局(综合执法)办公室"])
def test_round_brackets_in_pairs_are_part_of_a_name(name: str) -> None:
    """A department's registered name often carries its second name in round brackets:
    in pairs, closed before the field ends, they close none of the template's."""
    assert annotation_text_problem("department", name) is None
    assert annotation_text_problem("department", name + "）") is not None
    assert annotation_text_problem("department", "（" + name) is not None
