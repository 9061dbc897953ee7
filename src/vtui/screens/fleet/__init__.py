"""The main screen: every guest of every host."""

from vtui.screens.fleet.screen import FleetScreen

__all__ = ["FleetScreen"]
