"""activelab desktop app (Qt). See app/refcount_guard.py for why it is imported first."""
from app import refcount_guard as _refcount_guard  # noqa: F401  (PySide6 6.12 / Python 3.11 work-around)
