"""The guest console through the core, against the lab's real libvirtd and TCG guests."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from tests.support import guest_on, until
from vtui.core.guests.console import (
    GUEST_STOPPED,
    SEND_CHUNK,
    ConsoleBusy,
    GuestConsole,
    GuestNotRunning,
    NoConsole,
    devices,
    parse_console_devices,
)
from vtui.core.host import Host

PROMPT = b"/ # "


class Output:
    """What a console printed, with a wait for a pattern."""

    def __init__(self, console: GuestConsole):
        self.data = bytearray()
        self.closed: list[str] = []
        console.on_output = self.data.extend
        console.on_closed = self.closed.append

    def mark(self) -> int:
        return len(self.data)

    async def expect(self, pattern: bytes, start: int = 0, timeout: float = 30.0) -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while pattern not in self.data[start:]:
            if loop.time() > end:
                raise AssertionError(f"{pattern!r} not seen; got {bytes(self.data[-300:])!r}")
            await asyncio.sleep(0.02)


async def on_domain(host: Host, uuid: str, method: str) -> None:
    """resume/destroy the guest straight through libvirt (the console is under test)."""
    await host.call(lambda: getattr(host.conn.lookupByUUIDString(uuid), method)())


async def echo_round_trip(console: GuestConsole, out: Output) -> None:
    token = f"vtui-{secrets.token_hex(4)}"
    mark = out.mark()
    console.send(f"echo {token}\r".encode())
    await out.expect(f"\r\n{token}\r\n".encode(), mark)


def test_devices_from_xml_list_a_serial_console_once():
    xml = """<domain><devices>
      <serial type='pty'><target type='isa-serial' port='0'/><alias name='serial0'/></serial>
      <console type='pty'><target type='serial' port='0'/><alias name='serial0'/></console>
      <console type='pty'><target type='virtio' port='1'/><alias name='console1'/></console>
    </devices></domain>"""
    found = parse_console_devices(xml)
    assert [(d.name, d.kind, d.target) for d in found] == [
        ("serial0", "serial", "isa-serial"),
        ("console1", "console", "virtio"),
    ]
    assert found[0].label == "serial0 (pty, isa-serial, port 0)"
    inactive = (
        "<domain><devices><serial type='pty'><target port='0'/></serial>"
        "<console type='pty'><target type='serial' port='0'/></console></devices></domain>"
    )
    assert [d.name for d in parse_console_devices(inactive)] == ["serial0"]


@pytest.fixture
async def host(local_host):
    h = Host(local_host.uri, interval=0.5)
    await h.connect()
    yield h
    await h.close()


async def test_boot_output_is_kept_and_echo_comes_back(host, make_guest, local_host, tmp_path):
    guest = await guest_on(host, make_guest(local_host, paused=True))
    assert [d.name for d in await devices(host, guest.uuid)] == ["serial0"]
    console = GuestConsole(host, guest.uuid)
    out = Output(console)
    console.log_to(tmp_path / "console.log")
    await console.open()  # before the CPU runs: nothing is lost
    await on_domain(host, guest.uuid, "resume")
    await out.expect(b"vtui-guest ready")
    await out.expect(PROMPT)
    await echo_round_trip(console, out)
    # typed ahead in one go, more than one send chunk: every line arrives, in order
    # (a running hash the guest computes would differ if any line were lost or swapped)
    lines, expected = [], 0
    for i in range(150):
        lines.append(f"h=$(( (h*31+{i}) % 1000003 ))\r".encode())
        expected = (expected * 31 + i) % 1000003
    typed = b"h=0\r" + b"".join(lines) + b"echo hash=$h\r"
    assert len(typed) > SEND_CHUNK
    mark = out.mark()
    console.send(typed)
    await out.expect(f"hash={expected}\r\n".encode(), mark)
    await console.close()
    assert not console.is_open and out.closed == []
    assert b"vtui-guest ready" in (tmp_path / "console.log").read_bytes()
    console.log_to(None)


async def test_guest_without_serial_or_not_running_says_so(host, make_guest, local_host):
    bare = await guest_on(host, make_guest(local_host, serial=False))
    assert await devices(host, bare.uuid) == []
    with pytest.raises(NoConsole, match="has no serial console; add a serial device"):
        await GuestConsole(host, bare.uuid).open()
    off = await guest_on(host, make_guest(local_host, start=False))
    with pytest.raises(GuestNotRunning, match="is not running"):
        await GuestConsole(host, off.uuid).open()
    running = await guest_on(host, make_guest(local_host, paused=True))
    with pytest.raises(NoConsole, match="no console device 'serial7'"):
        await GuestConsole(host, running.uuid, "serial7").open()


async def test_busy_console_then_take_over(host, make_guest, local_host):
    guest = await guest_on(host, make_guest(local_host, paused=True))
    first = GuestConsole(host, guest.uuid)
    first_out = Output(first)
    await first.open()
    second = GuestConsole(host, guest.uuid)
    with pytest.raises(ConsoleBusy, match="another client is using the console"):
        await second.open()
    out = Output(second)
    await second.open(force=True)
    await until(lambda: first_out.closed)  # the first one is told, not hung
    assert first_out.closed[0].startswith("console lost")
    assert not first.is_open and second.is_open
    first.send(b"ignored\r")  # typing into a lost console is harmless
    await on_domain(host, guest.uuid, "resume")
    await out.expect(b"vtui-guest ready")  # the new owner gets the output
    await second.close()
    await first.close()


async def test_guest_destroyed_while_open(host, make_guest, local_host):
    guest = await guest_on(host, make_guest(local_host))
    console = GuestConsole(host, guest.uuid)
    out = Output(console)
    await console.open()
    await on_domain(host, guest.uuid, "destroy")
    await until(lambda: out.closed, timeout=5)
    assert out.closed == [GUEST_STOPPED] and not console.is_open
    console.send(b"echo nobody\r")
    await asyncio.wait_for(console.close(), 5)
