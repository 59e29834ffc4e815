"""C2SP tlog-tiles: the log's Merkle tree and entries as static, cacheable resources.

Under a URL prefix (the origin line with a scheme) a tiled log serves::

    <prefix>/checkpoint                   the signed checkpoint
    <prefix>/tile/<L>/<N>[.p/<W>]         hash tiles (application/octet-stream)
    <prefix>/tile/entries/<N>[.p/<W>]     entry bundles

A tile is 8 levels of the tree: tile ``N`` at level ``L`` holds, for ``i`` in 0..255, the
hash ``MTH(D[(N*256 + i) * 256**L : (N*256 + i + 1) * 256**L])`` (32 bytes each, so a full
tile is 8192 bytes). ``N`` is written in zero-padded 3-digit path elements, all but the
last prefixed with ``x`` (1234067 -> ``x001/x234/067``). The rightmost tiles of a tree of
size ``s`` are *partial*: ``W = floor(s / 256**L) mod 256`` hashes, path suffix ``.p/<W>``.
An entry bundle holds the entries of level-0 tile ``N``, each as a big-endian uint16
length then the entry's bytes; each entry's RFC 6962 leaf hash is the tile's hash.

This module addresses tiles and encodes bundles; :class:`~signing.transparency.merkle.
MerkleTree` gives the hashes (:func:`tile_hashes`).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from signing.errors import LogFormatError
from signing.transparency.merkle import MerkleTree

__all__ = [
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "TileAddress",
    "encode_entry_bundle",
    "tile_hashes",
]

#: Levels of the tree one tile spans.
TILE_HEIGHT = 8
#: Hashes in a full tile (2 ** TILE_HEIGHT).
TILE_WIDTH = 1 << TILE_HEIGHT
_MAX_ENTRY = 0xFFFF
_ELEMENT = re.compile(r"x[0-9]{3}")
_LAST = re.compile(r"[0-9]{3}")
_LEVEL = re.compile(r"0|[1-9][0-9]?")
_WIDTH = re.compile(r"[1-9][0-9]{0,2}")


@dataclass(frozen=True)
class TileAddress:
    """One tile or entry bundle: its level (None for an entry bundle), index and width."""

    #: 0-63 for a hash tile; None for an entry bundle.
    level: int | None
    #: Index of the tile within its level.
    index: int
    #: Number of hashes (or entries): 256 for a full tile, 1-255 for a partial one.
    width: int = TILE_WIDTH

    @property
    def partial(self) -> bool:
        return self.width < TILE_WIDTH

    @property
    def subtree_level(self) -> int:
        """The level (height) of the perfect subtrees whose hashes the tile holds."""
        return TILE_HEIGHT * (self.level or 0)

    def path(self) -> str:
        """The path below ``<prefix>/tile/``: ``<L>/<N>[.p/<W>]`` or ``entries/<N>[.p/<W>]``."""
        digits = f"{self.index:03d}"
        digits = "0" * (-len(digits) % 3) + digits
        groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
        index = "/".join([*(f"x{g}" for g in groups[:-1]), groups[-1]])
        head = "entries" if self.level is None else str(self.level)
        tail = f".p/{self.width}" if self.partial else ""
        return f"{head}/{index}{tail}"

    def fits(self, tree_size: int) -> bool:
        """Whether a tree of ``tree_size`` leaves has this tile (exactly this width)."""
        hashes_at_level = tree_size >> self.subtree_level
        if not self.partial:
            return (self.index + 1) * TILE_WIDTH <= hashes_at_level
        return (
            self.index == hashes_at_level // TILE_WIDTH
            and self.width == hashes_at_level % TILE_WIDTH
        )

    def within(self, tree_size: int) -> bool:
        """Whether every hash of this tile is complete in a tree of ``tree_size`` leaves.

        True for the tiles of ``tree_size`` and for the partial tiles of every smaller size
        (what a log serves: the tiles of each checkpoint it ever signed).
        """
        return self.index * TILE_WIDTH + self.width <= tree_size >> self.subtree_level

    @classmethod
    def parse(cls, level: str, rest: str) -> TileAddress:
        """Parse ``<L>`` (or ``entries``) and ``<N>[.p/<W>]``; :class:`LogFormatError` if bad."""
        if level == "entries":
            at: int | None = None
        elif _LEVEL.fullmatch(level) and int(level) <= 63:
            at = int(level)
        else:
            raise LogFormatError(f"tile level {level!r} is not 0-63 or 'entries'")
        width = TILE_WIDTH
        parts = rest.split("/")
        if len(parts) >= 2 and parts[-2].endswith(".p"):
            if not _WIDTH.fullmatch(parts[-1]) or int(parts[-1]) >= TILE_WIDTH:
                raise LogFormatError(f"partial tile width {parts[-1]!r} is not 1-255")
            width = int(parts[-1])
            parts = [*parts[:-2], parts[-2][:-2]]
        if not _LAST.fullmatch(parts[-1]) or not all(_ELEMENT.fullmatch(p) for p in parts[:-1]):
            raise LogFormatError(f"tile index {rest!r} is not in x001/x234/067 form")
        index = int("".join(p.lstrip("x") for p in parts))
        address = cls(level=at, index=index, width=width)
        if address.path().split("/", 1)[1] != rest:  # e.g. x000/001: a leading zero group
            raise LogFormatError(f"tile index {rest!r} is not in its shortest form")
        return address


def tile_hashes(tree: MerkleTree, address: TileAddress) -> bytes:
    """The concatenated hashes of a hash tile (the tree must have it: see ``fits``)."""
    if address.level is None:
        raise LogFormatError("an entry bundle holds entries, not hashes")
    start = address.index * TILE_WIDTH
    return b"".join(tree.subtree_hashes(address.subtree_level, start, start + address.width))


def encode_entry_bundle(entries: Iterable[bytes]) -> bytes:
    """Entries as a bundle: each a big-endian uint16 length, then its bytes."""
    out = bytearray()
    for entry in entries:
        if len(entry) > _MAX_ENTRY:
            raise LogFormatError(f"a log entry of {len(entry)} bytes does not fit a bundle")
        out += struct.pack(">H", len(entry)) + entry
    return bytes(out)
