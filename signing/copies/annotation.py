"""What a certified copy (加注件) says about itself: the 加注 fields."""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from dataclasses import dataclass

from signing.errors import SealingError

__all__ = ["BEIJING", "TEXT_LIMITS", "CopyAnnotation", "annotation_text_problem"]

BEIJING = _dt.timezone(_dt.timedelta(hours=8), "UTC+8")
"""China Standard Time: the 加注 shows times in it."""

_MAX_URL = 300

TEXT_LIMITS = {"maker": 60, "department": 60, "purpose": 60, "case_no": 50}
"""The longest text (characters) of each 加注 field a caller supplies: the vault's name, the
department (or recipient) the copy is for, the purpose (制作事由) and the case number."""

_LABELS = ("制作时间", "制作者", "制作事由", "有效期", "截止时间", "北京时间", "办件编号", "加注")
"""The 加注's labels and the words of its fixed text a field's value may not spell."""
_COLONS = frozenset(":∶꞉ː˸׃։፡᠄⁚⦂")
"""Colons, and what looks like one, once NFKC-folded (the full-width ``：`` is ``:``)."""
_BRACKET_CATEGORIES = frozenset({"Ps", "Pe", "Pi", "Pf"})
"""Opening and closing brackets, opening and closing quotation marks (Unicode categories)."""
_BRACKETS = frozenset("\"'`<>‹›«»〝〞〟‘’‚‛“”„‟")
"""Quotes and angle brackets not in :data:`_BRACKET_CATEGORIES` (or listed to be sure)."""
_OPEN, _CLOSE = "「", "」"
"""What the 加注 shows each caller field in: it holds no bracket, so it cannot close it."""
_VALIDITY = ("有效", "截止", "期限", "到期", "期满", "失效", "过期", "逾期")
"""Words of a validity: the 加注's 有效期截止时间 is the only one (red team 14, r14-03)."""
_CN_DIGIT = "〇零一二三四五六七八九十"
_DATE = re.compile(
    r"\d[年月日时点分秒]"
    r"|(?<!\d)\d{4}[-./]\d{1,2}[-./]\d{1,2}(?!\d)"
    r"|(?<!\d)\d{1,2}[-./]\d{1,2}[-./]\d{4}(?!\d)"
    rf"|[{_CN_DIGIT}]{{4}}年|[{_CN_DIGIT}]{{1,2}}月[{_CN_DIGIT}]{{1,3}}[日号]"
)
"""A date or a time of day (2099年, 12月31日, 2099-12-31, 31.12.2099, 23时59分, 二〇九九年)."""
_BAD_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Mn", "Mc", "Me"})
"""Control and format characters (bidi controls, zero-width joiners), surrogates, private
use, unassigned, line and paragraph separators, combining marks (NFC has composed those of
real text)."""


def annotation_text_problem(name: str, value: object) -> str | None:
    """Why ``value`` cannot be the 加注 field ``name`` (one of :data:`TEXT_LIMITS`), or None.

    The vault seals the 加注; a field a caller supplies (a holder types its own purpose)
    must not read as another field (red team 12, r12-10: ideographic spaces pushed a fake
    ``有效期截止时间：2099-12-31`` onto a line of its own inside the sealed box) nor end its
    own field and go on in the vault's voice (red team 14, r14-03: a department
    ``…建设局）本件长期有效 截止日期2099年12月31日（`` closed the template's ``（为…制作）``).

    The rule is structural: the 加注 shows each caller field inside ``「…」``
    (:meth:`CopyAnnotation.fields`) and a field holds no bracket and no quotation mark of
    any kind (Unicode categories Ps, Pe, Pi, Pf, and ``"'`<>``) but round brackets in
    pairs, each closed before the field ends (a department's registered name:
    ``市场监督管理局（知识产权局）``), so whatever it says stays visibly inside its own
    brackets and closes none of the template's. Besides: NFC, no white space at either end, none but
    single plain spaces, no control or format character, no colon (every field reads
    ``label：value``), none of the 加注's labels, and, as a second line of defence, no
    word of a validity (有效, 截止, 期限, 到期 …) and no date or time of day (2099年,
    12月31日, 2099-12-31, 23时59分): the 加注's own 制作时间 and 有效期截止时间 are its only
    dates. All compared NFKC-folded without spaces (a radical or a full-width form that
    looks the same is the same); at most :data:`TEXT_LIMITS` characters."""
    limit = TEXT_LIMITS.get(name, 60)
    if not isinstance(value, str) or not value.strip():
        return f"{name} must be a non-empty text"
    if len(value) > limit:
        return f"{name} is {len(value)} characters (max {limit})"
    if unicodedata.normalize("NFC", value) != value:
        return f"{name} is not in Unicode normal form C"
    if value != value.strip() or "  " in value:
        return f"{name} has white space at an end or several spaces in a row"
    for ch in value:
        category = unicodedata.category(ch)
        if category in _BAD_CATEGORIES or (category == "Zs" and ch != " "):
            return (
                f"{name} contains U+{ord(ch):04X} ({unicodedata.name(ch, category)}): only "
                "printable characters and single spaces may be shown in the 加注"
            )
    folded = "".join(unicodedata.normalize("NFKC", value).split())
    if any(c in _COLONS for c in folded):
        return f"{name} contains a colon: in the 加注 it would read as a field of its own"
    depth = 0
    for ch in folded:
        if ch in "()":  # round brackets in pairs, closed in order: 市场监督管理局（知识产权局）
            depth += 1 if ch == "(" else -1
            if depth >= 0:
                continue
        if ch in _BRACKETS or unicodedata.category(ch) in _BRACKET_CATEGORIES:
            return (
                f"{name} contains {ch!r} (U+{ord(ch):04X}): a field may hold no bracket or "
                f"quotation mark but round ones in pairs (the 加注 shows it inside "
                f"{_OPEN}…{_CLOSE})"
            )
    if depth:
        return (
            f"{name} opens a round bracket it does not close: a field may hold no bracket or "
            f"quotation mark but round ones in pairs (the 加注 shows it inside {_OPEN}…{_CLOSE})"
        )
    spelled = [label for label in _LABELS if label in folded]
    if spelled:
        return f"{name} spells the 加注's own label {spelled[0]!r}: it would read as that field"
    validity = [word for word in _VALIDITY if word in folded]
    if validity:
        return (
            f"{name} contains {validity[0]!r}: a field may not state a validity (the 加注's "
            "有效期截止时间 is the copy's only one)"
        )
    date = _DATE.search(folded)
    if date is not None:
        return f"{name} contains a date or a time ({date.group()!r}): the 加注 states its own"
    return None


