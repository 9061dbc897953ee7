"""Actions on many guests: marking by pattern, one confirmation listing every guest,
the results as a list (the work is the core's: vtui.core.guests.bulk)."""

from vtui.screens.bulk.flow import run_bulk_flow
from vtui.screens.bulk.migrate import BulkMigrateScreen
from vtui.screens.bulk.pattern import MarkPatternScreen
from vtui.screens.bulk.results import BulkResultsScreen

__all__ = ["BulkMigrateScreen", "BulkResultsScreen", "MarkPatternScreen", "run_bulk_flow"]
