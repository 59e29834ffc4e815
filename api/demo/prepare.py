"""``evault demo``: the embedded default, filled with sample data, ready to call.

Idempotent on one data directory: the demo PKI, trust bundle, departments, credentials,
holders and licenses made by a first run are reused by the next (credentials are kept in
``DIR/demo-credentials.json``, which the operator may read: it is a demo).

Sample data: three issuing departments (市场监督管理局: 营业执照 and 食品经营许可证 for the
demo company; 公安局: 居住证 for two citizens; 自然资源和规划局: a 不动产权证书), two using
departments (住房和城乡建设局 with a standing permission for 营业执照 and 居住证; 税务局 with
none, so it needs the holder's consent), an auditor (audit:read), two citizens and one
company. Every license is drawn like the real one in Chinese (:mod:`api.demo.drawing`) and
ingested through the real intake: the 营业执照 and 居住证 as PDFs sealed PAdES B-LT by their
issuer's demo seal; the 食品经营许可证 and the 不动产权证书 as OFD files (GB/T 33190) sealed
with their issuer's SM2 electronic seal (GB/T 38540 V4, with the seal's image) from the
demo's SM2 PKI (:mod:`api.demo.ofd`), whose root is in the demo trust bundle too.

``DIR/samples/`` holds one more license, drawn but neither sealed nor pushed, with its
metadata: what an issuing department's developer seals and pushes to try the API.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.demo.agents import seed_company_agents
from api.demo.catalog import department_credentials, ensure_catalog
from api.demo.hsm import DemoHsm, prepare_demo_hsm
from api.demo.intake import PdfIssuers, ingest_samples, write_specimen
from api.demo.materials import seed_materials
from api.demo.samples import (
    HOLDERS,
    HOUSING,
    LICENSE_TYPES,
    OFD_ISSUERS,
    OFD_TYPES,
    WINDOW,
)
from api.demo.trust import demo_pki, sm2_pki, write_trust_bundle
from vault.settings import Settings

__all__ = ["DemoSummary", "prepare_demo", "serving_settings"]

CREDENTIALS_FILE = "demo-credentials.json"


@dataclass(frozen=True)
class DemoSummary:
    data_dir: Path
    base_url: str
    credentials_file: Path
    document: dict[str, Any]
    settings: Settings | None = None
    """The settings to serve the demo with (the seal key in SoftHSM2 when there is one)."""
    hsm: DemoHsm | None = None
    """Where the vault's seal key is (:mod:`api.demo.hsm`)."""

    @property
    def hsm_note(self) -> str | None:
        """The line for stderr when the seal key is a file because SoftHSM2 is missing."""
        if self.hsm is None or self.hsm.fallback is None:
            return None
        return f"evault demo: the vault's seal key is a file, not in an HSM: {self.hsm.fallback}"


def serving_settings(summary: DemoSummary) -> Settings:
    """The settings to serve the prepared demo with; points this process's SoftHSM2 at the
    demo's token first when the seal key is there."""
    from api.demo.hsm import activate

    if summary.hsm is not None:
        activate(summary.hsm)
    assert summary.settings is not None
    return summary.settings


def _load_document(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class _Keys:
    """The demo's PKIs, its seal key's place, its trust bundle and its OFD issuers."""

    pki: Any
    hsm: DemoHsm
    bundle_path: Path
    ofd_issuers: Any


def _keys(settings: Settings) -> _Keys:
    """The demo PKI and SM2 PKI, the vault's seal key (in SoftHSM2 when there is one) and
    the trust bundle that pins them: made by the first run, reused by the next."""
    from api.demo.ofd import OfdIssuers

    pki = demo_pki(settings)
    sm2 = sm2_pki(settings, pki)
    hsm = prepare_demo_hsm(settings, pki)
    seal = hsm.certificate or pki.vault_seal.certificate
    bundle_path = write_trust_bundle(settings, pki, seal, sm2)
    ofd_issuers = OfdIssuers(sm2, {code: name for name, code in OFD_ISSUERS})
    return _Keys(pki, hsm, bundle_path, ofd_issuers)


def _fill_vault(settings: Settings, keys: _Keys, known: dict[Any, Any]) -> list[dict[str, Any]]:
    """The catalogue, the samples, the materials and the company's agents, each added once;
    each department's credentials (``known``'s when still valid)."""
    from vault.bootstrap import open_vault

    vault = open_vault(settings)
    try:
        with vault.session() as session:
            ids = ensure_catalog(session, keys.pki, keys.ofd_issuers.signer_fingerprints())
            departments = department_credentials(session, ids, known)
        ingest_samples(vault, settings, (PdfIssuers(keys.pki), keys.ofd_issuers), ids)
        seed_materials(
            vault,
            settings,
            window_id=ids[WINDOW[1]],
            permits={ids[HOUSING[1]]: ("SFZ", "HKB")},
            holder=HOLDERS[0],
        )
        seed_company_agents(vault, company=HOLDERS[2], representative=HOLDERS[3], agent=HOLDERS[4])
    finally:
        vault.close()
    return departments


def _document(
    settings: Settings, bundle_path: Path, departments: list[dict[str, Any]], specimen: Path
) -> dict[str, Any]:
    """What ``demo-credentials.json`` holds: addresses, credentials, holders' tokens."""
    from api.auth.holders import HolderAuthenticator

    holders_auth = HolderAuthenticator(settings)
    base_url = settings.public_base_url.rstrip("/")
    return {
        "base_url": base_url,
        "data_dir": str(settings.data_dir),
        "trust_bundle": str(bundle_path),
        "token_url": f"{base_url}/v1/oauth/token",
        "departments": departments,
        "holders": [
            {
                "name": name,
                "holder_id": hid,
                "holder_id_type": kind,
                "token": holders_auth.mint_demo(hid),
            }
            for name, hid, kind in HOLDERS
        ],
        "license_types": [
            {
                "code": code,
                "name": name,
                "holder_kind": kind,
                "issuer_code": issuer[1],
                "file_format": "OFD" if code in OFD_TYPES else "PDF",
            }
            for code, name, kind, issuer in LICENSE_TYPES
        ],
        "specimen": {"pdf": str(specimen), "metadata": str(specimen.with_suffix(".json"))},
    }


def _write_private(path: Path, document: dict[str, Any]) -> None:
    """Write ``document`` as JSON, readable by its owner only, in one rename."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(path)


def prepare_demo(settings: Settings) -> DemoSummary:
    """Create (or reuse) everything the demo needs in ``settings.data_dir``."""
    assert settings.is_demo
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    keys = _keys(settings)
    credentials_path = settings.data_dir / CREDENTIALS_FILE
    previous = _load_document(credentials_path)
    known = {d.get("credit_code"): d for d in previous.get("departments", [])}
    departments = _fill_vault(settings, keys, known)
    specimen = write_specimen(settings)
    document = _document(settings, keys.bundle_path, departments, specimen)
    _write_private(credentials_path, document)
    hsm = keys.hsm
    serve = settings.model_copy(update=hsm.seal_settings) if hsm.seal_settings else settings
    return DemoSummary(
        settings.data_dir, document["base_url"], credentials_path, document, serve, hsm
    )
