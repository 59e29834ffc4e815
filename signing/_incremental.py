"""pyHanko's incremental writer, preparing the document once per write.

pyHanko 0.38's ``IncrementalPdfFileWriter.write`` prepares the document for writing
(``_prep_dom_for_writing``: font subsets flushed, /Info's ModDate and the XMP packet
rewritten) and then calls ``BasePdfFileWriter.write``, which prepares it again: the XMP
packet is rebuilt and serialised twice per seal. :class:`IncrementalWriter` prepares it
once; what it writes is what pyHanko writes (the second preparation only sets the same
dates again).
"""

from __future__ import annotations

from typing import Any

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.writer import BasePdfFileWriter

__all__ = ["IncrementalWriter"]


class IncrementalWriter(IncrementalPdfFileWriter):
    """``IncrementalPdfFileWriter`` whose :meth:`write` prepares the document once."""

    def write(self, stream: Any) -> None:
        if not self.objects and not self._force_write_when_empty:
            super().write(stream)  # nothing changed: the original only, as pyHanko does
            return
        BasePdfFileWriter.write(self, stream)  # prepares, then writes the update
