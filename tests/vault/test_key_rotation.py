"""Key rotation: holder rows re-sealed and re-indexed in batches, found throughout, resumable.

On SQLite and PostgreSQL. The old keys seal the rows first; then the new keys become current
with the old ones listed, and ``rotate_holder_keys`` moves the rows over.
"""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from schemas.identifiers import mask
from tests.helpers.permitted import push_permitted_license
from tests.vault.licenses import (
    HOLDER,
    citizen_id,
)
from vault.blobs import LocalBlobStore
from vault.crypto import HolderCrypto, HolderDataError, key_id
from vault.errors import ConflictError
from vault.models import Holder
from vault.services import holders as holder_service
from vault.services.access import UseContext, search_for_department
from vault.services.holders import (
    describe_holder,
    find_holder,
    get_or_create_holder,
    reveal_holder_id,
)
from vault.services.key_rotation import key_status, rotate_holder_keys

OLD = HolderCrypto(bytes(range(100, 132)), bytes(range(140, 172)))
NEW_H, NEW_B = bytes(range(200, 232)), bytes(range(10, 42))
ROTATING = HolderCrypto(
    NEW_H, NEW_B, old_holder_keys=(OLD.holder_key,), old_blind_index_keys=(OLD.blind_index_key,)
)
NEW_ONLY = HolderCrypto(NEW_H, NEW_B)
COUNT = 7
IDS = [citizen_id(10 + i) for i in range(COUNT)]


def _fill(sessions: sessionmaker[Session], crypto: HolderCrypto = OLD) -> None:
    with sessions() as s:
        for i, number in enumerate(IDS):
            get_or_create_holder(session=s, crypto=crypto, holder_id=number, name=f"持证人{i}")
        s.commit()


def _legacy_row(session: Session, number: str, name: str) -> None:
    """A row as written before key ids: version-1 ciphertexts, NULL key ids."""

    def v1(plaintext: str, purpose: str) -> bytes:
        nonce = os.urandom(12)
        aad = b"evault/holder/" + purpose.encode()
        return b"\x01" + nonce + AESGCM(OLD.holder_key).encrypt(nonce, plaintext.encode(), aad)

    session.add(
        Holder(
            id_type="111",
            blind_index=OLD.blind_index("111", number),
            id_ciphertext=v1(number, "id"),
            name_ciphertext=v1(name, "name"),
            masked_id=mask(number),
        )
    )
    session.commit()


def _rows(sessions: sessionmaker[Session]) -> dict[int, tuple[str | None, str | None, bytes]]:
    with sessions() as s:
        return {
            h.id: (h.holder_key_id, h.blind_index_key_id, h.id_ciphertext)
            for h in s.scalars(select(Holder))
        }


def _holder_count(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(Holder)) or 0


def test_lookups_work_mid_rotation_and_an_interrupted_rotation_resumes(
    sessions: sessionmaker[Session],
) -> None:
    _fill(sessions)
    with sessions() as s:
        _legacy_row(s, citizen_id(99), "旧格式")
        status = key_status(session=s, crypto=ROTATING)
    assert (status.holders, status.current, status.remaining) == (COUNT + 1, 0, COUNT + 1)
    assert status.rows_by_keys == {
        (OLD.holder_key_id, OLD.blind_index_key_id): COUNT,
        (None, None): 1,
    }
    assert status.unconfigured == 0
    # With only the new keys configured, the old rows are out of reach: rotation needs both.
    with sessions() as s:
        assert find_holder(session=s, crypto=NEW_ONLY, holder_id=IDS[0]) is None

    checked: list[int] = []

    def lookups_then_interrupt(rows: int) -> None:
        """Runs between committed batches: the middle of a rotation."""
        before = _holder_count(sessions)
        with sessions() as s:
            rotated = [n for n in IDS if _is_current(s, n)]
            pending = [n for n in IDS if not _is_current(s, n)]
            assert len(rotated) == 3 and pending, (rotated, pending)
            for number in IDS:
                found = find_holder(session=s, crypto=ROTATING, holder_id=number)
                assert found is not None
                assert str(reveal_holder_id(crypto=ROTATING, holder=found)) == number
            # Creating "again" a holder whose row is not re-sealed yet finds it: no duplicate.
            name = f"持证人{IDS.index(pending[0])}"
            same = get_or_create_holder(session=s, crypto=ROTATING, holder_id=pending[0], name=name)
            assert same.holder_key_id == OLD.holder_key_id  # untouched: the name did not change
            s.commit()
        assert _holder_count(sessions) == before
        checked.append(rows)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rotate_holder_keys(
            sessions=sessions, crypto=ROTATING, batch_size=3, on_batch=lookups_then_interrupt
        )
    assert checked == [3]
    with sessions() as s:
        assert key_status(session=s, crypto=ROTATING).remaining == COUNT + 1 - 3

    # A change of name during the rotation re-seals that row as a whole.
    with sessions() as s:
        renamed = get_or_create_holder(session=s, crypto=ROTATING, holder_id=IDS[-1], name="改名")
        s.commit()
        assert (renamed.holder_key_id, renamed.blind_index_key_id) == (
            key_id(NEW_H),
            key_id(NEW_B),
        )

    seen: list[int] = []
    result = rotate_holder_keys(
        sessions=sessions, crypto=ROTATING, batch_size=3, on_batch=seen.append
    )
    assert result.resealed == COUNT + 1 - 3 - 1
    assert seen == [3, 1] and result.remaining == 0
    rows = _rows(sessions)
    assert {(h, b) for h, b, _ in rows.values()} == {(key_id(NEW_H), key_id(NEW_B))}
    assert _holder_count(sessions) == COUNT + 1

    _assert_the_new_keys_alone_read_every_holder(sessions)
    # Running it again when complete changes nothing.
    again = rotate_holder_keys(sessions=sessions, crypto=ROTATING)
    assert (again.resealed, again.remaining) == (0, 0)
    assert _rows(sessions) == rows


