"""What is done to guests: lifecycle actions, the serial console, the screen and
keyboard, snapshots, clones, renames, and any of these over many guests at once;
creating guests (create/) and configuring them (config/).

Each name below is loaded from its module on first use (vtui.core.lazy)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vtui.core.lazy import LazyExports

if TYPE_CHECKING:
    from vtui.core.guests.bulk import (
        BulkAction,
        BulkPlan,
        BulkResult,
        BulkTarget,
        check_bulk,
        delete_action,
        lifecycle_action,
        plan_bulk,
        run_bulk,
        snapshot_action,
    )
    from vtui.core.guests.clone import CloneResult, clone_guest, plan_clone
    from vtui.core.guests.clone_plan import ClonePlan, DiskCopy
    from vtui.core.guests.rename import RenameResult, rename_guest, rename_refusal
    from vtui.core.guests.selection import BadPattern, guest_matcher, is_pattern, name_matcher
    from vtui.core.guests.snapshot_rules import (
        SnapshotOutcome,
        SnapshotPlan,
        SnapshotRequest,
        default_name,
    )
    from vtui.core.guests.snapshot_xml import EXTERNAL, INTERNAL, Snapshot
    from vtui.core.guests.snapshots import (
        create_snapshot,
        delete_outcome_of,
        delete_snapshot,
        list_snapshots,
        plan_snapshot,
        revert_outcome,
        revert_snapshot,
    )

_EXPORTS = LazyExports(
    __name__,
    {
        "bulk": (
            "BulkAction",
            "BulkPlan",
            "BulkResult",
            "BulkTarget",
            "check_bulk",
            "delete_action",
            "lifecycle_action",
            "plan_bulk",
            "run_bulk",
            "snapshot_action",
        ),
        "clone": ("CloneResult", "clone_guest", "plan_clone"),
        "clone_plan": ("ClonePlan", "DiskCopy"),
        "rename": ("RenameResult", "rename_guest", "rename_refusal"),
        "selection": ("BadPattern", "guest_matcher", "is_pattern", "name_matcher"),
        "snapshot_rules": ("SnapshotOutcome", "SnapshotPlan", "SnapshotRequest", "default_name"),
        "snapshot_xml": ("EXTERNAL", "INTERNAL", "Snapshot"),
        "snapshots": (
            "create_snapshot",
            "delete_outcome_of",
            "delete_snapshot",
            "list_snapshots",
            "plan_snapshot",
            "revert_outcome",
            "revert_snapshot",
        ),
    },
)

__all__ = [
    "EXTERNAL",
    "INTERNAL",
    "BadPattern",
    "BulkAction",
    "BulkPlan",
    "BulkResult",
    "BulkTarget",
    "ClonePlan",
    "CloneResult",
    "DiskCopy",
    "RenameResult",
    "Snapshot",
    "SnapshotOutcome",
    "SnapshotPlan",
    "SnapshotRequest",
    "check_bulk",
    "clone_guest",
    "create_snapshot",
    "default_name",
    "delete_action",
    "delete_outcome_of",
    "delete_snapshot",
    "guest_matcher",
    "is_pattern",
    "lifecycle_action",
    "list_snapshots",
    "name_matcher",
    "plan_bulk",
    "plan_clone",
    "plan_snapshot",
    "rename_guest",
    "rename_refusal",
    "revert_outcome",
    "revert_snapshot",
    "run_bulk",
    "snapshot_action",
]


def __getattr__(name: str) -> Any:
    return _EXPORTS.load(name)
