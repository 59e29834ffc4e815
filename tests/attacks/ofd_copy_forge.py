"""Building blocks for the second OFD red team (certified copies, the 加注 exception):
annotations and attachments added after a genuine issuer seal, the sealers that may add
them (an attacker's own SM2 PKI, another department of the trusted PKI, the vault), and
the vault's certified copy of a genuine license."""

from __future__ import annotations

import datetime as dt
import functools
import json
import posixpath
import random
import re
from pathlib import Path
from typing import Any

from signing.copies.annotation import CopyAnnotation
from signing.ofd.copy import CopyPlan, OfdCopyMaker
from signing.ofd.dlreader import dl_annotation
from signing.ofd.sealer import OfdSealer
from signing.ofd.writer import write_package
from signing.transparency import Checkpoint, CopyLogProof, LogEvent, LogSigner
from tests.attacks.ofd_forge import attacker_pki, genuine
from tests.helpers.ofd import VAULT_NAME, ofd_parts, ofd_sealer, sm2_vault
from tests.helpers.pki import PUBLIC_SECURITY_DEPT

NS = "http://www.ofdspec.org/2016"
BLANK = (20.0, 100.0, 170.0, 12.0)
"""A box of the genuine license's page 1 clear of its text (y 30..76) and stamp."""


@functools.cache
def vault_maker() -> OfdCopyMaker:
    """The vault's copy maker, as tests/api builds it (chains to the test root)."""
    pki = sm2_vault()
    return OfdCopyMaker(pki.signers[VAULT_NAME], pki.seal_for(VAULT_NAME))


def own_sealer() -> OfdSealer:
    """(a) the attacker's own seal: an SM2 PKI no trust bundle knows."""
    pki = attacker_pki()
    name = next(iter(pki.signers))
    return OfdSealer(pki.signers[name], pki.seal_for(name))


def vault_sealer() -> OfdSealer:
    """(c) the vault's own copy seal (pinned in the test bundles), misused to seal what its
    copy maker would never draw: the verifier's rules must hold under it too."""
    pki = sm2_vault()
    return OfdSealer(pki.signers[VAULT_NAME], pki.seal_for(VAULT_NAME))


def other_department() -> OfdSealer:
    """(b) a seal of another department (公安局), chained to the trusted root."""
    return ofd_sealer(PUBLIC_SECURITY_DEPT)


LOG = LogSigner.generate("evault.test/log")
COPY_ID = "c0ffee"
URL = f"https://vault.example/v/{COPY_ID}"


def log_proof(copy_id: str = COPY_ID) -> bytes:
    """The vault's log proof of the copy ``copy_id`` (a one-leaf log)."""
    event = LogEvent(
        idx=0,
        time=dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
        event_type="access.copy",
        payload={"copy": copy_id},
    )
    checkpoint = Checkpoint(origin="evault.test/log", size=1, root_hash=event.leaf_hash())
    proof = CopyLogProof(
        index=0, leaf=event.leaf_data(), checkpoint=LOG.sign(checkpoint), inclusion_proof=()
    )
    return proof.to_json().encode()


def annotation(
    copy_id: str = COPY_ID, url: str = URL, days: int = 30, maker: str = "福建省电子证照库"
) -> CopyAnnotation:
    made = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    return CopyAnnotation(
        copy_id=copy_id,
        made_at=made,
        maker=maker,
        department="福州市住房和城乡建设局",
        purpose="商品房预售许可申请",
        case_no="FZ-2026-00012345",
        valid_until=made + dt.timedelta(days=days),
        verify_url=url,
        log_proof=log_proof(copy_id),
    )


@functools.cache
def vault_copy() -> bytes:
    """The vault's genuine certified copy of the genuine license."""
    return vault_maker().make(genuine(), annotation())


COPY_ANNOTATION = "Doc_0/EvaultCopy/Annotation.xml"
COPY_PARTS = ("Annotation.xml", "Annotations.xml", "Attachments.xml", "evault-copy.json")
"""The parts of the genuine license's copy a forged one takes by default (``EvaultCopy/``)."""


@functools.cache
def _genuine_plan() -> CopyPlan:
    return vault_maker().plan(genuine(), annotation())


def genuine_copy_part(name: str) -> bytes:
    """The part ``Doc_0/EvaultCopy/{name}`` of the vault's copy of the genuine license."""
    return _genuine_plan().added[f"Doc_0/EvaultCopy/{name}"]


