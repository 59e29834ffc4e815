"""Which tables PostgreSQL partitions by the holder's blind index, and what that changes.

On PostgreSQL the holder data (holders, licenses, materials, access events) is
``PARTITION BY HASH`` of the holder's blind index (``holders.blind_index``, copied into the
other three as ``holder_blind_index``), so a distributed PostgreSQL (Citus) can take the
same schema with the blind index as distribution column. SQLite stays unpartitioned.

What PostgreSQL requires, and how the schema answers it (docs/scaling.md says why):

- a primary key or unique constraint of a partitioned table includes the partition key:
  the primary keys are ``(id, <blind index>)``. The models keep ``id`` as the ORM's
  identity and declare ``UNIQUE (id, <blind index>)``, which SQLite needs as the target
  of the composite foreign keys and which PostgreSQL's primary key already is;
- a foreign key to a partitioned table includes its partition key: the holder data refers
  to its holder (and an access event to its license or material) by ``(id, blind
  index)``, ``ON UPDATE CASCADE``, so a blind-index key rotation moves a holder's rows to
  their new partition together;
- the other tables of one holder's rows (versions, status changes, field values, copies,
  grants and their uses, the wallet's offers and credentials, company spaces and agents,
  case references, archive renewals: :data:`HOLDER_SCOPED`, migration
  ``0115_holder_scoped``) carry ``holder_blind_index`` too and refer to their parent by
  ``(id, blind index)`` (:func:`holder_key`), real foreign keys on both databases: the
  same distribution column for Citus, colocated joins, and a row's blind index is its
  parent's by construction;
- what still refers to holder data by id alone (a company's representative, an agent,
  the import journal's license) keeps a real foreign key on SQLite; on PostgreSQL the
  same rule is kept by triggers (made by ``0112_partition``): a child row must name an
  existing parent, and a parent's deletion cascades, sets null or is refused as the
  foreign key said.
"""

from __future__ import annotations

import re

from sqlalchemy import ForeignKeyConstraint, UniqueConstraint

__all__ = [
    "HOLDER_SCOPED",
    "NO_HOLDER",
    "PARTITIONED",
    "PARTITIONS",
    "drift_ignored",
    "holder_key",
    "is_partition",
]

#: Table -> its partition key (the holder's blind index).
PARTITIONED: dict[str, str] = {
    "holders": "blind_index",
    "licenses": "holder_blind_index",
    "materials": "holder_blind_index",
    "access_events": "holder_blind_index",
}
#: Hash partitions per table (``<table>_p0`` ... ``<table>_p7``).
PARTITIONS = 8
#: The partition key of an access event about no holder the vault holds (a refusal).
NO_HOLDER = bytes(32)

#: The other tables of one holder's rows (migration ``0115_holder_scoped``): table ->
#: (the column naming its parent, the parent). Each carries ``holder_blind_index``, its
#: parent's, and refers to the parent by ``(id, blind index)`` (:func:`holder_key`).
HOLDER_SCOPED: dict[str, tuple[str, str]] = {
    "license_versions": ("license_id", "licenses"),
    "status_changes": ("license_id", "licenses"),
    "license_field_values": ("license_id", "licenses"),
    "certified_copies": ("holder_id", "holders"),
    "grants": ("holder_id", "holders"),
    "grant_uses": ("grant_id", "grants"),
    "credential_offers": ("holder_id", "holders"),
    "issued_credentials": ("holder_id", "holders"),
    "company_spaces": ("company_id", "holders"),
    "company_agents": ("space_id", "company_spaces"),
    "case_licenses": ("holder_id", "holders"),
    "archive_renewals": ("license_version_id", "license_versions"),
}

_PARTITION_NAME = re.compile(r"^(holders|licenses|materials|access_events)_p\d+$")


def holder_key(column: str, parent: str, *, ondelete: str | None = None) -> ForeignKeyConstraint:
    """``(column, holder_blind_index)`` referring to ``parent (id, <its blind index>)``,
    ``ON UPDATE CASCADE``: a row of one holder follows its parent's blind index."""
    index = PARTITIONED.get(parent, "holder_blind_index")
    return ForeignKeyConstraint(
        [column, "holder_blind_index"],
        [f"{parent}.id", f"{parent}.{index}"],
        ondelete=ondelete,
        onupdate="CASCADE",
    )


def is_partition(table_name: str | None) -> bool:
    """``licenses_p3`` and the like: a partition, not a table of the models."""
    return table_name is not None and bool(_PARTITION_NAME.match(table_name))


def drift_ignored(item: object) -> bool:
    """A model constraint that PostgreSQL holds otherwise (see the module's docstring).

    ``UNIQUE (id, <blind index>)`` of a partitioned table is its primary key there; a
    foreign key to a partitioned table that lacks the partition key is a trigger there.
    """
    if isinstance(item, UniqueConstraint) and item.table.name in PARTITIONED:
        names = {c.name for c in item.columns}
        return names == {"id", PARTITIONED[item.table.name]}
    if isinstance(item, ForeignKeyConstraint):
        target = item.referred_table.name
        if target in PARTITIONED:
            return PARTITIONED[target] not in {e.column.name for e in item.elements}
    return False
