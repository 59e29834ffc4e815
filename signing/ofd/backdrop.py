"""Whether what a page background shows under a box is blank paper.

A certified copy's 加注 may lie on a page background (an image of which every reader shows
the whole page: :func:`signing.ofd.overlay.page_area` and ``_background`` there), never on
what the picture itself shows there: on a full-page scan the license's words are in the
picture, and a page-sized transparent picture may draw a remark in a corner (red team 8,
r8-01). The copy maker asks this of each corner it tries and the verifier of each 加注 it
judges (one rule, :func:`signing.ofd.overlay.overlay_problem`), so the maker never makes
a copy the verifier flags.

The image is decoded with Pillow only where the box lies (one pixel more each side, for
a reader's resampling), its transparency composited over white, and each pixel must be
paper: every channel at least :data:`PAPER_MIN` and the three within :data:`PAPER_SPREAD`
of one another (a paper tone or a scan's noise passes; text, a stamp or a pale red remark
does not). What readers may decode differently is not blank: any image but an upright
PNG or JPEG (``CTM`` with b = c = 0 and a, d > 0) within size limits, an ``ImageMask``,
a ``Substitution`` or a ``Border``, an ICC profile or an unusual gamma (colour-managed
readers remap colours), CMYK or Adobe-transformed JPEG, an EXIF orientation (browsers
turn the picture), an animated PNG (another frame may be shown), an image that does not
decode; and, read on the raw bytes before Pillow decodes (red team 11: Pillow and other
readers apart on tRNS keys, duplicate chunks, cHRM, a JPEG's ICC profile written twice),
any PNG chunk or JPEG marker not on :mod:`signing.ofd.plainimage`'s list.
"""

from __future__ import annotations

import io
import math
import warnings
from typing import TYPE_CHECKING, NamedTuple
from xml.etree.ElementTree import Element

from signing.ofd.model import res_file_locations
from signing.ofd.numbers import decimals
from signing.ofd.package import (
    Package,
    java_trim,
    joined_folder,
    local_name,
    parent_folder,
    ref_id,
)
from signing.ofd.plainimage import plain_problem
from signing.ofd.resources import resource_files

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["PAPER_MIN", "PAPER_SPREAD", "Backdrop", "not_blank_under"]

Box = tuple[float, float, float, float]

PAPER_MIN = 200
"""Least value of each channel (0-255, over white) of a blank paper pixel."""
PAPER_SPREAD = 40
"""Largest difference between a blank pixel's channels (a tinted paper, not a red mark)."""
_MAX_PIXELS = 40_000_000
"""Pixels of an image decoded here (a 600 dpi A4 scan has ~35 million), and of all images
decoded for one file together (each background under each box tried): a page of stacked
backgrounds is refused, not decoded a hundred times."""
_MAX_BYTES = 32 * 1024 * 1024
_GAMMA = (0.40, 0.50)
"""PNG gAMA values read as ordinary sRGB-like (1/2.2 = 0.4545)."""


class Backdrop(NamedTuple):
    """A page background: what every reader shows of it (page mm), the part that draws
    it, the ``ImageObject`` and its Boundary's origin on the page (moved by its
    containers)."""

    shown: Box
    part: str
    image: Element
    origin: tuple[float, float]


def not_blank_under(pkg: Package, doc_root: str, backdrop: Backdrop, box: Box) -> str | None:
    """Why what ``backdrop`` shows within ``box`` (page mm) is not blank paper; None when
    it is. Judged once per image and region in a package."""
    key = ("backdrop", doc_root, backdrop.part, str(id(backdrop.image)), repr(box))
    return pkg.once(key, lambda: _judge(pkg, doc_root, backdrop, box))


def _judge(pkg: Package, doc_root: str, backdrop: Backdrop, box: Box) -> str | None:
    image, origin = backdrop.image, backdrop.origin
    for name in ("ImageMask", "Substitution"):
        if image.get(name) is not None:
            return f"the background image has a {name}"
    if any(local_name(child) == "Border" for child in image):
        return "the background image has a Border"
    ctm = decimals(image.get("CTM") or "1 0 0 1 0 0", 6)
    if ctm is None or ctm[1] != 0 or ctm[2] != 0 or ctm[0] <= 0 or ctm[3] <= 0:
        return "the background image is not drawn upright (its CTM)"
    media = _media_files(pkg, doc_root, backdrop.part).get(ref_id(image.get("ResourceID")))
    if media is None or not pkg.has(media):
        return "the background image's file cannot be found"
    picture = pkg.once(("backdrop_picture", media), lambda: _decoded(pkg, media))
    if isinstance(picture, str):
        return picture
    left, top = origin[0] + ctm[4], origin[1] + ctm[5]
    span = ((box[0] - left) / ctm[0], (box[0] + box[2] - left) / ctm[0])
    rows = ((box[1] - top) / ctm[3], (box[1] + box[3] - top) / ctm[3])
    return _paper_problem(picture, span, rows)


