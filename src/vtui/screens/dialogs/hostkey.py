"""What SSH asks the user, inside the app: accept an unknown host key, type a
passphrase or password. `AppAsker` is the core's ssh.Asker for the app."""

from __future__ import annotations

import asyncio

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from vtui.screens.dialogs.frame import Dialog


class HostKeyScreen(Dialog[bool]):
    """An unknown host key: its type and SHA256 fingerprint; y accepts (and saves it)."""

    DEFAULT_CSS = """
    HostKeyScreen > .dialog { width: 76; }
    HostKeyScreen #fingerprint { text-style: bold; }
    """
    BINDINGS = [
        Binding("y", "answer(True)", "Accept", id="hostkey.accept"),
        Binding("n,escape", "answer(False)", "Refuse", id="hostkey.refuse"),
    ]

    def __init__(self, host: str, fingerprint: str, key_type: str):
        super().__init__(classes="-warning")
        self.host, self.fingerprint, self.key_type = host, fingerprint, key_type

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(
                Content(f"Unknown host key for {self.host}"), id="title", classes="dialog-title"
            )
            yield Static(
                Content(
                    f"The authenticity of {self.host} can't be established.\n"
                    f"Its {self.key_type} key fingerprint is:"
                ),
                id="body",
            )
            yield Static(Content(self.fingerprint), id="fingerprint")
            yield Static(
                "Compare it with the host's own (ssh-keygen -lf on the host). "
                "Accepting saves it to known_hosts."
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Accept (y)", variant="warning", id="yes")
                yield Button("Refuse (n)", variant="primary", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_answer(event.button.id == "yes")

    def action_answer(self, accept: bool) -> None:
        self.dismiss(accept)


class SecretScreen(Dialog[str | None]):
    """One hidden line (passphrase, password); Enter gives it, Escape declines."""

    DEFAULT_CSS = """
    SecretScreen > .dialog { width: 64; border: thick $accent; }
    SecretScreen Input { margin: 1 0 0 0; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="secret.cancel")]

    def __init__(self, prompt: str):
        super().__init__()
        self.prompt = prompt

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Content(self.prompt.rstrip(": ") + ":"), id="prompt")
            yield Input(password=True, id="secret")
            yield Static("Enter to send, Escape to cancel", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class AppAsker:
    """core.ssh.Asker shown as modals. Callable from any task on the app's loop (a
    connect worker, a reconnect task, asyncssh's passphrase callback): the modal is
    pushed from the app's own message queue and its answer resolves a future.

    The CLI builds hosts before the app exists: create AppAsker(), pass it to
    add_target, then set `asker.app = app`. Until then it refuses, like RefusingAsker."""

    def __init__(self, app: App | None = None):
        self.app = app

    async def confirm_host_key(self, host: str, fingerprint: str, key_type: str) -> bool:
        return bool(await self._ask(HostKeyScreen(host, fingerprint, key_type)))

    async def secret(self, prompt: str) -> str | None:
        return await self._ask(SecretScreen(prompt))

    async def _ask(self, screen: ModalScreen):
        if self.app is None:
            return None
        future: asyncio.Future = asyncio.get_running_loop().create_future()

        def answered(result) -> None:
            if not future.done():
                future.set_result(result)

        if not self.app.call_later(self.app.push_screen, screen, answered):
            return None  # the app is closing
        try:
            return await future
        except asyncio.CancelledError:
            if screen.is_current:  # the connect was abandoned: don't leave the modal up
                self.app.call_later(screen.dismiss, None)
            raise
