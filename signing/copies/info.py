"""Writing entries into a PDF's document information dictionary, in the revision being
written (certified copies and sealed deposits record their notes there, under the seal)."""

from __future__ import annotations

from collections.abc import Mapping

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name, pdf_string
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

__all__ = ["update_info"]


def update_info(writer: IncrementalPdfFileWriter, values: Mapping[str, str]) -> None:
    """Set ``values`` (PDF name -> text) in the information dictionary, creating it if the
    document has none; other entries are kept."""
    entries = {pdf_name(key): pdf_string(value) for key, value in values.items()}
    info_ref = getattr(writer, "_info", None)
    if isinstance(info_ref, generic.IndirectObject):
        info = info_ref.get_object()
        info.update(entries)
        writer.update_container(info)
        writer.mark_update(info_ref)
    else:
        writer.set_info(generic.DictionaryObject(entries))
