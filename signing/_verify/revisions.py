"""Our own analysis of what incremental updates changed after a signature.

pyHanko's difference analysis both misses attacks and flags harmless updates (see
PYHANKO-NOTES.md), and it is the slowest step of validation. This module compares, for each
revision after the signed one, every object that revision (re)defines with its previous
value, and classifies each change:

* permitted without further ado (``LTA_UPDATES``): the DSS and its VRI entries, new
  document timestamps (their fields and widgets), XMP metadata and the Info dictionary,
  the structure tree (tagging), ``/Extensions``;
* further signatures (``SIGNATURES``): a signature field gets its signature, a new signed
  signature field and widget is added to /AcroForm and to a page's /Annots;
* form fill (``FORM_FILLING``): a non-signature field's value or appearance changes, an
  empty signature field is added or its appearance changes — permitted unless the
  signature's DocMDP (P=1) or FieldMDP lock forbids it, and always listed as a warning
  naming the field: what such a field shows is not covered by the signature, which is how
  a "replace" shadow attack overlays signed content;
* everything else is not permitted (``OTHER``, or ``ANNOTATIONS`` for a new or removed
  annotation): changed page content, a page added or removed, a new overlay or
  annotation, a signature dictionary rewritten (spoofing), an object deleted, a new root,
  and any object that cannot be read.

Objects only *added* in a later revision are judged through the existing objects that
start to reference them, so nothing new can appear on a page without changing that page,
its /Annots array, or a resource or content stream it already uses.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ChangeLevel", "RevisionVerdict", "analyse_changes"]

#: At most this many changed objects are looked at per revision (hostile files).
MAX_CHANGED_OBJECTS = 20_000
_MAX_DEPTH = 32


class ChangeLevel(enum.IntEnum):
    """How far later revisions went, from harmless to not permitted (ordered)."""

    NONE = 0
    LTA_UPDATES = 1
    SIGNATURES = 2
    FORM_FILLING = 3
    ANNOTATIONS = 4
    OTHER = 5


@dataclass
class RevisionVerdict:
    """The outcome of :func:`analyse_changes` for one signature."""

    level: ChangeLevel = ChangeLevel.NONE
    permitted: bool = True
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """Permitted changes that alter what the document shows (form fields filled in)."""

    def warn(self, text: str) -> None:
        if text not in self.warnings and len(self.warnings) < 16:
            self.warnings.append(text)

    def note(self, level: ChangeLevel, reason: str, *, permitted: bool) -> None:
        self.level = max(self.level, level)
        if not permitted:
            self.permitted = False
            if reason not in self.reasons and len(self.reasons) < 8:
                self.reasons.append(reason)


_CATALOG_HARMLESS = {
    "/DSS",
    "/Extensions",
    "/Metadata",
    "/StructTreeRoot",
    "/MarkInfo",
    "/Lang",
    "/Version",
}
_PAGE_HARMLESS = {"/StructParents", "/Tabs", "/PieceInfo", "/LastModified"}
_ACROFORM_SIGNING = {"/Fields", "/SigFlags", "/DR", "/DA"}
_SIG_FIELD_SIGNING = {"/V", "/AP", "/AS", "/MK", "/F", "/P", "/Lock", "/SV", "/DA"}
_FORM_FILL_KEYS = {"/V", "/AP", "/AS", "/MK", "/DV", "/RV", "/I", "/DA"}
_STRUCT_TYPES = {"/StructTreeRoot", "/StructElem", "/MCR", "/OBJR"}


def _ref_key(obj: Any) -> tuple[int, int] | None:
    from pyhanko.pdf_utils import generic

    if isinstance(obj, generic.IndirectObject | generic.Reference):
        return (obj.idnum, obj.generation)
    return None


def same(a: Any, b: Any, depth: int = 0) -> bool:
    """Deep equality of two PDF objects as written (references compared by number)."""
    from pyhanko.pdf_utils import generic

    if depth > _MAX_DEPTH:
        return False
    ka, kb = _ref_key(a), _ref_key(b)
    if ka is not None or kb is not None:
        return ka == kb
    if isinstance(a, generic.StreamObject) or isinstance(b, generic.StreamObject):
        if not (isinstance(a, generic.StreamObject) and isinstance(b, generic.StreamObject)):
            return False
        if a.encoded_data != b.encoded_data:
            return False
        keys = (set(a) | set(b)) - {"/Length"}
        return all(k in a and k in b and same(_raw(a, k), _raw(b, k), depth + 1) for k in keys)
    if isinstance(a, dict) or isinstance(b, dict):
        if not (isinstance(a, dict) and isinstance(b, dict)) or set(a) != set(b):
            return False
        return all(same(_raw(a, k), _raw(b, k), depth + 1) for k in a)
    if isinstance(a, list) or isinstance(b, list):
        if not (isinstance(a, list) and isinstance(b, list)) or len(a) != len(b):
            return False
        return all(same(x, y, depth + 1) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and bool(a == b)


def _changed_keys(old: Any, new: Any) -> set[str]:
    keys = set(old) | set(new)
    return {
        k for k in keys if k not in old or k not in new or not same(old.raw_get(k), new.raw_get(k))
    }


def _raw(d: Any, key: str) -> Any:
    """``d[key]`` without resolving an indirect reference."""
    getter = getattr(d, "raw_get", None)
    return getter(key) if getter is not None else d.get(key)


def _deref(obj: Any) -> Any:
    from pyhanko.pdf_utils import generic

    if isinstance(obj, generic.IndirectObject):
        return obj.get_object()
    return obj


def _field_type(fld: Any) -> str | None:
    """/FT of a field, inherited from its parents (bounded)."""
    ft = _inherited(fld, "/FT")
    return str(ft) if ft is not None else None


def _field_name(fld: Any) -> str:
    parts: list[str] = []
    for _ in range(_MAX_DEPTH):
        if not isinstance(fld, dict):
            break
        t = fld.get("/T")
        if t is not None:
            parts.append(str(t))
        parent = fld.get("/Parent")
        if parent is None:
            break
        fld = _deref(parent)
    return ".".join(reversed(parts))


def _is_sig_widget_or_field(obj: Any) -> bool:
    obj = _deref(obj)
    return isinstance(obj, dict) and _field_type(obj) == "/Sig"


def _is_sig_value(obj: Any) -> bool:
    return isinstance(obj, dict) and "/ByteRange" in obj and "/Contents" in obj


def _dss_refs(resolver: Any) -> set[tuple[int, int]]:
    """References of the DSS dictionary, its VRI dictionary and the VRI entries."""
    out: set[tuple[int, int]] = set()
    root = resolver.root
    raw = root.raw_get("/DSS") if "/DSS" in root else None
    if raw is None:
        return out
    key = _ref_key(raw)
    if key:
        out.add(key)
    dss = _deref(raw)
    if not isinstance(dss, dict):
        return out
    for name in ("/VRI", "/Certs", "/OCSPs", "/CRLs"):
        if name not in dss:
            continue
        sub_raw = _raw(dss, name)
        sub_key = _ref_key(sub_raw)
        if sub_key:
            out.add(sub_key)
        if name == "/VRI":
            vri = _deref(sub_raw)
            if isinstance(vri, dict):
                for k in list(vri)[:10_000]:
                    vk = _ref_key(_raw(vri, k))
                    if vk:
                        out.add(vk)
    return out


def _page_like(obj: Any) -> bool:
    return isinstance(obj, dict) and str(obj.get("/Type", "")) == "/Page"


def _array_append_only(old: list[Any], new: list[Any]) -> tuple[bool, str, list[Any]]:
    """(ok, why not, the added entries): entries may only be appended, and only
    signature fields (or their widgets)."""
    old_keys = [_ref_key(x) for x in old]
    new_keys = [_ref_key(x) for x in new]
    if None in old_keys or None in new_keys:
        if same(old, new):
            return True, "", []
        return False, "an array of direct objects changed", []
    missing = set(old_keys) - set(new_keys)
    if missing:
        return False, "entries were removed", []
    added = [x for x, k in zip(new, new_keys, strict=True) if k not in set(old_keys)]
    for item in added:
        if not _is_sig_widget_or_field(item):
            return False, "an entry other than a signature field was added", []
    return True, "", added


def _inherited(fld: Any, key: str) -> Any:
    """``fld[key]``, inherited from the field's parents (bounded), dereferenced."""
    for _ in range(_MAX_DEPTH):
        if not isinstance(fld, dict):
            return None
        if key in fld:
            return _deref(fld.get(key))
        parent = fld.get("/Parent")
        if parent is None:
            return None
        fld = _deref(parent)
    return None


