"""What a multi-step storage operation has made so far, to undo exactly that on failure.

    ledger = Ledger()
    pool = conn.storagePoolDefineXML(xml)
    ledger.did(f"undefine pool {name}", pool.undefine)
    ...                                  # a later step raises
    ledger.undo()                        # undefines it again; returns what could not be undone

Runs on one worker thread, like the steps it records.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import libvirt

from vtui.core.errors import libvirt_message


class Ledger:
    def __init__(self) -> None:
        self._undo: list[tuple[str, Callable[[], Any]]] = []

    def did(self, undo_what: str, undo: Callable[[], Any]) -> None:
        self._undo.append((undo_what, undo))

    def forget(self) -> None:
        """The operation succeeded: nothing to undo."""
        self._undo.clear()

    def undo(self) -> list[str]:
        """Undo every recorded step, newest first; what could not be undone, one line each."""
        failed = []
        while self._undo:
            what, undo = self._undo.pop()
            try:
                undo()
            except libvirt.libvirtError as exc:
                failed.append(f"could not {what}: {libvirt_message(exc)}")
            except OSError as exc:
                failed.append(f"could not {what}: {exc.strerror or exc}")
        return failed


def with_undo_note(message: str, failed: list[str]) -> str:
    """The first error, then (if any) what was left behind."""
    return f"{message}; {'; '.join(failed)}" if failed else message
