"""The demo's electronic materials library (电子材料库): a catalogue, and one 身份证 scan.

``evault demo`` seeds the material catalogue (居民身份证 usable until the card's expiry,
居民户口簿 for 6 months, 营业执照副本复印件 for 12 months), lets the housing department reuse
身份证 scans without consent, and deposits, through the real deposit service and the vault's
seal, one drawn 身份证 scan of the first sample holder, checked at the demo window (the scan
is also written to ``DATA_DIR/samples/id-card-scan.jpg``).
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from vault.log.access_log import UseContext

__all__ = ["MATERIAL_TYPES", "seed_materials"]

#: (code, name, holder kinds, months; None: until the document's own expiry)
MATERIAL_TYPES: tuple[tuple[str, str, tuple[str, ...], int | None], ...] = (
    ("SFZ", "居民身份证", ("111",), None),
    ("HKB", "居民户口簿", ("111",), 6),
    ("YYZZFB", "营业执照副本复印件", ("001",), 12),
)
#: The scan as the demo window deposited it, in ``DATA_DIR/samples`` (for the docs' examples).
SCAN_NAME = "id-card-scan.jpg"
DEMO_CASE = UseContext("居住证申领", "FZ-CK-2026-000001")


def id_card_scan(name: str, number: str) -> bytes:
    """A drawn front side of a 居民身份证 (JPEG): clearly a specimen, not a real card."""
    from PIL import Image, ImageDraw, ImageFont

    from signing.copies.font import DEFAULT_FONT

    image = Image.new("RGB", (856, 540), (233, 241, 247))
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(DEFAULT_FONT), 30)
    small = ImageFont.truetype(str(DEFAULT_FONT), 24)
    draw.rounded_rectangle((8, 8, 847, 531), radius=28, outline=(90, 120, 150), width=4)
    rows = (("姓名", name), ("性别", "女"), ("民族", "汉"), ("住址", "福建省福州市鼓楼区"))
    for i, (label, value) in enumerate(rows):
        draw.text((60, 60 + 70 * i), label, font=small, fill=(70, 110, 160))
        draw.text((150, 56 + 70 * i), value, font=font, fill=(20, 20, 20))
    draw.text((60, 440), "公民身份号码", font=small, fill=(70, 110, 160))
    draw.text((250, 434), number, font=font, fill=(20, 20, 20))
    draw.rectangle((600, 70, 800, 320), fill=(200, 210, 220))
    draw.text((630, 180), "样 本", font=font, fill=(160, 40, 40))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=88)
    return out.getvalue()


def _ensure_catalogue(session: Any, permits: dict[int, tuple[str, ...]]) -> None:
    from vault.errors import NotFound
    from vault.services.material_catalog import (
        add_material_type,
        get_material_type,
        grant_material_permission,
    )

    for code, name, kinds, months in MATERIAL_TYPES:
        try:
            get_material_type(session=session, code=code)
        except NotFound:
            add_material_type(
                session=session, code=code, name=name, holder_kinds=kinds, validity_months=months
            )
    for department_id, codes in permits.items():
        for code in codes:
            grant_material_permission(session=session, department_id=department_id, code=code)
    session.commit()


def seed_materials(
    vault: Any,
    settings: Any,
    *,
    window_id: int,
    permits: dict[int, tuple[str, ...]],
    holder: tuple[str, str, str],
) -> None:
    """The catalogue, the reuse permissions and one sealed 身份证 scan of ``holder`` (name,
    ID number, kind), deposited at the window ``window_id`` (once: the same scan again is the
    same material)."""
    from api.sealing import copy_renderer_from_settings
    from vault.services.materials import DepositRequest, deposit_material

    with vault.session() as session:
        _ensure_catalogue(session, permits)
    name, number, _kind = holder
    now = dt.datetime.now(dt.UTC)
    scan = id_card_scan(name, number)
    samples = settings.data_dir / "samples"
    samples.mkdir(parents=True, exist_ok=True)
    (samples / SCAN_NAME).write_bytes(scan)
    request = DepositRequest(
        holder_id=number,
        holder_id_type=None,
        holder_name=name,
        type_code="SFZ",
        data=scan,
        clerk="林晓",
        checked_at=now,
        use=DEMO_CASE,
        valid_until=dt.date(now.year + 10, 1, 1),
    )
    renderer = copy_renderer_from_settings(settings)
    try:
        with vault.session() as session:
            deposit_material(
                session=session,
                crypto=vault.crypto,
                blobs=vault.blobs,
                renderer=lambda: renderer,
                department_id=window_id,
                request=request,
                maker_name=settings.vault_name,
            )
    finally:
        renderer.close()
