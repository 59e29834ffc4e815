"""Whether what a reader sees is what a signature signed: the verdict on later revisions.

Three independent lines, each of which can only make the verdict stricter:

1. **structure** (:mod:`signing._verify.structure`): every byte after the signed revision
   belongs to an exactly valid incremental update, so all readers see the same revisions;
2. **objects** (:mod:`signing._verify.changes`): the signed revision's protected objects
   compared by number with the final file, each change put in a DSS category;
3. **pages** (:mod:`signing._verify.visual`): when the objects alone cannot tell (form
   fill, annotations, undefined changes), the signed revision and the final file are
   rendered by two independent renderers and compared; a later signature's widget is
   allowed only on space that is blank in the signed revision.

``modified`` is true exactly when what a reader sees differs from what was signed outside
later signatures' widgets on blank space, or a change is never permitted. A modification
may still be *permitted* (DocMDP allows form filling, or annotations at P=3): then the
indication stands and the report carries a warning; intake refuses either way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from schemas.report import ChangeCategory, ModificationLevel, VisualCheck
from signing._verify.changes import ChangeAnalysis, ChangeKind, Widget, analyse_changes
from signing._verify.lru import Lru
from signing._verify.objects import RevisionObjects

if TYPE_CHECKING:  # pragma: no cover
    from signing._verify.structure import Revision

__all__ = [
    "ChangeVerdict",
    "Permissions",
    "blank_cache_clear",
    "blank_under_remembered",
    "judge_later_revisions",
]

#: Blank checks remembered (signed revisions' digests with page and rect).
_blank_cache: Lru[tuple[bytes, int, tuple[float, ...]], bool] = Lru(4096)

_LEVEL = {
    None: ModificationLevel.NONE,
    ChangeKind.EXTENSION: ModificationLevel.LTA_UPDATES,
    ChangeKind.SIGNATURE: ModificationLevel.SIGNATURES,
    ChangeKind.FORM_FILL: ModificationLevel.FORM_FILLING,
    ChangeKind.ANNOTATION: ModificationLevel.ANNOTATIONS,
    ChangeKind.UNDEFINED: ModificationLevel.OTHER,
    ChangeKind.FORBIDDEN: ModificationLevel.OTHER,
}


@dataclass
class ChangeVerdict:
    """What the revisions after one signature did, as the report shows it."""

    level: ModificationLevel = ModificationLevel.NONE
    categories: list[ChangeCategory] = field(default_factory=list)
    modified: bool = False
    permitted: bool = True
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    visual: VisualCheck | None = None
    remember: bool = True
    """False when the verdict is of the moment, not of the bytes alone (the pages'
    comparison ran out of its rendering time on a busy machine): not remembered."""

    @classmethod
    def refused(cls, reason: str) -> ChangeVerdict:
        return cls(
            level=ModificationLevel.OTHER,
            categories=[ChangeCategory.FORBIDDEN],
            modified=True,
            permitted=False,
            reasons=[reason],
        )


@dataclass(frozen=True)
class Permissions:
    """What the signature itself allows later (DocMDP and FieldMDP)."""

    form_fill: bool = True
    annotations: bool = False
    is_locked: Callable[[str], bool] = lambda name: False


def judge_later_revisions(
    data: bytes,
    reader: Any,
    objs: RevisionObjects,
    *,
    signed_rev: int,
    signed_end: int,
    permissions: Permissions,
    new_signature: Callable[[int], ChangeKind | None],
    signatures: frozenset[int],
    revisions: list[Revision] | None = None,
) -> ChangeVerdict:
    """The verdict on everything after the revision ``signed_rev`` (ending at byte
    ``signed_end``; ``revisions``: the file's, if read already). Never raises."""
    from signing._verify.structure import check_updates_after

    problem = check_updates_after(data, signed_end, reader=reader, revisions=revisions)
    if problem is not None:
        return ChangeVerdict.refused(
            f"the file is not exactly valid after the signature: {problem}"
        )
    found = analyse_changes(
        reader,
        objs,
        signed_rev,
        form_fill_allowed=permissions.form_fill,
        is_locked=permissions.is_locked,
        new_signature=new_signature,
        signatures=signatures,
    )
    verdict = ChangeVerdict(
        level=_LEVEL[found.worst],
        categories=[ChangeCategory[k.name] for k in sorted(found.kinds)],
    )
    if ChangeKind.FORBIDDEN in found.kinds:
        verdict.modified, verdict.permitted = True, False
        verdict.reasons = list(found.reasons[ChangeKind.FORBIDDEN])
        return verdict
    if found.widgets or found.needs_rendering:
        try:
            _look(data[:signed_end], data, found, verdict)
        except Exception as exc:  # a renderer's surprise is a refusal, never a pass
            return ChangeVerdict.refused(
                f"the pages cannot be compared ({type(exc).__name__}: {str(exc)[:120]})"
            )
    if found.annotated and not verdict.modified:
        verdict.modified = True
        verdict.reasons.append(
            "annotations changed after signing, whatever they draw: "
            + "; ".join(found.annotated[:4])
        )
    _settle(found, verdict, permissions)
    _retitled(reader, objs, signed_rev, verdict)
    return verdict


def _retitled(reader: Any, objs: RevisionObjects, signed_rev: int, verdict: ChangeVerdict) -> None:
    """A document title set after signing (red team pdf12, p12-06) is a modification of
    what a reader sees, beside the page: a warning, and ``modified`` (intake refuses);
    the indication stands when nothing else is wrong."""
    from signing._verify.doctitle import title_change

    retitled = title_change(reader, objs, signed_rev)
    if retitled is not None:
        verdict.modified = True
        verdict.reasons.append(retitled)
        verdict.warnings.append(f"{retitled}: not covered by the signature")


def _look(signed: bytes, final: bytes, found: ChangeAnalysis, verdict: ChangeVerdict) -> None:
    """The visual line: later widgets only on blank space; the pages compared when the
    objects cannot tell."""
    from signing._verify import visual

    allowed: list[tuple[int, visual.Rect]] = []
    if found.widgets:
        regions = [(w.page, visual.Rect(*w.rect)) for w in found.widgets]
        for widget, blank, region in zip(
            found.widgets, blank_under_remembered(signed, regions), regions, strict=True
        ):
            if blank:
                allowed.append(region)
                verdict.warnings.append(
                    f"signature {widget.name} shows its appearance on page {widget.page + 1} "
                    "after signing: what it shows is covered by that signature, not by this one"
                )
            else:
                verdict.modified = True
                verdict.reasons.append(_over_content(widget))
    if not found.needs_rendering:
        return
    result = visual.compare_revisions(signed, final, allowed=allowed)
    pages = sorted({d.page + 1 for d in result.differences})
    verdict.visual = VisualCheck(
        renderers=list(result.renderers),
        identical=result.identical,
        pages_signed=result.pages_before,
        pages_final=result.pages_after,
        pages_differing=pages,
        problems=list(result.problems),
    )
    verdict.warnings.extend(result.problems)
    verdict.remember = not result.out_of_time
    if not result.identical:
        verdict.modified = True
        texts = [p + 1 for p in result.text_differences]
        if result.pages_before != result.pages_after:
            verdict.reasons.append(
                f"the signed revision has {result.pages_before} pages, the file now "
                f"{result.pages_after}"
            )
        elif pages:
            listed = ", ".join(str(p) for p in pages[:8])
            verdict.reasons.append(f"what a reader sees changed after signing (page {listed})")
        elif not texts:
            verdict.reasons.append("the pages could not be compared: " + "; ".join(result.problems))
        if texts:
            listed = ", ".join(str(p) for p in texts[:8])
            verdict.reasons.append(
                f"the text a reader copies, searches or hears changed after signing (page "
                f"{listed}), whatever the pixels show"
            )


def blank_under_remembered(signed: bytes, regions: Sequence[tuple[int, Any]]) -> list[bool]:
    """:func:`visual.blank_under`, remembered per signed revision: every copy of the same
    original puts its widget on the same blank corner, and rendering it is the cost. The
    copy maker chooses that corner with this same test (:mod:`signing.copies.corner`), so
    the maker and the verifier cannot disagree on it."""
    from signing._verify import visual

    digest = hashlib.sha256(signed).digest()
    keys = [(digest, page, (r.x0, r.y0, r.x1, r.y1)) for page, r in regions]
    known = [_blank_cache.get(k) for k in keys]
    if all(k is not None for k in known):
        return [bool(k) for k in known]
    found = visual.blank_under(signed, regions)
    for key, blank in zip(keys, found, strict=True):
        if blank:  # "not blank" may be a renderer out of time: asked again next time
            _blank_cache.put(key, blank)
    return found


def blank_cache_clear() -> None:
    """Forget the remembered blank checks (for benchmarks of a first check)."""
    _blank_cache.clear()


def _over_content(widget: Widget) -> str:
    return f"the widget of signature {widget.name} covers signed content on page {widget.page + 1}"


def _settle(found: ChangeAnalysis, verdict: ChangeVerdict, permissions: Permissions) -> None:
    """Whether a modification is one the signature permits, and the warnings to show."""
    kinds = found.kinds
    undefined = found.reasons.get(ChangeKind.UNDEFINED, [])
    filled = found.reasons.get(ChangeKind.FORM_FILL, [])
    annotated = found.reasons.get(ChangeKind.ANNOTATION, [])
    if verdict.modified:
        explained = not (kinds & {ChangeKind.UNDEFINED}) and (
            ChangeKind.ANNOTATION not in kinds or permissions.annotations
        )
        widget_over_text = any(r.startswith("the widget of signature") for r in verdict.reasons)
        verdict.permitted = explained and not widget_over_text and bool(filled or annotated)
        if not verdict.permitted:
            verdict.reasons.extend(undefined + annotated + filled)
    for text in filled + annotated:
        verdict.warnings.append(f"{text} after signing: not covered by the signature")
    if undefined and not verdict.modified:
        verdict.warnings.append(
            "objects changed after signing with no visible effect: " + "; ".join(undefined)
        )
    verdict.reasons = list(dict.fromkeys(verdict.reasons))
    verdict.warnings = list(dict.fromkeys(verdict.warnings))
