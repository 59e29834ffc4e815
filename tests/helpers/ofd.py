"""Real OFD licenses sealed with SM2 (GB/T 38540 V4) by the test departments.

    pki = sm2_pki()                          # cached: root, CA, seal maker, one signer each
    data = license_ofd(1)                    # cached: a distinct sealed OFD per number
    data = license_ofd(1, PUBLIC_SECURITY_DEPT)

The SM2 PKI's root, CA and CRLs are in :func:`tests.vault.licenses.trust_bundle`, beside the
PDF ones, so intake verifies these files as it verifies the sealed PDFs.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import zipfile
from typing import Any

from signing.ofd.pki import Sm2DemoPKI
from signing.ofd.sealer import OfdSealer
from signing.ofd.writer import sample_ofd, write_package
from tests.helpers.pki import DEPARTMENTS, VAULT_CODE, pki_now

__all__ = [
    "license_ofd",
    "ofd_parts",
    "ofd_sealer",
    "rebuild_ofd",
    "sm2_bundle",
    "sm2_pki",
    "sm2_vault",
]

SM2_SEED = b"evault test SM2 seed"
VAULT_NAME = "evault 电子证照库"


@functools.cache
def sm2_pki() -> Sm2DemoPKI:
    """The seeded SM2 PKI of the test departments (cached per process)."""
    return Sm2DemoPKI.build(seed=SM2_SEED, departments=DEPARTMENTS, now=pki_now())


@functools.cache
def sm2_vault() -> Sm2DemoPKI:
    """The seeded SM2 PKI of the vault's OFD copy seal (same root as :func:`sm2_pki`);
    its signer is ``VAULT_NAME``."""
    return Sm2DemoPKI.build(seed=SM2_SEED, departments=[(VAULT_NAME, VAULT_CODE)], now=pki_now())


@functools.cache
def sm2_bundle() -> Any:
    """:func:`sm2_pki`'s trust bundle with the vault's OFD copy seal pinned."""
    return sm2_pki().trust_bundle(vault_seals=[sm2_vault().signers[VAULT_NAME].cert])


@functools.cache
def ofd_sealer(department_code: str) -> OfdSealer:
    """The sealer of the department with this 统一社会信用代码 (its signer and V4 seal)."""
    pki = sm2_pki()
    name = next(name for name, code in DEPARTMENTS if code == department_code)
    return OfdSealer(pki.signers[name], pki.seal_for(name))


@functools.cache
def license_ofd(n: int, department_code: str | None = None) -> bytes:
    """A distinct OFD license per ``n`` (Chinese text, an image), sealed by the department
    (default: the market regulator)."""
    code = department_code or DEPARTMENTS[0][1]
    body = sample_ofd(
        "食品经营许可证",
        [f"许可证编号：JY{n:08d}", "经营者名称：张三", "经营项目：热食类食品制售"],
    )
    return ofd_sealer(code).seal_ofd(body, at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5))


def ofd_parts(data: bytes) -> dict[str, bytes]:
    """The parts of an OFD package, by path."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def rebuild_ofd(parts: dict[str, bytes]) -> bytes:
    """An OFD package of ``parts`` (e.g. after changing one)."""
    return write_package(parts)
