"""Where image bytes live. One small interface; the filesystem backend is the default.

Keys are relative, slash-separated names such as ``originals/ab/abcdef...``.
Originals are written once, named by their SHA-256, and never modified.
"""

from tracker.config import Config

from .base import Storage, StorageError, original_key, validate_key
from .filesystem import FileSystemStorage

__all__ = ["FileSystemStorage", "Storage", "StorageError", "original_key", "validate_key"]


def storage_from_config(config: Config) -> Storage:
    """The storage backend a :class:`tracker.config.Config` asks for (filesystem today)."""
    return FileSystemStorage(config.STORAGE_PATH)
