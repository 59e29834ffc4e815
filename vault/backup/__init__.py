"""Backups that restore: the database (one snapshot), the blobs it references, the keys'
references, with a manifest of digests; restore refuses a damaged or partial backup and a
non-empty target, and changes nothing when it refuses."""

from vault.backup.create import BackupSummary, create_backup
from vault.backup.manifest import BackupRefused, Manifest
from vault.backup.restore import RestoreSummary, restore_backup, verify_backup

__all__ = [
    "BackupRefused",
    "BackupSummary",
    "Manifest",
    "RestoreSummary",
    "create_backup",
    "restore_backup",
    "verify_backup",
]
