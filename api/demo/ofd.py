"""The demo's OFD licenses: an SM2 PKI of its own, the sample drawn as an OFD page, and the
issuing department's GB/T 38540 V4 seal (with its red seal image) added by SM2.

The SM2 PKI (:class:`signing.ofd.pki.Sm2DemoPKI`: root, issuing CA, seal maker, one signer
per OFD-issuing department) is kept in ``DATA_DIR/pki/sm2-pki.json``: the certificates
only. Its keys are never written: they are derived from the demo PKI's password
(``DATA_DIR/keys/pki_password.hex``), so the next run of the demo has the same keys for the
same certificates. Its root, CA, CRLs and seal maker go into the demo trust bundle beside
the PDF ones, so ``evault verify --trust trust-bundle.json license.ofd`` passes offline.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

from api.demo.drawing import SampleLicense, cn_date
from signing.ofd.pki import Sm2DemoPKI, Sm2Identity, seal_image
from signing.ofd.sealer import OfdSealer
from signing.ofd.writer import NS, write_package
from vault.errors import ConfigError

__all__ = ["OfdIssuers", "load_sm2_pki", "render_ofd", "sm2_seed"]

SM2_FILE = "sm2-pki.json"
_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
_WRAP = 34  # characters per line at 4.2 mm on a 170 mm wide text area
_LINE = 8.5  # mm between lines


def sm2_seed(password: str) -> bytes:
    return hmac.new(password.encode(), b"evault demo SM2 PKI", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def load_sm2_pki(
    directory: Path, password: str, departments: Sequence[tuple[str, str]], now: dt.datetime
) -> Sm2DemoPKI:
    """The demo's SM2 PKI: the one in ``directory`` (its certificates, with the keys derived
    again from ``password``), or a new one for ``departments`` as of ``now``, saved there.

    ConfigError when the saved one does not fit (another password, other departments).
    """
    path = directory / SM2_FILE
    if not path.is_file():
        pki = Sm2DemoPKI.build(seed=sm2_seed(password), departments=departments, now=now)
        directory.mkdir(parents=True, exist_ok=True)
        manifest = {
            "built_for": now.isoformat(),
            "departments": [list(d) for d in departments],
            "root": _b64(pki.root.cert),
            "ca": _b64(pki.ca.cert),
            "maker": _b64(pki.maker.cert),
            "signers": {name: _b64(ident.cert) for name, ident in pki.signers.items()},
        }
        path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", "utf-8")
        return pki
    try:
        manifest = json.loads(path.read_text("utf-8"))
        saved = [(str(n), str(c)) for n, c in manifest["departments"]]
        built = Sm2DemoPKI.build(
            seed=sm2_seed(password),
            departments=saved,
            now=dt.datetime.fromisoformat(manifest["built_for"]),
        )
        pki = Sm2DemoPKI(
            root=_same_key(manifest["root"], built.root),
            ca=_same_key(manifest["ca"], built.ca),
            maker=_same_key(manifest["maker"], built.maker),
            signers={n: _same_key(manifest["signers"][n], built.signers[n]) for n, _ in saved},
            now=built.now,
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"the demo's SM2 PKI in {path} is unusable: {exc}") from None
    if {c for _, c in departments} - {c for _, c in saved}:
        raise ConfigError(
            f"{path} was made by an older evault demo (no SM2 seal for every OFD issuer): "
            "remove the demo's data directory and run the demo again"
        )
    return pki


def _same_key(cert_b64: str, built: Sm2Identity) -> Sm2Identity:
    """The saved certificate with the key derived again; ValueError when they differ."""
    der = base64.b64decode(cert_b64, validate=True)
    saved = Sm2Identity(der, built.key)
    if bytes(saved.certificate.public_key["public_key"].native) != built.key.public_point:
        raise ValueError("a saved certificate does not match the key derived for it")
    return saved


def sm2_trust(pki: Sm2DemoPKI) -> dict[str, list[bytes]]:
    """What the demo trust bundle takes of the SM2 PKI: its root, CA and CRLs, and its seal
    maker (印章制作单位) pinned as the one whose seals are trusted."""
    return {
        "roots": [pki.root.cert],
        "intermediates": [pki.ca.cert],
        "crls": pki.crls(),
        "seal_makers": [pki.maker.cert],
    }


class OfdIssuers:
    """Seals a sample OFD as its issuing department would: its SM2 signer and V4 seal."""

    def __init__(self, pki: Sm2DemoPKI, names: dict[str, str]) -> None:
        """``names``: each OFD issuer's name by its 统一社会信用代码."""
        self._pki = pki
        self._names = names
        self._sealers: dict[str, OfdSealer] = {}

    def seal(self, ofd: bytes, issuer_code: str, label: str = "") -> bytes:
        if issuer_code not in self._sealers:
            name = self._names[issuer_code]
            seal = self._pki.seal_for(name, image=seal_image(label or name))
            self._sealers[issuer_code] = OfdSealer(self._pki.signers[name], seal)
        return self._sealers[issuer_code].seal_ofd(ofd, boundary=(140, 225, 42, 42))

    def signer_fingerprints(self) -> dict[str, str]:
        """SHA-256 of each OFD issuer's SM2 signer certificate, by credit code."""
        return {
            code: hashlib.sha256(self._pki.signers[name].cert).hexdigest()
            for code, name in self._names.items()
        }


