"""电子材料库 in the vault: deposit once, supersede, expiry, reuse rules, withdrawal, and 20
simultaneous deposits of one scan (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from schemas.identifiers import HolderIdType
from signing.copies import CopyMaker
from signing.copies.receipt import ReceiptNote
from signing.errors import SealUnavailable
from tests.helpers.pki import sample_pdf, sealer
from tests.helpers.scans import scan_jpeg, scan_png
from tests.vault.licenses import COMPANY_HOLDER, HOLDER, make_catalog
from tests.vault.together import run_together
from vault.blobs import LocalBlobStore
from vault.crypto import HolderCrypto
from vault.errors import InvalidInput, NotFound, PermissionDenied
from vault.log.access_log import UseContext
from vault.models import AccessEvent, LogEntry, Material
from vault.services import catalog, grants
from vault.services.holders import find_holder
from vault.services.material_catalog import add_material_type, grant_material_permission
from vault.services.material_use import (
    fetch_material_for_department,
    material_uses,
    search_materials_for_department,
    withdraw_material,
)
from vault.services.materials import Deposited, DepositRequest, deposit_material

CASE_A = UseContext("企业开办", "A-2026-0001")
CASE_B = UseContext("住房保障资格审核", "B-2026-0002")
NOW = dt.datetime.now(dt.UTC)
CARD_EXPIRY = (NOW + dt.timedelta(days=3650)).date()


class CountingSealer:
    """The real vault seal, counting the deposits it seals."""

    def __init__(self) -> None:
        self._maker = CopyMaker(sealer())
        self._lock = threading.Lock()
        self.sealed = 0

    def seal_receipt(self, pdf: bytes, note: ReceiptNote) -> bytes:
        with self._lock:
            self.sealed += 1
        return self._maker.seal_receipt(pdf, note)


@dataclass
class World:
    sessions: sessionmaker[Session]
    blobs: LocalBlobStore
    crypto: HolderCrypto
    renderer: CountingSealer
    window: int
    housing: int
    tax: int

    def deposit(self, data: bytes, *, type_code: str = "SFZ", **overrides: object) -> Deposited:
        values: dict[str, object] = {
            "holder_id": HOLDER,
            "holder_id_type": None,
            "holder_name": "张三",
            "type_code": type_code,
            "data": data,
            "clerk": "王小明",
            "checked_at": NOW - dt.timedelta(minutes=1),
            "use": CASE_A,
            "valid_until": CARD_EXPIRY if type_code == "SFZ" else None,
        }
        values.update(overrides)
        with self.sessions() as session:
            return deposit_material(
                session=session,
                crypto=self.crypto,
                blobs=self.blobs,
                renderer=lambda: self.renderer,
                department_id=self.window,
                request=DepositRequest(**values),  # type: ignore[arg-type]
                maker_name="evault 电子证照库",
            )

    def search(self, department: int, use: UseContext = CASE_B) -> list[str]:
        with self.sessions() as session:
            found = search_materials_for_department(
                session=session,
                crypto=self.crypto,
                department_id=department,
                holder_id=HOLDER,
                holder_id_type=None,
                use=use,
                type_codes=["SFZ"],
            )
            return [m.public_id for m in found]

    def fetch(self, public_id: str, department: int, use: UseContext = CASE_B) -> bytes:
        with self.sessions() as session:
            return fetch_material_for_department(
                session=session,
                blobs=self.blobs,
                department_id=department,
                public_id=public_id,
                use=use,
            ).pdf


@pytest.fixture
def world(sessions: sessionmaker[Session], blobs: LocalBlobStore, crypto: HolderCrypto) -> World:
    with sessions() as session:
        cat = make_catalog(session)
        window = catalog.create_department(
            session=session,
            name="福州市政务服务中心窗口",
            credit_code="11350100MB0000078Y",
            user=True,
        )
        tax = catalog.create_department(
            session=session, name="福州市税务局", credit_code="11350100MB0000035H", user=True
        )
        add_material_type(
            session=session,
            code="SFZ",
            name="居民身份证",
            holder_kinds=["111"],
            validity_months=None,
        )
        add_material_type(
            session=session, code="HKB", name="居民户口簿", holder_kinds=["111"], validity_months=6
        )
        grant_material_permission(session=session, department_id=cat.housing, code="SFZ")
        session.commit()
        ids = (window.id, cat.housing, tax.id)
    return World(sessions, blobs, crypto, CountingSealer(), *ids)


def _count(sessions: sessionmaker[Session], model: type) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_deposit_once_reuse_in_another_case_and_withdraw(world: World) -> None:
    first = world.deposit(scan_jpeg())
    assert first.created and first.material.public_id.startswith("m_")
    assert first.material.usable_until == CARD_EXPIRY
    again = world.deposit(scan_jpeg(), use=UseContext("企业开办", "A-2026-0009"))
    assert not again.created and again.material.public_id == first.material.public_id
    assert world.renderer.sealed == 1
    material_id = first.material.public_id

    assert world.search(world.housing) == [material_id]
    pdf = world.fetch(material_id, world.housing)
    assert pdf.startswith(b"%PDF-") and b"EvaultReceiptSeal" in pdf
    with pytest.raises(PermissionDenied):  # no permission, no consent
        world.fetch(material_id, world.tax)

    with world.sessions() as session:
        holder = find_holder(session=session, crypto=world.crypto, holder_id=HOLDER)
        assert holder is not None
        withdraw_material(session=session, holder=holder, public_id=material_id)
        session.commit()  # the test is the edge
    with pytest.raises(PermissionDenied):
        world.fetch(material_id, world.housing, UseContext("住房保障资格审核", "C-1"))
    with pytest.raises(PermissionDenied):
        world.search(world.housing, UseContext("住房保障资格审核", "C-1"))

    with world.sessions() as session:
        assert holder is not None
        uses = material_uses(session=session, holder=holder, public_id=material_id)
        actions = [(u.event.action, u.event.outcome, u.event.reason) for u in reversed(uses)]
    assert actions == [
        ("material_deposit", "allowed", "checked by 王小明"),
        ("material_read", "allowed", None),
        ("material_read", "denied", "no permission or consent"),
        ("material_withdraw", "allowed", None),
        ("material_read", "denied", "material withdrawn"),
    ]
    # each access-log row has its transparency-log leaf, naming the material
    with world.sessions() as session:
        rows = session.scalars(select(AccessEvent).where(AccessEvent.material_id.isnot(None))).all()
        leaves = {e.idx: e for e in session.scalars(select(LogEntry)).all()}
    for row in rows:
        assert row.log_index is not None
        assert f'"material":{row.material_id}'.encode() in leaves[row.log_index].payload


def test_newer_deposit_supersedes_the_older(world: World) -> None:
    old = world.deposit(scan_jpeg(1)).material.public_id
    new = world.deposit(scan_png(2)).material.public_id
    assert world.search(world.housing) == [new]
    with pytest.raises(PermissionDenied):
        world.fetch(old, world.housing)
    with world.sessions() as session:
        states = dict(session.execute(select(Material.public_id, Material.state)).all())
    assert states == {old: "superseded", new: "current"}


def test_expired_material_is_not_served(world: World) -> None:
    material = world.deposit(sample_pdf("hukou"), type_code="HKB").material
    assert material.usable_until > NOW.date()
    with world.sessions() as session:
        grant_material_permission(session=session, department_id=world.housing, code="HKB")
        row = session.get(Material, material.id)
        assert row is not None
        row.usable_until = (NOW - dt.timedelta(days=2)).date()  # six months later
        session.commit()
    with pytest.raises(PermissionDenied):
        world.fetch(material.public_id, world.housing)
    with world.sessions() as session:
        reason = session.scalars(
            select(AccessEvent.reason).where(AccessEvent.action == "material_read")
        ).one()
    assert reason == "material expired"


def test_a_card_already_expired_is_refused_at_deposit(world: World) -> None:
    with pytest.raises(InvalidInput, match="expired"):
        world.deposit(scan_jpeg(), valid_until=(NOW - dt.timedelta(days=2)).date())
    with pytest.raises(InvalidInput, match="give valid_until"):
        world.deposit(scan_jpeg(), valid_until=None)
    assert _count(world.sessions, Material) == 0 and world.renderer.sealed == 0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"data": b"GIF89a" + b"\x00" * 64}, "not a JPEG or PNG image nor a PDF"),
        ({"data": b""}, "empty"),
        ({"data": b"%PDF-" + b"\x00" * (10 * 1024 * 1024)}, "at most"),
        ({"clerk": "  "}, "name the clerk"),
        ({"holder_id": COMPANY_HOLDER}, "not a material of this kind of holder"),
        ({"checked_at": NOW + dt.timedelta(hours=1)}, "in the future"),
        ({"data": b"%PDF-1.7 not really"}, "cannot be sealed"),
    ],
)
def test_bad_deposits_are_refused_and_write_nothing(
    world: World, overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        values = dict(overrides)  # parameters are shared by both backends: not popped in place
        world.deposit(values.pop("data", scan_jpeg()), **values)  # type: ignore[arg-type]
    assert _count(world.sessions, Material) == 0
    assert _count(world.sessions, AccessEvent) == 0


def test_unknown_material_type(world: World) -> None:
    with pytest.raises(NotFound, match="no material type"):
        world.deposit(scan_jpeg(), type_code="NOPE")


def test_consent_covering_every_type_allows_reuse(world: World) -> None:
    material_id = world.deposit(scan_jpeg()).material.public_id
    with world.sessions() as session:
        holder = find_holder(session=session, crypto=world.crypto, holder_id=HOLDER)
        assert holder is not None
        typed = grants.create_grant(
            session=session,
            holder=holder,
            department_id=world.tax,
            expires_at=NOW + dt.timedelta(days=30),
            license_types=["11100000000013338W011"],
        )
        session.commit()
    with pytest.raises(PermissionDenied):  # a grant for some license types: not materials
        world.fetch(material_id, world.tax)
    with world.sessions() as session:
        grants.revoke_grant(session=session, holder_id=holder.id, public_id=typed.public_id)
        grants.create_grant(
            session=session,
            holder=holder,
            department_id=world.tax,
            expires_at=NOW + dt.timedelta(days=30),
        )
        session.commit()
    assert world.fetch(material_id, world.tax).startswith(b"%PDF-")
    with world.sessions() as session:
        basis = session.scalars(
            select(AccessEvent.basis).where(
                AccessEvent.action == "material_read", AccessEvent.outcome == "allowed"
            )
        ).one()
    assert basis == "consent"


def test_20_simultaneous_deposits_of_one_scan_make_one_material(world: World) -> None:
    results = run_together(20, lambda _: world.deposit(scan_jpeg(7)))
    assert sum(r.created for r in results) == 1
    assert len({r.material.public_id for r in results}) == 1
    assert world.renderer.sealed == 1
    assert _count(world.sessions, Material) == 1
    with world.sessions() as session:
        deposits = session.scalar(
            select(func.count())
            .select_from(AccessEvent)
            .where(AccessEvent.action == "material_deposit")
        )
    assert deposits == 1


def test_a_number_of_the_other_kind_is_refused_like_an_unknown_holder(world: World) -> None:
    world.deposit(scan_jpeg())
    with world.sessions() as session:
        with pytest.raises(PermissionDenied):
            search_materials_for_department(
                session=session,
                crypto=world.crypto,
                department_id=world.housing,
                holder_id=HOLDER,
                holder_id_type=HolderIdType.CREDIT_CODE,
                use=CASE_B,
            )
        reason = session.scalars(
            select(AccessEvent.reason).where(AccessEvent.action == "material_search")
        ).one()
    assert reason == "no such holder"


class UnavailableSeal:
    def seal_receipt(self, pdf: bytes, note: ReceiptNote) -> bytes:
        raise SealUnavailable("the HSM is not answering")


def test_an_unavailable_seal_is_the_vaults_fault_and_writes_nothing(world: World) -> None:
    world.renderer = UnavailableSeal()  # type: ignore[assignment]
    with pytest.raises(SealUnavailable):  # a 503, not a 422 about the material
        world.deposit(scan_jpeg())
    assert _count(world.sessions, Material) == 0
    assert _count(world.sessions, AccessEvent) == 0


def test_the_same_file_again_is_the_same_material_in_its_state(world: World) -> None:
    first = world.deposit(scan_jpeg(11)).material.public_id
    with world.sessions() as session:
        holder = find_holder(session=session, crypto=world.crypto, holder_id=HOLDER)
        assert holder is not None
        withdraw_material(session=session, holder=holder, public_id=first)
        session.commit()  # the test is the edge
    again = world.deposit(scan_jpeg(11), use=UseContext("企业开办", "A-2026-0077"))
    assert (again.created, again.material.public_id, again.material.state) == (
        False,
        first,
        "withdrawn",
    )
    assert world.renderer.sealed == 1
    fresh = world.deposit(scan_jpeg(12)).material.public_id  # a new scan: a new material
    assert world.search(world.housing) == [fresh]
