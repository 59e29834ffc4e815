"""Render the signed revision and the final file and compare their pages, pixel by pixel.

A second, independent line of defence behind the structural difference analysis (as the EU
DSS project has): whatever a later revision changed, a reader sees only pixels, so the pages
are rendered before and after and compared. Forgeries exploit differences between viewers
(shadow attacks, objects one parser sees and another does not), so two independent renderers
do it: pdfium (Chrome's, through ``pypdfium2``, in process) and poppler (``pdftoppm`` and
``pdfinfo`` of Debian's poppler-utils, as subprocesses with a time bound). Each compares a
file only with itself: its before with its after.

Settings, decided by measurement on this project's machines (pypdfium2 5.15, poppler 22.12):
72 dpi with anti-aliasing on. Anti-aliased rendering is deterministic (the same bytes give
the same pixels, run after run) and its grey edges carry sub-pixel shape: at 72 dpi every
substitution of one digit by another in 9 pt Helvetica, look-alike CJK pairs in 6 and 9 pt
(己/已/巳, 未/末, 土/士, 日/曰 ...), a 0.1 pt line and a 0.2 pt shift of a word all change
pixels in both renderers, while without anti-aliasing some CJK pairs are missed even at
72 dpi (and 36 and 50 dpi missed nothing of this either, anti-aliased: 72 is the margin).
A one-page A4 license costs about 10-20 ms in pdfium and 60-150 ms in poppler, mostly
process starts. Form fields and annotations are rendered (pdfium's form environment,
poppler's default), so a filled field or a new annotation shows.

The rendering work of one call is bounded (red team pdf12, p12-05: a page of Form
XObjects fanned out 10 ways 7 levels deep, 2 KB, took 75 s of CPU in each renderer). Both
renderers run in processes of their own: poppler's tools, and pdfium in a helper process
(:mod:`signing._verify.render_process`; pdfium is not thread-safe, so one job at a time per
process). ``timeout`` is the CPU time those processes may use, all renderers of the call
together (sampled from ``/proc`` while they run, wall time where it cannot be; a process may
take four times its share in wall time on a busy machine); the caller kills a process at the
bound, so nothing of it runs on. Waiting for the helper (another thread's job) is not
charged, but bounded too.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from signing._verify.limits import RENDERING_SECONDS, WALL_FACTOR, CpuMeter, FileBudget, file_budget

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

__all__ = [
    "DEFAULT_DPI",
    "DEFAULT_TIMEOUT",
    "PageDifference",
    "Rect",
    "VisualComparison",
    "blank_under",
    "compare_revisions",
]

DEFAULT_DPI = 72.0
"""Resolution of the comparison (see the module docstring for the measurements)."""
DEFAULT_TIMEOUT = RENDERING_SECONDS
"""Seconds one call may spend rendering, for all renderers together: the CPU time their
processes use (a one-page license takes about 0.15 s in all, the DSS corpus 0.3 s at most;
red team pdf12, p12-05). Inside :func:`signing._verify.limits.rendering_budget` (each
verification) the calls share one budget instead (red team pdf14, p14-02)."""
PDFIUM = "pdfium"
POPPLER = "poppler"
#: Pixels an allowed rect is widened by on each side (anti-aliased edges of a widget).
_MARGIN_PX = 2
#: Pixels of one rendered page at most; a larger page lowers the resolution (and says so).
_MAX_PAGE_PIXELS = 40_000_000
#: Pages compared at most; a longer file is not compared (and is not identical).
_MAX_PAGES = 2_000
#: Pages poppler renders per pdftoppm run (bounds the temporary files).
_POPPLER_CHUNK = 16
#: Seconds between two looks at a running poppler tool.
_POLL = 0.05
#: Seconds one call may wait, on top of its rendering time, for pdfium's helper process
#: (another thread's job, a helper starting).
_WAIT_LIMIT = 30.0
#: Bytes of data one poppler tool may hold (a 40-megapixel page needs about 300 MB).
_TOOL_MEMORY = 1 << 30
#: What pdfium's helper imports when it starts (so that its first job does not).
_PDFIUM_PRELOAD = ("pypdfium2", "PIL.Image", __name__)


@dataclass(frozen=True)
class Rect:
    """A rectangle in PDF user-space points of a page, like an annotation's /Rect."""

    x0: float
    y0: float
    x1: float
    y1: float

    def __post_init__(self) -> None:
        if not all(math.isfinite(v) for v in (self.x0, self.y0, self.x1, self.y1)):
            raise ValueError(f"a Rect needs finite coordinates, not {self!r}")
        if not (self.x0 < self.x1 and self.y0 < self.y1):
            raise ValueError(f"a Rect needs x0 < x1 and y0 < y1, not {self!r}")


