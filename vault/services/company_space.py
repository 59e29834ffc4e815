"""What the portal's company space (法人空间) shows, as ready views.

The pages of a person acting for a company (``api/pages/company_space.py``) read no
tables themselves: these queries give them the company's name, its licenses, the
departments a consent may name, and the people its access log names, as plain values.
Who may act for which company is :mod:`vault.services.agents`' decision.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from vault.crypto import HolderCrypto
from vault.models import Department, License
from vault.services.access import current_version
from vault.services.agents import Acting
from vault.services.holders import describe_holder
from vault.services.license_records import LicenseRecord, record_of

__all__ = [
    "CompanyHere",
    "DepartmentChoice",
    "company_here",
    "departments",
    "holder_records",
]


@dataclass(frozen=True)
class CompanyHere:
    """The company a person is acting for, as every page of its space names it."""

    space_id: str
    name: str
    masked_id: str
    role: str
    scopes: tuple[str, ...]
    person_name: str

    @property
    def prefix(self) -> str:
        """The company space's pages start here (the opaque id only: no 统一社会信用代码)."""
        return f"/me/co/{self.space_id}"


@dataclass(frozen=True)
class DepartmentChoice:
    """A department as a form offers it."""

    id: int
    name: str


def company_here(*, crypto: HolderCrypto, acting: Acting) -> CompanyHere:
    """The company ``acting`` is for, named for the page."""
    company = describe_holder(crypto=crypto, holder=acting.company)
    person = describe_holder(crypto=crypto, holder=acting.person)
    return CompanyHere(
        space_id=acting.space.public_id,
        name=company.name,
        masked_id=company.masked_id,
        role=acting.role,
        scopes=acting.scopes,
        person_name=person.name,
    )


def holder_records(*, session: Session, holder_id: int) -> list[LicenseRecord]:
    """Every license of the holder with its current version, oldest first."""
    rows = session.scalars(
        select(License).where(License.holder_id == holder_id).order_by(License.id)
    ).all()
    return [record_of(lic, current_version(session, lic)) for lic in rows]


def departments(*, session: Session, users_only: bool) -> list[DepartmentChoice]:
    """Departments by name: the using ones (a consent names one), or all (log filters)."""
    query = select(Department.id, Department.name).order_by(Department.name)
    if users_only:
        query = query.where(Department.is_user.is_(True))
    return [DepartmentChoice(id, name) for id, name in session.execute(query).all()]
