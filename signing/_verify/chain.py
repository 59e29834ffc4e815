"""Chain validation of signer and TSA certificates, with a cache of validated paths.

We check the CMS ourselves (:mod:`signing._verify.cms_check`), so pyHanko's signature
validation would only add a second parse of the CMS and a second crypto check; what we
need from the pyHanko stack here is pyhanko-certvalidator's path building, path
validation and revocation checking.

Revocation status is established, not guessed: a path is first validated requiring valid
revocation data (a CRL or OCSP response that verifies and is current at the validation
time) for every certificate in it; only if that fails for want of such data is it
validated again without the requirement, to tell "trusted, revocation unknown" from "not
trusted". A CRL that merely names the right issuer (forged, stale, or for another CA of the
same name) proves nothing.

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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from schemas.report import SubIndication

__all__ = ["ChainCache", "ChainResult", "der_digest", "validate_chain"]

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
    """Valid, current revocation data was found for every certificate of the path (and none
    of them is revoked): the revocation status is known."""
    revinfo_problem: str | None = None
    """Why the revocation status is unknown (a path was found, its revocation data was not)."""


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


#: SHA-256 of the DER of objects digested lately, by identity: the certificates and
#: validation data the caches keep (cms_check's certificates, the ObjectCache) come back as
#: the same objects file after file, and ``dump()`` walks the whole parsed object each time.
#: Each entry keeps its object, so its id is not reused for another object while the entry
#: lives; at most :data:`_DIGESTS_KEPT` entries (then forgotten at once).
_digests: dict[int, tuple[Any, bytes]] = {}
_DIGESTS_KEPT = 64


def der_digest(obj: Any) -> bytes:
    """SHA-256 of ``obj.dump()`` (an asn1crypto value)."""
    hit = _digests.get(id(obj))
    if hit is not None and hit[0] is obj:
        return hit[1]
    digest = hashlib.sha256(obj.dump()).digest()
    if len(_digests) >= _DIGESTS_KEPT:
        _digests.clear()
    _digests[id(obj)] = (obj, digest)
    return digest


async def validate_chain(
    cert: Any,
    *,
    extra_certs: list[Any],
    make_context: Callable[[str], Any],
    cache: ChainCache,
    context_key: tuple[Any, ...],
    moment: dt.datetime | None,
    eku: set[str] | None = None,
) -> ChainResult:
    """Validate ``cert``'s path; ``make_context(mode)`` builds (lazily) the validation
    context for a certvalidator revocation mode (``require``, ``soft-fail``, ``none``)."""
    # A validation time within NOW_TTL of the clock is "now" (callers often pass now
    # explicitly); results for "now" are reused for NOW_TTL seconds, others for good.
    is_now = moment is None or abs((moment - dt.datetime.now(dt.UTC)).total_seconds()) < NOW_TTL
    key = (
        der_digest(cert),
        tuple(sorted(der_digest(c) for c in extra_certs)),
        context_key,
        None if is_now else moment,
        frozenset(eku or ()),
    )
    hit = cache.get(key, ttl=NOW_TTL if is_now else None)
    if hit is not None:
        return hit
    result = await _validate(cert, extra_certs, make_context, eku)
    cache.put(key, result)
    return result


async def _validate(
    cert: Any, extra_certs: list[Any], make_context: Callable[[str], Any], eku: set[str] | None
) -> ChainResult:
    from pyhanko_certvalidator import errors as cv_errors

    try:
        await _run(cert, extra_certs, make_context("require"), eku)
    except cv_errors.InsufficientRevinfoError as exc:
        missing = str(exc)
    except Exception as exc:  # not about revocation data: the path itself, or revoked
        return _result(exc)
    else:
        return ChainResult(trusted=True, revinfo_found=True)
    # No valid revocation data for some certificate of the path. Soft-fail still finds a
    # revocation that the data at hand lists; without any revocation checking, whether
    # the path itself holds.
    for mode in ("soft-fail", "none"):
        try:
            await _run(cert, extra_certs, make_context(mode), eku)
        except cv_errors.InsufficientRevinfoError:
            continue
        except Exception as exc:
            return _result(exc, missing)
        return ChainResult(trusted=True, revinfo_found=False, revinfo_problem=missing)
    return ChainResult(False, SubIndication.TRY_LATER, missing, revinfo_problem=missing)


async def _run(cert: Any, extra_certs: list[Any], vc: Any, eku: set[str] | None) -> None:
    from pyhanko_certvalidator import CertificateValidator

    validator = CertificateValidator(cert, intermediate_certs=extra_certs, validation_context=vc)
    await validator.async_validate_usage(
        key_usage=set(), extended_key_usage=eku, extended_optional=False
    )


def _result(exc: Exception, missing: str | None = None) -> ChainResult:
    """The chain result for a validation that raised ``exc``."""
    from pyhanko_certvalidator import errors as cv_errors

    if isinstance(exc, cv_errors.RevokedError):
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
    mapping: tuple[tuple[type[Exception], SubIndication], ...] = (
        (cv_errors.NotYetValidError, SubIndication.NOT_YET_VALID),
        (cv_errors.ExpiredError, SubIndication.OUT_OF_BOUNDS_NO_POE),
        (cv_errors.DisallowedAlgorithmError, SubIndication.CRYPTO_CONSTRAINTS_FAILURE),
        (cv_errors.InsufficientRevinfoError, SubIndication.TRY_LATER),
        (cv_errors.PathBuildingError, SubIndication.NO_CERTIFICATE_CHAIN_FOUND),
        (cv_errors.InvalidCertificateError, SubIndication.CHAIN_CONSTRAINTS_FAILURE),
        (cv_errors.PathValidationError, SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE),
    )
    for kind, sub in mapping:
        if isinstance(exc, kind):
            return ChainResult(False, sub, str(exc), revinfo_problem=missing)
    if isinstance(exc, cv_errors.ValidationError | ValueError | KeyError | TypeError):
        return ChainResult(
            False,
            SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE,
            f"{type(exc).__name__}: {str(exc)[:160]}",
            revinfo_problem=missing,
        )
    raise exc
