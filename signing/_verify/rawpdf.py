"""Raw PDF objects as pyHanko's parser gives them: references by object number, equality
as written, the references an object holds, inherited field entries.

Nothing here resolves a reference by itself: the caller says in which revision
(:mod:`signing._verify.changes` compares a signed revision with the final file).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

from signing._verify.objects import ObjectReadError

__all__ = [
    "MAX_DEPTH",
    "changed_keys",
    "children",
    "generation",
    "get",
    "inherited",
    "inherited_raw",
    "raw",
    "ref_number",
    "same",
]

#: Direct objects nested deeper than this are refused (fail closed), never skipped.
MAX_DEPTH = 64


def ref_number(obj: Any) -> int | None:
    """The object number of a reference, None for a direct object."""
    if isinstance(obj, _reference_types()):
        return int(getattr(obj, "idnum"))  # noqa: B009 - the union is only known at run time
    return None


@functools.cache
def _reference_types() -> tuple[type, ...]:
    from pyhanko.pdf_utils import generic

    return (generic.IndirectObject, generic.Reference)


def generation(obj: Any) -> int:
    return int(getattr(obj, "generation", 0))


def raw(d: Any, key: str) -> Any:
    getter = getattr(d, "raw_get", None)
    return getter(key) if getter is not None else d.get(key)


def same(a: Any, b: Any, depth: int = 0) -> bool:
    """Deep equality of two raw PDF objects as written (references by number and
    generation, never resolved; streams by their encoded bytes and dictionary)."""
    from pyhanko.pdf_utils import generic

    if depth > MAX_DEPTH:
        return False
    ka, kb = ref_number(a), ref_number(b)
    if ka is not None or kb is not None:
        return ka == kb and generation(a) == generation(b)
    if isinstance(a, generic.StreamObject) or isinstance(b, generic.StreamObject):
        if not (isinstance(a, generic.StreamObject) and isinstance(b, generic.StreamObject)):
            return False
        if a.encoded_data != b.encoded_data:
            return False
        keys = (set(a) | set(b)) - {"/Length"}
        return all(k in a and k in b and same(raw(a, k), raw(b, k), depth + 1) for k in keys)
    if isinstance(a, dict) or isinstance(b, dict):
        if not (isinstance(a, dict) and isinstance(b, dict)) or set(a) != set(b):
            return False
        return all(same(raw(a, k), raw(b, k), depth + 1) for k in a)
    if isinstance(a, list) or isinstance(b, list):
        if not (isinstance(a, list) and isinstance(b, list)) or len(a) != len(b):
            return False
        return all(same(x, y, depth + 1) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and bool(a == b)


def changed_keys(old: Any, new: Any) -> set[str]:
    keys = set(old) | set(new)
    return {k for k in keys if k not in old or k not in new or not same(raw(old, k), raw(new, k))}


def children(
    value: Any, skip: frozenset[str] = frozenset(), depth: int = 0
) -> Iterator[tuple[str | None, Any]]:
    """(key, reference) for every reference directly inside ``value`` (direct containers
    searched, references not resolved); ``key`` is the top-level key it sits under. Keys in
    ``skip`` are left out at the top level only: below it a key is a name someone chose
    (``/XObject << /Metadata 8 0 R >>`` is drawn like any other form)."""
    from pyhanko.pdf_utils import generic

    if depth > MAX_DEPTH:  # fail closed: what lies deeper would go unchecked
        raise ObjectReadError(f"an object nests more than {MAX_DEPTH} direct objects")
    if isinstance(value, dict):
        for k in value:
            if depth == 0 and str(k) in skip:
                continue
            v = raw(value, k)
            if isinstance(v, generic.IndirectObject):
                yield str(k), v
            else:
                for _, ref in children(v, skip, depth + 1):
                    yield str(k), ref
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, generic.IndirectObject):
                yield None, item
            else:
                yield from children(item, skip, depth + 1)


def get(d: Any, key: str) -> Any:
    """``d[key]`` unresolved, or None."""
    return raw(d, key) if isinstance(d, dict) and key in d else None


def inherited_raw(deref: Callable[[Any], Any], obj: Any, key: str) -> Any:
    for _ in range(MAX_DEPTH):
        if not isinstance(obj, dict):
            return None
        if key in obj:
            return raw(obj, key)
        if "/Parent" not in obj:
            return None
        obj = deref(raw(obj, "/Parent"))
    return None


def inherited(deref: Callable[[Any], Any], obj: Any, key: str) -> str | None:
    value = inherited_raw(deref, obj, key)
    return str(value) if value is not None and ref_number(value) is None else None