@dataclass(frozen=True)
class PageDifference:
    """Pixels of one page that differ between the signed revision and the final file."""

    page: int
    """0-based page index."""
    renderer: str
    """``"pdfium"`` or ``"poppler"``: the renderer that saw the difference."""
    bbox: Rect | None
    """Where pixels differ, in PDF points of the final file's page; ``None`` when the page
    exists in only one of the two files."""


@dataclass(frozen=True)
class VisualComparison:
    """The verdict of :func:`compare_revisions`."""

    identical: bool
    """No difference outside the allowed rects in any renderer, and every renderer that ran
    could render both files."""
    pages_before: int
    """Pages of the signed revision (pdfium's count; poppler's when pdfium failed; 0 when
    no renderer could open both files)."""
    pages_after: int
    """Pages of the final file, counted the same way."""
    differences: tuple[PageDifference, ...]
    renderers: tuple[str, ...]
    """The renderers that actually ran."""
    problems: tuple[str, ...]
    """What limited the comparison, one sentence each (a missing renderer, a file a
    renderer cannot open, a lowered resolution). A renderer failing on a file makes the
    comparison not identical; the caller decides what the others mean."""
    text_differences: tuple[int, ...] = ()
    """0-based pages whose text layer differs while their pixels may not (red team pdf11,
    p11-11): pdfium's text page (copy and paste, search, a screen reader; /ToUnicode,
    /ActualText and invisible text included, annotations left out), or poppler's words
    (``pdftotext -bbox``, annotations included) outside the allowed rects."""
    out_of_time: bool = False
    """A renderer ran out of the call's rendering time: the verdict (not identical) is of
    this moment, not of the files alone (a busy machine), and is not to be remembered."""


class _RenderFailed(Exception):
    """A renderer could not render a file; the message is a sentence for ``problems``."""


class _OutOfTime(_RenderFailed):
    """A renderer ran out of the call's rendering time (or waited out its wait for pdfium):
    a verdict of the moment, not of the file alone."""


@dataclass(frozen=True)
class _PageBox:
    """What a viewer shows of a page: its crop box within its media box, turned by /Rotate
    (clockwise, 0/90/180/270). Maps PDF points to pixels of a rendering and back."""

    x0: float
    y0: float
    x1: float
    y1: float
    rotation: int

    def to_pixel(self, x: float, y: float, scale: float) -> tuple[float, float]:
        r = self.rotation
        if r == 90:
            return (y - self.y0) * scale, (x - self.x0) * scale
        if r == 180:
            return (self.x1 - x) * scale, (y - self.y0) * scale
        if r == 270:
            return (self.y1 - y) * scale, (self.x1 - x) * scale
        return (x - self.x0) * scale, (self.y1 - y) * scale

    def to_point(self, px: float, py: float, scale: float) -> tuple[float, float]:
        r = self.rotation
        if r == 90:
            return self.x0 + py / scale, self.y0 + px / scale
        if r == 180:
            return self.x1 - px / scale, self.y0 + py / scale
        if r == 270:
            return self.x1 - py / scale, self.y1 - px / scale
        return self.x0 + px / scale, self.y1 - py / scale

    def pixel_box(
        self, rect: Rect, scale: float, size: tuple[int, int], margin: int = _MARGIN_PX
    ) -> tuple[int, int, int, int] | None:
        """The pixels ``rect`` touches, widened by ``margin`` and clipped to an image of
        ``size`` (left, top, right, bottom; right and bottom exclusive); None if outside."""
        ax, ay = self.to_pixel(rect.x0, rect.y0, scale)
        bx, by = self.to_pixel(rect.x1, rect.y1, scale)
        left = max(0, math.floor(min(ax, bx)) - margin)
        top = max(0, math.floor(min(ay, by)) - margin)
        right = min(size[0], math.ceil(max(ax, bx)) + margin)
        bottom = min(size[1], math.ceil(max(ay, by)) + margin)
        if left >= right or top >= bottom:
            return None
        return left, top, right, bottom

    def rect_of(self, box: tuple[int, int, int, int], scale: float) -> Rect:
        """The points covered by a pixel box (left, top, right, bottom exclusive), within
        the page (its last row and column of pixels may reach past it)."""
        ax, ay = self.to_point(box[0], box[1], scale)
        bx, by = self.to_point(box[2], box[3], scale)
        return Rect(
            max(min(ax, bx), self.x0),
            max(min(ay, by), self.y0),
            min(max(ax, bx), self.x1),
            min(max(ay, by), self.y1),
        )

    @property
    def whole(self) -> Rect:
        return Rect(self.x0, self.y0, self.x1, self.y1)

    @property
    def width(self) -> float:
        """Width as shown, in points (the turn applied)."""
        across = self.x1 - self.x0
        return across if self.rotation in (0, 180) else self.y1 - self.y0

    @property
    def height(self) -> float:
        down = self.y1 - self.y0
        return down if self.rotation in (0, 180) else self.x1 - self.x0

    @property
    def area(self) -> float:
        return (self.x1 - self.x0) * (self.y1 - self.y0)


