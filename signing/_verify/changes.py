"""What later revisions changed of what a signature signed, judged by the signed graph.

The signed revision's own object graph decides what each object *is*: the walk starts at
the signed revision's catalog and follows what a reader renders or acts on (pages,
their contents, resources, annotations, the form, actions, ...), leaving out only
subtrees that change nothing a reader sees (``/DSS``, XMP ``/Metadata``, the structure
tree, ``/PieceInfo``, the trailer's ``/Info``). Every object reached that way is
*protected*: it is compared by object number between the signed revision and the final
file, each side resolved through its own revision's cross-reference entries
(:mod:`signing._verify.objects`), so neither a reference a later revision adds
(a ``/VRI`` entry, a trailer ``/Info``) nor a key it writes into the object (``/Type
/Metadata``) changes what the object is taken to be.

Each difference falls in one of DSS's object-change categories (:class:`ChangeKind`):

* ``EXTENSION``: validation data, document timestamps, metadata, ``/SigFlags``, new form
  resources: nothing a reader sees;
* ``SIGNATURE``: a new, valid signature and its widget (a field that did not exist in
  the signed revision, whose ``/V`` is a new signature dictionary the engine found
  intact); its widget rectangle is returned so the visual line can check it lies on
  blank space;
* ``FORM_FILL``: a form field's value or appearance, an empty signature field's
  appearance;
* ``ANNOTATION``: an annotation added, removed or changed;
* ``UNDEFINED``: any other change of a protected object that brings in no object (a
  value rewritten: ``/MediaBox`` as reals, the form's ``/DA``): benign tools write some,
  so the verdict on these rests on the visual comparison;
* ``FORBIDDEN``: never permitted, whatever the pages look like: a signature dictionary
  rewritten, a signed signature field changed, a field filled that the signature's
  DocMDP or FieldMDP forbids, actions or JavaScript added (also inside a changed or
  added object's direct dictionaries), a page-tree node changed beyond /Kids and /Count
  or a /Parent changed (red team pdf14: what pdf.js inherits), optional content or
  ``/NeedAppearances`` changed, an annotation that shows only when printed, an existing
  object reused as a new annotation or signature, encryption changed, an object that
  cannot be read; and an object *brought in*: one the final file reaches through a
  changed object by a number the signed graph does not reach, unless a rule for
  additions (annotations and fields added, signatures, form fill, new form resources)
  judged it (red team pdf12: a new page behind a rewritten page-tree node, new content
  and fonts behind a page's /Contents and /Resources).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from signing._verify.annotations import NOTE_KEYS as _NOTE_KEYS
from signing._verify.annotations import PIXEL_JUDGED as _PIXEL_JUDGED
from signing._verify.annotations import is_widget as _is_widget
from signing._verify.annotations import note_problem as _note_problem
from signing._verify.annotations import overlap as _overlap
from signing._verify.annotations import rect_of as _rect
from signing._verify.annotations import shape_problem as _shape_problem
from signing._verify.annotations import visible as _visible
from signing._verify.objects import ObjectReadError, RevisionObjects
from signing._verify.rawpdf import MAX_DEPTH as _MAX_DEPTH
from signing._verify.rawpdf import changed_keys as _changed_keys
from signing._verify.rawpdf import children as _children
from signing._verify.rawpdf import get as _get
from signing._verify.rawpdf import inherited as _inherited
from signing._verify.rawpdf import inherited_raw as _inherited_raw
from signing._verify.rawpdf import raw as _raw
from signing._verify.rawpdf import ref_number as _key
from signing._verify.rawpdf import same
from signing._verify.readable import PAGE_CHROME as _PAGE_CHROME
from signing._verify.readable import accessible_text as _accessible_text
from signing._verify.roles import CATALOG_BESIDE as _CATALOG_BESIDE
from signing._verify.roles import CATALOG_UNSEEN as _CATALOG_UNSEEN
from signing._verify.roles import CONTENT_KEYS as _CONTENT_KEYS
from signing._verify.roles import ROLE_TEXT as _ROLE_TEXT
from signing._verify.roles import TEXT_LAYER_KEYS as _TEXT_LAYER_KEYS
from signing._verify.roles import UNSEEN_KEYS as _UNSEEN_KEYS
from signing._verify.roles import refine as _refine
from signing._verify.roles import role_of as _role
from signing._verify.roles import unseen_keys as _unseen

__all__ = ["ChangeAnalysis", "ChangeKind", "Widget", "analyse_changes", "same"]

_MAX_LISTED = 8

#: Keys that make a viewer act (scripts, actions), hide or reveal content, or regenerate
#: appearances: a change to any of them is never permitted.
_DANGEROUS = frozenset(
    {
        "/OpenAction",
        "/AA",
        "/A",
        "/JS",
        "/JavaScript",
        "/Names",
        "/OCProperties",
        "/OC",
        "/NeedAppearances",
        "/XFA",
        "/Perms",
        "/Collection",
        "/Encrypt",
        "/URI",
        "/Threads",
        "/Usage",
        "/Intent",
        "/Alternates",
    }
)
_FORM_FILL_KEYS = frozenset({"/V", "/AP", "/AS", "/MK", "/DV", "/RV", "/I", "/DA"})
#: A field's keys besides its value that a later revision may change, for the pages to
#: judge: flags and quadding, as pyHanko's own analysis allows; any other key of a field
#: (its name, tooltip, maximum length, options, kids ...) is never changed (red team pdf12).
_FIELD_FLAG_KEYS = frozenset({"/Ff", "/F", "/Q", "/Type"})
_ACROFORM_SIGNING = frozenset({"/Fields", "/SigFlags", "/DR"})
_PAGE_ROLES = frozenset({"page", "pages"})
#: A page's entries that scale it as viewers show, print and measure it, which no 72-dpi
#: rendering shows (red team pdf13, p13-10: /UserUnit 3, pdf.js shows the page 3x larger).
_PAGE_SCALE = frozenset({"/UserUnit", "/VP"})
#: What a page-tree node may change after signing, as the page structure requires (pyHanko's
#: analysis allows no more): every other key of a node is what some viewer inherits or
#: reads from it (/Annots in pdf.js, /AA up the /Parent chain, /Resources, the boxes,
#: /Rotate, /UserUnit ...), which no page comparison sees (red team pdf14, p14-07, p14-08).
_NODE_STRUCTURE = frozenset({"/Kids", "/Count"})


class ChangeKind(enum.IntEnum):
    """DSS's object-change categories, ordered from harmless to never permitted."""

    EXTENSION = 1
    SIGNATURE = 2
    FORM_FILL = 3
    ANNOTATION = 4
    UNDEFINED = 5
    FORBIDDEN = 6


@dataclass(frozen=True)
class Widget:
    """A later signature's visible widget: page index (in the signed revision) and /Rect."""

    page: int
    rect: tuple[float, float, float, float]
    name: str


