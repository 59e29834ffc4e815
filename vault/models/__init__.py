"""Every SQLAlchemy model of evault, so ``Base.metadata`` is complete once this is imported.

Models are split by topic; later features add their own modules (and migrations) and
import them here.
"""

from vault.db.base import Base
from vault.models.access import AccessEvent, DepartmentScope
from vault.models.agents import CompanyAgent, CompanySpace
from vault.models.archive import ArchiveRenewal
from vault.models.cases import CaseLicense
from vault.models.catalog import (
    Department,
    LicenseType,
    LicenseTypeIssuer,
    SealCertificate,
    StandingPermission,
)
from vault.models.copies import CertifiedCopy
from vault.models.fields import FieldPermission, LicenseFieldValues, LicenseTypeField
from vault.models.grants import Grant, GrantUse
from vault.models.holders import Holder
from vault.models.idempotency import IdempotentAnswer
from vault.models.imports import ImportJournalEntry, ImportRun
from vault.models.licenses import STORED_STATUSES, License, LicenseVersion, StatusChange
from vault.models.log import LogCheckpoint, LogEntry
from vault.models.materials import Material, MaterialPermission, MaterialType
from vault.models.rate_limits import RateLimitBucket
from vault.models.wallet import CredentialNonce, CredentialOffer, IssuedCredential
from vault.models.web_sessions import WebSession

__all__ = [
    "STORED_STATUSES",
    "AccessEvent",
    "ArchiveRenewal",
    "Base",
    "CaseLicense",
    "CertifiedCopy",
    "CompanyAgent",
    "CompanySpace",
    "CredentialNonce",
    "CredentialOffer",
    "Department",
    "DepartmentScope",
    "FieldPermission",
    "Grant",
    "GrantUse",
    "Holder",
    "IdempotentAnswer",
    "ImportJournalEntry",
    "ImportRun",
    "IssuedCredential",
    "License",
    "LicenseFieldValues",
    "LicenseType",
    "LicenseTypeField",
    "LicenseTypeIssuer",
    "LicenseVersion",
    "LogCheckpoint",
    "LogEntry",
    "Material",
    "MaterialPermission",
    "MaterialType",
    "RateLimitBucket",
    "SealCertificate",
    "StandingPermission",
    "StatusChange",
    "WebSession",
]