class _Document(Protocol):
    """One file opened by one renderer."""

    boxes: tuple[_PageBox, ...]

    def images(self, pages: Sequence[int], dpi: float) -> Iterator[Image.Image]:
        """The rendering of each page of ``pages`` (0-based, ascending), in order."""
        ...

    def close(self) -> None: ...


class _Run:
    """One renderer process's run: the CPU seconds it may use, and what it used."""

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.used: float | None = None

    def charge(self, used: float) -> None:
        self.used = used


def _deadline(timeout: float) -> _Deadline:
    """The deadline of one call: the verification's shared budget inside
    :func:`signing._verify.limits.rendering_budget`, a budget of its own (``timeout``) outside."""
    shared = file_budget()
    if shared is None:
        return _Deadline(timeout)
    return _Deadline(shared.timeout, shared)


class _Deadline:
    """The rendering time one call has left (the CPU time its renderers' processes used
    is charged, see :class:`signing._verify.limits.CpuMeter`), within a wall-clock bound
    that also covers its waits (a busy machine, another thread's pdfium job)."""

    def __init__(self, timeout: float, shared: FileBudget | None = None) -> None:
        if not (timeout > 0 and math.isfinite(timeout)):
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        self.timeout = timeout
        self._shared = shared if shared is not None else FileBudget(timeout)
        self._spent = self._shared.left <= 0  # by the file's earlier calls
        self._end = time.monotonic() + WALL_FACTOR * self._shared.left + _WAIT_LIMIT

    @property
    def _budget(self) -> float:
        return self._shared.left

    @_budget.setter
    def _budget(self, value: float) -> None:
        self._shared.left = value

    def waiting(self) -> float:
        """Seconds this call may still wait for a renderer (not rendering)."""
        return max(0.0, self._end - time.monotonic())

    def left(self, renderer: str) -> float:
        """Seconds of rendering left; raises :class:`_RenderFailed` once none are."""
        left = min(self._budget, self._end - time.monotonic())
        if left <= 0 and self._spent:
            raise _OutOfTime(
                f"{renderer} was not run: the file's rendering time ({self.timeout:g} s) is spent"
            )
        if left <= 0:
            raise _OutOfTime(f"{renderer} did not finish within {self.timeout:g} s")
        return left

    @contextmanager
    def running(self, renderer: str) -> Iterator[_Run]:
        """Around one renderer process's run: gives the CPU seconds it may use, and
        charges what it used (the wall time it took, when the run did not say)."""
        run = _Run(self.left(renderer))
        started = time.monotonic()
        try:
            yield run
        finally:
            self._budget -= run.used if run.used is not None else time.monotonic() - started


def _check_rotation(value: Any) -> int:
    rotation = int(value) % 360
    if rotation not in (0, 90, 180, 270):
        raise _RenderFailed(f"a page has a /Rotate of {value}, not a multiple of 90")
    return rotation


class _PdfiumDocument:
    """A file opened by pdfium, its form environment initialised (forms render)."""

    def __init__(self, data: bytes, what: str, deadline: _Deadline) -> None:
        import pypdfium2

        self._what, self._deadline = what, deadline
        try:
            self._doc = pypdfium2.PdfDocument(data)
        except pypdfium2.PdfiumError as exc:
            raise _RenderFailed(f"pdfium cannot open {what}: {exc}") from None
        try:
            self._doc.init_forms()  # before any page is loaded, or widgets are not drawn
            count = len(self._doc)
            if count > _MAX_PAGES:
                raise _RenderFailed(f"{what} has {count} pages, more than {_MAX_PAGES}")
            self.boxes = tuple(self._box(i) for i in range(count))
        except (pypdfium2.PdfiumError, ValueError) as exc:
            self._doc.close()
            raise _RenderFailed(f"pdfium cannot read the pages of {what}: {exc}") from None
        except BaseException:
            self._doc.close()
            raise

    def _box(self, index: int) -> _PageBox:
        page = self._doc[index]
        try:
            x0, y0, x1, y1 = page.get_bbox()
            return _PageBox(x0, y0, x1, y1, _check_rotation(page.get_rotation()))
        finally:
            page.close()

    def images(self, pages: Sequence[int], dpi: float) -> Iterator[Image.Image]:
        import pypdfium2

        for index in pages:
            self._deadline.left(PDFIUM)
            page = self._doc[index]
            try:
                bitmap = page.render(scale=dpi / 72.0, may_draw_forms=True, draw_annots=True)
                image = bitmap.to_pil().convert("RGB")
            except (pypdfium2.PdfiumError, ValueError) as exc:
                why = f"page {index + 1} of {self._what}: {exc}"
                raise _RenderFailed(f"pdfium cannot render {why}") from None
            finally:
                page.close()
            yield image

    def text(self, index: int) -> str:
        """The text of page ``index`` as pdfium's text page gives it (its content only:
        annotations and form fields are not part of it)."""
        import pypdfium2

        self._deadline.left(PDFIUM)
        page = self._doc[index]
        try:
            textpage = page.get_textpage()
            try:
                return str(textpage.get_text_range())
            finally:
                textpage.close()
        except (pypdfium2.PdfiumError, ValueError) as exc:
            raise _RenderFailed(f"pdfium cannot read the text of page {index + 1}: {exc}") from None
        finally:
            page.close()

    def close(self) -> None:
        self._doc.close()


