"""`vtui screenshot GUEST [--host H] -o FILE.png`: what a guest's screen shows, as PNG.

Works through vtui's SSH tunnel like every verb (the guest's VNC port need not be
reachable). libvirt allows screenshots only on read-write connections.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

from vtui.core.errors import VtuiError
from vtui.core.guests.graphics import screenshot

from .lifecycle import add_guest_options, open_guest_session
from .parsing import UsageError, new_parser


def screenshot_parser() -> argparse.ArgumentParser:
    parser = new_parser(
        "screenshot",
        "Save what a guest's screen shows as a PNG file (needs a video device; works "
        "through SSH without reaching the guest's VNC or SPICE port).",
    )
    add_guest_options(parser)
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FILE",
        help="where to write the PNG ('-' for standard output); replaced if it exists",
    )
    parser.add_argument(
        "--screen",
        type=int,
        default=0,
        metavar="N",
        help="which head of a multi-head video device (default 0)",
    )
    return parser


def write_atomically(path: str, data: bytes) -> None:
    """Write through a temporary file in the same directory: a failed write never
    leaves half a picture where an old one was."""
    path = os.path.expanduser(path)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".vtui-screenshot-", dir=directory)
    except OSError as exc:
        raise VtuiError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise VtuiError(f"cannot write {path}: {exc.strerror or exc}") from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


async def run_screenshot(args: argparse.Namespace) -> int:
    if args.screen < 0:
        raise UsageError("screenshot: --screen must be 0 or more")
    session, host, guest = await open_guest_session(args)
    try:
        shot = await screenshot(host, guest.uuid, args.screen)
        png = shot.png()
        width, height = shot.size
        if args.output == "-":
            sys.stdout.buffer.write(png)
            sys.stdout.buffer.flush()
            return 0
        write_atomically(args.output, png)
        print(
            f"{guest.name} on {host.name}: screen {width}x{height} saved to {args.output}",
            flush=True,
        )
        return 0
    finally:
        await session.close()
