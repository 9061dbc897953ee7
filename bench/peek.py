"""Benchmark: the peek screen refreshing a 1024x768 guest screen over vtui's SSH tunnel
with +100 ms of round-trip latency (50 ms each way, bench/delay_relay.py as the ssh
ProxyCommand: this kernel has no netem).

Per refresh: the time from asking for a picture to the frame being drawn (the
half-block widget painting its first line of it), and the CPU the vtui process spent
on it (SSH crypto, libvirt's client thread, PNG decode, scaling, half-blocks, Textual's
paint). Interleaved, round by round, with two peers over the same link:
  bare     libvirt's screenshot call and stream read over the same tunnel (domain
           looked up once), nothing decoded or drawn: the floor
  virsh    `virsh -c qemu+ssh://... screenshot`, what users run today (its own ssh
           connection every time, as a one-off command does)
Then the same for the 720x400 text console, and the CPU of decoding and drawing busy
1024x768 pictures (a black screen compresses to nothing; a desktop does not).

The guest is the lab's busybox guest with a VGA card, booted with vga=0x318 (VESA
1024x768): with no framebuffer driver in its kernel the screen stays black, so the
picture over the wire is small. Needs root (network namespaces).

    .venv/bin/python bench/peek.py [--rounds 12] [--delay 0.05]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import libvirt  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402
from tests.lab.console import SerialConsole  # noqa: E402
from tests.lab.hosts import Lab  # noqa: E402
from tests.lab.images import READY_LINE, ensure_guest_image, guest_xml  # noqa: E402
from textual.app import App  # noqa: E402

from vtui.core import eventloop  # noqa: E402
from vtui.core.fleet import Fleet  # noqa: E402
from vtui.core.fleet.targets import add_target  # noqa: E402
from vtui.core.host import Host  # noqa: E402
from vtui.core.host.events import ensure_event_loop  # noqa: E402
from vtui.screens.peek import PeekScreen  # noqa: E402
from vtui.screens.peek.frames import halfblock_frame  # noqa: E402
from vtui.screens.peek.view import HalfBlocks  # noqa: E402

SIZE = (200, 60)  # terminal cells of the headless app: a large terminal window


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def ssh_config(lab: Lab, path: Path, delay: float) -> Path:
    a, b = lab["a"], lab["b"]
    # from b's netns over the veth to a's sshd, through the delay line
    proxy = (
        f"nsenter --net={b.netns_path} {sys.executable} "
        f"{ROOT / 'bench/delay_relay.py'} {delay} {a.ip} 22"
    )
    path.write_text(
        f"Host bench-a\n  HostName {a.ip}\n  User root\n"
        f"  IdentityFile {lab.client_key}\n  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {lab.known_hosts}\n  GlobalKnownHostsFile /dev/null\n"
        f"  StrictHostKeyChecking yes\n  BatchMode yes\n  LogLevel ERROR\n"
        f"  ProxyCommand {proxy}\n"
    )
    return path


def boot(lab: Lab, name: str, boot_args: str) -> None:
    kernel, initrd = ensure_guest_image()
    conn = libvirt.open(lab["a"].uri)
    try:
        dom = conn.defineXML(guest_xml(name, kernel, initrd, display="vnc", boot_args=boot_args))
        dom.create()
        console = SerialConsole(conn, dom)
        console.expect(READY_LINE, 60)
        console.expect("/ # ", 30)
        console.close()
    finally:
        conn.close()


def bare_screenshot(dom: libvirt.virDomain) -> int:
    stream = dom.connect().newStream(0)
    dom.screenshot(stream, 0, 0)
    received = []
    stream.recvAll(lambda _s, data, _o: received.append(len(data)) or 0, None)
    stream.finish()
    return sum(received)


class TimedPeek(PeekScreen):
    """Says when a picture turned out unchanged (events, not polling: polling the loop
    every millisecond would cost more CPU than what is measured)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.taken = asyncio.Event()
        self.changed = False

    async def grab(self):
        image = await super().grab()
        self.changed = image is not None
        self.taken.set()
        return image


