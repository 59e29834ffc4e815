"""What a certified copy (加注件) says about itself: the 加注 fields."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from signing.errors import SealingError

__all__ = ["BEIJING", "CopyAnnotation"]

BEIJING = _dt.timezone(_dt.timedelta(hours=8), "UTC+8")
"""China Standard Time: the 加注 shows times in it."""

_MAX_TEXT = 120
_MAX_URL = 300


def _text(name: str, value: str, *, limit: int = _MAX_TEXT) -> None:
    if not isinstance(value, str) or not value.strip():
        raise SealingError(f"copy annotation: {name} must be a non-empty text")
    if len(value) > limit:
        raise SealingError(f"copy annotation: {name} is {len(value)} characters (max {limit})")
    if any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in value):
        raise SealingError(f"copy annotation: {name} contains control characters")


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
        for name in ("maker", "department", "purpose", "case_no"):
            _text(name, getattr(self, name))
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
        return f"{self.maker}（为{self.department}制作）"

    @property
    def reason_text(self) -> str:
        return f"{self.purpose}（办件编号：{self.case_no}）"

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
