"""What the portal's company space (法人空间) shows of the company a person acts for.

The pages of a person acting for a company (``api/pages/company_space.py``) read no
tables: the company's licenses, grants and departments come from
:mod:`vault.services.views` like the personal pages'; this names the company on every page.
Who may act for which company is :mod:`vault.services.agents`' decision.
"""

from __future__ import annotations

from dataclasses import dataclass

from vault.crypto import HolderCrypto
from vault.services.agents import Acting
from vault.services.holders import describe_holder

__all__ = ["CompanyHere", "company_here"]


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
