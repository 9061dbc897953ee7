"""One error type that every layer can show as a single clear line."""

from __future__ import annotations


class VtuiError(Exception):
    """A failure the user should read: what failed, where, and libvirt's reason."""

    def __init__(self, message: str, *, host: str | None = None, guest: str | None = None):
        super().__init__(message)
        self.message = message
        self.host = host
        self.guest = guest

    def __str__(self) -> str:
        where = []
        if self.host:
            where.append(self.host)
        if self.guest:
            where.append(f"guest {self.guest}")
        prefix = ": ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


def libvirt_message(exc: BaseException) -> str:
    """libvirt's own message on one line, without the 'libvirt:' noise."""
    getter = getattr(exc, "get_error_message", None)
    text = (getter() if callable(getter) else None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())
