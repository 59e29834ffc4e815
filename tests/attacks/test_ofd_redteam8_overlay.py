"""Red team round 8, r8-01: the certified copy's 加注 over an image the "background" rule
skipped (signing/ofd/overlay.py, ``_background``; signing/ofd/drawn.py, ``surely_shown``).

The rule left out an image whose unit square through its CTM held the page area, whatever
its Boundary: ofdrw's viewer clips an image to its Boundary, so a page-sized transparent
picture clipped to ``10 240 100 47`` shows a remark at bottom left only ("备注：本证已于
2026年11月吊销"), and the copy maker put its opaque white 加注 and the vault's stamp over
it; the copy verified. An image is a background now only when what every reader shows of
it (its square through its CTM, cut to its Boundary; none with Clips or numbers that
cannot be read) holds the page area; any other image counts where it may draw at all.

The unclipped form (a background the whole page shows, its remark in a corner) is closed by
decoding what the picture shows under the 加注 (signing/ofd/backdrop.py): it must be blank
paper there.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest

from signing.errors import SealingError
from signing.ofd.drawn import surely_shown
from signing.ofd.package import Package
from signing.ofd.writer import sample_ofd, write_package
from tests.attacks.ofd_copy_forge import (
    add_annotation,
    annotation,
    page_annot,
    seal,
    vault_maker,
    vault_sealer,
    white,
)
from tests.attacks.ofd_forge import GENUINE_LINES, passes
from tests.attacks.ofd_pages import ONE_PX_PNG, PAGE, flagged, passing_copy
from tests.helpers.ofd import ofd_parts, ofd_sealer
from tests.helpers.pki import MARKET_DEPT

_SAMPLE_IMAGE = b'Boundary="150 200 40 40" CTM="40 0 0 40 0 0"'
"""How the sample license draws its image (a 40 mm square at 150, 200)."""
_CLIP = (
    '<ofd:Clips><ofd:Clip><ofd:Area><ofd:Path Boundary="10 240 100 47">'
    "<ofd:AbbreviatedData>M 0 0 L 100 0 L 100 47 L 0 47 C</ofd:AbbreviatedData>"
    "</ofd:Path></ofd:Area></ofd:Clip></ofd:Clips>"
)
_STAMP = (150.0, 230.0, 40.0, 40.0)
"""The issuer's stamp (bottom right, as tests/attacks/ofd_pages.py ``issued`` puts it)."""
_COPY_BOX = (10.0, 247.489, 112.889, 39.511)
"""Where the vault's copy of the sample license puts its 加注 (bottom left)."""
_COPY_STAMP = (31.69, 252.24, 30.0, 30.0)
"""Where its vault stamp goes (inside the 加注)."""

R8_01 = 'Boundary="10 240 100 47" CTM="210 0 0 297 -10 -240"'
"""r8-01 as written: a page-sized picture, aligned with the page, clipped to a corner."""

NOT_BACKGROUNDS = [
    pytest.param(R8_01, "", id="boundary-clip"),
    # the same corner left by Clips (a reader applying them shows only the remark)
    pytest.param('Boundary="0 0 210 297" CTM="210 0 0 297 0 0"', _CLIP, id="clips"),
    # a CTM the verifier cannot read (ofdrw's fallback reads some such numbers): once
    # placed everywhere, and so exempt as covering the page
    pytest.param('Boundary="0 0 210 297" CTM="2\uff110 0 0 297 0 0"', "", id="unreadable-ctm"),
    # a Boundary of no height: ofdrw's viewer shows a strip, its PDF converter everything
    pytest.param('Boundary="0 0 210 0" CTM="210 0 0 297 0 0"', "", id="flat-boundary"),
]


def _license(image: str, inner: str = "", picture: bytes = ONE_PX_PNG) -> bytes:
    """The market regulator's license whose image (the PNG ``picture``) is drawn as
    ``image`` (its Boundary and CTM attributes), with ``inner`` inside the ImageObject."""
    parts = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES, image=picture))
    assert _SAMPLE_IMAGE in parts[PAGE]
    page = parts[PAGE].replace(_SAMPLE_IMAGE, image.encode())
    if inner:
        page = page.replace(
            b"/></ofd:Layer>", b">" + inner.encode() + b"</ofd:ImageObject></ofd:Layer>"
        )
        assert inner.encode() in page
    parts[PAGE] = page
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    return ofd_sealer(MARKET_DEPT).seal_ofd(write_package(parts), boundary=_STAMP, at=at)


