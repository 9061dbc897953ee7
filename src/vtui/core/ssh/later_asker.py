"""An Asker for logins that start before the app that asks is up.

The TUI starts its hosts' logins while its screens' modules still load (about half a
second); a login that needs an answer meanwhile (an unknown host key, a passphrase)
waits until the app hands over its own asker, then asks through it."""

from __future__ import annotations

import asyncio

from vtui.core.ssh.target import Asker, RefusingAsker


class LaterAsker:
    def __init__(self) -> None:
        self._asker: Asker | None = None
        self._given: asyncio.Event | None = None  # made on the loop, when first needed

    def give(self, asker: Asker | None) -> None:
        """Ask through `asker` from now on; None (no app came) refuses every question."""
        self._asker = asker if asker is not None else RefusingAsker()
        if self._given is not None:
            self._given.set()

    async def _wait(self) -> Asker:
        if self._asker is None:
            if self._given is None:
                self._given = asyncio.Event()
            await self._given.wait()
        assert self._asker is not None
        return self._asker

    async def confirm_host_key(self, host: str, fingerprint: str, key_type: str) -> bool:
        return await (await self._wait()).confirm_host_key(host, fingerprint, key_type)

    async def secret(self, prompt: str) -> str | None:
        return await (await self._wait()).secret(prompt)
