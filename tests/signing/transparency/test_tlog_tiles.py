"""Tile addressing and entry bundles against the examples in the text of c2sp.org/tlog-tiles."""

from __future__ import annotations

import hashlib

import pytest

from signing.errors import LogFormatError
from signing.transparency import MerkleTree
from signing.transparency.tiles import TileAddress, encode_entry_bundle, tile_hashes


def test_the_index_encoding_example_of_the_spec() -> None:
    assert TileAddress(level=0, index=1234067).path() == "0/x001/x234/067"
    assert TileAddress.parse("0", "x001/x234/067") == TileAddress(level=0, index=1234067)
    assert TileAddress(level=2, index=5, width=17).path() == "2/005.p/17"
    assert TileAddress.parse("entries", "x001/000.p/3") == TileAddress(None, 1000, 3)


@pytest.mark.parametrize(
    ("level", "rest", "message"),
    [
        ("64", "000", "not 0-63"),
        ("01", "000", "not 0-63"),
        ("0", "1", "x001/x234/067 form"),
        ("0", "x1/000", "x001/x234/067 form"),
        ("0", "001/000", "x001/x234/067 form"),
        ("0", "x000/001", "shortest form"),
        ("0", "000.p/256", "not 1-255"),
        ("0", "000.p/0", "not 1-255"),
        ("0", "000.p/012", "not 1-255"),
    ],
)
def test_malformed_tile_paths_are_refused(level: str, rest: str, message: str) -> None:
    with pytest.raises(LogFormatError, match=message):
        TileAddress.parse(level, rest)


def _tiles_of(size: int) -> list[TileAddress]:
    """Every tile a tree of ``size`` has, by asking ``fits`` of each candidate."""
    found = []
    for level in range(4):
        for index in range(300):
            for width in range(1, 257):
                if TileAddress(level, index, width).fits(size):
                    found.append(TileAddress(level, index, width))
    return found


def test_the_tree_of_size_70000_has_the_tiles_the_spec_lists() -> None:
    tiles = _tiles_of(70_000)
    full0 = [t for t in tiles if t.level == 0 and not t.partial]
    assert len(full0) == 273
    assert [t.path() for t in tiles if t.partial] == ["0/273.p/112", "1/001.p/17", "2/000.p/1"]
    assert [t.path() for t in tiles if t.level and not t.partial] == ["1/000"]


def test_a_tree_of_256_has_one_full_tile_and_a_partial_one_above() -> None:
    assert [t.path() for t in _tiles_of(256)] == ["0/000", "1/000.p/1"]


def test_tile_hashes_are_the_subtree_hashes_the_spec_defines() -> None:
    leaves = [f"entry {i}".encode() for i in range(600)]
    tree = MerkleTree()
    for leaf in leaves:
        tree.append(leaf)
    level0 = tile_hashes(tree, TileAddress(0, 2, 88))
    assert level0 == b"".join(hashlib.sha256(b"\x00" + leaf).digest() for leaf in leaves[512:600])
    level1 = tile_hashes(tree, TileAddress(1, 0, 2))
    assert (
        level1
        == tree.root(256)
        + MerkleTree([hashlib.sha256(b"\x00" + leaf).digest() for leaf in leaves[256:512]]).root()
    )


def test_entry_bundles_are_uint16_length_prefixed() -> None:
    assert encode_entry_bundle([b"a", b"", b"xyz"]) == b"\x00\x01a\x00\x00\x00\x03xyz"
    with pytest.raises(LogFormatError, match="does not fit a bundle"):
        encode_entry_bundle([bytes(65_536)])