@dataclass
class ChangeAnalysis:
    """What the revisions after one signature changed (see the module doc)."""

    kinds: set[ChangeKind] = field(default_factory=set)
    reasons: dict[ChangeKind, list[str]] = field(default_factory=dict)
    widgets: list[Widget] = field(default_factory=list)
    annotated: list[str] = field(default_factory=list)
    """Annotations (not signature widgets) added, changed or removed: a modification even
    when they draw nothing, as pyHanko's own analysis holds (red team pdf11, p11-01)."""

    def note(self, kind: ChangeKind, reason: str = "") -> None:
        self.kinds.add(kind)
        listed = self.reasons.setdefault(kind, [])
        if reason and reason not in listed and len(listed) < _MAX_LISTED:
            listed.append(reason)

    @property
    def worst(self) -> ChangeKind | None:
        return max(self.kinds) if self.kinds else None

    @property
    def needs_rendering(self) -> bool:
        """Whether only the pages, compared, can tell what a reader sees."""
        return bool(
            self.kinds & {ChangeKind.FORM_FILL, ChangeKind.ANNOTATION, ChangeKind.UNDEFINED}
        )


@dataclass
class _Policy:
    form_fill_allowed: bool
    is_locked: Callable[[str], bool]
    new_signature: Callable[[int], ChangeKind | None]


class _Malformed(Exception):
    pass


def _page_tree_problem(deref: Callable[[Any], Any], root: Any) -> str | None:
    """Why the page tree at ``root`` (the catalog's /Pages) is not well formed, or None."""
    seen: set[int] = set()

    def pages(ref: Any, depth: int) -> int:
        number = _key(ref)
        if number is None:
            raise _Malformed("lists a page or node written directly, not referenced")
        if number in seen:
            raise _Malformed(f"reaches object {number} twice")
        seen.add(number)
        if len(seen) > 100_000 or depth > 64:
            raise _Malformed("is too large or too deep to read")
        node = deref(ref)
        kind = node.get("/Type") if isinstance(node, dict) else None
        if kind == "/Page" and depth:
            return 1
        if kind != "/Pages":
            raise _Malformed(f"holds object {number}, which is not a page-tree node or a page")
        kids = deref(_raw(node, "/Kids"))
        if not isinstance(kids, list):
            raise _Malformed(f"node {number} has no /Kids array")
        total = sum(pages(kid, depth + 1) for kid in kids)
        declared = deref(_raw(node, "/Count"))
        if isinstance(declared, bool) or not isinstance(declared, int | float | Decimal):
            raise _Malformed(f"node {number} has no numeric /Count")
        if declared != total:
            raise _Malformed(f"node {number} declares /Count {declared} over {total} pages")
        return total

    try:
        pages(root, 0)
    except _Malformed as exc:
        return str(exc)
    return None


