"""The demo's samples drawn, sealed by their issuers and pushed through the real intake;
the unsealed specimen an issuer's developer tries the API with.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from api.demo.drawing import render_license
from api.demo.fields import demo_field_values
from api.demo.samples import (
    HOLDERS,
    LICENSES,
    OFD_TYPES,
    SEAL_LABELS,
    SPECIMEN,
    SPECIMEN_NAME,
    sample,
)
from vault.settings import Settings

__all__ = ["PdfIssuers", "ingest_samples", "write_specimen"]

SAMPLES_DIR = "samples"


class PdfIssuers:
    """Seals a sample as its issuing department would (PAdES B-LT, the demo's TSA and CRLs)."""

    def __init__(self, pki: Any) -> None:
        from signing.timestamps import EmbeddedTSA

        self._pki = pki
        self._tsa = EmbeddedTSA(
            certificate=pki.tsa.certificate, private_key=pki.tsa.private_key, chain=pki.chain
        )
        self._sealers: dict[str, Any] = {}

    def seal(self, pdf: bytes, issuer_code: str) -> bytes:
        from signing.keys import LocalKeySource
        from signing.seal import PadesLevel, Sealer

        if issuer_code not in self._sealers:
            identity = self._pki.issuing_department_seal(issuer_code)
            source = LocalKeySource(
                certificate=identity.certificate,
                private_key=identity.private_key,
                chain=self._pki.chain,
            )
            self._sealers[issuer_code] = Sealer(
                source, timestamper=self._tsa, crls=self._pki.crls()
            )
        sealed: bytes = self._sealers[issuer_code].seal(
            pdf, level=PadesLevel.B_LT, reason="发证", location="福州市"
        )
        return sealed


def ingest_samples(
    vault: Any, settings: Settings, issuers: tuple[PdfIssuers, Any], ids: dict[str, int]
) -> None:
    """Draw, seal and push through the real intake every sample the vault does not hold:
    a PDF sealed PAdES, or for the OFD types an OFD sealed with SM2."""
    from api.demo.ofd import render_ofd
    from vault.services.intake import ingest
    from vault.services.license_fields import store_values
    from vault.services.lifecycle import find_license

    pdf_issuers, ofd_issuers = issuers
    today = dt.datetime.now(dt.UTC).date()
    for serial, license_type, holder_index, number, fields in LICENSES:
        type_code, _name, _kind, (_, issuer_code) = license_type
        with vault.session() as session:
            existing = find_license(
                session=session,
                type_code=type_code,
                issuer_department_id=ids[issuer_code],
                number=number,
            )
        if existing is not None:
            continue
        meta, drawn = sample(serial, license_type, HOLDERS[holder_index], number, fields, today)
        if type_code in OFD_TYPES:
            label = SEAL_LABELS.get(issuer_code, "")
            data, kind = ofd_issuers.seal(render_ofd(drawn), issuer_code, label), "ofd"
        else:
            data, kind = pdf_issuers.seal(render_license(drawn), issuer_code), "pdf"
        with vault.session() as session:
            pushed = ingest(
                session=session,
                blobs=vault.blobs,
                verifier=vault.verifier,
                crypto=vault.crypto,
                metadata=meta,
                pdf=data,
                pushed_by_department_id=ids[issuer_code],
                file_name=f"demo-{serial}.{kind}",
                require_revocation=settings.intake_require_revocation,
                declared_type=f"application/{kind}",
            )
            values = demo_field_values(license_type[1], HOLDERS[holder_index], fields)
            if values is not None:
                store_values(
                    session=session, crypto=vault.crypto, license=pushed.license, values=values
                )
                session.commit()


def write_specimen(settings: Settings) -> Path:
    """``samples/SPECIMEN_NAME.pdf`` (unsealed) and ``.json`` (its metadata), once."""
    directory = settings.data_dir / SAMPLES_DIR
    pdf_path = directory / f"{SPECIMEN_NAME}.pdf"
    if pdf_path.is_file():
        return pdf_path
    serial, license_type, holder, number, fields = SPECIMEN
    meta, drawn = sample(serial, license_type, holder, number, fields, dt.date.today())
    directory.mkdir(parents=True, exist_ok=True)
    body = meta.model_dump(mode="json", exclude_none=True)
    body["holder_id"] = holder[1]
    pdf_path.with_suffix(".json").write_text(
        json.dumps(body, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    pdf_path.write_bytes(render_license(drawn))
    return pdf_path