def _decoded(pkg: Package, media: str) -> Image.Image | str:
    """The picture of the file ``media``, decoded once per file (its pixels charged to the
    file's :data:`_MAX_PIXELS`), or why it is not shown alike by every reader."""
    from PIL import Image, UnidentifiedImageError

    data = pkg.read(media)
    if len(data) > _MAX_BYTES:
        return "the background image's file is larger than the limit"
    spent = pkg.once(("backdrop_pixels",), lambda: [0])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            picture = Image.open(io.BytesIO(data))
            problem = _decoded_alike(picture, data)
            if problem is not None:
                return problem
            spent[0] += picture.size[0] * picture.size[1]
            if spent[0] > _MAX_PIXELS:
                return "the background images have more pixels than the limit"
            picture.load()
    except (OSError, ValueError, SyntaxError, UnidentifiedImageError, Image.DecompressionBombError):
        return "the background image cannot be decoded"
    except Image.DecompressionBombWarning:
        return "the background images have more pixels than the limit"
    return picture


def _paper_problem(
    picture: Image.Image, span: tuple[float, float], rows: tuple[float, float]
) -> str | None:
    """Why the part of ``picture`` within ``span`` and ``rows`` (fractions of its width and
    height, unclipped) is not blank paper; None when it is."""
    from PIL import Image, ImageChops

    width, height = picture.size
    region = (
        _clamp(math.floor(span[0] * width) - 1, width),
        _clamp(math.floor(rows[0] * height) - 1, height),
        _clamp(math.ceil(span[1] * width) + 1, width),
        _clamp(math.ceil(rows[1] * height) + 1, height),
    )
    if region[2] <= region[0] or region[3] <= region[1]:
        return None  # the box lies beside the picture
    cut = picture.crop(region)
    paper = Image.new("RGBA", cut.size, (255, 255, 255, 255))
    shown = Image.alpha_composite(paper, cut.convert("RGBA")).convert("RGB")
    red, green, blue = shown.split()
    if any(any(channel.histogram()[:PAPER_MIN]) for channel in (red, green, blue)):
        return "the background image is not blank paper there"
    for a, b in ((red, green), (green, blue), (red, blue)):
        if any(ImageChops.difference(a, b).histogram()[PAPER_SPREAD + 1 :]):
            return "the background image is not blank paper there (it is coloured)"
    return None


def _decoded_alike(picture: Image.Image, data: bytes) -> str | None:
    """Why readers may show ``picture`` (an opened, not yet decoded Pillow image of the
    file ``data``) otherwise than Pillow decodes it; None when they show the same pixels."""
    info = picture.info
    problem = plain_problem(picture.format or "of an unknown format", data)
    if problem is not None:
        return problem
    if picture.mode in ("CMYK", "YCbCr", "LAB", "I", "F", "I;16", "I;16B", "I;16L"):
        return f"the background image's colours ({picture.mode}) differ between readers"
    if info.get("icc_profile"):
        return "the background image has an ICC profile (colour-managed readers remap it)"
    if "adobe" in info or "adobe_transform" in info:
        return "the background image is an Adobe JPEG (readers differ on its colours)"
    gamma = info.get("gamma")
    if gamma is not None and not _GAMMA[0] <= float(gamma) <= _GAMMA[1]:
        return "the background image has an unusual gamma (readers differ on its colours)"
    if getattr(picture, "n_frames", 1) != 1 or "default_image" in info:
        return "the background image is animated (readers differ on the frame shown)"
    if picture.getexif().get(0x0112, 1) != 1:
        return "the background image has an EXIF orientation (readers differ on its turn)"
    return None


def _clamp(value: int, limit: int) -> int:
    return max(0, min(limit, value))


def _media_files(pkg: Package, doc_root: str, page_file: str) -> dict[str, str]:
    """Multimedia ID -> its file, of the resources the page part ``page_file`` draws with
    (the document's ``PublicRes`` and ``DocumentRes`` and the part's ``PageRes``; one
    namespace, an ID declared twice is refused elsewhere)."""
    return pkg.once(("media", doc_root, page_file), lambda: _media(pkg, doc_root, page_file))


def _media(pkg: Package, doc_root: str, page_file: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for path in resource_files(pkg, doc_root, [page_file]):
        if not pkg.has(path):
            continue
        root = pkg.xml(path)
        folder = joined_folder(parent_folder(path), java_trim(root.get("BaseLoc") or ""))
        for group in root:
            if local_name(group) != "MultiMedias":
                continue
            for media in group:
                loc = next(res_file_locations(media), None)
                if loc is not None:
                    where = pkg.locate(pkg.resolve(loc, folder)) or ""
                    found.setdefault(ref_id(media.get("ID")), where)
    return found
