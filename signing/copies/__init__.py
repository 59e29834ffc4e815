"""Certified copies (加注件): the original PDF plus one sealed, annotated incremental update.

- :class:`CopyAnnotation`: the 加注 (制作时间, 制作者, 制作事由, 有效期截止时间, verify URL).
- :class:`CopyMaker`: built once from a :class:`signing.seal.Sealer`; ``make(original,
  annotation)`` returns the copy.
"""

from signing.copies.annotation import CopyAnnotation

__all__ = ["CopyAnnotation"]