def forged_copy(
    original: bytes, changes: dict[str, bytes], copy_parts: tuple[str, ...] = COPY_PARTS
) -> bytes:
    """A certified copy of ``original`` in a shape the vault's maker does not make, sealed
    by the vault's own copy seal: the 加注 parts ``copy_parts`` of the genuine license's
    copy (``Doc_0/EvaultCopy/``; ``original`` must show the genuine license's page, so the
    加注 lies clear of its text), the parts ``changes`` (what links them, in the shape under
    test) and the vault's stamp where its maker puts it. The log proof's two forms are left
    out (the copy's Attachments.xml then names what the package lacks), so
    ``evault-copy.json``'s list is rebuilt to name it alone."""
    plan = _genuine_plan()
    parts = ofd_parts(original)
    for name in copy_parts:
        parts[f"Doc_0/EvaultCopy/{name}"] = plan.added[f"Doc_0/EvaultCopy/{name}"]
    if "Attachments.xml" in copy_parts:
        parts["Doc_0/EvaultCopy/Attachments.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Attachments xmlns:ofd="{NS}">'
            f"{COPY_INFO_ENTRY}</ofd:Attachments>"
        ).encode()
    parts.update(changes)
    return seal(parts, vault_sealer(), box=plan.stamp)


COPY_INFO_ENTRY = (
    '<ofd:Attachment ID="990" Name="evault-copy.json" Format="json" Visible="false">'
    "<ofd:FileLoc>/Doc_0/EvaultCopy/evault-copy.json</ofd:FileLoc></ofd:Attachment>"
)
"""The copy's attachment entry (its ``evault-copy.json``), for a list of the original's."""
COPY_ANNOTATION_ENTRY = (
    '<ofd:Page PageID="1"><ofd:FileLoc>/Doc_0/EvaultCopy/Annotation.xml</ofd:FileLoc></ofd:Page>'
)
"""The copy's annotation entry, absolute (for a list other than ``Annots/``, where ofdrw's
DLOFDReader reads it otherwise: :func:`signing.ofd.dlreader.dl_annotation`)."""


def cli_verify(data: bytes, tmp: Path) -> tuple[int, dict[str, Any]]:
    """``evault verify copy.ofd --trust BUNDLE --log-key KEY --json``: exit code, report."""
    from typer.testing import CliRunner

    from tests.helpers.ofd import sm2_bundle
    from vault.cli import build_app

    (tmp / "copy.ofd").write_bytes(data)
    (tmp / "bundle.json").write_bytes(sm2_bundle().dump())
    (tmp / "log.pem").write_bytes(LOG.verifier().public_pem())
    args = ["verify", str(tmp / "copy.ofd"), "--trust", str(tmp / "bundle.json")]
    result = CliRunner().invoke(build_app(), [*args, "--log-key", str(tmp / "log.pem"), "--json"])
    try:
        return result.exit_code, json.loads(result.output)
    except ValueError:
        return result.exit_code, {"output": result.output}


def text(box: tuple[float, ...], line: str, oid: int = 900) -> str:
    """A TextObject (font 2 of the genuine license) drawing ``line`` in ``box``."""
    b = " ".join(f"{v:g}" for v in box)
    return (
        f'<ofd:TextObject ID="{oid}" Boundary="{b}" Font="2" Size="5">'
        f'<ofd:FillColor Value="0 0 0"/><ofd:TextCode X="0" Y="5">{line}</ofd:TextCode>'
        "</ofd:TextObject>"
    )


def white(box: tuple[float, ...], oid: int = 901, extra: str = "") -> str:
    """A filled white rectangle PathObject over ``box`` (its own space: 0 0 w h)."""
    b = " ".join(f"{v:g}" for v in box)
    return (
        f'<ofd:PathObject ID="{oid}" Boundary="{b}" Fill="true" Stroke="false"{extra}>'
        f'<ofd:FillColor Value="255 255 255"/>'
        f"<ofd:AbbreviatedData>M 0 0 L {box[2]:g} 0 L {box[2]:g} {box[3]:g} L 0 {box[3]:g} C"
        "</ofd:AbbreviatedData></ofd:PathObject>"
    )


def page_annot(boundary: str, objects: str, extra: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:PageAnnot xmlns:ofd="{NS}">'
        f'<ofd:Annot ID="950" Type="Stamp" Creator="x"{extra}>'
        f'<ofd:Appearance Boundary="{boundary}">{objects}</ofd:Appearance>'
        "</ofd:Annot></ofd:PageAnnot>"
    ).encode()


