"""Backups while the app runs, and restoring them (optionally encrypted with a key the
clinic keeps). See :mod:`.snapshot` for what a backup holds and :mod:`.restore` for the
order a restore follows."""

from .manifest import IMAGES, MANIFEST, PG_FILE, SQLITE_FILE, BackupError, check_backup, read_manifest
from .restore import RestoreResult, database_is_empty, restore
from .snapshot import BackupResult, backup

__all__ = [
    "IMAGES",
    "MANIFEST",
    "PG_FILE",
    "SQLITE_FILE",
    "BackupError",
    "BackupResult",
    "RestoreResult",
    "backup",
    "check_backup",
    "database_is_empty",
    "read_manifest",
    "restore",
]
