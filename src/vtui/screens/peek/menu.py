"""The peek screen's menu (Ctrl+\\): key combinations a terminal cannot send, typing a
text, the full viewer, the refresh interval."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.app import App

from vtui.core.errors import VtuiError
from vtui.core.guests.graphics_keys import (
    COMBOS,
    SYSRQ,
    describe_chars,
    sysrq_chord,
    text_chords,
)
from vtui.core.guests.graphics_viewer import ViewerSession, open_viewer, viewer_sessions
from vtui.screens.dialogs import ChoiceScreen, ConfirmScreen
from vtui.screens.peek.type_text import TypeTextScreen

if TYPE_CHECKING:
    from vtui.screens.peek.screen import PeekScreen

INTERVALS = (0.5, 1.0, 2.0, 5.0)
# SysRq commands that lose work: asked first, saying what is lost
SYSRQ_LOSSES = {
    "b": "Reboots at once, without syncing or unmounting: anything not written to disk is lost.",
    "o": "Powers off at once, without syncing or unmounting: anything not written to disk is lost.",
    "c": "Crashes the kernel on purpose: the guest stops (or dumps, with kdump) and unsaved work is lost.",
    "e": "Asks every process but init to end: the guest's services and sessions stop.",
    "i": "Kills every process but init at once: the guest's services and sessions are lost.",
    "k": "Kills every process on the current virtual console, including its login.",
    "f": "Runs the OOM killer: one process (the largest) is killed.",
}


def _choose(
    app: App, title: str, items: list[tuple[str, str]], then: Callable[[str], object]
) -> None:
    def chosen(item: str | None) -> None:
        if item is not None:
            then(item)

    app.push_screen(ChoiceScreen(title, items), chosen)


def show(screen: PeekScreen) -> None:
    items = [
        ("leave", "Back to vtui (Ctrl+])"),
        ("cad", "Send Ctrl+Alt+Del"),
        ("vt", "Send Ctrl+Alt+F1..F12"),
        ("sysrq", "Send SysRq + a command (Linux)"),
        ("type", "Type text (a password, a command)"),
        ("viewer", "Open the full viewer (VNC/SPICE)"),
    ]
    sessions = viewer_sessions(screen.host, screen.uuid)
    items += [(f"stop{i}", f"Stop forwarding {s.forward.address}") for i, s in enumerate(sessions)]
    items += [
        ("interval", f"Refresh every... (now {_interval_label(screen.interval)})"),
        ("refresh", "Refresh now"),
        ("send_escape", "Send Ctrl+] to the guest"),
        ("send_menu", "Send Ctrl+\\ to the guest"),
    ]
    actions: dict[str, Callable[[], object]] = {
        "leave": screen.action_leave,
        "cad": lambda: screen.send_keys(*COMBOS["ctrl+alt+delete"][1]),
        "vt": lambda: _terminal_menu(screen),
        "sysrq": lambda: _sysrq_menu(screen),
        "type": lambda: _type_text_dialog(screen),
        "viewer": lambda: screen.run_worker(_open_viewer(screen), exit_on_error=False),
        "interval": lambda: _interval_menu(screen),
        "refresh": screen.refresh_now,
        "send_escape": lambda: screen.send_keys("ctrl", "right_bracket"),
        "send_menu": lambda: screen.send_keys("ctrl", "backslash"),
    }
    for i, session in enumerate(sessions):
        actions[f"stop{i}"] = lambda s=session: screen.run_worker(s.close(), exit_on_error=False)
    # the dialogs show text literally: names from outside need no escaping
    title = f"Screen of {screen.guest_name}"
    _choose(screen.app, title, items, lambda item: actions[item]())


def _interval_label(seconds: float) -> str:
    return f"{seconds:g} s" if seconds > 0 else "only after keys"


def _terminal_menu(screen: PeekScreen) -> None:
    combos = [(cid, label) for cid, (label, _keys) in COMBOS.items() if cid != "ctrl+alt+delete"]
    _choose(
        screen.app,
        "Send to the guest",
        combos,
        lambda cid: screen.send_keys(*COMBOS[cid][1]),
    )


def _sysrq_menu(screen: PeekScreen) -> None:
    items = [(letter, f"{letter.upper()}: {what}") for letter, what in SYSRQ.items()]

    def send(letter: str) -> None:
        loss = SYSRQ_LOSSES.get(letter)
        if loss is None:
            screen.keys.send([sysrq_chord(letter)])
            return

        def answered(result: tuple[bool, bool] | None) -> None:
            if result and result[0]:
                screen.keys.send([sysrq_chord(letter)])

        screen.app.push_screen(
            ConfirmScreen(
                f"SysRq+{letter.upper()} on {screen.guest_name}",
                f"{SYSRQ[letter].capitalize()}.\n{loss}",
                yes=f"Send SysRq+{letter.upper()}",
            ),
            answered,
        )

    _choose(screen.app, "SysRq (Alt+SysRq+letter)", items, send)


def _interval_menu(screen: PeekScreen) -> None:
    items = [(str(s), f"every {s:g} s") for s in INTERVALS] + [("0", "only after keys")]

    def chosen(value: str) -> None:
        screen.interval = float(value)
        screen.refresh_now()

    _choose(screen.app, "Refresh the picture", items, chosen)


def _type_text_dialog(screen: PeekScreen) -> None:
    def typed(result: tuple[str, bool] | None) -> None:
        if result is not None and (result[0] or result[1]):
            type_text(screen, result[0] + ("\n" if result[1] else ""))

    screen.app.push_screen(TypeTextScreen(screen.guest_name), typed)


def type_text(screen: PeekScreen, text: str) -> None:
    """Type `text` (a paste, the dialog's line) in order with other keys; characters a
    US layout cannot type are named first, and the rest typed only if the user agrees."""
    typed = text_chords(text)
    if not typed.untypable:
        screen.keys.send(typed.chords)
        return

    def answered(result: tuple[bool, bool] | None) -> None:
        if result and result[0]:
            screen.keys.send(typed.chords)

    screen.app.push_screen(
        ConfirmScreen(
            "Some characters cannot be typed",
            f"{describe_chars(typed.untypable)} cannot be typed with a US keyboard layout. "
            "Type the rest without them?",
            yes="Type the rest",
        ),
        answered,
    )


async def _open_viewer(screen: PeekScreen) -> None:
    try:
        session = await open_viewer(screen.host, screen.uuid, command=screen.viewer_command)
    except VtuiError as exc:
        screen.notify(str(exc), severity="error", timeout=10, markup=False)
        return
    app = screen.app
    forward = session.forward
    password = " (it asks for the guest's graphics password)" if forward.password else ""
    if session.process is None:
        client = (
            f"vncviewer {forward.host}::{forward.port}"
            if forward.protocol == "vnc"
            else f"remote-viewer {forward.uri}"
        )
        why = "no viewer configured ($VTUI_VIEWER)" if _no_window() else "no viewer installed"
        keep = ", until you stop it from this menu" if forward.forwarded else ""
        screen.notify(
            f"{forward.protocol.upper()} of {screen.guest_name} is at {forward.address}"
            f"{keep}: {why}, connect your own client, e.g. {client}{password}",
            timeout=30,
            markup=False,
        )
        return
    session.on_exit = lambda message: _viewer_ended(app, session, message)
    assert session.argv is not None
    screen.notify(
        f"{os.path.basename(session.argv[0])} opened on {forward.address}{password}; "
        "the port closes when it exits",
        timeout=8,
        markup=False,
    )


def _no_window() -> bool:
    from vtui.core.guests.graphics_viewer import has_graphical_display

    return not has_graphical_display()


def _viewer_ended(app: App, session: ViewerSession, message: str) -> None:
    app.notify(message, severity="error" if session.failed else "information", markup=False)
