"""Live and offline migration: options, pre-flight checks, jobs with progress."""

from vtui.core.migration.bulk import default_options, migrate_action
from vtui.core.migration.checks import FAIL, PASS, WARN, Check, failures, preflight
from vtui.core.migration.jobs import (
    MigrationJob,
    MigrationJobs,
    MigrationRefused,
    default_jobs,
    start_migration,
)
from vtui.core.migration.options import (
    COPY_STORAGE,
    MigrationOptions,
    migration_stream_uri,
    peer_uri,
)
from vtui.core.migration.progress import (
    CANCELLED,
    COMPLETED,
    FAILED,
    RUNNING,
    MigrationProgress,
    MigrationSummary,
)

__all__ = [
    "CANCELLED",
    "COMPLETED",
    "COPY_STORAGE",
    "FAIL",
    "FAILED",
    "PASS",
    "RUNNING",
    "WARN",
    "Check",
    "MigrationJob",
    "MigrationJobs",
    "MigrationOptions",
    "MigrationProgress",
    "MigrationRefused",
    "MigrationSummary",
    "default_jobs",
    "default_options",
    "failures",
    "migrate_action",
    "migration_stream_uri",
    "peer_uri",
    "preflight",
    "start_migration",
]
