"""Progress of a long command on stderr, the same way for every command: one line
redrawn in place on a terminal; elsewhere (a log, a pipe) a line at most every second,
so a long migration or copy does not flood it. The results go to stdout."""

from __future__ import annotations

import sys
import time

PROGRESS_EVERY = 1.0  # seconds between progress lines when stderr is not a terminal


class StatusLine:
    def __init__(self, every: float = PROGRESS_EVERY) -> None:
        self.tty = sys.stderr.isatty()
        self.every = every
        self._last = 0.0
        self._drawn = False

    def due(self) -> bool:
        """Whether a new line may be shown now (always, on a terminal)."""
        now = time.monotonic()
        if not self.tty and now - self._last < self.every:
            return False
        self._last = now
        return True

    def show(self, text: str) -> None:
        if self.tty:
            sys.stderr.write("\r\033[K" + text)
            self._drawn = True
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def finish(self) -> None:
        """Clear the line drawn in place, before anything else is written."""
        if self._drawn:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
            self._drawn = False