def _signature_kind(value: Any) -> ChangeLevel:
    """What a signature field's value makes of it: a document timestamp (LTA_UPDATES), a
    signature (SIGNATURES), or nothing signed (FORM_FILLING)."""
    if not _is_sig_value(value):
        return ChangeLevel.FORM_FILLING
    if (
        str(value.get("/Type", "")) == "/DocTimeStamp"
        or str(value.get("/SubFilter", "")) == "/ETSI.RFC3161"
    ):
        return ChangeLevel.LTA_UPDATES
    return ChangeLevel.SIGNATURES


def _note_signature_field(fld: Any, rev: int, verdict: RevisionVerdict, *, what: str) -> None:
    """A signature field added or given a value or appearance: a timestamp or a signature
    is permitted; an empty one is permitted form fill with a warning, ``what`` happened
    (its appearance is signed by no one)."""
    level = _signature_kind(_inherited(fld, "/V"))
    verdict.note(level, "", permitted=True)
    if level is ChangeLevel.FORM_FILLING:
        verdict.warn(
            f"{what} after signing (revision {rev + 1}): what it shows is signed by no one"
        )


def _note_added_signature_fields(added: list[Any], rev: int, verdict: RevisionVerdict) -> None:
    """New signature fields or widgets (see :func:`_note_signature_field`)."""
    for item in added:
        fld = _deref(item)
        name = _field_name(fld) or "(unnamed)"
        _note_signature_field(fld, rev, verdict, what=f"an empty signature field {name} was added")


