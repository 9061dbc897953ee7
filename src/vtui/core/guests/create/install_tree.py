"""Fetching a network install tree's kernel and initrd to this machine, so they can be
uploaded to the host as volumes (the host may not reach the URL, and libvirt cannot
boot a kernel from a URL). Blocking: run in a thread.

Where they are: what the user said, else what the OS database says for the arch,
else the tree's .treeinfo ([images-ARCH] kernel=, initrd=), as Fedora, RHEL, CentOS
and openSUSE trees have."""

from __future__ import annotations

import configparser
import os
import tempfile
import urllib.error
import urllib.request
from urllib.parse import urljoin

TIMEOUT = 30.0  # seconds without an answer from the server
CHUNK = 1 << 20
MAX_TREEINFO = 1 << 20


class TreeError(Exception):
    """One line: what could not be fetched, and why."""


def _open(url: str):
    try:
        return urllib.request.urlopen(url, timeout=TIMEOUT)  # noqa: S310 - the user's URL
    except urllib.error.HTTPError as exc:
        raise TreeError(f"cannot fetch {url}: {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise TreeError(f"cannot fetch {url}: {reason}") from None


def treeinfo_paths(tree_url: str, arch: str) -> tuple[str, str]:
    """(kernel, initrd) relative to the tree, from its .treeinfo."""
    url = urljoin(tree_url.rstrip("/") + "/", ".treeinfo")
    with _open(url) as answer:
        text = answer.read(MAX_TREEINFO).decode(errors="replace")
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        raise TreeError(f"{url} is not a treeinfo file: {exc}") from None
    section = f"images-{arch}"
    if not parser.has_option(section, "kernel") or not parser.has_option(section, "initrd"):
        raise TreeError(f"{url} names no kernel and initrd for {arch}: give their paths")
    return parser.get(section, "kernel"), parser.get(section, "initrd")


def download(url: str, directory: str | None = None) -> str:
    """The file at `url` in a new temporary file; its path (the caller removes it)."""
    fd, path = tempfile.mkstemp(prefix="vtui-install-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out, _open(url) as answer:
            while True:
                chunk = answer.read(CHUNK)
                if not chunk:
                    break
                out.write(chunk)
        if os.path.getsize(path) == 0:
            raise TreeError(f"{url} is empty")
    except BaseException:
        os.unlink(path)
        raise
    return path