# pdfinfo's lines (patterns compiled on first use: importing this module stays cheap).
_PDFINFO_PAGES = r"(?m)^Pages:\s+(\d+)\s*$"
_PDFINFO_ROT = r"(?m)^Page\s+(\d+) rot:\s+(-?\d+)\s*$"
_PDFINFO_CROP = r"(?m)^Page\s+(\d+) CropBox:((?:\s+-?[\d.]+){4})\s*$"
_WORD = re.compile(
    r'<word xMin="([-\d.]+)" yMin="([-\d.]+)" xMax="([-\d.]+)" yMax="([-\d.]+)">(.*?)</word>'
)


def _limited(args: list[str], seconds: float) -> list[str]:
    """``args`` run under ``prlimit`` (util-linux), when installed: at most
    :data:`_TOOL_MEMORY` bytes of data and ``seconds`` of CPU (rounded up), so that a tool
    left behind (its caller killed first) ends by itself (red team pdf12, p12-08)."""
    prlimit = shutil.which("prlimit")
    if prlimit is None:
        return args
    return [prlimit, f"--data={_TOOL_MEMORY}", f"--cpu={math.ceil(seconds) + 1}", "--", *args]


def _metered(args: list[str], run: _Run) -> tuple[bytes, bytes, int | None]:
    """Run a tool: its output, error output and exit status, or None for the status when
    it used ``run.limit`` seconds of CPU, or :data:`WALL_FACTOR` times as much wall time,
    and was killed. What it used is charged to ``run``."""
    process = subprocess.Popen(  # noqa: S603 (fixed tools, our own file names)
        args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    meter = CpuMeter(process.pid, fresh=True)
    try:
        while True:
            try:
                out, err = process.communicate(timeout=_POLL)
                break
            except subprocess.TimeoutExpired:
                used = meter.sample()
                if used >= run.limit or meter.elapsed() >= WALL_FACTOR * run.limit:
                    run.charge(used)
                    process.kill()
                    process.communicate()
                    return b"", b"", None
        used = meter.sample()
        run.charge(used)
        return out, err, None if used >= run.limit else process.returncode
    except BaseException:  # a cancelled verification: nothing of the tool runs on
        process.kill()
        process.wait()
        raise


def _poppler_tools() -> tuple[str, str] | None:
    pdftoppm, pdfinfo = shutil.which("pdftoppm"), shutil.which("pdfinfo")
    return (pdftoppm, pdfinfo) if pdftoppm and pdfinfo else None


class _PopplerDocument:
    """A file rendered by poppler's command-line tools, in a private temporary folder."""

    def __init__(self, data: bytes, what: str, deadline: _Deadline) -> None:
        tools = _poppler_tools()
        if tools is None:
            raise _RenderFailed("poppler (pdftoppm) is not installed")
        self._pdftoppm, pdfinfo = tools
        self._what, self._deadline = what, deadline
        self._dir = tempfile.TemporaryDirectory(prefix="evault-visual-")
        self._pdf = Path(self._dir.name) / "in.pdf"
        self._pdf.write_bytes(data)
        try:
            info = self._run([pdfinfo, "-box", "-f", "1", "-l", str(_MAX_PAGES), str(self._pdf)])
            self.boxes = self._parse_boxes(info)
        except BaseException:
            self._dir.cleanup()
            raise

    def _run(self, args: list[str]) -> str:
        with self._deadline.running(POPPLER) as run:
            out, err, code = _metered(_limited(args, run.limit), run)
        if code is None:
            raise _OutOfTime(f"poppler did not finish within {self._deadline.timeout:g} s")
        if code != 0:
            lines = err.decode("utf-8", "replace").strip().splitlines()
            why = lines[-1][:200] if lines else f"exit status {code}"
            raise _RenderFailed(f"poppler cannot open {self._what}: {why}")
        return out.decode("utf-8", "replace")

    def _parse_boxes(self, info: str) -> tuple[_PageBox, ...]:
        # The page lines follow the document information, which may contain anything: the
        # last match of each pattern is poppler's own.
        counts = re.findall(_PDFINFO_PAGES, info)
        if not counts:
            raise _RenderFailed(f"poppler cannot count the pages of {self._what}")
        count = int(counts[-1])
        if count > _MAX_PAGES:
            raise _RenderFailed(f"{self._what} has {count} pages, more than {_MAX_PAGES}")
        rotations = {int(n): int(r) for n, r in re.findall(_PDFINFO_ROT, info)}
        crops = {
            int(n): [float(v) for v in box.split()] for n, box in re.findall(_PDFINFO_CROP, info)
        }
        boxes = []
        for number in range(1, count + 1):
            if number not in rotations or number not in crops:
                raise _RenderFailed(f"poppler gives no page box for page {number} of {self._what}")
            x0, y0, x1, y1 = crops[number]
            rotation = _check_rotation(rotations[number])
            boxes.append(_PageBox(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1), rotation))
        return tuple(boxes)

    def words(self, count: int) -> list[list[tuple[str, float, float, float, float]]]:
        """The words of the first ``count`` pages as ``pdftotext -bbox`` gives them (text
        and box in points from the crop box's top left, as a 72 dpi rendering's pixels);
        poppler includes what annotations and fields draw."""
        pdftotext = shutil.which("pdftotext")
        if pdftotext is None:
            raise _RenderFailed("poppler (pdftotext) is not installed")
        if count == 0:
            return []
        html = self._run(
            [pdftotext, "-bbox", "-enc", "UTF-8", "-f", "1", "-l", str(count), str(self._pdf), "-"]
        )
        pages = html.split("<page ")[1:]
        if len(pages) != count:
            raise _RenderFailed(f"poppler gives the words of {len(pages)} of {count} pages")
        return [
            [(t, float(a), float(b), float(c), float(d)) for a, b, c, d, t in _WORD.findall(page)]
            for page in pages
        ]

    def images(self, pages: Sequence[int], dpi: float) -> Iterator[Image.Image]:
        for chunk in _runs(pages, _POPPLER_CHUNK):
            yield from self._render(chunk[0], chunk[-1], dpi)

    def _render(self, first: int, last: int, dpi: float) -> Iterator[Image.Image]:
        from PIL import Image

        out = Path(self._dir.name) / "p"
        self._run(
            [
                *(self._pdftoppm, "-r", f"{dpi:g}", "-cropbox", "-forcenum", "-sep", "-"),
                *("-f", str(first + 1), "-l", str(last + 1), str(self._pdf), str(out)),
            ]
        )
        files = {int(f.stem.rsplit("-", 1)[1]): f for f in out.parent.glob("p-*.ppm")}
        try:
            for number in range(first + 1, last + 2):
                if number not in files:
                    raise _RenderFailed(f"poppler rendered no page {number} of {self._what}")
                with Image.open(files[number]) as image:
                    yield image.convert("RGB")
        finally:
            for f in files.values():
                f.unlink(missing_ok=True)

    def close(self) -> None:
        self._dir.cleanup()


