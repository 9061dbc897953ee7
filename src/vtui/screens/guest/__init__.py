"""A guest's details and configuration: sections, graphs, the XML editor, and every
change reviewed (diff, virsh equivalent, live/persistent) before it is applied."""

from vtui.screens.guest.screen import GuestScreen

__all__ = ["GuestScreen"]