def _covered(lic: bytes) -> bytes:
    """What the copy maker made of ``lic`` before the fix: its white 加注 box bottom left,
    sealed with the vault's own copy seal, the vault's stamp inside the box."""
    box = " ".join(f"{v:g}" for v in _COPY_BOX)
    objects = white((0, 0, _COPY_BOX[2], _COPY_BOX[3]))
    return seal(add_annotation(lic, page_annot(box, objects)), vault_sealer(), box=_COPY_STAMP)


@pytest.mark.parametrize(("image", "inner"), NOT_BACKGROUNDS)
def test_copy_of_a_license_with_a_cut_page_sized_image_is_refused(image: str, inner: str) -> None:
    lic = _license(image, inner)
    assert passes(lic)
    with pytest.raises(SealingError, match="no corner of page 1 is clear"):
        vault_maker().make(lic, annotation())


@pytest.mark.parametrize(("image", "inner"), NOT_BACKGROUNDS)
def test_vault_sealed_box_over_a_cut_page_sized_image_is_flagged(image: str, inner: str) -> None:
    flagged(_covered(_license(image, inner)), "covers the page's text or other content")


BACKGROUNDS = [
    pytest.param('Boundary="0 0 210 297" CTM="210 0 0 297 0 0"', id="page"),
    pytest.param('Boundary="-3 -3 216 303" CTM="216 0 0 303 0 0"', id="bleed"),
]


@pytest.mark.parametrize("image", BACKGROUNDS)
def test_copy_of_a_license_with_a_page_background_verifies(image: str) -> None:
    """A real background (shown whole, page-sized) is still what any 加注 lies on."""
    assert passing_copy(_license(image)) == _COPY_BOX
    assert passes(_covered(_license(image)))  # the forgery above, but for the image


def test_what_is_surely_shown_of_an_image_is_cut_to_its_boundary() -> None:
    with Package(_license(R8_01)) as pkg:
        image = next(el for el in pkg.xml(PAGE).iter() if el.tag.endswith("ImageObject"))
        assert surely_shown(image, pkg.drawing) == (10.0, 240.0, 100.0, 47.0)


def _remark_at_bottom_left() -> bytes:
    """A page-sized transparent PNG (4 px/mm) with a red remark box at bottom left (x 10..110,
    y 240..287 mm), as r8-01 drew it."""
    from PIL import Image, ImageDraw

    picture = Image.new("RGBA", (840, 1188), (255, 255, 255, 0))
    ImageDraw.Draw(picture).rectangle((40, 960, 440, 1148), fill=(204, 0, 0, 255))
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


_WHOLE_PAGE = 'Boundary="0 0 210 297" CTM="210 0 0 297 0 0"'


def test_copy_over_what_a_page_background_shows_is_refused() -> None:
    """r8-01's remark drawn by a background the whole page shows (no clip): no corner is
    left where the picture is blank paper (the others hold text and the issuer's stamp)."""
    lic = _license(_WHOLE_PAGE, picture=_remark_at_bottom_left())
    assert passes(lic)
    with pytest.raises(SealingError, match="no corner of page 1 is clear"):
        vault_maker().make(lic, annotation())


def test_vault_sealed_box_over_what_a_page_background_shows_is_flagged() -> None:
    """The copy the maker used to make of it: its 加注 over the remark, the vault's seal."""
    forged = _covered(_license(_WHOLE_PAGE, picture=_remark_at_bottom_left()))
    flagged(forged, "lies over what a page background shows")


def _page_picture(
    mark: tuple[int, int, int, int] | None = None,
    colour: tuple[int, int, int] = (230, 150, 150),
    **save: object,
) -> bytes:
    """A page-sized picture (4 px/mm) of paper tone (250, 248, 240), with ``mark`` (a box,
    pixels) drawn on it in ``colour``; saved as ``save`` says (PNG unless a format is
    given)."""
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (840, 1188), (250, 248, 240))
    if mark is not None:
        ImageDraw.Draw(picture).rectangle(mark, fill=colour)
    out = io.BytesIO()
    picture.save(out, **{"format": "PNG", **save})  # type: ignore[arg-type]
    return out.getvalue()