def _text(name: str, value: str, *, limit: int = 120) -> None:
    if not isinstance(value, str) or not value.strip():
        raise SealingError(f"copy annotation: {name} must be a non-empty text")
    if len(value) > limit:
        raise SealingError(f"copy annotation: {name} is {len(value)} characters (max {limit})")
    if any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in value):
        raise SealingError(f"copy annotation: {name} contains control characters")


def _field(name: str, value: str) -> None:
    problem = annotation_text_problem(name, value)
    if problem is not None:
        raise SealingError(f"copy annotation: {problem}")


def _aware(name: str, value: _dt.datetime) -> None:
    if not isinstance(value, _dt.datetime) or value.utcoffset() is None:
        raise SealingError(f"copy annotation: {name} must be a timezone-aware datetime")


@dataclass(frozen=True)
class CopyAnnotation:
    """The 加注 of one certified copy. Checked when built: an invalid one cannot exist."""

    copy_id: str
    """The copy's public id (random, unguessable: chosen by the vault)."""
    made_at: _dt.datetime
    """制作时间 (timezone-aware)."""
    maker: str
    """制作者: the vault that makes the copy (e.g. "福建省电子证照库")."""
    department: str
    """The using department the copy is made for (用证部门)."""
    purpose: str
    """制作事由: what the copy is for (e.g. "企业开办")."""
    case_no: str
    """制作事由: the application case (办件) number."""
    valid_until: _dt.datetime
    """有效期截止时间 (timezone-aware, after :attr:`made_at`)."""
    verify_url: str
    """The public verification page; the QR code encodes it."""
    log_proof: bytes | None = None
    """Optional transparency-log proof, embedded as a file attached to the seal."""

    def __post_init__(self) -> None:
        _text("copy_id", self.copy_id, limit=64)
        for name in TEXT_LIMITS:
            _field(name, getattr(self, name))
        _text("verify_url", self.verify_url, limit=_MAX_URL)
        if not self.verify_url.startswith(("https://", "http://")):
            raise SealingError("copy annotation: verify_url must be an http(s) URL")
        _aware("made_at", self.made_at)
        _aware("valid_until", self.valid_until)
        if self.valid_until <= self.made_at:
            raise SealingError("copy annotation: valid_until must be after made_at")
        if self.log_proof is not None and not isinstance(self.log_proof, bytes):
            raise SealingError("copy annotation: log_proof must be bytes")

    # -- the four 加注 fields, as shown and as stored in the file's metadata ------------------

    @staticmethod
    def format_time(moment: _dt.datetime) -> str:
        """``2026-11-21 18:32:05`` in Beijing time."""
        return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")

    @property
    def made_at_text(self) -> str:
        return f"{self.format_time(self.made_at)}（北京时间）"

    @property
    def maker_text(self) -> str:
        """The vault's name, then the department inside ``「…」`` (a caller's text)."""
        return f"{self.maker}（为{_OPEN}{self.department}{_CLOSE}制作）"

    @property
    def reason_text(self) -> str:
        """The purpose and the case number, each inside ``「…」`` (a caller's text)."""
        return f"{_OPEN}{self.purpose}{_CLOSE}（办件编号：{_OPEN}{self.case_no}{_CLOSE}）"

    @property
    def valid_until_text(self) -> str:
        return f"{self.format_time(self.valid_until)}（北京时间）"

    def fields(self) -> tuple[tuple[str, str], ...]:
        """The four 加注 fields as (label, value), in the order shown."""
        return (
            ("制作时间", self.made_at_text),
            ("制作者", self.maker_text),
            ("制作事由", self.reason_text),
            ("有效期截止时间", self.valid_until_text),
        )