def _runs(pages: Sequence[int], longest: int) -> Iterator[list[int]]:
    """Consecutive runs of ``pages`` (ascending), each at most ``longest`` long."""
    run: list[int] = []
    for page in pages:
        if run and (page != run[-1] + 1 or len(run) == longest):
            yield run
            run = []
        run.append(page)
    if run:
        yield run


def _open(renderer: str, data: bytes, what: str, deadline: _Deadline) -> _Document:
    if renderer == PDFIUM:
        return _PdfiumDocument(data, what, deadline)
    return _PopplerDocument(data, what, deadline)


def _bounded_dpi(dpi: float, boxes: Iterable[_PageBox]) -> float:
    """``dpi``, lowered so that the largest page stays within :data:`_MAX_PAGE_PIXELS`."""
    largest = max((b.area for b in boxes), default=0.0)
    if largest * (dpi / 72.0) ** 2 <= _MAX_PAGE_PIXELS:
        return dpi
    return 72.0 * math.sqrt(_MAX_PAGE_PIXELS / largest)


def _check_dpi(dpi: float) -> None:
    if not (math.isfinite(dpi) and 1 <= dpi <= 1200):
        raise ValueError(f"dpi must be between 1 and 1200, not {dpi!r}")


def _differing_box(
    before: Image.Image,
    after: Image.Image,
    box_before: _PageBox,
    box_after: _PageBox,
    allowed: Sequence[Rect],
    scale: float,
) -> Rect | None:
    """Where two renderings of a page differ outside the allowed rects (None: nowhere)."""
    from PIL import ImageChops, ImageDraw

    if before.size != after.size or box_before != box_after:
        return box_after.whole  # the page's size, place or turn changed: all of it differs
    diff = ImageChops.difference(before, after)
    if allowed:
        draw = ImageDraw.Draw(diff)
        for rect in allowed:
            pixels = box_after.pixel_box(rect, scale, diff.size)
            if pixels is not None:
                draw.rectangle((pixels[0], pixels[1], pixels[2] - 1, pixels[3] - 1), fill=0)
    found = diff.getbbox()
    return None if found is None else box_after.rect_of(found, scale)


