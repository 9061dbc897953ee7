"""Keys for a guest's keyboard: libvirt's send-key with Linux evdev keycodes.

A chord is the keycodes pressed together (modifiers first) and then released, which
is how virDomainSendKey presses them. Key names follow Textual's ("enter", "pageup",
"f5") plus the modifiers "ctrl", "alt", "shift", "meta" and "sysrq". Text is typed
with a US keyboard layout; a character that layout cannot type is reported, never
dropped silently.

`KeySender` sends chords in order, one libvirt call at a time, off the loop.
"""

from __future__ import annotations

import asyncio
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import libvirt

from vtui.core.errors import VtuiError, libvirt_message
from vtui.core.host import Host

HOLD_MS = 30  # how long each chord is held: short enough to type fast, long enough to register
MAX_KEYS = 16  # VIR_DOMAIN_SEND_KEY_MAX_KEYS
QUEUE_LIMIT = 4096  # chords waiting for a guest that does not take them: dropped beyond this

# Linux input-event-codes.h
_LETTERS = dict(zip("qwertyuiop", range(16, 26), strict=True))
_LETTERS |= dict(zip("asdfghjkl", range(30, 39), strict=True))
_LETTERS |= dict(zip("zxcvbnm", range(44, 51), strict=True))
KEYCODES: dict[str, int] = {
    **_LETTERS,
    **{str(d): 1 + d for d in range(1, 10)},
    "0": 11,
    "escape": 1,
    "minus": 12,
    "equal": 13,
    "backspace": 14,
    "tab": 15,
    "left_bracket": 26,
    "right_bracket": 27,
    "enter": 28,
    "ctrl": 29,
    "semicolon": 39,
    "apostrophe": 40,
    "grave": 41,
    "shift": 42,
    "backslash": 43,
    "comma": 51,
    "dot": 52,
    "slash": 53,
    "right_shift": 54,
    "alt": 56,
    "space": 57,
    "capslock": 58,
    **{f"f{n}": 58 + n for n in range(1, 11)},
    "numlock": 69,
    "scrolllock": 70,
    "f11": 87,
    "f12": 88,
    "right_ctrl": 97,
    "sysrq": 99,
    "right_alt": 100,
    "home": 102,
    "up": 103,
    "pageup": 104,
    "left": 105,
    "right": 106,
    "end": 107,
    "down": 108,
    "pagedown": 109,
    "insert": 110,
    "delete": 111,
    "pause": 119,
    "meta": 125,
    "menu": 127,
}
MODIFIERS = ("ctrl", "alt", "shift", "meta", "right_ctrl", "right_alt", "right_shift")

# What each printable ASCII character is on a US keyboard: (key name, with shift)
_US_PLAIN = {
    " ": "space",
    "-": "minus",
    "=": "equal",
    "[": "left_bracket",
    "]": "right_bracket",
    ";": "semicolon",
    "'": "apostrophe",
    "`": "grave",
    "\\": "backslash",
    ",": "comma",
    ".": "dot",
    "/": "slash",
    "\n": "enter",
    "\t": "tab",
}
_US_SHIFTED = dict(zip('!@#$%^&*()_+{}:"~|<>?', "1234567890-=[];'`\\,./", strict=True))
US_LAYOUT: dict[str, tuple[str, bool]] = {
    **{c: (c, False) for c in string.ascii_lowercase + string.digits},
    **{c: (c.lower(), True) for c in string.ascii_uppercase},
    **{c: (name, False) for c, name in _US_PLAIN.items()},
    **{c: (_US_PLAIN.get(base, base), True) for c, base in _US_SHIFTED.items()},
}


def chord(*names: str) -> tuple[int, ...]:
    """Keycodes of keys pressed together: chord("ctrl", "alt", "delete")."""
    codes = []
    for name in names:
        code = KEYCODES.get(name.lower())
        if code is None:
            raise VtuiError(f"unknown key {name!r}")
        codes.append(code)
    if not codes or len(codes) > MAX_KEYS:
        raise VtuiError(f"a chord has 1 to {MAX_KEYS} keys, not {len(codes)}")
    return tuple(codes)


def parse_chord(text: str) -> tuple[int, ...]:
    """'ctrl+alt+f2' -> its keycodes."""
    return chord(*(part.strip() for part in text.split("+")))


def char_chord(char: str, modifiers: Iterable[str] = ()) -> tuple[int, ...] | None:
    """The chord typing `char` on a US keyboard (with extra modifiers), or None."""
    found = US_LAYOUT.get(char)
    if found is None:
        return None
    name, shifted = found
    mods = list(dict.fromkeys([*modifiers, *(["shift"] if shifted else [])]))
    return chord(*mods, name)


@dataclass(frozen=True, slots=True)
class TypedText:
    chords: tuple[tuple[int, ...], ...]
    untypable: tuple[str, ...]  # distinct characters a US layout cannot type, in order


def text_chords(text: str) -> TypedText:
    """Key presses typing `text` (line breaks are Enter). Characters a US layout
    cannot type are listed in `untypable` and have no chord."""
    chords: list[tuple[int, ...]] = []
    missing: dict[str, None] = {}
    for char in text.replace("\r\n", "\n").replace("\r", "\n"):
        found = char_chord(char)
        if found is None:
            missing[char] = None
        else:
            chords.append(found)
    return TypedText(tuple(chords), tuple(missing))


