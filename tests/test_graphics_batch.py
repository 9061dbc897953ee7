"""`vtui screenshot`: on the demo host (libvirt's test driver draws a fixed screen) and
on a real TCG guest of the lab with a VGA card."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys

import pytest
from PIL import Image

from tests.test_batch import ROOT, one_error_line, run
from tests.test_graphics_core import VGA_TEXT_MODE, assert_a_real_screen, booted
from vtui.batch import BATCH_COMMANDS


def test_screenshot_of_a_demo_guest(capsys, tmp_path):
    assert "screenshot" in BATCH_COMMANDS
    out = tmp_path / "web.png"
    out.write_bytes(b"an older picture")  # replaced, not appended to
    code, stdout, err = run(capsys, "screenshot", "web-01", "--demo", "-o", str(out))
    assert code == 0, err
    image = Image.open(out)
    assert image.format == "PNG" and image.size[0] > 100 and image.size[1] > 100
    assert stdout.strip() == f"web-01 on demo: screen {image.width}x{image.height} saved to {out}"
    assert [p.name for p in tmp_path.iterdir()] == ["web.png"]  # no temporary file left


@pytest.mark.parametrize(
    ("argv", "code", "words"),
    [
        (["screenshot", "web-01", "--demo"], 2, "required: -o/--output"),
        (["screenshot", "web-01", "--demo", "-o", "x.png", "--screen", "-1"], 2, "--screen"),
        (["screenshot", "nope", "--demo", "-o", "x.png"], 1, "no guest called 'nope'"),
        (["screenshot", "web-01", "--demo", "-r", "-o", "x.png"], 1, "read-only"),
        (["screenshot", "web-01", "--demo", "-o", "/nonexistent/dir/x.png"], 1, "cannot write"),
    ],
)
def test_screenshot_errors_are_one_line(capsys, argv, code, words):
    got, _out, err = run(capsys, *argv)
    assert got == code
    assert words in one_error_line(err)


def test_screenshot_to_standard_output():
    result = subprocess.run(
        [sys.executable, "-m", "vtui", "screenshot", "web-01", "--demo", "-o", "-"],
        capture_output=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert result.returncode == 0, result.stderr
    assert Image.open(io.BytesIO(result.stdout)).format == "PNG"


@pytest.mark.lab
async def test_screenshot_of_a_lab_guest(capsys, local_host, make_guest, tmp_path):
    name = make_guest(local_host, display="vnc")
    conn, console = await booted(local_host, name)
    console.close()
    conn.close()
    out = tmp_path / "screen.png"
    code, stdout, err = await asyncio.to_thread(
        run, capsys, "screenshot", name, "-c", local_host.uri, "-o", str(out)
    )
    assert code == 0, err
    assert_a_real_screen(out.read_bytes())
    width, height = VGA_TEXT_MODE
    assert f"screen {width}x{height} saved to" in stdout
    bare = make_guest(local_host, paused=True)
    code, _stdout, err = await asyncio.to_thread(
        run, capsys, "screenshot", bare, "-c", local_host.uri, "-o", str(tmp_path / "x.png")
    )
    assert code == 1 and "has no video device" in one_error_line(err)
    assert Image.open(io.BytesIO(out.read_bytes())).size == VGA_TEXT_MODE
