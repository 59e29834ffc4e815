"""The transparency log served as C2SP tlog-tiles: hash tiles and entry bundles.

Tiles are served up to the size of the latest signed checkpoint (a client fetches the
checkpoint first and only asks for the tiles that size implies), so everything served is
covered by a signature: the tiles of that size, and the partial tiles of every smaller
size (those of older checkpoints, which proofs in older copies refer to). A full tile
never changes, nor does a partial tile of a given width: both are immutable resources.
The hashes come from the process's :class:`vault.LogTreeCache`; an entry bundle
is rebuilt from the rows, each entry checked against its recorded leaf hash.
"""

from __future__ import annotations

import hmac

from sqlalchemy.orm import Session

from signing.errors import LogFormatError, LogVerificationError
from signing.transparency.tiles import TILE_WIDTH, TileAddress, encode_entry_bundle, tile_hashes
from vault.errors import LogCorrupted, NotFound
from vault.log.checkpoints import latest_checkpoint
from vault.log.proofs import LogTreeCache, entries, log_tree

__all__ = ["entry_bundle", "parse_address", "served_size", "tile"]


def parse_address(level: str, rest: str) -> TileAddress:
    """The tile at ``tile/<level>/<rest>``; a path that names no tile is :class:`NotFound`."""
    try:
        return TileAddress.parse(level, rest)
    except LogFormatError as exc:
        raise NotFound(f"no such tile: {exc}") from None


def served_size(*, session: Session) -> int:
    """The tree size tiles are served for: the latest checkpoint's (0 before the first)."""
    latest = latest_checkpoint(session=session)
    return 0 if latest is None else latest.tree_size


def _check_served(address: TileAddress, size: int) -> None:
    if not address.within(size):
        raise NotFound(f"no tile {address.path()} in the log's checkpoint of size {size}")


def tile(*, session: Session, address: TileAddress, cache: LogTreeCache | None = None) -> bytes:
    """The hashes of a hash tile, concatenated (32 bytes each)."""
    latest = latest_checkpoint(session=session)
    size = 0 if latest is None else latest.tree_size
    _check_served(address, size)
    assert latest is not None  # a tile fits only a non-empty tree
    tree = log_tree(session=session, cache=cache)
    if tree.size < size or not hmac.compare_digest(tree.root(size), bytes(latest.root_hash)):
        raise LogCorrupted(f"the log no longer reproduces its checkpoint of size {size}")
    try:
        return tile_hashes(tree, address)
    except LogVerificationError as exc:  # pragma: no cover - fits() checked the width
        raise LogCorrupted(str(exc)) from None


def entry_bundle(*, session: Session, address: TileAddress) -> bytes:
    """The entries of level-0 tile ``address.index`` as a bundle (uint16 length, bytes)."""
    _check_served(address, served_size(session=session))
    start = address.index * TILE_WIDTH
    rows = entries(session=session, start=start, end=start + address.width)
    if len(rows) != address.width:
        raise LogCorrupted(f"log entries {start}..{start + address.width - 1} are missing")
    leaves = []
    for row in rows:
        event = row.event
        recorded = row.recorded_leaf_hash
        if recorded is None or not hmac.compare_digest(event.leaf_hash(), recorded):
            raise LogCorrupted(f"log entry {event.idx} does not match its recorded leaf hash")
        leaves.append(event.leaf_data())
    return encode_entry_bundle(leaves)