class PeekApp(App):
    def __init__(self, host: Host, uuid: str, name: str):
        super().__init__()
        self.target = (host, uuid, name)
        self.painted = 0.0
        self.drawn = asyncio.Event()

    def on_mount(self) -> None:
        from vtui.core.model import Guest

        host, uuid, name = self.target
        guest = Guest(uuid=uuid, name=name, host=host.name, state="running")
        # interval 0: pictures only on request, so each round times exactly one
        self.push_screen(TimedPeek(host, guest, interval=0, mode="halfblock"))


async def peek_rounds(
    host: Host, uuid: str, name: str, rounds: int, virsh_uri: str, home: str
) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {
        k: []
        for k in (
            "peek",
            "cpu",
            "same",
            "same_cpu",
            "unchanged",
            "bare",
            "bare_cpu",
            "virsh",
            "bytes",
        )
    }
    app = PeekApp(host, uuid, name)
    original = HalfBlocks.render_line

    def timed_render_line(self, y):
        if app.painted == 0.0 and self.strips:
            app.painted = time.perf_counter()
            app.drawn.set()
        return original(self, y)

    HalfBlocks.render_line = timed_render_line  # type: ignore[method-assign]
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            assert isinstance(screen, TimedPeek)
            while screen.frames < 1:  # the first picture (and the device read) before timing
                await asyncio.sleep(0.01)
            await pilot.pause(0.3)
            dom = await host.call(host.require_conn().lookupByUUIDString, uuid)
            c0, t0 = cpu(), time.perf_counter()
            await asyncio.sleep(2)  # what the app costs doing nothing, for comparison
            results["idle_cpu_per_s"] = [(cpu() - c0) / (time.perf_counter() - t0)]
            for _ in range(rounds):
                app.painted = 0.0
                app.drawn.clear()
                screen._shot = None  # as if the screen changed: decoded and drawn again
                c0, t0 = cpu(), time.perf_counter()
                screen.refresh_now()
                await app.drawn.wait()
                results["peek"].append(app.painted - t0)
                results["cpu"].append(cpu() - c0)
                await pilot.pause(0.05)

                # as it runs: an unchanged picture is not decoded or drawn again (a text
                # console's blinking cursor changes it every other time)
                screen.taken.clear()
                app.painted = 0.0
                app.drawn.clear()
                c0, t0 = cpu(), time.perf_counter()
                screen.refresh_now()
                await screen.taken.wait()
                if screen.changed:
                    await app.drawn.wait()
                else:
                    results["unchanged"].append(1)
                results["same"].append(time.perf_counter() - t0)
                results["same_cpu"].append(cpu() - c0)

                c0, t0 = cpu(), time.perf_counter()
                size = await host.call(bare_screenshot, dom)
                results["bare"].append(time.perf_counter() - t0)
                results["bare_cpu"].append(cpu() - c0)
                results["bytes"].append(size)

                t0 = time.perf_counter()
                out = os.path.join(home, "shot")
                done = await asyncio.to_thread(
                    subprocess.run,
                    ["virsh", "-q", "-c", virsh_uri, "screenshot", name, out],
                    capture_output=True,
                    env={**os.environ, "HOME": home},
                )
                if done.returncode == 0:
                    results["virsh"].append(time.perf_counter() - t0)
                elif not results["virsh"] and "virsh_error" not in results:
                    results["virsh_error"] = [0.0]
                    print(f"  virsh failed: {done.stderr.decode().strip()[:200]}", flush=True)
                await pilot.pause(0.05)
    finally:
        HalfBlocks.render_line = original  # type: ignore[method-assign]
    return results


def ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:.0f} ms (min {min(values) * 1000:.0f}, max {max(values) * 1000:.0f})"


def report(title: str, r: dict[str, list[float]]) -> None:
    print(title)
    print(f"  peek refresh, request to drawn frame: {ms(r['peek'])}")
    print(
        f"  peek refresh as it runs ({len(r['unchanged'])} of {len(r['same'])} pictures "
        f"unchanged, not decoded or drawn again): {ms(r['same'])}"
    )
    print(
        f"  bare screenshot call over the same tunnel: {ms(r['bare'])}, {statistics.median(r['bytes']) / 1024:.1f} KiB PNG"
    )
    ratio = statistics.median(r["peek"]) / statistics.median(r["bare"])
    print(f"  peek / bare: {ratio:.2f}x")
    if r["virsh"]:
        virsh_ratio = statistics.median(r["virsh"]) / statistics.median(r["peek"])
        print(
            f"  virsh screenshot over qemu+ssh (one-off, connects each time): {ms(r['virsh'])}; virsh / peek: {virsh_ratio:.1f}x"
        )
    print(
        f"  vtui CPU per refresh: median {statistics.median(r['cpu']) * 1000:.0f} ms drawn, "
        f"{statistics.median(r['same_cpu']) * 1000:.0f} ms as it runs; the bare call: "
        f"{statistics.median(r['bare_cpu']) * 1000:.0f} ms (SSH and libvirt's client); the "
        f"idle app: {r['idle_cpu_per_s'][0] * 1000:.0f} ms CPU per second"
    )


