"""A guest's snapshots: the tree, create (a small form), revert and delete with
confirmations naming what is lost. The work is the core's (vtui.core.guests)."""

from vtui.screens.snapshots.form import SnapshotFormScreen
from vtui.screens.snapshots.screen import SnapshotsScreen

__all__ = ["SnapshotFormScreen", "SnapshotsScreen"]
