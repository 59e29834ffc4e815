"""Wire models of the company routes (法人空间): the companies a person acts for, agents."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.identifiers import HolderId

__all__ = ["AgentIn", "AgentList", "AgentOut", "CompanyList", "CompanyOut", "PersonOut"]

Scope = Literal["licenses", "copies", "consent", "log", "materials"]


class PersonOut(BaseModel):
    masked_id: str = Field(description="the ID number, masked (110105********002X)")
    name: str


class CompanyOut(BaseModel):
    company_id: str = Field(
        description="the company space's opaque id: send it as `X-Acting-For` to act for it"
    )
    name: str
    masked_id: str = Field(description="the 统一社会信用代码, masked")
    role: Literal["representative", "agent"]
    scopes: list[Scope]
    expires_at: dt.datetime | None = Field(description="when an agent's designation ends")


class CompanyList(BaseModel):
    companies: list[CompanyOut]


class AgentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id_number: HolderId = Field(description="the agent's 公民身份号码 (sent in the body only)")
    name: str = Field(min_length=1, max_length=100, description="the agent's name, if new")
    scopes: list[Scope] = Field(min_length=1, max_length=4)
    expires_at: AwareDatetime


class AgentOut(BaseModel):
    agent_id: str = Field(description="the designation's opaque id (to revoke it)")
    person: PersonOut
    scopes: list[Scope]
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    created_at: dt.datetime
    status: Literal["active", "expired", "revoked"]


class AgentList(BaseModel):
    agents: list[AgentOut]