def _wrap(text: str) -> list[str]:
    return [text[i : i + _WRAP] for i in range(0, len(text), _WRAP)] or [""]


def _lines(lic: SampleLicense) -> list[str]:
    valid = cn_date(lic.valid_until) if lic.valid_until else "长期"
    rows = [
        ("证照编号", lic.number),
        ("持证主体", lic.holder_name),
        ("持证主体代码", lic.holder_id),
        *lic.fields.items(),
        ("有效期至", valid),
        ("颁发机构", lic.issuer_name),
        ("颁发日期", cn_date(lic.issue_date)),
    ]
    out: list[str] = []
    for label, value in rows:
        out += _wrap(f"{label}：{value}")
    return out


def render_ofd(lic: SampleLicense) -> bytes:
    """The unsealed one-page OFD (A4, GB/T 33190) of ``lic``: its title, then each field."""
    title = (
        f'<ofd:TextObject ID="10" Boundary="20 20 170 14" Font="2" Size="9">'
        f'<ofd:FillColor Value="0 0 0"/><ofd:TextCode X="{85 - 4.5 * len(lic.kind):.1f}" '
        f'Y="10">{escape(lic.kind)}</ofd:TextCode></ofd:TextObject>'
    )
    body = [
        f'<ofd:TextObject ID="{11 + i}" Boundary="20 {45 + _LINE * i:.1f} 170 7" Font="2" '
        f'Size="4.2"><ofd:FillColor Value="0 0 0"/><ofd:TextCode X="0" Y="5">'
        f"{escape(line)}</ofd:TextCode></ofd:TextObject>"
        for i, line in enumerate(_lines(lic))
    ]
    parts = {
        "OFD.xml": (
            f'{_HEAD}<ofd:OFD xmlns:ofd="{NS}" DocType="OFD" Version="1.0"><ofd:DocBody>'
            f"<ofd:DocInfo><ofd:DocID>{hashlib.sha256(lic.number.encode()).hexdigest()[:32]}"
            f"</ofd:DocID><ofd:Title>{escape(lic.kind)}</ofd:Title>"
            f"<ofd:Author>{escape(lic.issuer_name)}</ofd:Author>"
            f"<ofd:CreationDate>{lic.issue_date.isoformat()}</ofd:CreationDate>"
            "<ofd:Creator>evault demo</ofd:Creator></ofd:DocInfo>"
            "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"
        ),
        "Doc_0/Document.xml": (
            f'{_HEAD}<ofd:Document xmlns:ofd="{NS}"><ofd:CommonData>'
            f"<ofd:MaxUnitID>{11 + len(body)}</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>"
            "0 0 210 297</ofd:PhysicalBox></ofd:PageArea><ofd:PublicRes>PublicRes.xml"
            "</ofd:PublicRes></ofd:CommonData>"
            '<ofd:Pages><ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages>'
            "</ofd:Document>"
        ),
        "Doc_0/PublicRes.xml": (
            f'{_HEAD}<ofd:Res xmlns:ofd="{NS}" BaseLoc="Res"><ofd:Fonts>'
            '<ofd:Font ID="2" FontName="宋体" FamilyName="宋体"/></ofd:Fonts></ofd:Res>'
        ),
        "Doc_0/Pages/Page_0/Content.xml": (
            f'{_HEAD}<ofd:Page xmlns:ofd="{NS}"><ofd:Content><ofd:Layer ID="9">'
            + title
            + "".join(body)
            + "</ofd:Layer></ofd:Content></ofd:Page>"
        ),
    }
    return write_package({k: v.encode("utf-8") for k, v in parts.items()})
