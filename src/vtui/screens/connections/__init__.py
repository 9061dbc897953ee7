"""Saved hosts: the list and its add/edit form."""

from vtui.screens.connections.form import HostForm
from vtui.screens.connections.screen import ConnectionsScreen

__all__ = ["ConnectionsScreen", "HostForm"]