class _Walk:
    """The comparison of one signed revision with the final file."""

    def __init__(self, objs: RevisionObjects, signed: int, final: int, policy: _Policy):
        self.objs, self.signed, self.final, self.policy = objs, signed, final, policy
        self.out = ChangeAnalysis()
        self.roles: dict[int, str] = {}
        self.pages: dict[int, int] = {}
        self.owner: dict[int, int] = {}  # an annotation array -> the page it belongs to
        self._regenerated: str | None = None
        self.current: int | None = None
        self.seen: set[int] = set()
        self.changed: set[int] = set()
        """Objects of the signed graph that read differently in the final file."""
        self.explained: set[int] = set()
        """Objects the final file holds that a rule for additions judged, with all they
        reference: added annotations and fields, signatures, filled fields."""
        self.containers: set[int] = set()
        """New objects judged entry by entry (a new /Annots or /Fields array, a new form)."""
        self.accepted: dict[int, set[int]] = {}
        """For each object a rule for additions judged (or a container), the objects whose
        bodies hold the reference the rule judged it under: reached through any other, it
        is in a role no rule judged (red team pdf13, p13-01: a new page that is also an
        empty signature field of /Fields)."""
        self._listed_on: dict[int, list[int]] | None = None  # see _pages_listing

    # -- resolution -------------------------------------------------------------------
    def old(self, number: int) -> Any:
        return self.objs.get(number, self.signed)

    def new(self, number: int) -> Any:
        return self.objs.get(number, self.final)

    def existed(self, number: int) -> bool:
        entry = self.objs.entry(number, self.signed)
        return entry is not None and entry.kind != "free"

    def deref_old(self, value: Any) -> Any:
        n = _key(value)
        return self.old(n) if n is not None else value

    def deref_new(self, value: Any) -> Any:
        n = _key(value)
        return self.new(n) if n is not None else value

    # -- the walk ---------------------------------------------------------------------
    def run(
        self, old_root_ref: Any, new_root_ref: Any, signatures: set[int], info: Any = None
    ) -> None:
        root_n, new_root_n = _key(old_root_ref), _key(new_root_ref)
        if root_n is None or new_root_n is None:
            self.out.note(ChangeKind.FORBIDDEN, "the trailer has no catalog reference")
            return
        self._index_pages(root_n)
        old_root, new_root = self.old(root_n), self.new(new_root_n)
        if not isinstance(old_root, dict) or not isinstance(new_root, dict):
            self.out.note(ChangeKind.FORBIDDEN, "the final revision has no catalog")
            return
        self.roles[root_n] = "catalog"
        for number in signatures:
            self.roles[number] = "sigvalue"
        if not same(old_root, new_root):
            self.changed.add(root_n)
            self.current = new_root_n  # what the catalog holds directly, it holds
            self._nested(old_root, new_root, "the catalog", "catalog")
            self._catalog(old_root, new_root)
        stack = [(root_n, old_root)]
        seen = self.seen
        seen.add(root_n)
        unseen_roots: list[int] = [n for n in (_key(info),) if n is not None]
        while stack:
            number, obj = stack.pop()
            role = self.roles.get(number, "other")
            skip = _unseen(role, obj)
            unseen_roots.extend(
                n
                for k in skip
                if k in obj
                for _, r in _children({k: _raw(obj, k)})
                if (n := _key(r))
            )
            for key, ref in _children(obj, skip):
                child = _key(ref)
                if child is None or child in seen:
                    continue
                child_role = _role(role, key)
                if child_role is None:
                    unseen_roots.append(child)
                    continue
                seen.add(child)
                old_child = self.old(child)
                if old_child is None:
                    self._dangling(child, key)
                    continue
                self.roles.setdefault(child, _refine(child_role, old_child))
                if self.roles[child] in ("annots", "appearance"):
                    self.owner.setdefault(child, number)
                self._compare(child, old_child)
                if self.roles[child] != "sigvalue":
                    stack.append((child, old_child))
        self._unreached(seen, unseen_roots)
        self._brought_in(new_root_n)
        self._page_tree(old_root, new_root)
        self._structure(old_root, new_root)

    def _page_tree(self, old_root: dict[str, Any], new_root: dict[str, Any]) -> None:
        """When the page tree changed after signing, the final one must be well formed:
        every /Kids entry an indirect reference to a /Pages node or a /Page, each node's
        /Count the number of pages under it, no object twice, the catalog's /Pages a
        /Pages node. Viewers read a malformed tree differently, and pixels compared in
        two of them say nothing of a third (red team pdf15, s03, s04: nodes given /Count 0
        and a page written directly into the root's /Kids: pdfium and poppler stop at the
        signed page, pdf.js skips the empty nodes and shows the direct page)."""
        if not (
            {"/Pages", "/Kids", "/Count"} & _changed_keys(old_root, new_root)
            or any(self.roles.get(n) == "pages" for n in self.changed)
        ):
            return
        problem = _page_tree_problem(self.deref_new, _raw(new_root, "/Pages"))
        if problem is not None:
            self.out.note(
                ChangeKind.FORBIDDEN,
                f"the page tree changed after signing and {problem}: viewers disagree on the "
                "pages such a tree holds",
            )

    def _brought_in(self, root: int) -> None:
        """What the final file reaches through what changed, by object numbers the signed
        graph does not reach (red team pdf12, p12-01..p12-03: a page-tree node naming a new
        page with a print-only stamp, a page naming new content and fonts, a new field).

        Only the rules for additions may bring objects in: annotations added to an /Annots
        array, signatures, filled fields, new form resources (:attr:`explained`); anything
        else is never permitted, whatever the pages look like, since no page comparison
        sees what it adds besides pixels (a printout, a pop-up, a script, a form field's
        value, the text pdf.js extracts). pyHanko refuses every such object too. The walk
        starts at the final catalog and at every changed object: an unchanged object
        references what it did when signed, which the signed walk reached.

        A rule for additions judges an object in one place only: the final file reaching
        it through any other object is never permitted either (red team pdf13, p13-01,
        p13-04, p13-08: a new page that is also an empty signature field of /Fields or of
        the signed page's /Annots, or a font of a new /DR, listed by the page-tree node);
        nor is a signed object reached as a page that the signed page tree does not hold."""
        todo: list[tuple[int, str, str, int | None]] = [
            (n, self.roles.get(n, "other"), "", None) for n in sorted(self.changed, reverse=True)
        ]
        todo.append((root, "catalog", "", None))
        visited: set[int] = set()
        flagged: set[int] = set()
        found: list[str] = []
        while todo and len(found) < _MAX_LISTED:
            if len(visited) >= 100_000:  # fail closed: what lies further is not judged
                found.append("later revisions change more objects than can be compared")
                break
            number, role, via, parent = todo.pop()
            if number in visited or number in flagged:
                continue
            if parent is None:  # the catalog, or a changed object walked from itself
                if number in self.explained:
                    continue
            else:
                role = _refine(role, self.new(number))
                reason = self._not_judged_here(number, role, parent, via)
                if reason is not None:
                    flagged.add(number)
                    found.append(reason)
                    continue
                if number not in self.containers:
                    continue  # judged where it was added; a changed one is walked from itself
            visited.add(number)
            if role != "sigvalue":
                self._refs_of(number, role, todo)
        for reason in found:
            self.out.note(ChangeKind.FORBIDDEN, reason)

    def _not_judged_here(self, number: int, role: str, parent: int, via: str) -> str | None:
        """Why object ``number``, reached in the final file through object ``parent``
        (``via``) in ``role``, is judged by nothing there (None: it is). A signed object is
        judged by number in its signed role, which a page of the final page tree must
        have had; a new one only where a rule for additions judged it (:attr:`accepted`)."""
        what = f" ({_ROLE_TEXT[role]})" if role in _ROLE_TEXT else ""
        if number in self.seen:
            was = self.roles.get(number, "other")
            if role not in _PAGE_ROLES or was in _PAGE_ROLES:
                return None
            return (
                f"object {number}{what}, which the signed revision has as "
                f"{_ROLE_TEXT.get(was, 'content')}, is reached after signing through {via}: "
                "nothing judges it in that role"
            )
        accepted = self.accepted.get(number)
        if accepted is None:
            had = "have" if not self.existed(number) else "reach"
            return (
                f"object {number}{what}, which the signed revision does not {had}, is reached "
                f"after signing through {via}: no rule for additions judges it"
            )
        if parent in accepted:
            return None
        where = ", ".join(f"object {n}" for n in sorted(accepted)[:3])
        return (
            f"object {number}{what}, judged by a rule for additions only where {where} "
            f"lists it, is also reached after signing through {via}: nothing judges it there"
        )

    def _refs_of(
        self, number: int, role: str, todo: list[tuple[int, str, str, int | None]]
    ) -> None:
        """Put what object ``number`` (of ``role``) references in the final file on
        ``todo``, as a reader follows it (the keys no reader renders left out)."""
        obj = self.new(number)
        via = "the catalog" if role == "catalog" else f"object {number}"
        via += f" ({_ROLE_TEXT[role]})" if role in _ROLE_TEXT and role != "catalog" else ""
        for key, ref in _children(obj, _unseen(role, obj)):
            child, child_role = _key(ref), _role(role, key)
            if child is not None and child_role is not None:
                todo.append((child, child_role, via, number))

    def _structure(self, old_root: Any, new_root: Any) -> None:
        """The structure tree reads the same to assistive technology (red team pdf11,
        p11-11): a screen reader speaks its /Alt and /ActualText, in its order."""
        old = _accessible_text(self.deref_old, _get(old_root, "/StructTreeRoot"))
        new = _accessible_text(self.deref_new, _get(new_root, "/StructTreeRoot"))
        if old != new:
            self.out.note(
                ChangeKind.FORBIDDEN,
                "the structure tree changed what it gives assistive technology (/Alt, "
                "/ActualText, /Lang, element types, reading order) after signing",
            )

    def _unreached(self, seen: set[int], unseen_roots: list[int]) -> None:
        """Objects of the signed revision that a later revision rewrote (or whose object
        stream it rewrote) although the walk never reached them: harmless inside what a
        reader does not see (DSS, metadata, structure tree, /Info), never otherwise — a
        viewer may reach them by a way the walk does not take."""
        objs = self.objs
        rewritten = objs.rewritten_across(self.signed)  # the final file is the last revision
        candidates = {n for n in rewritten if n not in seen and self.existed(n)}
        for n in list(candidates):
            old = self.old(n)
            kind = str(old.get("/Type", "")) if isinstance(old, dict) else ""
            if kind in ("/XRef", "/ObjStm"):
                candidates.discard(n)  # a container: its members are judged themselves
            if kind == "/ObjStm":
                candidates |= {m for m in objs.members(n, self.signed) if m not in seen}
        if not candidates:
            return
        candidates -= self._reachable(unseen_roots, candidates)
        for n in sorted(candidates)[:_MAX_LISTED]:
            self.out.note(
                ChangeKind.FORBIDDEN,
                f"object {n} changed after signing where the comparison does not reach it",
            )

    def _reachable(self, roots: list[int], wanted: set[int]) -> set[int]:
        """Which of ``wanted`` the signed revision reaches from ``roots`` (bounded)."""
        found: set[int] = set()
        todo, visited = list(roots), set[int]()
        while todo and found != wanted and len(visited) < 100_000:
            n = todo.pop()
            if n in visited:
                continue
            visited.add(n)
            if n in wanted:
                found.add(n)
            obj = self.old(n)
            todo.extend(c for _, r in _children(obj) if (c := _key(r)) is not None)
        return found

    def _dangling(self, number: int, key: str | None) -> None:
        """A reference of the signed graph to an object the signed revision does not
        define (readers draw nothing for it): defining it later changes the page."""
        if self.new(number) is None:
            return
        self.out.note(
            ChangeKind.FORBIDDEN,
            f"object {number}, referenced but undefined when signed, was defined later: "
            "it brings in what no rule for additions judges",
        )

    def _compare(self, number: int, old: Any) -> None:
        if self._stable(number, old):
            return
        new = self.new(number)
        if same(old, new):
            return
        self.changed.add(number)
        role = self.roles.get(number, "other")
        label = f"object {number} ({_ROLE_TEXT.get(role, 'content')})"
        if new is None:
            kind = ChangeKind.FORBIDDEN if role == "sigvalue" else ChangeKind.UNDEFINED
            self.out.note(kind, f"{label} was deleted")
            return
        self.current = number
        self._nested(old, new, label, role)
        handler = _HANDLERS.get(role)
        if handler is not None:
            handler(self, old, new, label)
        else:
            self._generic(old, new, label, role)

    def _stable(self, number: int, old: Any) -> bool:
        """Same xref entry in both revisions, stored in the signed bytes and not resolved
        through anything that changed: the object reads the same, unparsed."""
        from pyhanko.pdf_utils import generic

        objs = self.objs
        entry = objs.entry(number, self.signed)
        if entry is None or not objs.same_entry(number, self.signed, self.final):
            return False
        if entry.kind == "stream":
            container = objs.entry(entry.where, self.signed)
            return container is not None and self._stable(entry.where, self.old(entry.where))
        if isinstance(old, generic.StreamObject):
            for key in ("/Length", "/N", "/First", "/Filter", "/DecodeParms"):
                ref = _key(_raw(old, key)) if key in old else None
                if ref is not None and not objs.same_entry(ref, self.signed, self.final):
                    return False
        return True

    def _index_pages(self, root_n: int) -> None:
        """Roles from the signed revision's page tree and form, before the walk (which
        gives the first path it finds): page index by page object number, annotation
        arrays and their pages, form fields."""
        root = self.old(root_n)
        if not isinstance(root, dict):
            return
        todo = [_get(root, "/Pages")]
        seen: set[int] = set()
        while todo and len(seen) < 100_000:
            n = _key(todo.pop())
            if n is None or n in seen:
                continue
            seen.add(n)
            node = self.old(n)
            if not isinstance(node, dict):
                continue
            if str(node.get("/Type", "")) == "/Page" or "/Kids" not in node:
                self.pages[n] = len(self.pages)
                self.roles[n] = "page"
                self._index_annots(n, node)
                continue
            self.roles[n] = "pages"
            kids = self.deref_old(_raw(node, "/Kids"))
            if isinstance(kids, list):
                todo.extend(reversed(list(kids)))
        form = self.deref_old(_get(root, "/AcroForm"))
        if isinstance(form, dict):
            self._index_fields(_get(form, "/Fields"), 0)

    def _index_annots(self, page: int, node: Any) -> None:
        raw = _get(node, "/Annots")
        n = _key(raw)
        if n is not None:
            self.roles[n] = "annots"
            self.owner[n] = page
        annots = self.deref_old(raw)
        for ref in annots if isinstance(annots, list) else []:
            a = _key(ref)
            if a is not None and a not in self.roles:
                obj = self.old(a)
                self.roles[a] = _refine("annot", obj) if obj is not None else "annot"

    def _index_fields(self, raw: Any, depth: int) -> None:
        if depth > _MAX_DEPTH:
            return
        n = _key(raw)
        if n is not None:
            self.roles.setdefault(n, "fields")
        kids = self.deref_old(raw)
        for ref in kids if isinstance(kids, list) else []:
            f = _key(ref)
            if f is None or self.roles.get(f) == "field":
                continue
            self.roles[f] = "field"
            obj = self.old(f)
            if isinstance(obj, dict):
                self._index_fields(_get(obj, "/Kids"), depth + 1)

    # -- categories -----------------------------------------------------------------
    def _nested(self, old: Any, new: Any, label: str, role: str) -> None:
        """The dangerous keys anywhere inside the direct dictionaries and arrays of a
        changed object's new value, where they differ from the signed value: a direct
        dictionary has no object number for :meth:`_brought_in` to follow, and a viewer
        acts on what it holds (red team pdf14, p14-07, p14-08: ``/Parent << /AA << /O
        script >> >>`` on the page-tree node, which pdf.js collects up the /Parent chain;
        direct annotations with actions in a node's /Annots). What a reader never sees
        (the catalog's /DSS, XMP metadata, the structure tree) is left out."""
        if not isinstance(new, dict):
            return
        skip = _CATALOG_UNSEEN if role == "catalog" else _unseen(role, new)
        found: set[str] = set()
        for key in new:
            k = str(key)
            if k in skip:
                continue
            before = _raw(old, k) if isinstance(old, dict) and k in old else None
            _dangerous_inside(before, _raw(new, k), found, 0)
        if found:
            self.out.note(
                ChangeKind.FORBIDDEN,
                f"{label} now holds {', '.join(sorted(found))} inside a direct dictionary: "
                "an action or script a viewer runs, which no page comparison sees",
            )

    def _node(self, old: Any, new: Any, label: str) -> None:
        """A page-tree node: only its structure (/Kids, /Count) may change, for the pages
        to judge; its /Parent, and anything a viewer inherits or reads from it, never (red
        team pdf14, p14-07, p14-08)."""
        if not isinstance(old, dict) or not isinstance(new, dict):
            self._generic(old, new, label, "pages")
            return
        changed = _changed_keys(old, new)
        beyond = changed - _NODE_STRUCTURE
        if beyond:
            self.out.note(
                ChangeKind.FORBIDDEN,
                f"{label} changed {', '.join(sorted(beyond))}: the pages inherit from a node "
                "(pdf.js its /Annots and, up /Parent, its /AA) what no page comparison sees",
            )
            return
        self._generic(old, new, label, "pages")

    def _generic(self, old: Any, new: Any, label: str, role: str) -> None:
        if isinstance(old, dict) and isinstance(new, dict):
            danger = _changed_keys(old, new) & (_DANGEROUS | _TEXT_LAYER_KEYS)
            if role == "pages":
                danger |= _changed_keys(old, new) & _CONTENT_KEYS
            if danger:
                self.out.note(ChangeKind.FORBIDDEN, f"{label} changed {', '.join(sorted(danger))}")
                return
            problem = _shape_problem(new, self.deref_new) if role == "annot" else None
            if problem is None and role == "annot" and _changed_keys(old, new) & set(_NOTE_KEYS):
                problem = _note_problem(new, self.deref_new)
            if problem is not None:
                self.out.note(ChangeKind.FORBIDDEN, f"{label} changed: {problem}")
                return
        kind = ChangeKind.ANNOTATION if role == "annot" else ChangeKind.UNDEFINED
        self.out.note(kind, f"{label} changed")
        if role == "annot":
            self.out.annotated.append(f"{label} changed")
            self._judged()

    def _catalog(self, old: Any, new: Any) -> None:
        changed = _changed_keys(old, new) - _CATALOG_UNSEEN
        if len(changed) < len(_changed_keys(old, new)):
            self.out.note(ChangeKind.EXTENSION)
        for key in sorted(changed):
            if key == "/AcroForm":
                self._pair(_get(old, key), _get(new, key), "acroform", "the form (/AcroForm)")
            elif key in _DANGEROUS or key == "/Parent":  # p14-08: /AA read up /Parent
                self.out.note(ChangeKind.FORBIDDEN, f"the catalog's {key} changed")
            elif key in _CATALOG_BESIDE:
                self._beside(_get(old, key), _get(new, key), f"the catalog's {key}")
            elif key == "/Pages" and _key(_raw(old, key)) is not None:
                self.out.note(ChangeKind.UNDEFINED, "the catalog points to another page tree")
            else:
                self.out.note(ChangeKind.UNDEFINED, f"the catalog's {key} changed")

    def _pair(self, old_v: Any, new_v: Any, role: str, label: str) -> None:
        """A key of a changed object now holds another value: compare what the old value
        was in the signed revision with what the new one is in the final file."""
        old_obj = self.deref_old(old_v) if old_v is not None else None
        new_obj = self.deref_new(new_v) if new_v is not None else None
        self._container(new_v)
        if _key(new_v) is not None:
            self.current = _key(new_v)  # what the new value holds directly, it holds
        if same(old_obj, new_obj):
            return
        if old_obj is None or new_obj is None:
            kind = ChangeKind.FORBIDDEN if role == "acroform" and new_obj is None else None
            if role == "acroform" and old_obj is None and isinstance(new_obj, dict):
                self._acroform({}, new_obj, label)
                return
            self.out.note(kind or ChangeKind.UNDEFINED, f"{label} was added or removed")
            return
        handler = _HANDLERS.get(role)
        if handler is not None:
            handler(self, old_obj, new_obj, label)
        else:
            self._generic(old_obj, new_obj, label, role)

    def _acroform(self, old: Any, new: Any, label: str) -> None:
        if not isinstance(new, dict):
            self.out.note(ChangeKind.FORBIDDEN, f"{label} was removed")
            return
        changed = _changed_keys(old, new)
        for key in sorted(changed):
            if key in _DANGEROUS:
                self.out.note(ChangeKind.FORBIDDEN, f"the form's {key} changed")
            elif key == "/Fields":
                self._array(_get(old, key), _raw(new, key), "fields")
            elif key in ("/DR", "/DA") and self._regenerated_field() is not None:
                self._form_resources(f"the form's {key}")
            elif key == "/SigFlags" or (
                key == "/DR" and (key not in old or _only_additions(self, old, new, key))
            ):
                self.out.note(ChangeKind.EXTENSION)
                if key == "/DR":  # fonts a field's appearance may be drawn with: judged
                    for _, r in _children({key: _raw(new, key)}):
                        if (n := _key(r)) is not None:
                            self._judged_at(n, self.current)
            elif key in _ACROFORM_SIGNING or key == "/DA":
                self.out.note(ChangeKind.UNDEFINED, f"the form's {key} was replaced")
            else:
                self.out.note(ChangeKind.UNDEFINED, f"the form's {key} changed")

    def _array(self, old_v: Any, new_v: Any, role: str, page: int | None = None) -> None:
        """An /Annots or /Fields array: the signed entries stay, in order; what is added is
        judged as a new annotation or field."""
        old_l = self.deref_old(old_v) if old_v is not None else []
        new_l = self.deref_new(new_v)
        self._container(new_v)
        holder = _key(new_v) if _key(new_v) is not None else self.current
        if not isinstance(old_l, list) or not isinstance(new_l, list):
            self.out.note(ChangeKind.UNDEFINED, f"the {role} array was replaced")
            return
        old_keys = [_key(x) for x in old_l]
        new_keys = [_key(x) for x in new_l]
        signed_keys = set(old_keys)  # once, not per entry (red team pdf12: quadratic)
        kept = [k for k in new_keys if k in signed_keys]
        if kept != old_keys or None in old_keys:
            kind = ChangeKind.ANNOTATION if role == "annots" else ChangeKind.UNDEFINED
            self.out.note(kind, f"entries of the {role} array were removed or reordered")
            if role == "annots":
                self.out.annotated.append("annotations were removed or reordered")
        for k in new_keys:
            if k in signed_keys:
                continue
            if k is not None and self._signature_field_shown(k, role, page, holder):
                continue
            if k is None or self.existed(k):
                self.out.note(
                    ChangeKind.FORBIDDEN,
                    f"an object of the signed revision was added to the {role} array",
                )
                continue
            self._judged_at(k, holder)
            self._added(k, role, page)

    def _container(self, value: Any) -> None:
        """``value``, if a reference to an object the signed revision does not have, is
        judged entry by entry here (a new array, a new form), as held by the object being
        compared: see _brought_in."""
        n = _key(value)
        if n is not None and not self.existed(n):
            self.containers.add(n)
            if self.current is not None:
                self.accepted.setdefault(n, set()).add(self.current)

    def _judged_at(self, number: int, holder: int | None) -> None:
        """Object ``number``, listed by object ``holder``, is judged whole by a rule for
        additions there, and nowhere else (see _brought_in)."""
        self.explained.add(number)
        if holder is not None:
            self.accepted.setdefault(number, set()).add(holder)

    def _signature_field_shown(
        self, number: int, role: str, page: int | None, holder: int | None
    ) -> bool:
        """A signature field of the signed revision's form now listed in a page's
        /Annots (signed later: its widget shows there)."""
        if role != "annots" or self.roles.get(number) != "field":
            return False
        obj = self.new(number)
        if not isinstance(obj, dict) or _inherited(self.deref_new, obj, "/FT") != "/Sig":
            return False
        self._judged_at(number, holder)
        self._added_signature(obj, role, page, signed=self.old(number))
        return True

    def _added(self, number: int, role: str, page: int | None) -> None:
        """A field or annotation that did not exist in the signed revision."""
        obj = self.new(number)
        if not isinstance(obj, dict):
            self.out.note(ChangeKind.UNDEFINED, f"a new {role} entry is not a dictionary")
            return
        if _inherited(self.deref_new, obj, "/FT") == "/Sig":
            self._added_signature(obj, role, page)
            return
        if role == "fields":
            self.out.note(
                ChangeKind.FORBIDDEN,
                f"a form field {_field_name(self, obj)} was added that is not a signature: "
                "viewers show, compute and run fields beyond what a page comparison sees",
            )
            return
        sub = str(_raw(obj, "/Subtype")) if "/Subtype" in obj else "(no subtype)"
        problem = _shape_problem(obj, self.deref_new) or _note_problem(obj, self.deref_new)
        if problem is None and sub not in _PIXEL_JUDGED:
            problem = "viewers differ in whether and how they show it"
        elif problem is None and ("/Popup" in obj or _danger_in(obj)):
            problem = "it carries an action, a pop-up or optional content"
        elif problem is None and not isinstance(self.deref_new(_get(obj, "/AP")), dict):
            problem = "it has no appearance stream: each viewer draws its own"
        if problem is not None:
            self.out.note(ChangeKind.FORBIDDEN, f"a {sub} annotation was added: {problem}")
        else:
            self.out.note(ChangeKind.ANNOTATION, f"a {sub} annotation was added")
            self.out.annotated.append(f"a {sub} annotation was added")

    def _added_signature(self, obj: Any, role: str, page: int | None, signed: Any = None) -> None:
        """A signature field added, or (``signed``: the field in the signed revision) one
        of the signed form newly listed in a page's /Annots."""
        value = _inherited_raw(self.deref_new, obj, "/V")
        v = _key(value)
        name = _field_name(self, obj)
        problem = _shape_problem(obj, self.deref_new) if role == "annots" else None
        danger = sorted(_danger_in(obj))
        if danger:  # red team pdf12: a new field's action, which no page comparison sees
            problem = f"it carries {', '.join(danger)}"
        if problem is not None:
            self.out.note(ChangeKind.FORBIDDEN, f"signature field {name} was added: {problem}")
            return
        if v is None and value is None:
            if role == "annots" and _visible(obj):
                self.out.note(
                    ChangeKind.ANNOTATION,
                    f"an empty signature field {name} with an appearance was added",
                )
            else:
                self.out.note(ChangeKind.EXTENSION)
            return
        if v is None or self.existed(v):
            self.out.note(
                ChangeKind.FORBIDDEN,
                f"signature field {name} was added whose value is not a new signature",
            )
            return
        kind = self.policy.new_signature(v)
        if kind is None:
            self.out.note(
                ChangeKind.ANNOTATION,
                f"signature field {name} was added whose signature does not verify",
            )
            return
        self.out.note(kind)
        if role == "annots":
            if kind is ChangeKind.EXTENSION and self._shown_when_signed(signed, obj):
                kind = ChangeKind.SIGNATURE  # the signed field's own widget, as a signer's
            self._widget(obj, name, [page] if page is not None else None, kind)

    def _widget(
        self,
        obj: Any,
        name: str,
        pages: list[int] | None = None,
        kind: ChangeKind = ChangeKind.SIGNATURE,
    ) -> None:
        """Record a later signature's widget for the visual line (on each page that
        lists it), or refuse one whose place or flags are not plain (see _shape_problem).

        A document timestamp (``kind`` EXTENSION) whose widget can show anything is an
        annotation added, compared like any other (red team pdf13, p13-11: LICENSE REVOKED
        drawn on blank space): what a signer's widget shows is that signer's statement,
        but a timestamp's token, which anyone may obtain from a trusted TSA, states only
        a time, nothing about its widget."""
        problem = _shape_problem(obj, self.deref_new)
        if problem is not None:
            self.out.note(ChangeKind.FORBIDDEN, f"the widget of signature {name}: {problem}")
            return
        if not _visible(obj):
            return
        if kind is ChangeKind.EXTENSION:
            shown = (
                f"document timestamp {name} shows a widget on the page: a timestamp attests "
                "a time, not what its widget draws"
            )
            self.out.note(ChangeKind.ANNOTATION, shown)
            self.out.annotated.append(shown)
            return
        rect = _rect(_raw(obj, "/Rect"))
        where = [p for p in (pages or self._pages_listing(obj)) if p in self.pages]
        if rect is None or not where:
            self.out.note(ChangeKind.UNDEFINED, f"the widget of signature {name} has no place")
            return
        for page in where:
            box = self._page_box(page)
            if box is not None and not _overlap(rect, box):
                continue  # off the page: a reader sees nothing of it
            self.out.widgets.append(Widget(self.pages[page], rect, name))

    def _page_box(self, page: int) -> tuple[float, float, float, float] | None:
        """The signed page's visible area (/CropBox, else /MediaBox, inherited)."""
        for key in ("/CropBox", "/MediaBox"):
            value = _inherited_raw(self.deref_old, self.old(page), key)
            box = _rect(self.deref_old(value)) if value is not None else None
            if box is not None:
                return box
        return None

    def _pages_listing(self, obj: Any) -> list[int]:
        """The signed revision's pages whose final /Annots list ``obj`` (the pages' arrays
        read once per walk, not once per later widget: red team pdf12, quadratic)."""
        if self._listed_on is None:
            listed: dict[int, list[int]] = {}
            for number in self.pages:
                page = self.new(number)
                annots = self.deref_new(_raw(page, "/Annots")) if isinstance(page, dict) else None
                for a in annots if isinstance(annots, list) else []:
                    on = listed.setdefault(id(self.deref_new(a)), [])
                    if not on or on[-1] != number:
                        on.append(number)
            self._listed_on = listed
        return list(self._listed_on.get(id(obj), []))

    def _page(self, old: Any, new: Any, label: str) -> None:
        if not isinstance(new, dict):
            self.out.note(ChangeKind.UNDEFINED, f"{label} is no longer a page")
            return
        changed = _changed_keys(old, new) - _UNSEEN_KEYS
        if len(changed) < len(_changed_keys(old, new)):
            self.out.note(ChangeKind.EXTENSION)
        for key in sorted(changed):
            if key == "/Annots":
                self._array(_get(old, key), _raw(new, key), "annots", self.current)
            elif key in _PAGE_CHROME:
                self.out.note(
                    ChangeKind.FORBIDDEN,
                    f"{label}: {key} changed (a viewer shows it beside the page)",
                )
            elif key in _DANGEROUS:
                self.out.note(ChangeKind.FORBIDDEN, f"{label}: {key} changed")
            elif key == "/Parent":
                self.out.note(
                    ChangeKind.FORBIDDEN,
                    f"{label}: /Parent changed (what the page inherits: resources, boxes, "
                    "and in pdf.js annotations and actions)",
                )
            elif key in _PAGE_SCALE:
                self.out.note(
                    ChangeKind.FORBIDDEN,
                    f"{label}: {key} changed (the page's size as viewers show, print and "
                    "measure it, which the rendered pages do not show)",
                )
            elif key in _CONTENT_KEYS:
                self.out.note(
                    ChangeKind.FORBIDDEN,
                    f"{label}: {key} now names other objects: what readers extract from the "
                    "page (text, /ActualText, glyph-to-text maps) may differ where the pixels "
                    "do not",
                )
            else:
                self.out.note(ChangeKind.UNDEFINED, f"{label}: {key} changed")

    def _annots(self, old: Any, new: Any, label: str) -> None:
        page = self.owner.get(self.current) if self.current is not None else None
        self._array(old, new, "annots", page)

    def _fields(self, old: Any, new: Any, label: str) -> None:
        self._array(old, new, "fields")

    def _field(self, old: Any, new: Any, label: str) -> None:
        if not isinstance(new, dict):
            self.out.note(ChangeKind.UNDEFINED, f"{label} is no longer a field")
            return
        changed = _changed_keys(old, new)
        name = _field_name(self, old) or label
        danger = changed & _DANGEROUS
        if danger:
            self.out.note(ChangeKind.FORBIDDEN, f"field {name}: {', '.join(sorted(danger))}")
            return
        problem = _shape_problem(new, self.deref_new) if "/F" in changed else None
        if problem is not None:
            self.out.note(ChangeKind.FORBIDDEN, f"field {name} changed: {problem}")
            return
        if _inherited(self.deref_old, old, "/FT") == "/Sig":
            self._signature_field(old, new, changed, name)
            return
        beyond = changed - _FORM_FILL_KEYS - _FIELD_FLAG_KEYS
        if beyond:
            self.out.note(
                ChangeKind.FORBIDDEN,
                f"field {name} changed beyond its value: {', '.join(sorted(beyond))} (viewers "
                "show a field from its keys, not only from its appearance)",
            )
            return
        if changed - _FORM_FILL_KEYS:
            extra = ", ".join(sorted(changed - _FORM_FILL_KEYS))
            self.out.note(ChangeKind.UNDEFINED, f"field {name} changed beyond its value: {extra}")
            return
        self._filled(name)

    def _signature_field(self, old: Any, new: Any, changed: set[str], name: str) -> None:
        if "/V" in old:
            self.out.note(
                ChangeKind.FORBIDDEN,
                f"signed signature field {name} was changed: {', '.join(sorted(changed))}",
            )
            return
        if "/V" in changed:
            v = _key(_raw(new, "/V"))
            kind = self.policy.new_signature(v) if v is not None and not self.existed(v) else None
            if kind is None:
                self.out.note(
                    ChangeKind.FORBIDDEN,
                    f"signature field {name} was given a value that is not a new, valid signature",
                )
                return
            self.out.note(ChangeKind.SIGNATURE)
            self._judged()
            if "/Rect" in new:
                if kind is ChangeKind.EXTENSION and self._shown_when_signed(old, new):
                    kind = ChangeKind.SIGNATURE  # the field's own widget, as a signer's
                self._widget(new, name, kind=kind)
            return
        if changed & {"/AP", "/AS", "/MK"}:
            self.out.note(
                ChangeKind.ANNOTATION,
                f"the appearance of empty signature field {name} changed: signed by no one",
            )
            self._judged()
        elif changed - _FIELD_FLAG_KEYS:
            extra = ", ".join(sorted(changed - _FIELD_FLAG_KEYS))
            self.out.note(ChangeKind.FORBIDDEN, f"empty signature field {name} changed: {extra}")
        else:
            self.out.note(ChangeKind.UNDEFINED, f"empty signature field {name} changed")

    def _shown_when_signed(self, old: Any, new: Any) -> bool:
        """Whether the signed revision already had this signature field's widget, visible,
        with an appearance, where it is now (``old``; None: a field added): a document
        timestamp filling it is judged as any later signature filling a signed field (the
        DSS corpus file timestamped-fields.pdf, whose fields are listed in a page's
        /Annots only when a timestamp fills them); one that gives a field a rectangle or
        an appearance is not (p13-11). What its widget then shows is no one's statement:
        intake refuses a document timestamp that shows a widget (widget_shown)."""
        if not isinstance(old, dict):
            return False
        rect = _rect(_raw(old, "/Rect")) if "/Rect" in old else None
        return (
            rect is not None
            and _visible(old)
            and "/Rect" in new
            and _rect(_raw(new, "/Rect")) == rect
            and isinstance(self.deref_old(_get(old, "/AP")), dict)
        )

    def _appearance(self, old: Any, new: Any, label: str) -> None:
        """A form field's appearance stream redrawn in place: form fill, as the field's
        value would be (an already signed signature's appearance: never)."""
        owner = self.owner.get(self.current) if self.current is not None else None
        field = self.old(owner) if owner is not None else None
        if not isinstance(field, dict):
            self.out.note(ChangeKind.UNDEFINED, f"{label} changed")
            return
        name = _field_name(self, field)
        if _inherited(self.deref_old, field, "/FT") == "/Sig":
            if _inherited_raw(self.deref_old, field, "/V") is not None:
                self.out.note(
                    ChangeKind.FORBIDDEN, f"the appearance of signed signature {name} changed"
                )
            else:
                self.out.note(
                    ChangeKind.ANNOTATION,
                    f"the appearance of empty signature field {name} changed: signed by no one",
                )
                self._judged()
            return
        self._filled(name)

    def _filled(self, name: str) -> None:
        """Form field ``name`` filled in: permitted unless DocMDP or FieldMDP forbid."""
        self._judged()
        if not self.policy.form_fill_allowed:
            self.out.note(
                ChangeKind.FORBIDDEN,
                f"form field {name} was filled in, but the signature allows no changes",
            )
        elif self.policy.is_locked(name):
            self.out.note(
                ChangeKind.FORBIDDEN, f"form field {name} was filled in, but the signature locks it"
            )
        else:
            self.out.note(ChangeKind.FORM_FILL, f"form field {name} was filled in")

    def _judged(self) -> None:
        """The object being compared was judged whole, with what it now references, by a
        rule for additions (form fill, an annotation or a signature): see _brought_in."""
        if self.current is not None:
            self.explained.add(self.current)

    def _regenerated_field(self) -> str | None:
        """A field of the signed form with no appearance stream of its own: viewers draw
        it from /DA and /DR, so changing those changes what it shows (None: there is
        none)."""
        if self._regenerated is None:
            self._regenerated = ""
            for number, role in self.roles.items():
                obj = self.old(number) if role == "field" else None
                if isinstance(obj, dict) and _is_widget(obj) and "/AP" not in obj:
                    self._regenerated = _field_name(self, obj)
                    break
        return self._regenerated or None

    def _form_resources(self, label: str) -> None:
        self.out.note(
            ChangeKind.FORBIDDEN,
            f"{label} changed while field {self._regenerated_field()} has no appearance "
            "stream: viewers draw it from the form's resources",
        )

    def _resources_of_form(self, old: Any, new: Any, label: str) -> None:
        if self._regenerated_field() is not None:
            self._form_resources(label)
        else:
            self._generic(old, new, label, "other")

    def _optional_content(self, old: Any, new: Any, label: str) -> None:
        self.out.note(
            ChangeKind.FORBIDDEN,
            f"{label} changed: optional content decides what shows on screen and in print",
        )

    def _beside(self, old: Any, new: Any, label: str) -> None:
        self.out.note(
            ChangeKind.FORBIDDEN,
            f"{label} changed: viewers show it beside the page (bookmarks, page labels, "
            "panes, title), which no page comparison sees",
        )

    def _content(self, old: Any, new: Any, label: str) -> None:
        """Page content, fonts, images and forms rewritten in place: even with identical
        pixels, what readers extract (text, invisible text, /ActualText, glyph-to-text
        maps) may say something else (red team pdf11, p11-11). Real updates after a
        signature never do this (DSS corpus: none); pyHanko refuses it too."""
        if isinstance(old, dict) and isinstance(new, dict):
            danger = _changed_keys(old, new) & _DANGEROUS
            if danger:
                self.out.note(ChangeKind.FORBIDDEN, f"{label} changed {', '.join(sorted(danger))}")
                return
        self.out.note(
            ChangeKind.FORBIDDEN,
            f"{label} changed: what readers extract from it (text, invisible text, "
            "/ActualText) may differ where the pixels do not",
        )

    def _text_layer(self, old: Any, new: Any, label: str) -> None:
        self.out.note(
            ChangeKind.FORBIDDEN,
            f"{label} changed: the text a reader copies, searches or hears, which no page "
            "comparison sees",
        )

    def _sigvalue(self, old: Any, new: Any, label: str) -> None:
        self.out.note(ChangeKind.FORBIDDEN, f"the signature dictionary {label} was rewritten")