@dataclass
class _Context:
    signed_rev: int
    form_fill_allowed: bool
    is_locked: Callable[[str], bool]


def _classify(
    key: tuple[int, int],
    old: Any,
    new: Any,
    *,
    prev: Any,
    cur: Any,
    root_key: tuple[int, int] | None,
    dss_keys: set[tuple[int, int]],
    ctx: _Context,
    verdict: RevisionVerdict,
    rev: int,
) -> None:
    label = f"object {key[0]} {key[1]} R (revision {rev + 1})"
    if key in dss_keys:
        verdict.note(ChangeLevel.LTA_UPDATES, "", permitted=True)
        return
    if isinstance(old, dict) and str(old.get("/Type", "")) in ("/XRef", "/ObjStm"):
        return
    if _is_sig_value(old):
        verdict.note(
            ChangeLevel.OTHER,
            f"the signature dictionary {label} was rewritten after signing",
            permitted=False,
        )
        return
    if key == root_key:
        changed = _changed_keys(old, new)
        bad = changed - _CATALOG_HARMLESS - {"/AcroForm", "/Perms"}
        if "/Perms" in changed and "/Perms" in old:
            bad.add("/Perms")
        if "/AcroForm" in changed:
            old_af = _deref(old.raw_get("/AcroForm")) if "/AcroForm" in old else {}
            new_af = _deref(new.raw_get("/AcroForm")) if "/AcroForm" in new else None
            if not isinstance(new_af, dict) or not isinstance(old_af, dict):
                bad.add("/AcroForm")
            elif not (_ref_key(old.get("/AcroForm")) and _ref_key(new.get("/AcroForm"))):
                _classify_acroform(old_af, new_af, label, rev, verdict)
        if bad:
            verdict.note(
                ChangeLevel.OTHER,
                f"the document catalog changed: {', '.join(sorted(bad))}",
                permitted=False,
            )
        else:
            verdict.note(ChangeLevel.LTA_UPDATES, "", permitted=True)
        return
    if isinstance(old, dict) and ("/Fields" in old or "/SigFlags" in old) and "/FT" not in old:
        _classify_acroform(old, new, label, rev, verdict)
        return
    if _page_like(old):
        if not _page_like(new):
            verdict.note(ChangeLevel.OTHER, f"page {label} was replaced", permitted=False)
            return
        changed = _changed_keys(old, new) - _PAGE_HARMLESS
        if changed - {"/Annots"}:
            verdict.note(
                ChangeLevel.OTHER,
                f"a page ({label}) changed: {', '.join(sorted(changed - {'/Annots'}))}",
                permitted=False,
            )
            return
        if "/Annots" in changed:
            _classify_annots(
                _deref(old.get("/Annots")), _deref(new.get("/Annots")), label, rev, verdict
            )
        return
    if isinstance(old, list):
        # an indirect /Annots or /Fields array: only signature fields may be appended
        ok, why, added = _array_append_only(old, new if isinstance(new, list) else [])
        if ok:
            _note_added_signature_fields(added, rev, verdict)
        else:
            level = ChangeLevel.ANNOTATIONS if _looks_like_annots(old, new) else ChangeLevel.OTHER
            verdict.note(level, f"array {label}: {why}", permitted=False)
        return
    if isinstance(old, dict) and (
        "/FT" in old or ("/Parent" in old and str(old.get("/Subtype", "")) == "/Widget")
    ):
        _classify_field(old, new, label, rev, ctx, verdict)
        return
    if isinstance(old, dict) and str(old.get("/Subtype", "")) == "/Widget":
        _classify_field(old, new, label, rev, ctx, verdict)
        return
    if isinstance(old, dict) and (
        str(old.get("/Type", "")) in _STRUCT_TYPES
        or ("/S" in old and "/P" in old and "/K" in old)
        or (set(old) <= {"/Nums", "/Kids", "/Limits"} and "/Nums" in (set(old) | set(new)))
    ):
        verdict.note(ChangeLevel.LTA_UPDATES, "", permitted=True)
        return
    if isinstance(old, dict) and _is_info_dict(key, prev, cur):
        verdict.note(ChangeLevel.LTA_UPDATES, "", permitted=True)
        return
    if _is_metadata_stream(old):
        verdict.note(ChangeLevel.LTA_UPDATES, "", permitted=True)
        return
    if (isinstance(old, dict) and str(old.get("/Type", "")) == "/Annot") or (
        isinstance(old, dict) and "/Subtype" in old and "/Rect" in old
    ):
        verdict.note(ChangeLevel.ANNOTATIONS, f"an annotation ({label}) changed", permitted=False)
        return
    verdict.note(ChangeLevel.OTHER, f"{_describe(old)} {label} changed", permitted=False)


