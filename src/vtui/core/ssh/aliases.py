"""The host aliases an ssh config defines (`Host web1 db1` lines), read as plain text:
enough to tell whether a word on the command line names a host, without asyncssh."""

from __future__ import annotations

import glob
import os
import shlex
from pathlib import Path


def ssh_aliases(extra_config: str | None = None, *, _depth: int = 0) -> set[str]:
    files = [extra_config] if extra_config else []
    files.append(os.path.expanduser("~/.ssh/config"))
    found: set[str] = set()
    for path in files:
        found |= _aliases_in(Path(os.path.expanduser(path)), _depth)
    return found


def _aliases_in(path: Path, depth: int) -> set[str]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    found: set[str] = set()
    for line in text.splitlines():
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            continue
        if len(words) < 2:
            continue
        keyword = words[0].split("=")[0].lower()
        if keyword == "host":
            found |= {w for w in words[1:] if not any(c in w for c in "*?!")}
        elif keyword == "include" and depth < 4:  # as ssh does, relative to ~/.ssh
            for pattern in words[1:]:
                pattern = os.path.expanduser(pattern)
                if not os.path.isabs(pattern):
                    pattern = os.path.join(os.path.expanduser("~/.ssh"), pattern)
                for included in glob.glob(pattern):
                    found |= _aliases_in(Path(included), depth + 1)
    return found
