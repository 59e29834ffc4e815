"""Certified copies (加注件): the original PDF plus one sealed, annotated incremental update.

- :class:`CopyAnnotation`: the 加注 (制作时间, 制作者, 制作事由, 有效期截止时间), copy id,
  verification URL and an optional transparency-log proof.
- :class:`CopyMaker`: built once around a :class:`signing.seal.Sealer`;
  ``make(original, annotation)`` returns the copy (B-LT, one incremental update).
- :class:`CopyPlacement`: where the 加注 box goes first; the maker takes the first corner
  blank in the original (:mod:`signing.copies.corner`) or refuses the copy.
- :func:`read_copy_info`: the 加注 fields back from a copy's information dictionary.

The font, the QR code and the appearance are in :mod:`signing.copies.font`,
:mod:`signing.qr` and :mod:`signing.copies.appearance`.
"""

from signing.copies.annotation import CopyAnnotation
from signing.copies.maker import INFO_KEYS, CopyMaker, CopyPlacement, read_copy_info

__all__ = ["INFO_KEYS", "CopyAnnotation", "CopyMaker", "CopyPlacement", "read_copy_info"]