def _looks_like_annots(old: list[Any], new: Any) -> bool:
    items = list(old) + (list(new) if isinstance(new, list) else [])
    for x in items[:5]:
        obj = _deref(x)
        if isinstance(obj, dict) and "/Subtype" in obj and "/Rect" in obj:
            return True
    return False


def _describe(obj: Any) -> str:
    from pyhanko.pdf_utils import generic

    if isinstance(obj, generic.StreamObject):
        sub = obj.get("/Subtype")
        return f"a stream{f' ({sub})' if sub else ''}"
    if isinstance(obj, dict):
        typ = obj.get("/Type")
        return f"a {typ} dictionary" if typ else "a dictionary"
    return "an object"


def _is_info_dict(key: tuple[int, int], prev: Any, cur: Any) -> bool:
    for resolver in (prev, cur):
        info = resolver.trailer_view.raw_get("/Info") if "/Info" in resolver.trailer_view else None
        if info is not None and _ref_key(info) == key:
            return True
    return False


def _is_metadata_stream(obj: Any) -> bool:
    from pyhanko.pdf_utils import generic

    return (
        isinstance(obj, generic.StreamObject)
        and str(obj.get("/Type", "")) == "/Metadata"
        and str(obj.get("/Subtype", "")) == "/XML"
    )


