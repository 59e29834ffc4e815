"""OFD files (GB/T 33190) and their SM2 seals (GB/T 38540, GM/T 0031, GB/T 35275).

    report = verify_ofd(data, trust=bundle)          # -> schemas.report.VerificationReport

:class:`signing.verify.Verifier` dispatches here on a ZIP's first bytes, so callers of the
PDF verifier get OFD for free. See docs/verification.md, "OFD".
"""

from signing.ofd.package import Limits, OfdFormatError
from signing.ofd.verifier import OfdVerifier, verify_ofd

__all__ = ["Limits", "OfdFormatError", "OfdVerifier", "verify_ofd"]