def _dangerous_inside(old: Any, new: Any, found: set[str], depth: int) -> None:
    """Add to ``found`` the dangerous keys of the direct dictionaries inside ``new`` (not
    following references) whose values differ from ``old`` at the same place."""
    if depth > _MAX_DEPTH:
        raise ObjectReadError(f"an object nests more than {_MAX_DEPTH} direct objects")
    if _key(new) is not None or same(old, new):
        return
    if isinstance(new, dict):
        for key in new:
            k, value = str(key), _raw(new, key)
            before = _raw(old, key) if isinstance(old, dict) and key in old else None
            if k in _DANGEROUS and not same(before, value):
                found.add(k)
            _dangerous_inside(before, value, found, depth + 1)
    elif isinstance(new, list):
        olds = list(old) if isinstance(old, list) else []  # iterated raw, never resolved
        for i, item in enumerate(list(new)):
            _dangerous_inside(olds[i] if i < len(olds) else None, item, found, depth + 1)


def _danger_in(obj: Any) -> set[str]:
    """The dangerous keys of a new object, its own and inside its direct dictionaries
    (red team pdf14: ``/Parent << /AA ... >>``)."""
    found: set[str] = set()
    _dangerous_inside(None, obj, found, 0)
    return found


def _only_additions(walk: _Walk, old: Any, new: Any, key: str) -> bool:
    """Every entry of old[key] (a dictionary, e.g. /DR) is still there, the same or only
    extended."""

    def check(o: Any, n: Any, depth: int) -> bool:
        o, n = walk.deref_old(o), walk.deref_new(n)
        if not isinstance(o, dict):
            return same(o, n)
        if not isinstance(n, dict) or depth > 4:
            return False
        for k in o:
            if k not in n:
                return False
            ov, nv = _raw(o, k), _raw(n, k)
            if same(ov, nv):
                continue
            if _key(ov) is None and _key(nv) is None and check(ov, nv, depth + 1):
                continue
            return False
        return True

    return check(_raw(old, key), _raw(new, key), 0)


