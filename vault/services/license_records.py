"""A license with its current version as plain values, read in one Core query.

The department read path (search, read one license) answers many requests a second and
needs no ORM objects: each row of :data:`ONE_FOR_DEPARTMENT` or
:data:`OF_HOLDER_FOR_DEPARTMENT` is one license joined with its type, issuer, holder,
current version and the asking department's standing permission for the type, and
becomes a :class:`LicenseRecord`. :func:`record_of` builds the same from ORM objects, so
one function turns either into the wire form.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Select, Table, and_, bindparam, exists, select

from vault.models import Grant, Holder, License, LicenseType, LicenseVersion, StandingPermission
from vault.models.catalog import Department

__all__ = [
    "OF_HOLDER_FOR_DEPARTMENT",
    "ONE_FOR_DEPARTMENT",
    "DepartmentRow",
    "LicenseRecord",
    "record_of",
    "record_of_row",
]


@dataclass(frozen=True)
class LicenseRecord:
    """What may be shown of a license and its current version (holder ID masked).

    ``id`` is the row id (inside the vault); ``public_id`` the id shown outside.
    """

    id: int
    public_id: str
    number: str
    #: The stored status (失效 is computed from ``valid_until``, see ``lifecycle.status_at``).
    stored_status: str
    current_version: int
    updated_at: dt.datetime
    holder_row_id: int
    type_code: str
    type_name: str
    issuer_code: str
    holder_id_type: str
    holder_masked_id: str
    holder_name_ciphertext: bytes
    identifier: str | None
    version: int
    name: str
    issuer_name: str
    issue_date: dt.date
    valid_from: dt.date | None
    valid_until: dt.date | None
    sha256: str
    #: The sealed file's format: "PDF" or "OFD" (schemas.report.FileFormat).
    file_format: str
    #: The holder's blind index (the partition key: the access-log row names it too).
    holder_blind_index: bytes


def record_of(license: License, version: LicenseVersion) -> LicenseRecord:
    """The record of an ORM license and one of its versions."""
    holder = license.holder
    return LicenseRecord(
        id=license.id,
        public_id=license.public_id,
        number=license.number,
        stored_status=license.status,
        current_version=license.current_version,
        updated_at=license.updated_at,
        holder_row_id=license.holder_id,
        type_code=license.license_type.code,
        type_name=license.license_type.name,
        issuer_code=license.issuer.credit_code,
        holder_id_type=holder.id_type,
        holder_masked_id=holder.masked_id,
        holder_name_ciphertext=holder.name_ciphertext,
        identifier=version.license_identifier,
        version=version.version,
        name=version.name,
        issuer_name=version.issuer_name,
        issue_date=version.issue_date,
        valid_from=version.valid_from,
        valid_until=version.valid_until,
        sha256=version.blob_sha256,
        file_format=version.file_format,
        holder_blind_index=license.holder_blind_index,
    )


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


_L = _table(License).c
_T = _table(LicenseType).c
_D = _table(Department).c
_H = _table(Holder).c
_V = _table(LicenseVersion).c
_P = _table(StandingPermission).c
_G = _table(Grant).c

#: The record's fields, in order, then the standing permission (None: none) and whether
#: the holder has any live grant to the department (only then are grants worth reading).
_COLUMNS = (
    _L.id,
    _L.public_id,
    _L.number,
    _L.status,
    _L.current_version,
    _L.updated_at,
    _L.holder_id,
    _T.code,
    _T.name,
    _D.credit_code,
    _H.id_type,
    _H.masked_id,
    _H.name_ciphertext,
    _V.license_identifier,
    _V.version,
    _V.name,
    _V.issuer_name,
    _V.issue_date,
    _V.valid_from,
    _V.valid_until,
    _V.blob_sha256,
    _V.file_format,
    _L.holder_blind_index,
    _P.license_type_id,
    exists()
    .where(
        _G.holder_id == _L.holder_id,
        _G.holder_blind_index == _L.holder_blind_index,  # colocated with the license
        _G.department_id == bindparam("department_id"),
        _G.revoked_at.is_(None),
        _G.expires_at > bindparam("now"),
    )
    .label("consent"),
)


def _for_department() -> Select[Any]:
    """Records with the standing permission of the department ``:department_id``.

    Parameters: ``department_id``, and ``now`` (aware) for the grants' expiry.
    """
    return (
        select(*_COLUMNS)
        .select_from(_table(License))
        .join(_table(LicenseType), _T.id == _L.license_type_id)
        .join(_table(Department), _D.id == _L.issuer_department_id)
        # both columns of the foreign key: the holder's partition is the license's
        .join(_table(Holder), and_(_H.id == _L.holder_id, _H.blind_index == _L.holder_blind_index))
        .join(
            _table(LicenseVersion),
            and_(
                _V.license_id == _L.id,
                _V.holder_blind_index == _L.holder_blind_index,  # colocated with the license
                _V.version == _L.current_version,
            ),
        )
        .outerjoin(
            _table(StandingPermission),
            and_(
                _P.department_id == bindparam("department_id"),
                _P.license_type_id == _L.license_type_id,
            ),
        )
    )


#: One license (by its public id, ``:public_id``) for the department ``:department_id``.
ONE_FOR_DEPARTMENT = _for_department().where(_L.public_id == bindparam("public_id"))
#: The licenses of the holder whose blind index is one of ``:blind_indexes`` (the index
#: under every configured key: during a key rotation a row carries the old or the new
#: one), oldest first. Filtered on the holder's and the licenses' copy of it: PostgreSQL
#: then plans and reads only the partitions those indexes hash to.
OF_HOLDER_FOR_DEPARTMENT = (
    _for_department()
    .where(_H.blind_index.in_(bindparam("blind_indexes", expanding=True)))
    .where(_L.holder_blind_index.in_(bindparam("blind_indexes", expanding=True)))
    .order_by(_L.id)
)


@dataclass(frozen=True)
class DepartmentRow:
    """A row of the queries above: the record and what may allow the department to use it."""

    record: LicenseRecord
    #: The department holds a standing permission for the license's type.
    permitted: bool
    #: The holder has some live grant (consent or share code) to the department.
    may_consent: bool


def record_of_row(row: Sequence[Any]) -> DepartmentRow:
    """A row of the queries above (a SQLAlchemy row or a plain tuple) as its record."""
    values: list[Any] = list(row)
    may_consent = bool(values.pop())
    permission = values.pop()
    return DepartmentRow(LicenseRecord(*values), permission is not None, may_consent)