def add_annotation(
    data: bytes,
    annot: bytes,
    *,
    page_id: str = "1",
    folder: str = "Doc_0/Forged/",
    doc_insert: bytes | None = None,
) -> dict[str, bytes]:
    """The parts of ``data`` with an ``<Annotations>`` list appended to Document.xml (or,
    when it has one, an entry appended to that list) naming a new annotation part."""
    parts = ofd_parts(data)
    doc = parts["Doc_0/Document.xml"]

    def entry(loc: str) -> bytes:
        return f'<ofd:Page PageID="{page_id}"><ofd:FileLoc>{loc}</ofd:FileLoc></ofd:Page>'.encode()

    parts[f"{folder}Annot.xml"] = annot
    if b"Annotations>" in doc:
        listed = next(p for p in parts if p.endswith("Annotations.xml"))
        at = parts[listed].rindex(b"</ofd:Annotations>")
        parts[listed] = (
            parts[listed][:at] + entry(_dl_alike(doc, listed, folder)) + parts[listed][at:]
        )
        return parts
    # relative, as ofdrw writes it: its DLOFDReader opens /Doc_0/Forged/Annot.xml as
    # Doc_0/Forged/Forged/Annot.xml (signing.ofd.dlreader)
    parts[f"{folder}Annotations.xml"] = (
        (f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Annotations xmlns:ofd="{NS}">').encode()
        + entry("Annot.xml")
        + b"</ofd:Annotations>"
    )
    insert = doc_insert or f"<ofd:Annotations>/{folder}Annotations.xml</ofd:Annotations>".encode()
    at = doc.rindex(b"</ofd:Document>")
    parts["Doc_0/Document.xml"] = doc[:at] + insert + doc[at:]
    return parts


def _dl_alike(doc: bytes, listed: str, folder: str) -> str:
    """A location of ``{folder}Annot.xml`` in the list ``listed`` that ofdrw's DLOFDReader
    opens as that part too (else the file is refused before the rule under test)."""
    part = f"{folder}Annot.xml"
    text = re.search(rb"<ofd:Annotations>([^<]*)</ofd:Annotations>", doc)
    assert text is not None
    for loc in (f"/{part}", posixpath.relpath(part, listed.rsplit("/", 1)[0])):
        if dl_annotation(loc, "Doc_0/Document.xml", text.group(1).decode()) == part:
            return loc
    raise AssertionError(f"no location of {part} in {listed} that DLOFDReader opens")


def seal(
    parts: dict[str, bytes],
    sealer: OfdSealer | None,
    box: tuple[float, float, float, float] = (150, 120, 40, 40),
) -> bytes:
    """The package of ``parts``, continue-signed by ``sealer`` (none: as it is)."""
    data = write_package(parts)
    if sealer is None:
        return data
    return sealer.seal_ofd(data, boundary=box, at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))


def digest_storm(seals: int, pad: int) -> bytes:
    """Document.xml padded to ``pad`` bytes with 64 appended ``<Annotations>`` naming new
    parts, re-sealed ``seals`` times (own seal), a padding byte flipped before each seal:
    every earlier seal's check tries all 64 strip choices, each an SM3 of the whole part."""
    parts = ofd_parts(genuine())
    doc = parts["Doc_0/Document.xml"]
    at = doc.rindex(b"</ofd:Document>")
    links = b"".join(
        f"<ofd:Annotations>/Doc_0/F/A{i}.xml</ofd:Annotations>".encode() for i in range(64)
    )
    filler = bytes(random.Random(0).choices(b"acgt", k=pad))  # inflates ~4-fold: no bomb
    # a comment: text between Document's children would be mixed content, refused
    parts["Doc_0/Document.xml"] = doc[:at] + b"<!--" + filler + b"-->" + links + doc[at:]
    sealer = own_sealer()
    for n in range(seals):
        doc = parts["Doc_0/Document.xml"]
        at = doc.rindex(b"</ofd:Document>") - len(links) - len(b"-->") - 1 - n
        parts["Doc_0/Document.xml"] = doc[:at] + b"t" + doc[at + 1 :]
        parts = ofd_parts(sealer.seal_ofd(write_package(parts), at=dt.datetime.now(dt.UTC)))
    return write_package(parts)
