"""The host screen: one host's overview, KSM, storage pools and volumes, virtual
networks and devices, a tab each (see screen.py)."""

from vtui.screens.host.screen import SECTIONS, HostScreen

__all__ = ["SECTIONS", "HostScreen"]
