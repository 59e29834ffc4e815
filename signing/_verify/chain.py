"""Chain validation of signer and TSA certificates, with a cache of validated paths.

We check the CMS ourselves (:mod:`signing._verify.cms_check`), so pyHanko's signature
validation would only add a second parse of the CMS and a second crypto check; what we
need from the pyHanko stack here is pyhanko-certvalidator's path building, path
validation and revocation checking.

Trust paths repeat across thousands of documents sealed by the same seal, so results are
cached by (certificate, trust bundle, the exact revocation data offered, validation time):
for an explicit validation time the result is deterministic and kept; for "now" (or a
time within :data:`NOW_TTL` of the clock) it is kept for :data:`NOW_TTL` seconds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from schemas.report import SubIndication

__all__ = ["ChainCache", "ChainResult", "validate_chain"]

#: Seconds a result validated "now" is reused for.
NOW_TTL = 60.0


@dataclass(frozen=True)
class ChainResult:
    """What path validation found for one certificate."""

    trusted: bool
    """A path to a trusted root validates (revocation aside, see ``revoked``)."""
    problem: SubIndication | None = None
    """Why not, as an ETSI sub-indication."""
    message: str | None = None
    revoked: bool = False
    revocation_date: dt.datetime | None = None
    ca_revoked: bool = False
    revinfo_found: bool = False
    """Revocation data for the certificate was found and used."""


class ChainCache:
    """A bounded LRU cache of :class:`ChainResult` (thread-safe)."""

    def __init__(self, size: int = 2048) -> None:
        self._items: OrderedDict[tuple[Any, ...], tuple[float, ChainResult]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...], *, ttl: float | None) -> ChainResult | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None:
                return None
            stamp, result = hit
            if ttl is not None and time.monotonic() - stamp > ttl:
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return result

    def put(self, key: tuple[Any, ...], result: ChainResult) -> None:
        with self._lock:
            self._items[key] = (time.monotonic(), result)
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


def _digest(obj: Any) -> bytes:
    return hashlib.sha256(obj.dump()).digest()


def _revinfo_for(cert: Any, crls: list[Any], ocsps: list[Any]) -> bool:
    for c in crls:
        try:
            if c.issuer == cert.issuer:
                return True
        except Exception:  # noqa: S112 - a broken CRL is just not evidence
            continue
    for o in ocsps:
        try:
            for resp in o.basic_ocsp_response["tbs_response_data"]["responses"]:
                if resp["cert_id"]["serial_number"].native == cert.serial_number:
                    return True
        except Exception:  # noqa: S112
            continue
    return False


async def validate_chain(
    cert: Any,
    *,
    extra_certs: list[Any],
    make_context: Any,
    cache: ChainCache,
    context_key: tuple[Any, ...],
    moment: dt.datetime | None,
    crls: list[Any],
    ocsps: list[Any],
    eku: set[str] | None = None,
) -> ChainResult:
    """Validate ``cert``'s path with the context ``make_context()`` builds (lazily)."""
    # A validation time within NOW_TTL of the clock is "now" (callers often pass now
    # explicitly); results for "now" are reused for NOW_TTL seconds, others for good.
    is_now = moment is None or abs((moment - dt.datetime.now(dt.UTC)).total_seconds()) < NOW_TTL
    key = (
        _digest(cert),
        tuple(sorted(_digest(c) for c in extra_certs)),
        context_key,
        None if is_now else moment,
        frozenset(eku or ()),
    )
    hit = cache.get(key, ttl=NOW_TTL if is_now else None)
    if hit is not None:
        return hit
    result = await _validate(cert, extra_certs, make_context(), eku, crls, ocsps)
    cache.put(key, result)
    return result


async def _validate(
    cert: Any,
    extra_certs: list[Any],
    vc: Any,
    eku: set[str] | None,
    crls: list[Any],
    ocsps: list[Any],
) -> ChainResult:
    from pyhanko_certvalidator import CertificateValidator
    from pyhanko_certvalidator import errors as cv_errors

    revinfo = _revinfo_for(cert, crls, ocsps)
    validator = CertificateValidator(cert, intermediate_certs=extra_certs, validation_context=vc)
    try:
        await validator.async_validate_usage(
            key_usage=set(), extended_key_usage=eku, extended_optional=False
        )
    except cv_errors.RevokedError as exc:
        state = getattr(exc, "proc_state", None)
        is_ee = bool(getattr(state, "is_ee_cert", True))
        return ChainResult(
            trusted=True,
            problem=SubIndication.REVOKED_NO_POE if is_ee else SubIndication.REVOKED_CA_NO_POE,
            message=str(exc),
            revoked=True,
            revocation_date=exc.revocation_dt,
            ca_revoked=not is_ee,
            revinfo_found=True,
        )
    except cv_errors.NotYetValidError as exc:
        return ChainResult(False, SubIndication.NOT_YET_VALID, str(exc), revinfo_found=revinfo)
    except cv_errors.ExpiredError as exc:
        return ChainResult(
            False, SubIndication.OUT_OF_BOUNDS_NO_POE, str(exc), revinfo_found=revinfo
        )
    except cv_errors.DisallowedAlgorithmError as exc:
        return ChainResult(
            False, SubIndication.CRYPTO_CONSTRAINTS_FAILURE, str(exc), revinfo_found=revinfo
        )
    except cv_errors.InsufficientRevinfoError as exc:
        return ChainResult(False, SubIndication.TRY_LATER, str(exc), revinfo_found=revinfo)
    except cv_errors.PathBuildingError as exc:
        return ChainResult(
            False, SubIndication.NO_CERTIFICATE_CHAIN_FOUND, str(exc), revinfo_found=revinfo
        )
    except cv_errors.InvalidCertificateError as exc:
        return ChainResult(
            False, SubIndication.CHAIN_CONSTRAINTS_FAILURE, str(exc), revinfo_found=revinfo
        )
    except cv_errors.PathValidationError as exc:
        return ChainResult(
            False, SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE, str(exc), revinfo_found=revinfo
        )
    except (cv_errors.ValidationError, ValueError, KeyError, TypeError) as exc:
        return ChainResult(
            False,
            SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE,
            f"{type(exc).__name__}: {str(exc)[:160]}",
            revinfo_found=revinfo,
        )
    return ChainResult(trusted=True, revinfo_found=revinfo)
