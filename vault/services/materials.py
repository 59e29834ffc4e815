"""电子材料库: a receiving window (窗口) deposits a holder's material inside one of its cases.

The window hands in a scan (JPEG, PNG) or a PDF of a document its clerk checked against the
original (与原件核对一致: by whom, when, in which case). The vault

1. checks the bytes by their content (:func:`signing.copies.receipt.material_kind`), their
   size (:data:`MAX_MATERIAL_BYTES`), the material type and that it applies to the holder's
   kind, and computes until when the material is usable
   (:func:`vault.services.material_catalog.usable_until`);
2. seals it: an image is wrapped in a one-page PDF with the printed 收件核验 note, and the
   vault's seal goes on one incremental update carrying the note (``ReceiptRenderer``);
3. stores the sealed PDF (content-addressed), the material's row, the access-log row
   (``material_deposit``) and its transparency-log leaf in one transaction.

Once only: the same bytes for the same holder and type are one material; the second deposit
gets the first one back (``created=False``) and nothing is sealed again. A deposit of other
bytes supersedes the holder's current material of that type. Deposits for one holder and
type are serialized by a lock on that pair (:func:`vault.db.keylock.key_lock`), taken before
anything is read, so concurrent deposits of the same scan make one material and two
different scans cannot both end up current. Sealing runs under that lock but outside any
database transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from schemas.errors import InvalidValue
from schemas.identifiers import HolderIdType, parse_holder_id
from signing.errors import SealingError, SealUnavailable, TimestampError
from vault.blobs.base import BlobStore
from vault.crypto import HolderCrypto
from vault.db.base import utcnow
from vault.db.keylock import key_lock
from vault.errors import ConflictError, InvalidInput
from vault.log.access_log import UseContext, record_event
from vault.models import Department, Material, MaterialType
from vault.services.holders import find_holder, get_or_create_holder
from vault.services.material_catalog import get_material_type, usable_until

if TYPE_CHECKING:
    from signing.copies.receipt import ReceiptNote

__all__ = [
    "BEIJING",
    "MAX_MATERIAL_BYTES",
    "DepositRequest",
    "Deposited",
    "ReceiptRenderer",
    "ReceiptSource",
    "china_today",
    "deposit_material",
]

#: Largest material accepted: a scan or a PDF of a few pages, not an archive.
MAX_MATERIAL_BYTES = 10 * 1024 * 1024
#: How far in the future a clerk's check may be dated (clocks differ a little).
CLOCK_SKEW = dt.timedelta(minutes=5)
BEIJING = dt.timezone(dt.timedelta(hours=8), "UTC+8")

_LOCK = "material-deposit"


def china_today(now: dt.datetime) -> dt.date:
    """The date in China at ``now``: validity dates are Chinese calendar days."""
    return now.astimezone(BEIJING).date()


class ReceiptRenderer(Protocol):
    """What a deposit needs from ``signing``: the vault's 收件核验 seal."""

    def seal_receipt(self, pdf: bytes, note: ReceiptNote) -> bytes: ...


#: Gives the sealer when a deposit is to be sealed (built on first use).
ReceiptSource = Callable[[], ReceiptRenderer]


@dataclass(frozen=True)
class DepositRequest:
    """What a window hands in: whose material, of which type, the bytes and the check."""

    holder_id: str
    holder_id_type: HolderIdType | None
    holder_name: str
    type_code: str
    data: bytes
    clerk: str
    checked_at: dt.datetime
    use: UseContext
    valid_until: dt.date | None = None
    """The document's own expiry (a card's 有效期限), when it has one."""


@dataclass(frozen=True)
class Deposited:
    material: Material
    created: bool


def _check(request: DepositRequest, material_type: MaterialType, now: dt.datetime) -> str:
    """The media type; :class:`InvalidInput` naming the first problem of the request."""
    from signing.copies.receipt import material_kind

    if not request.data:
        raise InvalidInput("the material is empty")
    if len(request.data) > MAX_MATERIAL_BYTES:
        raise InvalidInput(
            f"the material is {len(request.data)} bytes (at most {MAX_MATERIAL_BYTES})"
        )
    clerk = request.clerk.strip()
    if not clerk or len(clerk) > 100 or not clerk.isprintable():
        raise InvalidInput("name the clerk who checked the original (1-100 characters)")
    if request.checked_at.utcoffset() is None:
        raise InvalidInput("checked_at needs a time zone")
    if request.checked_at > now + CLOCK_SKEW:
        raise InvalidInput("checked_at is in the future")
    try:
        parsed = parse_holder_id(request.holder_id, request.holder_id_type)
    except InvalidValue as exc:
        raise InvalidInput(str(exc)) from None
    if parsed.id_type.value not in material_type.holder_kinds:
        raise InvalidInput(f"a {material_type.name} is not a material of this kind of holder")
    try:
        return material_kind(request.data)
    except SealingError as exc:
        raise InvalidInput(str(exc)) from None


def _seal(
    renderer: ReceiptRenderer, request: DepositRequest, media_type: str, note: ReceiptNote
) -> bytes:
    from signing.copies.receipt import image_pdf

    try:
        pdf = request.data if media_type == "application/pdf" else image_pdf(request.data, note)
        return renderer.seal_receipt(pdf, note)
    except (TimestampError, SealUnavailable):  # the vault's fault, not the material's
        raise
    except SealingError as exc:
        raise InvalidInput(f"the material cannot be sealed: {exc}") from None


