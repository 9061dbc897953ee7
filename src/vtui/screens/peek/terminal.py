"""Which picture protocol the terminal speaks: Kitty graphics, Sixel, or neither
(Unicode half-blocks, which every colour terminal draws).

Asked once, before Textual takes the terminal (`detect_graphics()` from the CLI): the
terminal answers on stdin, which Textual reads once it runs, and an answer arriving
late would reach it as keys. So every question ends with one whose answer comes last
and is recognisable: the Kitty query is followed by a device attributes request
(DA1), which every terminal answers (and whose answer says whether it draws Sixel).
textual-image, which draws the pictures, asks its own questions when it is imported:
it is imported here, only for a terminal that can draw pictures, and followed by a
cursor position request whose answer is read before Textual starts.

    VTUI_GRAPHICS=kitty|sixel|halfblock   skips the questions (default auto: ask)
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import sys
import time
from collections.abc import Iterator

MODES = ("kitty", "sixel", "halfblock")
GRAPHICS_ENV = "VTUI_GRAPHICS"
ANSWER_TIMEOUT = 1.0  # a terminal that answers neither is very rare; don't wait longer
_KITTY_QUERY = b"\x1b_Gi=4242,s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\"
_KITTY_OK = b"\x1b_Gi=4242;OK"
_DA1_QUERY = b"\x1b[c"
_DA1_ANSWER = re.compile(rb"\x1b\[\?([0-9;]*)c")
_CPR_QUERY = b"\x1b[6n"
_CPR_ANSWER = re.compile(rb"\x1b\[[0-9]+;[0-9]+R")
_NO_PICTURES = ("linux", "dumb", "vt100", "vt220")  # TERMs that never draw pictures

_chosen: str | None = None


def graphics_mode() -> str:
    """What detect_graphics() found (half-blocks if it never ran, e.g. in tests)."""
    return _chosen or "halfblock"


def modes_from_answer(answer: bytes) -> str:
    """The mode a terminal's answers mean (Sixel first: terminals that speak both
    draw Sixel more reliably inside Textual, as textual-image found)."""
    da1 = _DA1_ANSWER.search(answer)
    if da1 is not None and b"4" in da1.group(1).split(b";"):
        return "sixel"
    if _KITTY_OK in answer:
        return "kitty"
    return "halfblock"


def detect_graphics(timeout: float = ANSWER_TIMEOUT) -> str:
    """Ask the terminal (once) and remember the answer. Call before the app runs."""
    global _chosen
    if _chosen is not None:
        return _chosen
    forced = os.environ.get(GRAPHICS_ENV, "auto").strip().lower()
    if forced not in MODES and (not _interactive() or os.environ.get("TERM", "") in _NO_PICTURES):
        forced = "halfblock"
    if forced == "halfblock":
        _chosen = forced
        return forced
    try:
        with _quiet_terminal() as (fd_in, fd_out):
            mode = (
                forced
                if forced in MODES
                else _ask(fd_in, fd_out, _KITTY_QUERY + _DA1_QUERY, _DA1_ANSWER, timeout)
            )
            if mode != "halfblock":
                mode = _load_textual_image(mode)
                if fd_in >= 0:
                    _ask(fd_in, fd_out, _CPR_QUERY, _CPR_ANSWER, timeout)  # drains its answers
    except OSError:
        mode = "halfblock"
    _chosen = mode
    return mode


def _ask(fd_in: int, fd_out: int, query: bytes, last: re.Pattern[bytes], timeout: float) -> str:
    """Send `query`, read until the answer matching `last` (or the timeout); return
    the mode the answers mean."""
    os.write(fd_out, query)
    answer = b""
    deadline = time.monotonic() + timeout
    while last.search(answer) is None:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd_in], [], [], left)[0]:
            break
        answer += os.read(fd_in, 1024)
    return modes_from_answer(answer)


def _load_textual_image(mode: str) -> str:
    try:
        import textual_image.widget  # noqa: F401 - probes the terminal now, not later
    except Exception:  # noqa: BLE001 - whatever failed there, half-blocks still work
        return "halfblock"
    return mode


def _interactive() -> bool:
    stdin, stdout = sys.__stdin__, sys.__stdout__
    return bool(stdin and stdout and stdin.isatty() and stdout.isatty())


@contextlib.contextmanager
def _quiet_terminal() -> Iterator[tuple[int, int]]:
    """The terminal without echo or line buffering (answers must not show), restored
    afterwards; (-1, -1) when there is no terminal to talk to."""
    if not _interactive():
        yield -1, -1
        return
    import termios
    import tty

    assert sys.__stdin__ is not None and sys.__stdout__ is not None
    fd_in, fd_out = sys.__stdin__.fileno(), sys.__stdout__.fileno()
    saved = termios.tcgetattr(fd_in)
    try:
        tty.setcbreak(fd_in, termios.TCSANOW)
        yield fd_in, fd_out
    finally:
        termios.tcsetattr(fd_in, termios.TCSANOW, saved)