def _classify_acroform(old: Any, new: Any, label: str, rev: int, verdict: RevisionVerdict) -> None:
    if not isinstance(new, dict):
        verdict.note(ChangeLevel.OTHER, f"the form {label} was removed", permitted=False)
        return
    changed = _changed_keys(old, new)
    bad = changed - _ACROFORM_SIGNING
    if bad:
        verdict.note(
            ChangeLevel.OTHER,
            f"the form dictionary changed: {', '.join(sorted(bad))}",
            permitted=False,
        )
        return
    if "/DR" in changed and "/DR" in old and not _only_additions(old.get("/DR"), new.get("/DR")):
        verdict.note(
            ChangeLevel.OTHER,
            "existing form resources (/DR fonts) were replaced after signing",
            permitted=False,
        )
        return
    if "/Fields" in changed and "/Fields" in old:
        old_f, new_f = _deref(old.get("/Fields")), _deref(new.get("/Fields"))
        if isinstance(old_f, list) and isinstance(new_f, list):
            ok, why, added = _array_append_only(old_f, new_f)
            if not ok:
                verdict.note(ChangeLevel.OTHER, f"form fields: {why}", permitted=False)
                return
            _note_added_signature_fields(added, rev, verdict)
    if "/DA" in changed:
        # the default appearance of every field without its own: how values are drawn
        verdict.note(ChangeLevel.FORM_FILLING, "", permitted=True)
        verdict.warn(f"the form's default appearance (/DA) changed after signing ({label})")
    else:  # /SigFlags, new /DR fonts: what adding a signature or timestamp writes
        verdict.note(ChangeLevel.LTA_UPDATES, "", permitted=True)


def _only_additions(old: Any, new: Any, depth: int = 0) -> bool:
    """Every entry of dictionary ``old`` is still in ``new``, the same or (for nested
    dictionaries) only extended."""
    old, new = _deref(old), _deref(new)
    if not isinstance(old, dict):
        return same(old, new)
    if not isinstance(new, dict) or depth > 4:
        return False
    for key in old:
        if key not in new:
            return False
        o, n = _raw(old, key), _raw(new, key)
        if same(o, n):
            continue
        if _ref_key(o) is None and _ref_key(n) is None and _only_additions(o, n, depth + 1):
            continue
        return False
    return True


def _classify_annots(old: Any, new: Any, label: str, rev: int, verdict: RevisionVerdict) -> None:
    old_l = old if isinstance(old, list) else []
    new_l = new if isinstance(new, list) else []
    ok, why, added = _array_append_only(old_l, new_l)
    if ok:
        _note_added_signature_fields(added, rev, verdict)
    else:
        verdict.note(ChangeLevel.ANNOTATIONS, f"annotations of {label}: {why}", permitted=False)


def _classify_field(
    old: Any, new: Any, label: str, rev: int, ctx: _Context, verdict: RevisionVerdict
) -> None:
    if not isinstance(new, dict):
        verdict.note(ChangeLevel.OTHER, f"the form field {label} was replaced", permitted=False)
        return
    changed = _changed_keys(old, new)
    if _field_type(old) == "/Sig":
        bad = changed - _SIG_FIELD_SIGNING
        if old.get("/V") is not None:
            # already signed: its value and its appearance stay as they were signed
            bad |= changed & {"/V", "/AP", "/AS", "/MK", "/F"}
        if bad:
            verdict.note(
                ChangeLevel.OTHER,
                f"signature field {label} changed: {', '.join(sorted(bad))}",
                permitted=False,
            )
            return
        name = _field_name(old) or label
        _note_signature_field(
            new, rev, verdict, what=f"the appearance of empty signature field {name} changed"
        )
        return
    bad = changed - _FORM_FILL_KEYS
    if bad:
        verdict.note(
            ChangeLevel.OTHER,
            f"form field {label} changed beyond its value: {', '.join(sorted(bad))}",
            permitted=False,
        )
        return
    name = _field_name(old)
    if not ctx.form_fill_allowed:
        verdict.note(
            ChangeLevel.FORM_FILLING,
            f"form field {name or label} was filled in, but the signature allows no changes",
            permitted=False,
        )
    elif name and ctx.is_locked(name):
        verdict.note(
            ChangeLevel.FORM_FILLING,
            f"form field {name} was filled in, but the signature locks it",
            permitted=False,
        )
    else:
        verdict.note(ChangeLevel.FORM_FILLING, "", permitted=True)
        verdict.warn(
            f"form field {name or label} was changed after signing (revision {rev + 1}): "
            f"its {_what_changed(changed)} not covered by the signature"
        )


