"""Which libvirt URI to open, and how to name a host on screen."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

DEFAULT_URI = "qemu:///system"


def default_uri() -> str:
    return os.environ.get("LIBVIRT_DEFAULT_URI") or DEFAULT_URI


def demo_host_path() -> str:
    from importlib import resources  # (20 ms to import: only for the demo)

    return str(resources.files("vtui") / "data" / "demo-host.xml")


def demo_uri() -> str:
    """The shipped test-driver host: about 30 guests, no hypervisor needed."""
    return "test://" + demo_host_path()


def is_local(uri: str) -> bool:
    parts = urlsplit(uri)
    transport = parts.scheme.partition("+")[2]
    return not parts.hostname and transport in ("", "unix")


def display_name(uri: str) -> str:
    """Short host label: the remote host name, 'demo' for the test driver file,
    the machine's hostname for local URIs."""
    parts = urlsplit(uri)
    driver = parts.scheme.partition("+")[0]
    if parts.hostname:
        return parts.hostname
    if driver == "test":
        return "demo" if parts.path.endswith("demo-host.xml") else "test"
    name = os.uname().nodename  # (socket.gethostname's answer, without loading socket)
    return name if parts.path in ("/system", "") else f"{name}({parts.path.strip('/')})"


def test_driver_file_missing(uri: str) -> str | None:
    """The path of a test:///FILE URI whose file does not exist (None otherwise; the
    built-in test:///default has no file)."""
    parts = urlsplit(uri)
    if parts.scheme != "test" or parts.netloc or parts.path in ("", "/default"):
        return None
    return None if os.path.exists(parts.path) else parts.path