_HANDLERS: dict[str, Callable[[_Walk, Any, Any, str], None]] = {
    "page": _Walk._page,
    "pages": _Walk._node,
    "annots": _Walk._annots,
    "fields": _Walk._fields,
    "field": _Walk._field,
    "acroform": _Walk._acroform,
    "sigvalue": _Walk._sigvalue,
    "appearance": _Walk._appearance,
    "oc": _Walk._optional_content,
    "text": _Walk._text_layer,
    "beside": _Walk._beside,
    "content": _Walk._content,
    "dr": _Walk._resources_of_form,
    "catalog": lambda walk, old, new, label: walk._catalog(old, new),
}


def _field_name(walk: _Walk, obj: Any) -> str:
    parts: list[str] = []
    for _ in range(_MAX_DEPTH):
        if not isinstance(obj, dict):
            break
        if "/T" in obj:
            parts.append(str(obj.get("/T")))
        if "/Parent" not in obj:
            break
        obj = walk.deref_new(_raw(obj, "/Parent"))
    return ".".join(reversed(parts)) or "(unnamed)"


def analyse_changes(
    reader: Any,
    objs: RevisionObjects,
    signed_rev: int,
    *,
    form_fill_allowed: bool = True,
    is_locked: Callable[[str], bool] = lambda name: False,
    new_signature: Callable[[int], ChangeKind | None] = lambda number: None,
    signatures: frozenset[int] = frozenset(),
) -> ChangeAnalysis:
    """Compare the signed revision ``signed_rev`` with the final file (see module doc).

    ``new_signature(n)``: SIGNATURE (or EXTENSION for a document timestamp) when object
    ``n`` is the dictionary of a signature the engine found intact, covering a later
    revision in full; None otherwise. Never raises:
    what cannot be read is a FORBIDDEN change with its reason.
    """
    final = objs.revisions - 1
    policy = _Policy(form_fill_allowed, is_locked, new_signature)
    walk = _Walk(objs, signed_rev, final, policy)
    for revision in range(signed_rev + 1, final + 1):
        for number in sorted(objs.freed_and_listed(revision))[:_MAX_LISTED]:
            walk.out.note(
                ChangeKind.FORBIDDEN,
                f"revision {revision + 1}'s xref table frees object {number} and its /XRefStm "
                "lists it: readers differ on whether it exists (red team pdf11, p11-07)",
            )
    try:
        old_trailer = reader.get_historical_resolver(signed_rev).trailer_view
        new_trailer = reader.get_historical_resolver(final).trailer_view
        if not same(_get(old_trailer, "/Encrypt"), _get(new_trailer, "/Encrypt")):
            walk.out.note(ChangeKind.FORBIDDEN, "the trailer's /Encrypt changed")
        walk.run(
            _raw(old_trailer, "/Root"),
            _raw(new_trailer, "/Root"),
            set(signatures),
            info=_get(old_trailer, "/Info"),
        )
    except ObjectReadError as exc:
        walk.out.note(ChangeKind.FORBIDDEN, str(exc))
    except RecursionError:
        walk.out.note(ChangeKind.FORBIDDEN, "a revision is nested too deeply to compare")
    except Exception as exc:  # a hostile later revision: a verdict, never a crash
        walk.out.note(
            ChangeKind.FORBIDDEN,
            f"a later revision cannot be compared ({type(exc).__name__}: {str(exc)[:120]})",
        )
    return walk.out
