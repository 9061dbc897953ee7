"""What one creation attempt has made on the host (volumes, the definition), to report
it when it worked and to undo exactly that, newest first, when a step fails."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from vtui.core.errors import VtuiError


@dataclass(frozen=True, slots=True)
class Made:
    kind: str  # "volume" or "guest"
    name: str
    pool: str = ""  # volumes
    path: str = ""  # volumes
    role: str = ""  # what a volume is for: disk, image, seed, kernel, initrd
    temporary: bool = False  # removed once the guest has started

    def describe(self) -> str:
        return f"guest {self.name}" if self.kind == "guest" else f"volume {self.pool}/{self.name}"


class CreationLedger:
    def __init__(self) -> None:
        self._entries: list[tuple[Made, Callable[[], Awaitable[None]]]] = []

    @property
    def made(self) -> list[Made]:
        return [made for made, _undo in self._entries]

    def did(self, made: Made, undo: Callable[[], Awaitable[None]]) -> None:
        self._entries.append((made, undo))

    def drop(self, made: Made) -> None:
        """`made` is gone already (a temporary volume removed as planned)."""
        self._entries = [(m, u) for m, u in self._entries if m != made]

    async def undo(self) -> list[str]:
        """Undo every step, newest first; what could not be undone, one line each."""
        failed = []
        while self._entries:
            made, undo = self._entries.pop()
            try:
                await undo()
            except VtuiError as exc:
                failed.append(f"could not remove {made.describe()}: {exc.message}")
        return failed
