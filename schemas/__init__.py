"""Pure, validated values of evault's domain and wire: no I/O, imports none of our packages.

>>> from schemas import CitizenId
>>> CitizenId.parse("11010519491231002X").masked()
'110105********002X'
"""

from schemas.errors import InvalidValue, SchemaError
from schemas.identifiers import (
    CitizenId,
    CreditCode,
    HolderId,
    HolderIdType,
    citizen_id_check_char,
    credit_code_check_char,
    mask,
    organization_code_check_char,
    parse_holder_id,
)
from schemas.license import LicenseMetadata, LicenseStatus
from schemas.license_id import LICENSE_ID_ROOT, LicenseId, mod37_36_check_char, parse_license_id
from schemas.report import (
    Coverage,
    Indication,
    RevocationStatus,
    SignatureKind,
    SignatureReport,
    SubIndication,
    VerificationReport,
)

__all__ = [
    "LICENSE_ID_ROOT",
    "CitizenId",
    "Coverage",
    "CreditCode",
    "HolderId",
    "HolderIdType",
    "Indication",
    "InvalidValue",
    "LicenseId",
    "LicenseMetadata",
    "LicenseStatus",
    "RevocationStatus",
    "SchemaError",
    "SignatureKind",
    "SignatureReport",
    "SubIndication",
    "VerificationReport",
    "citizen_id_check_char",
    "credit_code_check_char",
    "mask",
    "mod37_36_check_char",
    "organization_code_check_char",
    "parse_holder_id",
    "parse_license_id",
]
