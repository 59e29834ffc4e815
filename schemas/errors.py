"""The one error tree of ``schemas``: a value that breaks a rule of its format."""

from __future__ import annotations

__all__ = ["InvalidValue", "SchemaError"]


class SchemaError(Exception):
    """Base of every error raised by ``schemas``."""


class InvalidValue(SchemaError, ValueError):
    """A value breaks a rule of its format; ``rule`` names the rule, ``str()`` explains it.

    Subclasses ``ValueError`` so that pydantic turns it into a validation error.
    The message never repeats a holder ID number in clear.
    """

    def __init__(self, kind: str, rule: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.rule = rule
        self.message = message
