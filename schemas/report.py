"""The verification report: the wire shape of what ``signing`` finds about a PDF's seals.

Indications follow ETSI EN 319 102-1: TOTAL_PASSED, TOTAL_FAILED, INDETERMINATE, with a
sub-indication that says why.
"""

from __future__ import annotations

import datetime as dt
import enum

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ChangeCategory",
    "Coverage",
    "FileFormat",
    "Indication",
    "ModificationLevel",
    "OfdSignatureType",
    "PadesLevel",
    "RevocationStatus",
    "SignatureKind",
    "SignatureReport",
    "SubIndication",
    "VerificationReport",
    "VisualCheck",
]


class Indication(enum.StrEnum):
    TOTAL_PASSED = "TOTAL_PASSED"
    TOTAL_FAILED = "TOTAL_FAILED"
    INDETERMINATE = "INDETERMINATE"


class SubIndication(enum.StrEnum):
    # TOTAL_FAILED
    FORMAT_FAILURE = "FORMAT_FAILURE"
    HASH_FAILURE = "HASH_FAILURE"
    SIG_CRYPTO_FAILURE = "SIG_CRYPTO_FAILURE"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"
    NOT_YET_VALID = "NOT_YET_VALID"
    # INDETERMINATE
    SIG_CONSTRAINTS_FAILURE = "SIG_CONSTRAINTS_FAILURE"
    CHAIN_CONSTRAINTS_FAILURE = "CHAIN_CONSTRAINTS_FAILURE"
    CERTIFICATE_CHAIN_GENERAL_FAILURE = "CERTIFICATE_CHAIN_GENERAL_FAILURE"
    CRYPTO_CONSTRAINTS_FAILURE = "CRYPTO_CONSTRAINTS_FAILURE"
    NO_SIGNING_CERTIFICATE_FOUND = "NO_SIGNING_CERTIFICATE_FOUND"
    NO_CERTIFICATE_CHAIN_FOUND = "NO_CERTIFICATE_CHAIN_FOUND"
    REVOKED_NO_POE = "REVOKED_NO_POE"
    REVOKED_CA_NO_POE = "REVOKED_CA_NO_POE"
    OUT_OF_BOUNDS_NO_POE = "OUT_OF_BOUNDS_NO_POE"
    OUT_OF_BOUNDS_NOT_REVOKED = "OUT_OF_BOUNDS_NOT_REVOKED"
    CRYPTO_CONSTRAINTS_FAILURE_NO_POE = "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"
    NO_POE = "NO_POE"
    TRY_LATER = "TRY_LATER"
    SIGNED_DATA_NOT_FOUND = "SIGNED_DATA_NOT_FOUND"
    GENERIC = "GENERIC"


class SignatureKind(enum.StrEnum):
    SIGNATURE = "signature"
    DOC_TIMESTAMP = "doc_timestamp"


class Coverage(enum.StrEnum):
    ENTIRE_FILE = "ENTIRE_FILE"  # the signed range is the whole file as it is now
    ENTIRE_REVISION = "ENTIRE_REVISION"  # a whole earlier revision; later updates follow
    CONTIGUOUS_BLOCKS = "CONTIGUOUS_BLOCKS"  # a revision's prefix, not the full revision
    PARTIAL = "PARTIAL"  # holes besides the signature value: not a whole revision
    NONE = "NONE"  # nothing could be determined


class FileFormat(enum.StrEnum):
    PDF = "PDF"
    OFD = "OFD"  # GB/T 33190, sealed per GB/T 38540 / GM/T 0031 / GB/T 35275


class OfdSignatureType(enum.StrEnum):
    SEAL = "Seal"  # 电子签章: an SES_Signature carrying the seal (印章) and its image
    SIGN = "Sign"  # 电子签名: a signature without a seal (e.g. GB/T 35275 PKCS#7)


class PadesLevel(enum.StrEnum):
    """PAdES baseline levels (ETSI EN 319 142-1)."""

    B_B = "B-B"
    B_T = "B-T"
    B_LT = "B-LT"
    B_LTA = "B-LTA"

    @property
    def timestamped(self) -> bool:
        return self is not PadesLevel.B_B

    @property
    def long_term(self) -> bool:
        return self in (PadesLevel.B_LT, PadesLevel.B_LTA)


class ModificationLevel(enum.StrEnum):
    """How far the revisions after a signature went, from harmless to anything else."""

    NONE = "NONE"
    LTA_UPDATES = "LTA_UPDATES"  # validation data, document timestamps, metadata
    SIGNATURES = "SIGNATURES"  # further signatures with their widgets on blank space
    FORM_FILLING = "FORM_FILLING"  # form fields filled, empty signature fields drawn
    ANNOTATIONS = "ANNOTATIONS"  # annotations added, removed or changed
    OTHER = "OTHER"  # anything else (content, resources, page tree, ...)


class ChangeCategory(enum.StrEnum):
    """DSS's categories of object changes after a signature (see docs/verification.md)."""

    EXTENSION = "extension"  # DSS/VRI, document timestamps, metadata: nothing a reader sees
    SIGNATURE = "signature"  # a new valid signature and its widget
    FORM_FILL = "form_fill"  # a form field's value or appearance
    ANNOTATION = "annotation"  # an annotation added, removed or changed
    UNDEFINED = "undefined"  # any other object change: the rendered pages decide
    FORBIDDEN = "forbidden"  # never permitted (a signature rewritten, actions, ...)