def describe_chars(chars: Iterable[str]) -> str:
    """Characters for a message: 'é', U+00A0 for invisible ones."""
    return ", ".join(repr(c) if c.isprintable() else f"U+{ord(c):04X}" for c in chars)


# Named combinations for menus: id -> (label, key names)
COMBOS: dict[str, tuple[str, tuple[str, ...]]] = {
    "ctrl+alt+delete": ("Ctrl+Alt+Del", ("ctrl", "alt", "delete")),
    **{f"ctrl+alt+f{n}": (f"Ctrl+Alt+F{n}", ("ctrl", "alt", f"f{n}")) for n in range(1, 13)},
    "ctrl+alt+backspace": ("Ctrl+Alt+Backspace", ("ctrl", "alt", "backspace")),
}

# Linux magic SysRq (Alt+SysRq+letter): letter -> what the guest kernel does
SYSRQ: dict[str, str] = {
    "h": "help (prints the commands on the console)",
    "s": "sync all filesystems",
    "u": "remount all filesystems read-only",
    "b": "reboot at once (no sync, no unmount)",
    "o": "power off at once",
    "e": "send SIGTERM to every process but init",
    "i": "send SIGKILL to every process but init",
    "f": "run the OOM killer",
    "k": "kill every process on the current virtual console",
    "r": "take the keyboard out of raw mode",
    "w": "show blocked tasks",
    "t": "show all tasks",
    "m": "show memory",
    "c": "crash the kernel (kdump)",
}


def sysrq_chord(letter: str) -> tuple[int, ...]:
    if letter not in _LETTERS and not (letter.isdigit() and len(letter) == 1):
        raise VtuiError(f"no SysRq command {letter!r}")
    return chord("alt", "sysrq", letter)


# -- sending -------------------------------------------------------------------------------
def _send_blocking(
    conn: libvirt.virConnect, uuid: str, chords: list[tuple[int, ...]], hold_ms: int
) -> None:
    dom = conn.lookupByUUIDString(uuid)
    for codes in chords:
        dom.sendKey(libvirt.VIR_KEYCODE_SET_LINUX, hold_ms, list(codes), len(codes), 0)


def _refused(host: Host, guest: str) -> VtuiError | None:
    if host.readonly:
        return VtuiError(
            f"cannot send keys: the connection to {host.name} is read-only",
            host=host.name,
            guest=guest,
        )
    return None


def _send_error(exc: libvirt.libvirtError, host: Host, guest: str) -> VtuiError:
    text = libvirt_message(exc)
    if exc.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID and "not running" in text:
        return VtuiError("is not running: keys cannot be sent", host=host.name, guest=guest)
    return VtuiError(f"cannot send keys: {text}", host=host.name, guest=guest)


async def send_chords(
    host: Host, uuid: str, chords: Iterable[tuple[int, ...]], hold_ms: int = HOLD_MS
) -> None:
    """Press the chords one after the other (one worker call for all of them)."""
    name = host.guest_name(uuid)
    refused = _refused(host, name)
    if refused is not None:
        raise refused
    conn = host.require_conn()
    try:
        await host.call(_send_blocking, conn, uuid, list(chords), hold_ms)
    except libvirt.libvirtError as exc:
        raise _send_error(exc, host, name) from None


async def type_text(host: Host, uuid: str, text: str, *, skip_untypable: bool = False) -> int:
    """Type `text` on the guest's keyboard; returns the number of key presses. A
    character a US layout cannot type refuses the whole text before any key is sent
    (a password with a letter missing is worse than none), unless skip_untypable."""
    typed = text_chords(text)
    if typed.untypable and not skip_untypable:
        raise VtuiError(
            f"cannot type {describe_chars(typed.untypable)} with a US keyboard layout; "
            "nothing was sent",
            host=host.name,
            guest=host.guest_name(uuid),
        )
    await send_chords(host, uuid, typed.chords)
    return len(typed.chords)


class KeySender:
    """Sends a guest's chords in the order they come, one libvirt call at a time, so a
    slow host (an SSH tunnel far away) never reorders or blocks typing. Call `send`
    on the loop; a failure is reported once through on_error and empties the queue."""

    def __init__(self, host: Host, uuid: str, hold_ms: int = HOLD_MS):
        self.host, self.uuid, self.hold_ms = host, uuid, hold_ms
        self.on_error: Callable[[VtuiError], None] | None = None
        self.on_sent: Callable[[], None] | None = None
        self._queue: list[tuple[int, ...]] = []
        self._task: asyncio.Task | None = None

    @property
    def pending(self) -> int:
        return len(self._queue)

    def send(self, chords: Iterable[tuple[int, ...]]) -> None:
        refused = _refused(self.host, self.host.guest_name(self.uuid))
        if refused is not None:
            self._fail(refused)
            return
        room = QUEUE_LIMIT - len(self._queue)
        self._queue.extend(list(chords)[: max(room, 0)])
        if self._queue and (self._task is None or self._task.done()):
            self._task = asyncio.ensure_future(self._drain())

    async def _drain(self) -> None:
        while self._queue:
            # what queued up while the last call ran goes in one call
            batch, self._queue = self._queue, []
            try:
                await send_chords(self.host, self.uuid, batch, self.hold_ms)
            except VtuiError as exc:
                self._queue.clear()
                self._fail(exc)
                return
            if self.on_sent is not None:
                self.on_sent()

    def _fail(self, exc: VtuiError) -> None:
        if self.on_error is not None:
            self.on_error(exc)

    async def close(self) -> None:
        self._queue.clear()
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
