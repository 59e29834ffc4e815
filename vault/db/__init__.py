"""Database plumbing: the declarative base, column types and the engine/session factory."""

from vault.db.base import Base, IdType, UTCDateTime, utcnow
from vault.db.engine import make_engine, make_session_factory, session_scope

__all__ = [
    "Base",
    "IdType",
    "UTCDateTime",
    "make_engine",
    "make_session_factory",
    "session_scope",
    "utcnow",
]
