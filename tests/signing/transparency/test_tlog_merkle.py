"""The Merkle tree and proof verification against a tiny RFC 9162 reference written here.

The reference below is transcribed from the recursive definitions of RFC 9162 section 2.1.1
(MTH), 2.1.3.1 (PATH) and 2.1.4.1 (PROOF/SUBPROOF), over the leaf data itself, sharing no
code with signing.transparency. It rehashes everything, which is fine for small trees.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signing.errors import LogVerificationError
from signing.transparency import (
    EMPTY_ROOT,
    MerkleTree,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

# --- Reference (RFC 9162 2.1) ----------------------------------------------------------------


def ref_k(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: list[bytes]) -> bytes:
    n = len(d)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = ref_k(n)
    return hashlib.sha256(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:])).digest()


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = ref_k(n)
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = ref_k(n)
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def ref_proof(m: int, d: list[bytes]) -> list[bytes]:
    return ref_subproof(m, d, True)


def leaves(n: int) -> list[bytes]:
    return [f"leaf-{i}".encode() for i in range(n)]


def build(d: list[bytes]) -> MerkleTree:
    tree = MerkleTree()
    for item in d:
        tree.append(item)
    return tree


# --- Agreement with the reference ------------------------------------------------------------


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    assert MerkleTree().root() == EMPTY_ROOT == ref_mth([])


def test_known_answer_three_leaves() -> None:
    """Hand-computed from the RFC's definition, so the reference itself is pinned."""
    h = hashlib.sha256
    a, b, c = (h(b"\x00" + x).digest() for x in (b"a", b"b", b"c"))
    expected = h(b"\x01" + h(b"\x01" + a + b).digest() + c).digest()
    assert ref_mth([b"a", b"b", b"c"]) == expected
    assert build([b"a", b"b", b"c"]).root() == expected


@settings(max_examples=60, deadline=None)
@given(n=st.integers(min_value=1, max_value=70), data=st.data())
def test_roots_and_proofs_match_reference(n: int, data: st.DataObject) -> None:
    d = leaves(n)
    tree = build(d)
    size = data.draw(st.integers(min_value=1, max_value=n), label="size")
    index = data.draw(st.integers(min_value=0, max_value=size - 1), label="index")
    first = data.draw(st.integers(min_value=1, max_value=size), label="first")
    assert tree.root(size) == ref_mth(d[:size])
    path = tree.inclusion_proof(index, size)
    assert path == ref_path(index, d[:size])
    proof = tree.consistency_proof(first, size)
    assert proof == (ref_proof(first, d[:size]) if first < size else [])
    verify_inclusion(
        leaf_index=index,
        tree_size=size,
        leaf_hash=tree.leaf_hash_at(index),
        inclusion_path=path,
        root_hash=ref_mth(d[:size]),
    )
    verify_consistency(
        first=first,
        second=size,
        first_hash=ref_mth(d[:first]),
        second_hash=ref_mth(d[:size]),
        consistency_path=proof,
    )


def test_every_proof_of_small_trees_verifies() -> None:
    d = leaves(33)
    tree = build(d)
    for size in range(1, 34):
        root = ref_mth(d[:size])
        for index in range(size):
            verify_inclusion(
                leaf_index=index,
                tree_size=size,
                leaf_hash=tree.leaf_hash_at(index),
                inclusion_path=ref_path(index, d[:size]),
                root_hash=root,
            )
        for first in range(1, size):
            verify_consistency(
                first=first,
                second=size,
                first_hash=ref_mth(d[:first]),
                second_hash=root,
                consistency_path=ref_proof(first, d[:size]),
            )


def test_tree_built_from_leaf_hashes_equals_tree_built_from_data() -> None:
    d = leaves(19)
    tree = build(d)
    again = MerkleTree(tree.leaf_hash_at(i) for i in range(19))
    assert again.root() == tree.root() == ref_mth(d)


# --- Tampering is rejected -------------------------------------------------------------------


def flip(h: bytes) -> bytes:
    return bytes([h[0] ^ 1]) + h[1:]