def _assert_the_new_keys_alone_read_every_holder(sessions: sessionmaker[Session]) -> None:
    """Done: the new keys alone find and read every holder; the old ones find nobody."""
    with sessions() as s:
        assert key_status(session=s, crypto=NEW_ONLY).complete
        for i, number in enumerate([*IDS, citizen_id(99)]):
            found = find_holder(session=s, crypto=NEW_ONLY, holder_id=number)
            assert found is not None
            view = describe_holder(crypto=NEW_ONLY, holder=found)
            expected = "改名" if number == IDS[-1] else ("旧格式" if i == COUNT else f"持证人{i}")
            assert view.name == expected
            assert find_holder(session=s, crypto=OLD, holder_id=number) is None
            with pytest.raises(HolderDataError):
                OLD.decrypt(found.id_ciphertext, purpose="id")


def _is_current(session: Session, number: str) -> bool:
    found = find_holder(session=session, crypto=ROTATING, holder_id=number)
    assert found is not None
    return found.holder_key_id == ROTATING.holder_key_id


def test_a_failure_inside_a_batch_leaves_that_batch_untouched(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(sessions)
    before = _rows(sessions)
    real = holder_service.reseal_holder
    calls = 0

    def flaky(**kwargs: object) -> None:
        nonlocal calls
        calls += 1
        if calls == 5:  # the second row of the second batch
            raise RuntimeError("power cut")
        real(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("vault.services.key_rotation.reseal_holder", flaky)
    with pytest.raises(RuntimeError, match="power cut"):
        rotate_holder_keys(sessions=sessions, crypto=ROTATING, batch_size=3)
    after = _rows(sessions)
    ids = sorted(after)
    assert all(after[i][0] == key_id(NEW_H) for i in ids[:3])
    assert all(after[i] == before[i] for i in ids[3:])  # bytes and key ids unchanged
    monkeypatch.undo()
    result = rotate_holder_keys(sessions=sessions, crypto=ROTATING, batch_size=3)
    assert (result.resealed, result.remaining) == (COUNT - 3, 0)


def test_a_row_under_a_key_no_longer_configured_is_named_by_row_id(
    sessions: sessionmaker[Session],
) -> None:
    _fill(sessions)
    with sessions() as s:
        status = key_status(session=s, crypto=NEW_ONLY)
        assert status.unconfigured == COUNT and not status.complete
    with pytest.raises(HolderDataError) as info:
        rotate_holder_keys(sessions=sessions, crypto=NEW_ONLY)
    assert str(info.value) == (
        f"holder row 1: stored id is encrypted under holder key {OLD.holder_key_id}, which "
        "is not configured (EVAULT_HOLDER_KEY or EVAULT_OLD_HOLDER_KEYS)"
    )
    assert all(number not in str(info.value) for number in IDS)
    assert _rows(sessions)[1][0] == OLD.holder_key_id


def test_the_same_holder_created_under_two_current_keys_is_reported(
    sessions: sessionmaker[Session],
) -> None:
    _fill(sessions)
    # A process that never had the old keys creates the first holder again.
    with sessions() as s:
        get_or_create_holder(session=s, crypto=NEW_ONLY, holder_id=IDS[0], name="持证人0")
        s.commit()
    assert _holder_count(sessions) == COUNT + 1
    with pytest.raises(ConflictError) as info:
        rotate_holder_keys(sessions=sessions, crypto=ROTATING, batch_size=2)
    assert str(info.value).startswith(f"holder rows 1 and {COUNT + 1} hold the same ID number")
    assert IDS[0] not in str(info.value)
    with sessions() as s:
        assert key_status(session=s, crypto=ROTATING).remaining == COUNT  # batch rolled back


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_lookups_are_not_blocked_by_a_batch_in_flight_postgres(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a batch holds its rows locked (FOR UPDATE, not yet committed), another
    connection still finds and reads every holder: readers never wait for the rotation."""
    import concurrent.futures

    _fill(sessions)
    real = holder_service.reseal_holder
    found_names: list[list[str]] = []

    def lookup_all() -> list[str]:
        with sessions() as s:
            names = []
            for number in IDS:
                holder = find_holder(session=s, crypto=ROTATING, holder_id=number)
                assert holder is not None, "a holder was not found mid-batch"
                names.append(describe_holder(crypto=ROTATING, holder=holder).name)
            return names

    def reseal_then_look(**kwargs: object) -> None:
        real(**kwargs)  # type: ignore[arg-type]
        if not found_names:  # after the first row of the first batch is changed, uncommitted
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                found_names.append(pool.submit(lookup_all).result(timeout=20))

    monkeypatch.setattr("vault.services.key_rotation.reseal_holder", reseal_then_look)
    result = rotate_holder_keys(sessions=sessions, crypto=ROTATING, batch_size=4)
    assert found_names == [[f"持证人{i}" for i in range(COUNT)]]
    assert (result.resealed, result.remaining) == (COUNT, 0)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_department_search_finds_a_holder_not_yet_re_sealed(
    sessions: sessionmaker[Session], blobs: LocalBlobStore
) -> None:
    with sessions() as s:
        cat = push_permitted_license(s, blobs=blobs, crypto=OLD).catalog
    with sessions() as s:
        found = search_for_department(
            session=s,
            crypto=ROTATING,
            department_id=cat.housing,
            holder_id=HOLDER,
            holder_id_type=None,
            use=UseContext("办理公积金提取", "GJJ-2025-0001"),
        )
    assert len(found) == 1