def _rgb_png_chunk(png: bytes, kind: bytes, body: bytes) -> bytes:
    """``png`` with a chunk ``kind`` inserted after its header."""
    import struct
    import zlib

    chunk = struct.pack(">I", len(body)) + kind + body
    chunk += struct.pack(">I", zlib.crc32(kind + body))
    return png[:33] + chunk + png[33:]


def _png(header: bytes, chunks: list[tuple[bytes, bytes]], row: bytes, band: bytes) -> bytes:
    """A page-sized (840 x 1188) PNG with the header ``header`` (after width and height)
    and ``chunks`` before its data: each row ``row`` (filter byte 0 first), the rows 1000
    to 1100 ``band`` (under the copy's corner)."""
    import struct
    import zlib

    rows = b"".join(b"\0" + (band if 1000 <= y <= 1100 else row) for y in range(1188))
    body = [(b"IHDR", struct.pack(">II", 840, 1188) + header), *chunks]
    body += [(b"IDAT", zlib.compress(rows, 1)), (b"IEND", b"")]
    out = b"\x89PNG\r\n\x1a\n"
    for kind, data in body:
        out += struct.pack(">I", len(data)) + kind + data
        out += struct.pack(">I", zlib.crc32(kind + data))
    return out


def _png16_keyed() -> bytes:
    """r11-02: 16-bit RGB, white, a band of pure red under the corner, and a tRNS key of
    (255, 0, 0) in 16 bits (a near-black no pixel has): Pillow matched the key on the
    8-bit values and saw the red band transparent, every reader draws it."""
    white, red = b"\xff" * 6, b"\xff\xff\0\0\0\0"
    band = white * 60 + red * 240 + white * 540
    key = (255).to_bytes(2, "big") + bytes(4)
    return _png(bytes([16, 2, 0, 0, 0]), [(b"tRNS", key)], white * 840, band)


def _palette_keyed(*chunks: tuple[bytes, bytes]) -> bytes:
    """r11-03: a palette picture (index 0 white, 1 red; a red band under the corner) with
    ``chunks`` around its PLTE (``b"PLTE"`` stands for it)."""
    palette = (b"PLTE", b"\xff\xff\xff\xff\0\0")
    chunks = tuple(palette if kind == b"PLTE" else (kind, body) for kind, body in chunks)
    band = bytes(60) + b"\1" * 240 + bytes(540)
    return _png(bytes([8, 3, 0, 0, 0]), list(chunks), bytes(840), band)


def _jpeg_icc_twice() -> bytes:
    """r11-07: grey (218) text under the corner and the ICC profile written twice (two
    APP2 segments, each "1 of 1"): Pillow dropped it, Chromium applies it (black text)."""
    jpeg = _page_picture((60, 1000, 300, 1100), (218, 218, 218), format="JPEG", quality=95)
    icc = b"ICC_PROFILE\0\1\1" + b"\0" * 128
    app2 = b"\xff\xe2" + (len(icc) + 2).to_bytes(2, "big") + icc
    after_app0 = 4 + int.from_bytes(jpeg[4:6], "big")
    return jpeg[:after_app0] + app2 + app2 + jpeg[after_app0:]


def _exif_turned() -> bytes:
    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to show
    return _page_picture(format="JPEG", exif=exif.tobytes())


BLANK_CORNERS = [
    pytest.param(_page_picture(), id="paper-png"),
    pytest.param(_page_picture(format="JPEG", quality=90), id="paper-jpeg"),
    # a pale mark away from the bottom left corner (top right, under the text)
    pytest.param(_page_picture((600, 40, 800, 200)), id="mark-elsewhere"),
]


@pytest.mark.parametrize("picture", BLANK_CORNERS)
def test_copy_on_blank_paper_of_a_background_verifies(picture: bytes) -> None:
    assert passing_copy(_license(_WHOLE_PAGE, picture=picture)) == _COPY_BOX


