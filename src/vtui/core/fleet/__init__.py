"""The set of hosts vtui watches, and turning what the user typed into hosts."""

from vtui.core.fleet.fleet import Fleet

__all__ = ["Fleet"]
