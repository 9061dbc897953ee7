"""A guest's screen inside the terminal (libvirt screenshots) and its keyboard
(send-key), plus the full viewer through vtui's SSH connection.

The screen (Pillow, textual-image) is imported on first use: the CLI imports only
the terminal question (`detect_graphics`), which must run before the app starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vtui.screens.peek.terminal import detect_graphics, graphics_mode

if TYPE_CHECKING:
    from vtui.screens.peek.screen import PeekScreen, open_peek

__all__ = ["PeekScreen", "detect_graphics", "graphics_mode", "open_peek"]


def __getattr__(name: str) -> Any:
    if name in ("PeekScreen", "open_peek"):
        from vtui.screens.peek import screen

        return getattr(screen, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
