"""Verification of RFC 9162 inclusion and consistency proofs, following the RFC's steps.

Both functions raise :class:`signing.errors.LogVerificationError` when the proof does not
verify and return ``None`` when it does (a proof that fails is an attack or a bug, never a
verdict to weigh). The numbered comments are the steps of RFC 9162 sections 2.1.3.2 and
2.1.4.2.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from signing.errors import LogVerificationError
from signing.transparency.merkle import EMPTY_ROOT, HASH_SIZE, node_hash

__all__ = ["root_from_inclusion_proof", "verify_consistency", "verify_inclusion"]


def _check_hashes(name: str, hashes: Sequence[bytes]) -> None:
    for h in hashes:
        if len(h) != HASH_SIZE:
            raise LogVerificationError(f"{name}: a hash has {len(h)} bytes, not {HASH_SIZE}")


def root_from_inclusion_proof(
    *, leaf_index: int, tree_size: int, leaf_hash: bytes, inclusion_path: Sequence[bytes]
) -> bytes:
    """The root hash that ``inclusion_path`` proves for ``leaf_hash`` (RFC 9162 2.1.3.2, 1-5)."""
    _check_hashes("inclusion proof", [leaf_hash, *inclusion_path])
    # 1. leaf_index must be smaller than tree_size.
    if not 0 <= leaf_index < tree_size:
        raise LogVerificationError(
            f"inclusion proof: leaf index {leaf_index} is outside a tree of size {tree_size}"
        )
    # 2. fn = leaf_index, sn = tree_size - 1.
    fn, sn = leaf_index, tree_size - 1
    # 3. r = hash.
    r = leaf_hash
    # 4. For each p in inclusion_path:
    for p in inclusion_path:
        # a. sn == 0: fail.
        if sn == 0:
            raise LogVerificationError("inclusion proof: too many hashes for the tree size")
        # b. LSB(fn) set, or fn == sn:
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        # c. shift once.
        fn >>= 1
        sn >>= 1
    # 5. sn must be 0.
    if sn != 0:
        raise LogVerificationError("inclusion proof: too few hashes for the tree size")
    return r


def verify_inclusion(
    *,
    leaf_index: int,
    tree_size: int,
    leaf_hash: bytes,
    inclusion_path: Sequence[bytes],
    root_hash: bytes,
) -> None:
    """Check that ``leaf_hash`` is leaf ``leaf_index`` of the tree ``(tree_size, root_hash)``."""
    r = root_from_inclusion_proof(
        leaf_index=leaf_index,
        tree_size=tree_size,
        leaf_hash=leaf_hash,
        inclusion_path=inclusion_path,
    )
    # 5. r must equal root_hash.
    if not hmac.compare_digest(r, root_hash):
        raise LogVerificationError(
            f"inclusion proof: leaf {leaf_index} does not lead to the root of size {tree_size}"
        )


def verify_consistency(
    *,
    first: int,
    second: int,
    first_hash: bytes,
    second_hash: bytes,
    consistency_path: Sequence[bytes],
) -> None:
    """Check that tree ``(first, first_hash)`` is a prefix of ``(second, second_hash)``.

    RFC 9162 2.1.4.2 covers ``0 < first < second``. The two edge cases are decided the usual
    way: ``first == second`` needs an empty proof and equal roots; ``first == 0`` needs an
    empty proof and ``first_hash`` equal to MTH({}).
    """
    path = list(consistency_path)
    _check_hashes("consistency proof", [first_hash, second_hash, *path])
    if not 0 <= first <= second:
        raise LogVerificationError(f"consistency proof: size {first} cannot precede size {second}")
    if first == second or first == 0:
        if path:
            raise LogVerificationError(
                f"consistency proof: must be empty from size {first} to size {second}"
            )
        expected = second_hash if first == second else EMPTY_ROOT
        if not hmac.compare_digest(first_hash, expected):
            raise LogVerificationError(
                f"consistency proof: the roots of size {first} and {second} are inconsistent"
            )
        return
    # 1. An empty path fails.
    if not path:
        raise LogVerificationError("consistency proof: empty")
    # 2. first an exact power of two: prepend first_hash.
    if first & (first - 1) == 0:
        path.insert(0, first_hash)
    # 3. fn = first - 1, sn = second - 1.
    fn, sn = first - 1, second - 1
    # 4. LSB(fn) set: shift both until it is not.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # 5. fr = sr = the first value.
    fr = sr = path[0]
    # 6. For each subsequent value c:
    for c in path[1:]:
        # a. sn == 0: fail.
        if sn == 0:
            raise LogVerificationError("consistency proof: too many hashes for the sizes")
        # b. LSB(fn) set, or fn == sn:
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        # c. shift once.
        fn >>= 1
        sn >>= 1
    # 7. fr == first_hash, sr == second_hash, sn == 0.
    if sn != 0:
        raise LogVerificationError("consistency proof: too few hashes for the sizes")
    if not hmac.compare_digest(fr, first_hash):
        raise LogVerificationError(f"consistency proof: does not lead to the root of size {first}")
    if not hmac.compare_digest(sr, second_hash):
        raise LogVerificationError(f"consistency proof: does not lead to the root of size {second}")