def _animated() -> bytes:
    """An animated PNG: paper first, then a frame with a mark under the corner."""
    from PIL import Image

    first = Image.open(io.BytesIO(_page_picture()))
    then = Image.open(io.BytesIO(_page_picture((60, 1000, 300, 1100))))
    out = io.BytesIO()
    first.save(out, format="PNG", save_all=True, append_images=[then], duration=500, loop=0)
    return out.getvalue()


def _huge() -> bytes:
    """A white bilevel picture of 6400 x 6400 pixels (41 million; a small file)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (6400, 6400), 1).save(out, format="PNG")
    return out.getvalue()


NOT_PAPER = [
    # a pale red mark under the corner (each channel above 200 but red), one dark dot
    pytest.param(_WHOLE_PAGE, _page_picture((60, 1000, 300, 1100)), id="pale-red-mark"),
    pytest.param(_WHOLE_PAGE, _page_picture((60, 1000, 61, 1001)), id="one-dot"),
    # every channel at least 200, but pink: a pale seal's red
    pytest.param(
        _WHOLE_PAGE, _page_picture((60, 1000, 300, 1100), (255, 205, 205)), id="pale-pink"
    ),
    # what colour-managed readers remap, browsers turn, or a viewer animates
    pytest.param(_WHOLE_PAGE, _page_picture(icc_profile=b"\0" * 128), id="icc-profile"),
    pytest.param(
        _WHOLE_PAGE,
        _rgb_png_chunk(_page_picture(), b"gAMA", (500000).to_bytes(4, "big")),
        id="gamma",
    ),
    pytest.param(_WHOLE_PAGE, _exif_turned(), id="exif-orientation"),
    # red team 11: what Pillow decodes otherwise than libpng, Skia or Java ImageIO
    pytest.param(_WHOLE_PAGE, _png16_keyed(), id="r11-02-png16-trns"),
    pytest.param(
        _WHOLE_PAGE,
        _palette_keyed((b"PLTE", b""), (b"tRNS", b"\xff\xff"), (b"tRNS", b"\xff\0")),
        id="r11-03-trns-twice",
    ),
    pytest.param(
        _WHOLE_PAGE, _palette_keyed((b"tRNS", b"\xff\0"), (b"PLTE", b"")), id="r11-03-trns-first"
    ),
    pytest.param(
        _WHOLE_PAGE,
        _rgb_png_chunk(
            _page_picture((60, 1000, 300, 1100), (200, 240, 240)),
            b"cHRM",
            b"".join(n.to_bytes(4, "big") for n in (31270, 32900, 100000, 0, 0, 100000, 0, 0)),
        ),
        id="r11-04-chrm",
    ),
    pytest.param(_WHOLE_PAGE, _jpeg_icc_twice(), id="r11-07-jpeg-icc-twice"),
    pytest.param(
        _WHOLE_PAGE,
        _rgb_png_chunk(
            _rgb_png_chunk(
                _page_picture((60, 1000, 300, 1100), (218, 218, 218)),
                b"gAMA",
                (45455).to_bytes(4, "big"),
            ),
            b"gAMA",
            (2000).to_bytes(4, "big"),
        ),
        id="r11-08-gama-twice",
    ),
    pytest.param(_WHOLE_PAGE, _animated(), id="animated-png"),
    pytest.param(
        _WHOLE_PAGE, _page_picture(format="TIFF", compression="tiff_adobe_deflate"), id="tiff"
    ),
    pytest.param(_WHOLE_PAGE, _page_picture(format="JPEG")[:5000], id="truncated"),
    pytest.param(_WHOLE_PAGE, _huge(), id="too-many-pixels"),
    # drawn flipped (the corner shows the picture's top)
    pytest.param('Boundary="0 0 210 297" CTM="210 0 0 -297 0 297"', _page_picture(), id="flipped"),
]


@pytest.mark.parametrize(("image", "picture"), NOT_PAPER)
def test_copy_over_a_background_not_surely_blank_is_refused(image: str, picture: bytes) -> None:
    lic = _license(image, picture=picture)
    assert passes(lic)
    with pytest.raises(SealingError, match="no corner of page 1 is clear"):
        vault_maker().make(lic, annotation())
    flagged(_covered(lic), "lies over what a page background shows")
