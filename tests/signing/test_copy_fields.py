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

import pytest

from signing.copies import CopyAnnotation
from signing.copies.annotation import TEXT_LIMITS, annotation_text_problem
from signing.copies.appearance import layout
from signing.errors import SealingError

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
        "（补正）材料",
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