@dataclass
class _Outcome:
    """What one renderer found."""

    renderer: str
    pages: tuple[int, int] | None = None  # (before, after); None when a file did not open
    differences: tuple[PageDifference, ...] = ()
    problems: tuple[str, ...] = ()
    failed: bool = False
    text_differences: tuple[int, ...] = ()
    out_of_time: bool = False


def _compare_with(
    renderer: str,
    before: bytes,
    after: bytes,
    allowed: dict[int, list[Rect]],
    dpi: float,
    deadline: _Deadline,
) -> _Outcome:
    """Compare the two files page by page with one renderer (pdfium in its helper)."""
    try:
        if renderer == PDFIUM:
            answer = _in_helper("_pdfium_compare", (before, after, allowed, dpi), deadline)
            return _outcome_from(answer)
        return _compare_here(renderer, before, after, allowed, dpi, deadline)
    except _RenderFailed as exc:
        return _Outcome(
            renderer, problems=(str(exc),), failed=True, out_of_time=isinstance(exc, _OutOfTime)
        )


def _compare_here(
    renderer: str,
    before: bytes,
    after: bytes,
    allowed: dict[int, list[Rect]],
    dpi: float,
    deadline: _Deadline,
) -> _Outcome:
    """:func:`_compare_with` in this process."""
    docs: list[_Document] = []
    try:
        docs.append(_open(renderer, before, "the signed revision", deadline))
        docs.append(_open(renderer, after, "the final file", deadline))
        old, new = docs
        used = _bounded_dpi(dpi, (*old.boxes, *new.boxes))
        notes = () if used == dpi else (f"{renderer} compared at {used:.0f} dpi (large pages)",)
        found = _page_differences(renderer, old, new, allowed, used)
        texts: tuple[int, ...] = ()
        if isinstance(old, _PdfiumDocument) and isinstance(new, _PdfiumDocument):
            texts = _text_differences(old, new)
        elif isinstance(old, _PopplerDocument) and isinstance(new, _PopplerDocument):
            texts = _word_differences(old, new, allowed)
        pages = (len(old.boxes), len(new.boxes))
        return _Outcome(renderer, pages, tuple(found), notes, text_differences=texts)
    except _RenderFailed as exc:
        return _Outcome(
            renderer, problems=(str(exc),), failed=True, out_of_time=isinstance(exc, _OutOfTime)
        )
    finally:
        for doc in docs:
            doc.close()


# -- pdfium in its helper process (signing._verify.render_process) ------------------------


def _in_helper(job: str, args: tuple[Any, ...], deadline: _Deadline) -> Any:
    """The JSON answer of ``job`` (a function of this module) run in pdfium's helper."""
    from signing._verify import render_process

    try:
        with deadline.running(PDFIUM) as run:
            reply, used = render_process.call(
                f"{__name__}:{job}",
                args,
                seconds=run.limit,
                wait=deadline.waiting(),
                preload=_PDFIUM_PRELOAD,
            )
            run.charge(used)
            if used >= run.limit:  # finished, but past its bound
                raise render_process.RenderTimeout()
    except render_process.RenderTimeout:
        raise _OutOfTime(f"{PDFIUM} did not finish within {deadline.timeout:g} s") from None
    except render_process.RenderBusy:
        raise _OutOfTime(f"{PDFIUM} was busy for {_WAIT_LIMIT:g} s") from None
    except render_process.RenderFailed as exc:
        raise _RenderFailed(f"{PDFIUM} failed: {exc}") from None
    try:
        return json.loads(reply)
    except ValueError:
        raise _RenderFailed(f"{PDFIUM} sent an unreadable answer") from None


