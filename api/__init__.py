"""FastAPI application over ``vault`` and ``signing``. Nothing imports ``api``."""