@dataclass(frozen=True)
class _Plan:
    """A checked deposit request, with what was derived from it before the lock."""

    request: DepositRequest
    department_id: int
    media_type: str
    usable_until: dt.date
    source_sha256: str
    holder_id: str
    holder_kind: str
    now: dt.datetime


def deposit_material(
    *,
    session: Session,
    crypto: HolderCrypto,
    blobs: BlobStore,
    renderer: ReceiptSource,
    department_id: int,
    request: DepositRequest,
    maker_name: str,
    now: dt.datetime | None = None,
) -> Deposited:
    """Deposit one material for a holder (see the module's docstring); commits.

    Raises :class:`InvalidInput` for a bad request (nothing written) and
    :class:`vault.errors.NotFound` for an unknown material type.
    """
    now = now or utcnow()
    material_type = get_material_type(session=session, code=request.type_code)
    media_type = _check(request, material_type, now)
    parsed = parse_holder_id(request.holder_id, request.holder_id_type)
    valid_until = usable_until(
        material_type,
        checked_on=china_today(request.checked_at),
        document_valid_until=request.valid_until,
    )
    if valid_until < china_today(now):
        raise InvalidInput(f"the material was usable until {valid_until}: it has expired")
    plan = _Plan(
        request=request,
        department_id=department_id,
        media_type=media_type,
        usable_until=valid_until,
        source_sha256=hashlib.sha256(request.data).hexdigest(),
        holder_id=str(parsed),
        holder_kind=parsed.id_type.value,
        now=now,
    )
    index = crypto.blind_index(plan.holder_kind, plan.holder_id).hex()
    with key_lock(session, _LOCK, index, material_type.id) as locked:
        deposited = _deposit_locked(
            locked, crypto=crypto, blobs=blobs, renderer=renderer, plan=plan, maker=maker_name
        )
    # Read back in the caller's session (on PostgreSQL the lock's session is another one).
    material = session.scalars(
        select(Material).where(Material.public_id == deposited.material.public_id)
    ).one()
    return Deposited(material, deposited.created)


def _deposit_locked(
    locked: Session,
    *,
    crypto: HolderCrypto,
    blobs: BlobStore,
    renderer: ReceiptSource,
    plan: _Plan,
    maker: str,
) -> Deposited:
    """The deposit under its lock: the existing material, or a new one sealed and stored."""
    request = plan.request
    material_type = get_material_type(session=locked, code=request.type_code)
    holder = find_holder(
        session=locked, crypto=crypto, holder_id=plan.holder_id, id_type=plan.holder_kind
    )
    if holder is not None:
        existing = locked.scalars(
            select(Material).where(
                Material.holder_id == holder.id,
                Material.material_type_id == material_type.id,
                Material.source_sha256 == plan.source_sha256,
            )
        ).one_or_none()
        if existing is not None:
            locked.commit()
            return Deposited(existing, created=False)
    material = Material(
        public_id=_public_id(),
        material_type_id=material_type.id,
        source_sha256=plan.source_sha256,
        media_type=plan.media_type,
        source_size=len(request.data),
        department_id=plan.department_id,
        clerk=request.clerk.strip(),
        purpose=request.use.purpose,
        case_no=request.use.case_no,
        checked_at=request.checked_at,
        document_valid_until=request.valid_until,
        usable_until=plan.usable_until,
        state="current",
        created_at=plan.now,
    )
    note = _note(material, material_type, locked.get(Department, plan.department_id), maker)
    locked.rollback()  # ends the read: no transaction is open while sealing
    sealed = _seal(renderer(), request, plan.media_type, note)
    material.blob_sha256 = blobs.put(sealed)
    material.size = len(sealed)
    holder = get_or_create_holder(
        session=locked,
        crypto=crypto,
        holder_id=plan.holder_id,
        id_type=plan.holder_kind,
        name=request.holder_name.strip() or "—",
    )
    material.holder_id = holder.id
    material.holder_blind_index = holder.blind_index
    return _store(locked, request.use, material, plan.now)


def _public_id() -> str:
    from vault.models.materials import new_material_public_id

    return new_material_public_id()


def _note(
    material: Material,
    material_type: MaterialType,
    department: Department | None,
    maker_name: str,
) -> ReceiptNote:
    from signing.copies.receipt import ReceiptNote

    try:
        return ReceiptNote(
            material_id=material.public_id,
            material=material_type.name,
            department=department.name if department else f"department {material.department_id}",
            clerk=material.clerk,
            purpose=material.purpose,
            case_no=material.case_no,
            checked_at=material.checked_at,
            maker=maker_name,
        )
    except SealingError as exc:
        raise InvalidInput(str(exc)) from None


def _store(session: Session, use: UseContext, material: Material, now: dt.datetime) -> Deposited:
    """Write the material (superseding the current one), its log row and leaf; commit."""
    session.execute(
        update(Material)
        .where(
            Material.holder_id == material.holder_id,
            Material.material_type_id == material.material_type_id,
            Material.state == "current",
        )
        .values(state="superseded", state_changed_at=now)
    )
    session.add(material)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise ConflictError("the same material was deposited at the same time: try again") from None
    record_event(
        session=session,
        action="material_deposit",
        outcome="allowed",
        actor="department",
        holder_id=material.holder_id,
        department_id=material.department_id,
        basis="deposit",
        use=use,
        reason=f"checked by {material.clerk}",
        now=now,
        material_id=material.id,
    )
    session.commit()
    return Deposited(material, created=True)