def _pdfium_compare(
    before: bytes, after: bytes, allowed: dict[int, list[Rect]], dpi: float, seconds: float
) -> bytes:
    """In pdfium's helper: :func:`_compare_here`, as JSON."""
    found = _compare_here(PDFIUM, before, after, allowed, dpi, _Deadline(seconds))
    return json.dumps(
        {
            "pages": found.pages,
            "differences": [
                [d.page, None if d.bbox is None else [d.bbox.x0, d.bbox.y0, d.bbox.x1, d.bbox.y1]]
                for d in found.differences
            ],
            "problems": list(found.problems),
            "failed": found.failed,
            "texts": list(found.text_differences),
        }
    ).encode()


def _outcome_from(answer: Any) -> _Outcome:
    """The :class:`_Outcome` :func:`_pdfium_compare` sent (checked: it comes from a process
    that read a hostile file)."""
    try:
        pages = answer["pages"]
        if pages is not None:
            pages = (_count(pages[0]), _count(pages[1]))
        differences = tuple(
            PageDifference(_count(page), PDFIUM, None if box is None else Rect(*map(float, box)))
            for page, box in answer["differences"]
        )
        problems = tuple(str(p)[:300] for p in answer["problems"])
        texts = tuple(_count(p) for p in answer["texts"])
        return _Outcome(PDFIUM, pages, differences, problems, bool(answer["failed"]), texts)
    except (KeyError, TypeError, ValueError, IndexError):
        raise _RenderFailed(f"{PDFIUM} sent an unreadable answer") from None