def busy_pictures() -> list[tuple[str, Image.Image]]:
    noise = Image.frombytes("RGB", (1024, 768), os.urandom(1024 * 768 * 3))
    desktop = Image.new("RGB", (1024, 768), (40, 70, 110))
    draw = ImageDraw.Draw(desktop)
    for y in range(768):  # a gradient wallpaper, windows, text-like lines
        draw.line((0, y, 1023, y), fill=(30 + y // 8, 60 + y // 10, 110 + y // 12))
    for i in range(6):
        x, y = 60 + i * 130, 50 + i * 80
        draw.rectangle((x, y, x + 420, y + 300), fill=(235, 235, 235), outline=(20, 20, 20))
        for line in range(y + 30, y + 290, 14):
            draw.line((x + 10, line, x + 10 + (line * 37) % 380, line), fill=(30, 30, 30), width=3)
    return [("drawn desktop (flat colours)", desktop), ("noise (worst case)", noise)]


def cpu_of_busy_pictures(rounds: int) -> None:
    print("CPU of decoding and drawing busy 1024x768 pictures (no tunnel), per refresh:")
    for label, picture in busy_pictures():
        png = io.BytesIO()
        picture.save(png, "PNG")
        data = png.getvalue()
        times = []
        for _ in range(rounds):
            c0 = cpu()
            image = Image.open(io.BytesIO(data))
            image.load()
            halfblock_frame(image.convert("RGB"), *SIZE)
            times.append(cpu() - c0)
        print(
            f"  {label}: {len(data) / 1024:.0f} KiB PNG, decode + half-blocks at "
            f"{SIZE[0]}x{SIZE[1]} cells: median {statistics.median(times) * 1000:.0f} ms CPU"
        )


async def run(lab: Lab, delay: float, rounds: int) -> None:
    home = tempfile.mkdtemp(prefix="vtui-bench-home-")
    os.makedirs(os.path.join(home, ".ssh"), mode=0o700)
    config = ssh_config(lab, Path(home) / ".ssh" / "config", delay)
    # ssh reads the passwd entry's home, not $HOME: hand virsh an ssh that reads ours
    wrapper = Path(home) / "ssh"
    wrapper.write_text(f'#!/bin/sh\nexec ssh -F {config} "$@"\n')
    wrapper.chmod(0o755)
    virsh_uri = f"qemu+ssh://bench-a/system?command={wrapper}"
    fleet = Fleet(interval=3600)
    host = add_target(fleet, "bench-a", ssh_config=str(config))
    failures = await fleet.connect_all()
    if failures:
        raise SystemExit(f"cannot connect: {failures[0]}")
    try:
        for name, label in (
            ("bench-hires", "1024x768 (VESA mode, black)"),
            ("bench-text", "720x400 (VGA text console)"),
        ):
            await host.sample()
            guest = host.find(name)
            assert guest is not None
            result = await peek_rounds(host, guest.uuid, name, rounds, virsh_uri, home)
            report(
                f"{label} over the SSH tunnel, +{2 * delay * 1000:.0f} ms RTT, {rounds} rounds:",
                result,
            )
    finally:
        await fleet.close()
    cpu_of_busy_pictures(rounds)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--delay", type=float, default=0.05, help="one-way seconds (RTT twice)")
    args = parser.parse_args()
    ensure_event_loop()
    with Lab() as lab:
        boot(lab, "bench-hires", "vga=0x318")
        boot(lab, "bench-text", "")
        eventloop.run(run(lab, args.delay, args.rounds))


if __name__ == "__main__":
    main()
