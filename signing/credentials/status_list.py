"""Token Status List (draft-ietf-oauth-status-list): the bit list and its compressed form.

A status list holds one status per referenced token, ``bits`` (1, 2, 4 or 8) bits each,
packed least significant bits first: the status of index ``i`` is in byte
``i * bits // 8`` at bit offset ``i * bits % 8``. On the wire (``lst``) the bytes are
DEFLATE-compressed in the ZLIB format (RFC 1950) at the highest level, then base64url
without padding. The values used here:

- ``0x00`` VALID, ``0x01`` INVALID (revoked for good), ``0x02`` SUSPENDED.

This module is the list only; the signed status list token (``typ: statuslist+jwt``) is
:mod:`signing.credentials.tokens`.
"""

from __future__ import annotations

import base64
import binascii
import enum
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from signing.errors import CredentialError

__all__ = ["MAX_STATUS_LIST_BYTES", "Status", "StatusList"]

#: The largest list this code inflates (16 MiB: 128 M one-bit entries); a bigger one is
#: refused rather than inflated (a zip bomb in a status list token).
MAX_STATUS_LIST_BYTES = 16 * 1024 * 1024
_BITS = (1, 2, 4, 8)


class Status(enum.IntEnum):
    """The status values of the draft's registry this vault sets."""

    VALID = 0x00
    INVALID = 0x01
    SUSPENDED = 0x02


def _b64d(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise CredentialError(f"status list lst is not base64url: {exc}") from None


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class StatusList:
    """A decoded status list: ``bits`` per entry over the packed ``data``."""

    bits: int
    data: bytes

    def __post_init__(self) -> None:
        if self.bits not in _BITS:
            raise CredentialError(f"status list bits must be 1, 2, 4 or 8, not {self.bits!r}")

    @classmethod
    def build(cls, statuses: Iterable[tuple[int, int]], *, bits: int, size: int) -> StatusList:
        """A list of ``size`` entries, all VALID but the ``(index, status)`` pairs given."""
        if bits not in _BITS:
            raise CredentialError(f"status list bits must be 1, 2, 4 or 8, not {bits!r}")
        buffer = bytearray((size * bits + 7) // 8)
        for index, status in statuses:
            if not 0 <= index < size:
                raise CredentialError(f"status index {index} is outside the list (size {size})")
            if not 0 <= status < (1 << bits):
                raise CredentialError(f"status {status} does not fit in {bits} bits")
            byte, offset = divmod(index * bits, 8)
            buffer[byte] |= status << offset
        return cls(bits=bits, data=bytes(buffer))

    def get(self, index: int) -> int:
        """The status at ``index``; an index outside the list is an error (the draft's
        processing rules: the referenced token is then not to be accepted)."""
        byte, offset = divmod(index * self.bits, 8)
        if index < 0 or byte >= len(self.data):
            raise CredentialError(
                f"status index {index} is outside the list ({len(self.data) * 8 // self.bits} "
                "entries)"
            )
        return (self.data[byte] >> offset) & ((1 << self.bits) - 1)

    def to_json(self) -> dict[str, Any]:
        """``{"bits", "lst"}`` as in a status list token."""
        return {"bits": self.bits, "lst": _b64e(zlib.compress(self.data, level=9))}

    @classmethod
    def from_json(cls, value: Any) -> StatusList:
        """Decode ``{"bits", "lst"}``; a malformed or oversized list raises."""
        if not isinstance(value, dict):
            raise CredentialError("status_list must be a JSON object")
        bits, lst = value.get("bits"), value.get("lst")
        if not isinstance(bits, int) or isinstance(bits, bool):
            raise CredentialError("status_list.bits must be an integer")
        if not isinstance(lst, str):
            raise CredentialError("status_list.lst must be a string")
        inflater = zlib.decompressobj()
        try:
            data = inflater.decompress(_b64d(lst), MAX_STATUS_LIST_BYTES)
        except zlib.error as exc:
            raise CredentialError(f"status list lst is not ZLIB-compressed: {exc}") from None
        if inflater.unconsumed_tail:
            raise CredentialError("status list is larger than this verifier accepts (16 MiB)")
        if not inflater.eof:
            raise CredentialError("status list lst is truncated")
        return cls(bits=bits, data=data)