def _count(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= _MAX_PAGES:
        raise ValueError(value)
    return value


def _pdfium_blank(
    before: bytes, regions: Sequence[tuple[int, Rect]], dpi: float, seconds: float
) -> bytes:
    """In pdfium's helper: :func:`_blank_here`, as JSON."""
    return json.dumps(_blank_here(PDFIUM, before, regions, dpi, _Deadline(seconds))).encode()


def _page_differences(
    renderer: str, old: _Document, new: _Document, allowed: dict[int, list[Rect]], dpi: float
) -> list[PageDifference]:
    """Every page both files have, rendered and compared; then the pages only one has."""
    common = range(min(len(old.boxes), len(new.boxes)))
    pairs = zip(common, old.images(common, dpi), new.images(common, dpi), strict=True)
    found = []
    for i, image_old, image_new in pairs:
        where = _differing_box(
            image_old, image_new, old.boxes[i], new.boxes[i], allowed.get(i, []), dpi / 72.0
        )
        if where is not None:
            found.append(PageDifference(i, renderer, where))
    longer = max(len(old.boxes), len(new.boxes))
    found += [PageDifference(i, renderer, None) for i in range(len(common), longer)]
    return found


def _text_differences(old: _PdfiumDocument, new: _PdfiumDocument) -> tuple[int, ...]:
    """The pages both files have whose text layer differs (see
    :attr:`VisualComparison.text_differences`)."""
    return tuple(
        i for i in range(min(len(old.boxes), len(new.boxes))) if old.text(i) != new.text(i)
    )


def _word_differences(
    old: _PopplerDocument, new: _PopplerDocument, allowed: dict[int, list[Rect]]
) -> tuple[int, ...]:
    """The pages both files have whose words, as poppler extracts them, differ outside the
    allowed rects (a later signature's widget on blank space adds its own words)."""
    count = min(len(old.boxes), len(new.boxes))
    before, after = old.words(count), new.words(count)
    found = []
    for i in range(count):
        keep_old = _outside(before[i], old.boxes[i], allowed.get(i, []))
        keep_new = _outside(after[i], new.boxes[i], allowed.get(i, []))
        if keep_old != keep_new:
            found.append(i)
    return tuple(found)


def _outside(
    words: list[tuple[str, float, float, float, float]], box: _PageBox, allowed: list[Rect]
) -> list[tuple[str, float, float, float, float]]:
    """``words`` (sorted) but those touching an allowed rect."""
    size = (math.ceil(box.width), math.ceil(box.height))
    areas = [a for a in (box.pixel_box(r, 1.0, size) for r in allowed) if a is not None]
    return sorted(
        w
        for w in words
        if not any(w[1] < a[2] and a[0] < w[3] and w[2] < a[3] and a[1] < w[4] for a in areas)
    )


def _allowed_by_page(allowed: Sequence[tuple[int, Rect]]) -> dict[int, list[Rect]]:
    by_page: dict[int, list[Rect]] = {}
    for page, rect in allowed:
        if page < 0 or not isinstance(rect, Rect):
            raise ValueError(f"an allowed region is (0-based page, Rect), not {(page, rect)!r}")
        by_page.setdefault(page, []).append(rect)
    return by_page


def _renderers(problems: list[str]) -> list[str]:
    """pdfium always; poppler when its tools are installed (else a problem says so)."""
    if _poppler_tools() is None:
        problems.append("poppler (pdftoppm) is not installed: compared with pdfium only")
        return [PDFIUM]
    return [PDFIUM, POPPLER]


def compare_revisions(
    before: bytes,
    after: bytes,
    *,
    allowed: Sequence[tuple[int, Rect]] = (),
    dpi: float = DEFAULT_DPI,
    timeout: float = DEFAULT_TIMEOUT,
) -> VisualComparison:
    """Compare every page of the signed revision ``before`` (the file up to the end of a
    signature's ByteRange: a complete PDF) with the final file ``after``, in each renderer.

    ``allowed`` lists (0-based page, rect) of later signatures' widgets placed on blank space
    (see :func:`blank_under`): pixels inside them, widened by a few pixels, are not compared.
    A page count that differs is a difference, and so is a file a renderer cannot render.
    """
    _check_dpi(dpi)
    by_page = _allowed_by_page(allowed)
    deadline = _deadline(timeout)
    problems: list[str] = []
    outcomes = [
        _compare_with(r, before, after, by_page, dpi, deadline) for r in _renderers(problems)
    ]
    counts = next((o.pages for o in outcomes if o.pages is not None), (0, 0))
    differences = tuple(d for o in outcomes for d in o.differences)
    texts = tuple(sorted({p for o in outcomes for p in o.text_differences}))
    return VisualComparison(
        identical=not differences and not texts and not any(o.failed for o in outcomes),
        pages_before=counts[0],
        pages_after=counts[1],
        differences=differences,
        renderers=tuple(o.renderer for o in outcomes),
        problems=(*problems, *(p for o in outcomes for p in o.problems)),
        text_differences=texts,
        out_of_time=any(o.out_of_time for o in outcomes),
    )


def _blank_in(
    renderer: str,
    before: bytes,
    regions: Sequence[tuple[int, Rect]],
    dpi: float,
    deadline: _Deadline,
) -> list[bool]:
    """Per region: whether this renderer shows only white there (False if it cannot tell);
    pdfium in its helper."""
    if renderer != PDFIUM:
        return _blank_here(renderer, before, regions, dpi, deadline)
    try:
        answer = _in_helper("_pdfium_blank", (before, list(regions), dpi), deadline)
    except _RenderFailed:
        return [False] * len(regions)
    if not isinstance(answer, list) or len(answer) != len(regions):
        return [False] * len(regions)
    return [a is True for a in answer]


def _blank_here(
    renderer: str,
    before: bytes,
    regions: Sequence[tuple[int, Rect]],
    dpi: float,
    deadline: _Deadline,
) -> list[bool]:
    """:func:`_blank_in` in this process."""
    try:
        doc = _open(renderer, before, "the signed revision", deadline)
    except _RenderFailed:
        return [False] * len(regions)
    try:
        pages = sorted({p for p, _ in regions if p < len(doc.boxes)})
        used = _bounded_dpi(dpi, (doc.boxes[p] for p in pages))
        images = dict(zip(pages, doc.images(pages, used), strict=True))
        return [
            page in images and _all_white(images[page], doc.boxes[page], rect, used / 72.0)
            for page, rect in regions
        ]
    except _RenderFailed:
        return [False] * len(regions)
    finally:
        doc.close()


def _all_white(image: Image.Image, box: _PageBox, rect: Rect, scale: float) -> bool:
    pixels = box.pixel_box(rect, scale, image.size)
    if pixels is None:
        return False  # off the visible page: a widget there shows nothing, but is suspect
    colors = image.crop(pixels).getcolors(1)  # None when more than one colour
    return colors is not None and colors[0][1] == (255, 255, 255)


def blank_under(
    before: bytes,
    regions: Sequence[tuple[int, Rect]],
    *,
    dpi: float = DEFAULT_DPI,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[bool]:
    """For each (0-based page, rect): True when the signed revision ``before`` shows nothing
    there (every pixel white, in every renderer that runs).

    A later signature's widget may only be placed where this is True: there it can hide
    nothing that was signed. The rect is widened by the same few pixels that
    :func:`compare_revisions` leaves out around an allowed rect. A page the file does not
    have, a rect off the visible page, or a file a renderer cannot render gives False.
    """
    _check_dpi(dpi)
    _allowed_by_page(regions)  # the same checks of the arguments
    deadline = _deadline(timeout)
    verdicts = [True] * len(regions)
    for renderer in _renderers([]):
        seen = _blank_in(renderer, before, regions, dpi, deadline)
        verdicts = [a and b for a, b in zip(verdicts, seen, strict=True)]
    return verdicts
