"""A verifier's whole answer: the presentation checked, then its status list entry read.

:func:`judge` takes the :class:`~signing.credentials.sdjwt.PresentationCheck` and the status
list token fetched from the credential's ``status.status_list.uri`` (by the caller: the
API reads its own, the CLI fetches it or is given a file) and says whether the credential
is valid and not revoked, as data.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from signing.credentials.sdjwt import PresentationCheck
from signing.credentials.status_list import Status
from signing.credentials.tokens import read_status_list_token
from signing.errors import CredentialError

__all__ = ["CredentialStatus", "CredentialVerdict", "judge"]


class CredentialStatus(enum.Enum):
    """What the issuer's status list says of the credential."""

    VALID = "valid"
    REVOKED = "revoked"  # status INVALID: revoked, withdrawn, cancelled, expired, superseded
    SUSPENDED = "suspended"
    UNKNOWN = "unknown"  # no usable status list token (not fetched, bad signature, ...)


@dataclass(frozen=True)
class CredentialVerdict:
    """``accepted`` only when the presentation verifies and the status list says VALID."""

    check: PresentationCheck
    status: CredentialStatus
    status_problem: str | None = None

    @property
    def accepted(self) -> bool:
        return self.check.valid and self.status is CredentialStatus.VALID

    def to_json(self) -> dict[str, Any]:
        c = self.check
        return {
            "accepted": self.accepted,
            "valid": c.valid,
            "status": self.status.value,
            "disclosed": c.disclosed,
            "disclosed_fields": sorted(c.disclosed),
            "issuer": c.issuer,
            "vct": c.vct,
            "issued_at": c.issued_at.isoformat() if c.issued_at else None,
            "expires_at": c.expires_at.isoformat() if c.expires_at else None,
            "problems": [*c.problems, *([self.status_problem] if self.status_problem else [])],
        }


_BY_VALUE = {
    Status.VALID: CredentialStatus.VALID,
    Status.INVALID: CredentialStatus.REVOKED,
    Status.SUSPENDED: CredentialStatus.SUSPENDED,
}


def judge(
    check: PresentationCheck,
    *,
    status_token: str | None,
    trusted_keys: Sequence[Mapping[str, Any]],
    now: dt.datetime,
    fetch_problem: str | None = None,
) -> CredentialVerdict:
    """The verdict of ``check`` given the status list token of its ``status`` entry
    (``None`` when it could not be had: ``fetch_problem`` says why)."""
    if not check.valid:
        return CredentialVerdict(check, CredentialStatus.UNKNOWN)
    ref = check.status
    if ref is None:
        return CredentialVerdict(check, CredentialStatus.UNKNOWN, "the credential has no status")
    if status_token is None:
        return CredentialVerdict(
            check, CredentialStatus.UNKNOWN, fetch_problem or "no status list token"
        )
    try:
        token = read_status_list_token(
            status_token, uri=ref.uri, trusted_keys=trusted_keys, now=now
        )
        value = token.status_list.get(ref.idx)
    except CredentialError as exc:
        return CredentialVerdict(check, CredentialStatus.UNKNOWN, f"status list: {exc}")
    known = {s.value for s in Status}
    status = _BY_VALUE.get(Status(value)) if value in known else None
    if status is None:  # a value this verifier does not know: not accepted
        return CredentialVerdict(check, CredentialStatus.UNKNOWN, f"status value {value:#x}")
    return CredentialVerdict(check, status)
