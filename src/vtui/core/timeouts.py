"""How long vtui waits for things it does not control. One place, light to import: the
batch commands' parsers read it before anything that loads libvirt."""

from __future__ import annotations

CONNECT_TIMEOUT = 15.0  # seconds a host gets to answer when connecting (--timeout)
