"""Adding validation data to a document's DSS in the incremental update being written.

What pyHanko's ``DocumentSecurityStore.supply_dss_in_writer`` does for a seal whose DSS
goes into its own revision, without parsing anything: the certificates, OCSP responses
and CRLs arrive as DER bytes (prepared once by the sealer), and an item already in the
DSS is recognised by its bytes. The DSS dictionary keeps its other entries (/VRI...);
each of /Certs, /OCSPs and /CRLs becomes its existing entries plus one new stream per
new item, as pyHanko writes it (a sealed copy's update thus looks the same to every
verifier that accepted pyHanko's).
"""

from __future__ import annotations

from collections.abc import Sequence

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

__all__ = ["write_dss"]


def write_dss(
    writer: IncrementalPdfFileWriter,
    *,
    certs: Sequence[bytes],
    ocsps: Sequence[bytes] = (),
    crls: Sequence[bytes] = (),
) -> None:
    """Add ``certs``, ``ocsps`` and ``crls`` (DER) to the DSS in ``writer``'s update,
    creating the DSS if the document has none; items already there are not repeated."""
    root = writer.root
    if "/DSS" in root:
        dss = root["/DSS"]
        if not isinstance(dss, generic.DictionaryObject):
            raise ValueError("the document's /DSS is not a dictionary")
        created = False
    else:
        dss = generic.DictionaryObject()
        created = True
    changed = False
    for key, items in (("/Certs", certs), ("/OCSPs", ocsps), ("/CRLs", crls)):
        changed |= _add_streams(writer, dss, key, items)
    if created:
        root[pdf_name("/DSS")] = writer.add_object(dss)
        writer.update_root()
    elif changed:
        writer.update_container(dss)


def _add_streams(
    writer: IncrementalPdfFileWriter,
    dss: generic.DictionaryObject,
    key: str,
    items: Sequence[bytes],
) -> bool:
    """Append a stream to ``dss[key]`` for each item not in it yet; whether any was."""
    present = dss[key] if key in dss else None  # noqa: SIM401 - get() does not resolve
    if present is not None and not isinstance(present, generic.ArrayObject):
        raise ValueError(f"the document's DSS {key} is not an array")
    refs = [present.raw_get(i) for i in range(len(present))] if present is not None else []
    known = {ref.get_object().data for ref in refs}
    new = []
    for der in items:
        if der not in known:
            known.add(der)
            new.append(writer.add_object(generic.StreamObject(stream_data=der)))
    if not new:
        return False
    dss[pdf_name(key)] = generic.ArrayObject([*refs, *new])
    return True
