"""One way for the core to tell views and scripts that something changed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

from vtui.core import logs

T = TypeVar("T")
log = logs.logger("vtui.core")


class Publisher(Generic[T]):
    """Something that can be watched: every value it publishes reaches each listener,
    in subscription order, on the asyncio loop. A listener may unsubscribe (itself or
    another) while being called. A listener that raises does not stop the others or
    the publisher's own bookkeeping: the failure goes to the loop's exception handler
    (the app shows and logs it)."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[T], None]] = []

    def subscribe(self, listener: Callable[[T], None]) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[T], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def publish(self, value: T) -> None:
        for listener in list(self._listeners):
            try:
                listener(value)
            except Exception as exc:
                _report(listener, exc)


def _report(listener: Callable, exc: Exception) -> None:
    message = f"listener {getattr(listener, '__qualname__', listener)!s} failed"
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        log.error(message, exc_info=exc)
        return
    loop.call_exception_handler({"message": message, "exception": exc})
