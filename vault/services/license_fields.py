"""Structured license data ("一张表"): a license's surface fields, sealed at rest, and a
using department's signed answer with only the fields it asked for.

Values are one JSON object per license, encrypted with the holder key
(:class:`vault.crypto.HolderCrypto`) and bound to the license's row id, so a sealed value
cannot be moved to another license. A department asks inside one case (purpose + case
number): the license must be open to it (standing permission or consent, as for any read,
:func:`vault.services.access.authorize_department`), and each field asked for must be
covered by its field permission for the license's type; otherwise nothing is returned.
Every answer and every refusal is in the holder's access log and the transparency log
(action ``fields``); the values themselves are never logged.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from signing.credentials.fields import FieldsAnswer, sign_fields_token
from signing.credentials.keys import CredentialKey
from vault.crypto import HolderCrypto, HolderDataError
from vault.db.base import utcnow
from vault.errors import InvalidInput, PermissionDenied
from vault.log.access_log import EventValues, record_in_transaction
from vault.models import Department, License
from vault.models.fields import LicenseFieldValues
from vault.services.access import UseContext, authorize_department
from vault.services.field_catalog import check_values, permitted_fields

__all__ = [
    "SignedFields",
    "field_values",
    "read_fields_for_department",
    "reseal_field_values",
    "store_values",
]

_MAX_ASKED = 64


def _purpose(license_id: int) -> str:
    return f"license-fields:{license_id}"


def store_values(
    *, session: Session, crypto: HolderCrypto, license: License, values: Mapping[str, object]
) -> dict[str, str]:
    """Check ``values`` against the license type's fields and keep them sealed (replacing
    earlier ones); flushes, does not commit. Raises ``FieldValueError`` naming the field."""
    checked = check_values(session, license.license_type_id, values)
    plain = json.dumps(checked, ensure_ascii=False, sort_keys=True)
    sealed = crypto.encrypt(plain, purpose=_purpose(license.id))
    row = session.get(LicenseFieldValues, license.id)
    if row is None:
        session.add(
            LicenseFieldValues(
                license_id=license.id,
                holder_blind_index=license.holder_blind_index,
                sealed=sealed,
            )
        )
    else:
        row.sealed, row.updated_at = sealed, utcnow()
    session.flush()
    return checked


def field_values(session: Session, crypto: HolderCrypto, license_id: int) -> dict[str, str]:
    """The license's stored values (empty when the issuer pushed none)."""
    row = session.get(LicenseFieldValues, license_id)
    if row is None:
        return {}
    loaded = json.loads(crypto.decrypt(row.sealed, purpose=_purpose(license_id)))
    return {str(k): str(v) for k, v in loaded.items()}


def reseal_field_values(
    *, sessions: sessionmaker[Session], crypto: HolderCrypto, batch_size: int = 500
) -> int:
    """Re-seal every license's field values not under the current holder key (``evault
    keys rotate``), ``batch_size`` rows per commit, in license order; the number re-sealed.
    Resumable: the rows say which key sealed them."""
    resealed = after = 0
    while True:
        with sessions() as session:
            rows = session.scalars(
                select(LicenseFieldValues)
                .where(LicenseFieldValues.license_id > after)
                .order_by(LicenseFieldValues.license_id)
                .limit(batch_size)
                .with_for_update()
            ).all()
            if not rows:
                return resealed
            for row in rows:
                if crypto.sealed_key_id(row.sealed) == crypto.holder_key_id:
                    continue
                purpose = _purpose(row.license_id)
                try:
                    plain = crypto.decrypt(row.sealed, purpose=purpose)
                except HolderDataError as exc:
                    raise HolderDataError(
                        f"fields of license row {row.license_id}: {exc}"
                    ) from None
                row.sealed = crypto.encrypt(plain, purpose=purpose)
                resealed += 1
            session.commit()
            after = rows[-1].license_id


class SignedFields:
    """The answer: the compact JWS and what it says."""

    def __init__(self, token: str, answer: FieldsAnswer) -> None:
        self.token = token
        self.answer = answer


def _refuse(
    session: Session, license: License, department_id: int, use: UseContext, why: str
) -> PermissionDenied:
    record_in_transaction(
        session,
        EventValues(
            action="fields",
            outcome="denied",
            actor="department",
            at=utcnow(),
            holder_id=license.holder_id,
            department_id=department_id,
            license_id=license.id,
            use=use,
            reason=why[:200],
        ),
    )
    return PermissionDenied(why)


def _asked(names: Sequence[str]) -> list[str]:
    wanted = list(dict.fromkeys(names))
    if not wanted or len(wanted) > _MAX_ASKED:
        raise InvalidInput(f"ask for 1 to {_MAX_ASKED} fields")
    return wanted


def read_fields_for_department(
    *,
    session: Session,
    crypto: HolderCrypto,
    key: CredentialKey,
    issuer: str,
    department_id: int,
    public_id: str,
    use: UseContext,
    names: Sequence[str],
    now: dt.datetime | None = None,
) -> SignedFields:
    """The fields ``names`` of one license for a department in a case, signed; logged.
    Refusals (:class:`PermissionDenied`) are logged too; the edge commits both (the API's
    session dependency commits a refusal as well)."""
    wanted = _asked(names)
    now = now or utcnow()
    license, decision = authorize_department(
        session=session,
        department_id=department_id,
        public_id=public_id,
        use=use,
        action="fields",
        record_allowed=False,
        now=now,
    )
    allowed = permitted_fields(session, department_id, license.license_type_id)
    outside = [name for name in wanted if name not in allowed]
    if outside:
        raise _refuse(
            session, license, department_id, use, f"field not permitted: {', '.join(outside)}"
        )
    stored = field_values(session, crypto, license.id)
    department = session.get(Department, department_id)
    assert department is not None  # the caller's own department
    answer = FieldsAnswer(
        issuer=issuer,
        license_id=license.public_id,
        type_code=license.license_type.code,
        department=department.credit_code,
        purpose=use.purpose,
        case_no=use.case_no,
        issued_at=now.replace(microsecond=0),
        fields={name: stored[name] for name in wanted if name in stored},
        status=license.status,
    )
    token = sign_fields_token(key=key, answer=answer)
    record_in_transaction(
        session,
        EventValues(
            action="fields",
            outcome="allowed",
            actor="department",
            at=now,
            holder_id=license.holder_id,
            department_id=department_id,
            basis=decision.basis,
            grant_id=decision.grant_id,
            license_id=license.id,
            use=use,
            reason=f"fields: {', '.join(wanted)}"[:200],
        ),
    )
    return SignedFields(token, answer)
