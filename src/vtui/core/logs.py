"""vtui's log file: what went wrong, with tracebacks, for the user to look at later.

The screen shows one line per failure; the details (a traceback, libvirt's and SSH's
errors with their host) go here. One rotated file, so a long-running vtui never fills a
disk: ~/.local/state/vtui/vtui.log on Linux (see settings/paths.py), up to four files
of 1 MiB.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import logging
    from pathlib import Path

LEVELS = ("debug", "info", "warning", "error")
MAX_BYTES = 1 << 20
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_handler: logging.Handler | None = None


def logger(name: str) -> logging.Logger:
    """The logger of a vtui module. Until the log is configured, records go nowhere:
    Python's last-resort handler would print them over the screen. (logging is
    imported here, not at the top: batch commands read this module before their SSH
    login starts, and each module loaded before it delays the login.)"""
    import logging

    top = logging.getLogger("vtui")
    if not top.handlers:
        top.addHandler(logging.NullHandler())
    return logging.getLogger(name)


def configure(level: str, path: Path) -> str | None:
    """Send log records of `level` and above to `path` (rotated). Returns why the file
    cannot be written (the app then says so once), or None."""
    import logging

    global _handler
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
        _handler.close()
        _handler = None
    root.setLevel(getattr(logging, level.upper()))
    # asyncssh says a lot at INFO (every channel); its warnings are what matters to us
    logging.getLogger("asyncssh").setLevel(logging.DEBUG if level == "debug" else logging.WARNING)
    # here, not at the top: a batch command reads its options (and so this module)
    # before it starts its SSH login, and logging.handlers loads socket and pickle
    from logging.handlers import RotatingFileHandler

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = RotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
    except OSError as exc:
        # nowhere to write: stay silent rather than print over the screen (stderr)
        root.addHandler(logging.NullHandler())
        return f"cannot write the log {path}: {exc.strerror or exc}"
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    _handler = handler
    return None


def current_file() -> str | None:
    """The file the log goes to now, if any (to point users at it)."""
    handler = _handler
    return getattr(handler, "baseFilename", None)