@settings(max_examples=60, deadline=None)
@given(n=st.integers(min_value=2, max_value=64), data=st.data())
def test_tampered_inclusion_proofs_are_rejected(n: int, data: st.DataObject) -> None:
    d = leaves(n)
    tree = build(d)
    index = data.draw(st.integers(min_value=0, max_value=n - 1))
    path = tree.inclusion_proof(index)
    root = tree.root()
    good = {
        "leaf_index": index,
        "tree_size": n,
        "leaf_hash": tree.leaf_hash_at(index),
        "inclusion_path": path,
        "root_hash": root,
    }
    verify_inclusion(**good)  # type: ignore[arg-type]
    which = data.draw(st.integers(min_value=0, max_value=len(path) - 1))
    bad_path = [flip(h) if i == which else h for i, h in enumerate(path)]
    other = data.draw(st.integers(min_value=0, max_value=n - 1).filter(lambda i: i != index))
    tamperings = [
        {"inclusion_path": bad_path},
        {"root_hash": flip(root)},
        {"leaf_hash": flip(tree.leaf_hash_at(index))},
        {"leaf_index": other},
        {"inclusion_path": path[:-1]},
        {"inclusion_path": [*path, root]},
    ]
    for change in tamperings:
        with pytest.raises(LogVerificationError, match="inclusion proof"):
            verify_inclusion(**{**good, **change})  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(n=st.integers(min_value=3, max_value=64), data=st.data())
def test_tampered_consistency_proofs_are_rejected(n: int, data: st.DataObject) -> None:
    d = leaves(n)
    tree = build(d)
    first = data.draw(st.integers(min_value=1, max_value=n - 1))
    proof = tree.consistency_proof(first)
    good = {
        "first": first,
        "second": n,
        "first_hash": tree.root(first),
        "second_hash": tree.root(),
        "consistency_path": proof,
    }
    verify_consistency(**good)  # type: ignore[arg-type]
    which = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
    tamperings = [
        {"consistency_path": [flip(h) if i == which else h for i, h in enumerate(proof)]},
        {"first_hash": flip(tree.root(first))},
        {"second_hash": flip(tree.root())},
        {"consistency_path": proof[:-1]},
        {"consistency_path": [*proof, tree.root()]},
        {"consistency_path": []},
    ]
    for change in tamperings:
        with pytest.raises(LogVerificationError, match="consistency proof"):
            verify_consistency(**{**good, **change})  # type: ignore[arg-type]


def test_a_rewritten_history_is_not_consistent() -> None:
    d = leaves(20)
    rewritten = [*d[:7], b"forged", *d[8:]]
    honest, forged = build(d), build(rewritten)
    with pytest.raises(LogVerificationError, match="does not lead to the root of size 10"):
        verify_consistency(
            first=10,
            second=20,
            first_hash=honest.root(10),
            second_hash=forged.root(),
            consistency_path=forged.consistency_proof(10),
        )


def test_edge_cases_of_consistency() -> None:
    tree = build(leaves(5))
    verify_consistency(
        first=0, second=5, first_hash=EMPTY_ROOT, second_hash=tree.root(), consistency_path=[]
    )
    verify_consistency(
        first=5, second=5, first_hash=tree.root(), second_hash=tree.root(), consistency_path=[]
    )
    with pytest.raises(LogVerificationError, match="roots of size 5 and 5 are inconsistent"):
        verify_consistency(
            first=5,
            second=5,
            first_hash=tree.root(4),
            second_hash=tree.root(),
            consistency_path=[],
        )
    with pytest.raises(LogVerificationError, match="size 5 cannot precede size 4"):
        verify_consistency(
            first=5,
            second=4,
            first_hash=tree.root(),
            second_hash=tree.root(4),
            consistency_path=[],
        )


def test_inclusion_edge_cases() -> None:
    tree = build(leaves(1))
    assert tree.inclusion_proof(0) == []
    assert (
        root_from_inclusion_proof(
            leaf_index=0, tree_size=1, leaf_hash=tree.leaf_hash_at(0), inclusion_path=[]
        )
        == tree.root()
    )
    with pytest.raises(LogVerificationError, match="leaf index 1 is outside a tree of size 1"):
        verify_inclusion(
            leaf_index=1,
            tree_size=1,
            leaf_hash=tree.leaf_hash_at(0),
            inclusion_path=[],
            root_hash=tree.root(),
        )
    with pytest.raises(LogVerificationError, match="a hash has 31 bytes, not 32"):
        verify_inclusion(
            leaf_index=0,
            tree_size=1,
            leaf_hash=tree.leaf_hash_at(0)[:31],
            inclusion_path=[],
            root_hash=tree.root(),
        )


def test_tree_refuses_sizes_it_does_not_have() -> None:
    tree = build(leaves(4))
    with pytest.raises(LogVerificationError, match="the tree has 4 leaves, not 5"):
        tree.root(5)
    with pytest.raises(LogVerificationError, match="leaf index 4 is outside a tree of size 4"):
        tree.inclusion_proof(4)
    with pytest.raises(LogVerificationError, match="no consistency proof from size 5 to size 4"):
        tree.consistency_proof(5, 4)
