"""RFC 9162 Merkle tree hashing and an incremental tree that keeps its subtree hashes.

Hashing follows RFC 9162 section 2.1.1 with SHA-256::

    MTH({})        = SHA-256()
    leaf hash      = SHA-256(0x00 || d)
    node hash      = SHA-256(0x01 || left || right)
    MTH(D[n]), n>1 = node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two < n

:class:`MerkleTree` stores the hash of every *perfect* subtree it has completed (level ``h``
holds the subtrees of ``2**h`` leaves, left to right). Appending a leaf costs one leaf hash
plus one node hash per subtree it completes (amortised two hashes); the root of any earlier
size, an inclusion proof (RFC 9162 ``PATH``) and a consistency proof (``PROOF``) each cost
O(log n) node hashes, never a pass over the leaves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from signing.errors import LogVerificationError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MerkleTree",
    "leaf_hash",
    "node_hash",
]

HASH_SIZE = 32
#: MTH({}) = SHA-256 of the empty string.
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleTree:
    """An append-only RFC 9162 tree over leaf hashes, with stored perfect-subtree hashes.

    ``levels[h][i]`` is the hash of leaves ``[i * 2**h, (i + 1) * 2**h)``. Nothing is ever
    rehashed: appends complete new subtrees, queries combine O(log n) stored ones.
    """

    __slots__ = ("_levels",)

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        for h in leaf_hashes:
            self.append_hash(h)

    # Building -------------------------------------------------------------------------
    @property
    def size(self) -> int:
        """Number of leaves."""
        return len(self._levels[0])

    def __len__(self) -> int:
        return self.size

    def append(self, data: bytes) -> int:
        """Append a leaf holding ``data``; return its index."""
        return self.append_hash(leaf_hash(data))

    def append_hash(self, hashed: bytes) -> int:
        """Append a leaf whose leaf hash is already computed; return its index."""
        if len(hashed) != HASH_SIZE:
            raise LogVerificationError(f"a leaf hash has {HASH_SIZE} bytes, not {len(hashed)}")
        levels = self._levels
        index = len(levels[0])
        levels[0].append(hashed)
        level = 0
        # Each time a level gets an even number of hashes, its last two form a new parent.
        while len(levels[level]) % 2 == 0:
            row = levels[level]
            parent = node_hash(row[-2], row[-1])
            level += 1
            if level == len(levels):
                levels.append([])
            levels[level].append(parent)
        return index

    def leaf_hash_at(self, index: int) -> bytes:
        """The leaf hash stored at ``index``."""
        self._check_index(index, self.size)
        return self._levels[0][index]

    # Hashes ---------------------------------------------------------------------------
    def subtree_hashes(self, level: int, start: int, end: int) -> list[bytes]:
        """Hashes ``start``..``end - 1`` of the perfect subtrees of ``2**level`` leaves.

        Hash ``i`` is MTH(D[i * 2**level : (i + 1) * 2**level]); all of them must be complete
        (the rows of a C2SP tile, see :mod:`signing.transparency.tiles`).
        """
        row = self._levels[level] if level < len(self._levels) else []
        if not 0 <= start <= end <= len(row):
            raise LogVerificationError(
                f"the tree has {len(row)} complete subtrees of {2**level} leaves, not {end}"
            )
        return row[start:end]

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first ``size`` leaves (default: all)."""
        n = self.size if size is None else size
        self._check_size(n)
        if n == 0:
            return EMPTY_ROOT
        return self._range_hash(0, n)

    def _range_hash(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a range reached by the RFC's recursion.

        Such a range starts at a multiple of a power of two not smaller than its length, so
        it splits into perfect subtrees stored in ``levels``; they are folded right to left.
        """
        n = end - start
        if n & (n - 1) == 0:
            level = n.bit_length() - 1
            return self._levels[level][start >> level]
        k = _split(n)
        return node_hash(self._range_hash(start, start + k), self._range_hash(start + k, end))

    # Proofs ---------------------------------------------------------------------------
    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 9162 ``PATH(index, D[size])``: the audit path of leaf ``index`` in tree ``size``."""
        n = self.size if size is None else size
        self._check_size(n)
        self._check_index(index, n)
        path: list[bytes] = []
        self._path(index, 0, n, path)
        return path

    def _path(self, m: int, start: int, end: int, out: list[bytes]) -> None:
        n = end - start
        if n <= 1:
            return
        k = _split(n)
        if m < k:
            self._path(m, start, start + k, out)
            out.append(self._range_hash(start + k, end))
        else:
            self._path(m - k, start + k, end, out)
            out.append(self._range_hash(start, start + k))

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        """RFC 9162 ``PROOF(first, D[second])``; empty when ``first`` is 0 or equals ``second``."""
        n = self.size if second is None else second
        self._check_size(n)
        if not 0 <= first <= n:
            raise LogVerificationError(f"no consistency proof from size {first} to size {n}")
        proof: list[bytes] = []
        if 0 < first < n:
            self._subproof(first, 0, n, True, proof)
        return proof

    def _subproof(self, m: int, start: int, end: int, whole: bool, out: list[bytes]) -> None:
        n = end - start
        if m == n:
            if not whole:
                out.append(self._range_hash(start, end))
            return
        k = _split(n)
        if m <= k:
            self._subproof(m, start, start + k, whole, out)
            out.append(self._range_hash(start + k, end))
        else:
            self._subproof(m - k, start + k, end, False, out)
            out.append(self._range_hash(start, start + k))

    # Checks ---------------------------------------------------------------------------
    def _check_size(self, n: int) -> None:
        if not 0 <= n <= self.size:
            raise LogVerificationError(f"the tree has {self.size} leaves, not {n}")

    @staticmethod
    def _check_index(index: int, n: int) -> None:
        if not 0 <= index < n:
            raise LogVerificationError(f"leaf index {index} is outside a tree of size {n}")