def _what_changed(changed: set[str]) -> str:
    value = bool(changed & {"/V", "/DV", "/RV", "/I"})
    looks = bool(changed & {"/AP", "/AS", "/MK", "/DA"})
    if value and looks:
        return "value and appearance are"
    return "value is" if value else "appearance is"


def analyse_changes(
    reader: Any,
    signed_rev: int,
    *,
    form_fill_allowed: bool = True,
    is_locked: Callable[[str], bool] = lambda name: False,
) -> RevisionVerdict:
    """Classify every change that revisions after ``signed_rev`` make (see module doc).

    ``reader`` is a pyHanko ``PdfFileReader``. Never raises: an unreadable later revision
    is a not-permitted change with its reason.
    """
    verdict = RevisionVerdict()
    ctx = _Context(signed_rev, form_fill_allowed, is_locked)
    try:
        total = reader.xrefs.total_revisions
        for rev in range(signed_rev + 1, total):
            _analyse_revision(reader, rev, ctx, verdict)
            if verdict.level is ChangeLevel.OTHER and not verdict.permitted:
                break
    except RecursionError:
        verdict.note(ChangeLevel.OTHER, "a later revision is nested too deeply", permitted=False)
    except Exception as exc:  # a hostile or broken later revision: never a crash
        verdict.note(
            ChangeLevel.OTHER,
            f"a later revision cannot be read ({type(exc).__name__}: {str(exc)[:120]})",
            permitted=False,
        )
    return verdict


def _analyse_revision(reader: Any, rev: int, ctx: _Context, verdict: RevisionVerdict) -> None:
    xrefs = reader.xrefs
    prev = reader.get_historical_resolver(rev - 1)
    cur = reader.get_historical_resolver(rev)
    prev_root = prev.trailer_view.raw_get("/Root")
    cur_root = cur.trailer_view.raw_get("/Root")
    root_key = _ref_key(cur_root)
    dss_keys = _dss_refs(cur) | _dss_refs(prev)
    if _ref_key(prev_root) != root_key:
        # a new catalog object: judge it against the old one like an in-place change
        old_root, new_root = prev.root, cur.root
        if not isinstance(new_root, dict) or not isinstance(old_root, dict):
            verdict.note(ChangeLevel.OTHER, f"revision {rev + 1} has no catalog", permitted=False)
            return
        if root_key is not None:
            _classify(
                root_key,
                old_root,
                new_root,
                prev=prev,
                cur=cur,
                root_key=root_key,
                dss_keys=dss_keys,
                ctx=ctx,
                verdict=verdict,
                rev=rev,
            )
    for name in ("/Encrypt",):
        old_v = prev.trailer_view.raw_get(name) if name in prev.trailer_view else None
        new_v = cur.trailer_view.raw_get(name) if name in cur.trailer_view else None
        if not same(old_v, new_v):
            verdict.note(
                ChangeLevel.OTHER,
                f"revision {rev + 1} changes {name} in the trailer",
                permitted=False,
            )
    freed = xrefs.refs_freed_in_revision(rev)
    for ref in list(freed)[:MAX_CHANGED_OBJECTS]:
        if xrefs.get_historical_ref(ref, rev - 1) is not None:
            verdict.note(
                ChangeLevel.OTHER,
                f"object {ref.idnum} {ref.generation} R was deleted in revision {rev + 1}",
                permitted=False,
            )
    changed: Iterable[Any] = xrefs.explicit_refs_in_revision(rev)
    changed = sorted(changed, key=lambda r: (r.idnum, r.generation))
    if len(changed) > MAX_CHANGED_OBJECTS:
        verdict.note(
            ChangeLevel.OTHER,
            f"revision {rev + 1} changes more than {MAX_CHANGED_OBJECTS} objects",
            permitted=False,
        )
        return
    for ref in changed:
        if xrefs.get_historical_ref(ref, rev - 1) is None:
            continue  # a new object: judged through whatever existing object references it
        key = (ref.idnum, ref.generation)
        old = prev.get_object(ref)
        new = cur.get_object(ref)
        if same(old, new):
            continue
        _classify(
            key,
            old,
            new,
            prev=prev,
            cur=cur,
            root_key=root_key,
            dss_keys=dss_keys,
            ctx=ctx,
            verdict=verdict,
            rev=rev,
        )