class VisualCheck(BaseModel):
    """The pages of the signed revision and of the final file, rendered and compared."""

    model_config = ConfigDict(frozen=True)

    renderers: list[str] = Field(description="the renderers that ran (pdfium, poppler)")
    identical: bool = Field(
        description="no pixel differs outside later signatures' widgets on blank space"
    )
    pages_signed: int = Field(ge=0, description="pages of the signed revision")
    pages_final: int = Field(ge=0, description="pages of the final file")
    pages_differing: list[int] = Field(
        default_factory=list, description="1-based numbers of pages that look different"
    )
    problems: list[str] = Field(default_factory=list)


class RevocationStatus(enum.StrEnum):
    GOOD = "good"
    REVOKED = "revoked"
    UNKNOWN = "unknown"  # no revocation data could be found
    NOT_CHECKED = "not_checked"  # no trusted chain, so revocation was not looked at


class SignatureReport(BaseModel):
    """What was found about one signature or document timestamp."""

    model_config = ConfigDict(frozen=True)

    field_name: str | None = Field(description="the signature field's name")
    kind: SignatureKind
    signer_subject: str | None = Field(default=None, description="RFC 4514 subject of the signer")
    signer_fingerprint: str | None = Field(
        default=None, description="SHA-256 of the signer's certificate, lowercase hex"
    )
    signer_credit_code: str | None = Field(
        default=None, description="统一社会信用代码 found in the signer's subject, if any"
    )
    signing_time: dt.datetime | None = Field(default=None, description="claimed signing time")
    timestamp_time: dt.datetime | None = Field(
        default=None, description="time from a signature timestamp (or of the doc timestamp)"
    )
    pades_level: PadesLevel | None = Field(
        default=None, description="the PAdES baseline level established, if any"
    )
    intact: bool = Field(description="digest and signature value verify")
    covers_whole_file: bool
    coverage: Coverage
    modified_after_signing: bool = Field(
        description="what a reader sees differs from what was signed (outside later "
        "signatures' widgets on blank space), or a later revision made a change that is "
        "never permitted"
    )
    modification_level: ModificationLevel | None = Field(
        default=None, description="how far the revisions after this signature went"
    )
    changes: list[ChangeCategory] = Field(
        default_factory=list, description="the categories of object changes after signing"
    )
    visual_check: VisualCheck | None = Field(
        default=None, description="the rendered comparison, when the changes needed one"
    )
    chain_trusted: bool = Field(description="the signer's certificate chains to a trusted root")
    revocation: RevocationStatus
    indication: Indication
    sub_indication: SubIndication | None = None
    reasons: list[str] = Field(default_factory=list, description="human-readable reasons")
    warnings: list[str] = Field(
        default_factory=list,
        description="permitted changes a reader should know of (e.g. a field filled in)",
    )
    widget_shown: bool = Field(
        default=False,
        description="PDF only: the field's widget can show something on a page (not hidden, "
        "a rectangle of some size); intake refuses a document timestamp that shows one",
    )
    ofd_type: OfdSignatureType | None = Field(default=None, description="OFD only: Seal or Sign")
    signature_format: str | None = Field(
        default=None, description="OFD only: SES_Signature V4 / V1, SignedData, bare SM2 value"
    )
    seal_name: str | None = Field(default=None, description="OFD seals: the seal's name")
    seal_id: str | None = Field(default=None, description="OFD seals: the seal's esID")
    vault_copy_seal: bool = Field(
        default=False,
        description="OFD only: an intact seal whose signer key is one of the vault's pinned "
        "OFD copy seals (the trust bundle's ofd_vault_seals)",
    )
    unsigned_metadata: list[str] = Field(
        default_factory=list,
        description="OFD only: the document information (DocInfo elements of OFD.xml, e.g. "
        "Title, CustomDatas) a reader shows that this signature does not cover (it leaves "
        "OFD.xml out of its References), whatever later seals cover",
    )


class VerificationReport(BaseModel):
    """What was found about a PDF or OFD file as a whole."""

    model_config = ConfigDict(frozen=True)

    file_format: FileFormat = FileFormat.PDF
    file: str | None = Field(default=None, description="the file's name, as given")
    sha256: str = Field(description="SHA-256 of the whole file, lowercase hex")
    size: int = Field(ge=0)
    checked_at: dt.datetime = Field(description="the validation time used")
    indication: Indication
    sub_indication: SubIndication | None = None
    reasons: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(
        default_factory=list, description="each signature's warnings, naming the signature"
    )
    signatures: list[SignatureReport] = Field(default_factory=list)
    missing_parts: list[str] = Field(
        default_factory=list,
        description="OFD only: parts a reader draws or shows (a page or template, a font, "
        "an image, an annotation, attachment or custom-tag file) that the document names "
        "but the package lacks: a reader shows the license without them; intake refuses it",
    )

    @property
    def passed(self) -> bool:
        return self.indication is Indication.TOTAL_PASSED
