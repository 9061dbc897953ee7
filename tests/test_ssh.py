"""Remote hosts over vtui's own SSH tunnels, against the lab's real sshd + libvirtd.

The lab's ssh_config reaches each host with a ProxyCommand that enters its network
namespace. Nothing here reads or writes the machine's ~/.ssh: HOME points to a temp
dir and every test passes its ssh config (and known_hosts through it) explicitly.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import stat
import subprocess
import time
from pathlib import Path

import asyncssh
import libvirt
import pytest

from tests.support import until
from vtui.core.errors import VtuiError
from vtui.core.fleet import Fleet
from vtui.core.fleet.targets import add_target
from vtui.core.host import Host, HostStatus
from vtui.core.ssh.transport import _NoIgnorePadding

# never the machine's own ~/.ssh or agent
pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("private_home")]


class Asker:
    """Answers like a user would, and remembers what it was asked."""

    def __init__(self, accept: bool = False, secret: str | None = None):
        self.accept, self.answer = accept, secret
        self.host_keys: list[tuple[str, str, str]] = []
        self.prompts: list[str] = []

    async def confirm_host_key(self, host, fingerprint, key_type):
        self.host_keys.append((host, fingerprint, key_type))
        return self.accept

    async def secret(self, prompt):
        self.prompts.append(prompt)
        return self.answer


def lab_config(
    lab,
    tmp_path: Path,
    name: str = "ssh_config",
    *,
    known_hosts: str | None = None,
    identity: str | None = None,
    extra: str = "",
) -> str:
    """The lab's ssh config with its own known_hosts / identity, plus extra Host blocks."""
    text = Path(lab.ssh_config).read_text()
    if known_hosts is not None:
        text = re.sub(r"UserKnownHostsFile \S+", f"UserKnownHostsFile {known_hosts}", text)
    if identity is not None:
        text = re.sub(r"IdentityFile \S+", f"IdentityFile {identity}", text)
    path = tmp_path / name
    path.write_text(text + "\n" + extra)
    return str(path)


def relay_to(host, ip: str, port: int = 22) -> str:
    """A ProxyCommand reaching ip:port from inside a lab host's netns (as the lab's)."""
    return (
        f"nsenter --net={host.netns_path} bash -c "
        f"'exec 3<>/dev/tcp/{ip}/{port}; cat <&3 & exec cat >&3'"
    )


def libvirt_call(host, fn):
    """Do something to a lab host's libvirtd directly (not through vtui)."""
    conn = libvirt.open(host.uri)
    try:
        return fn(conn)
    finally:
        conn.close()


def sshd_pids(host) -> list[int]:
    """Root-namespace pids of every sshd process inside a lab host."""
    ns = os.readlink(f"/proc/{host.ns_pid}/ns/pid")
    pids = []
    for p in Path("/proc").iterdir():
        try:
            if (
                p.name.isdigit()
                and os.readlink(p / "ns/pid") == ns
                and (p / "comm").read_text().strip() == "sshd"
            ):
                pids.append(int(p.name))
        except OSError:
            continue
    return pids


@pytest.fixture
async def fleet():
    f = Fleet(interval=0.5)
    yield f
    await f.close()


async def connect_lab(fleet: Fleet, lab, *, readonly_b: bool = False) -> tuple[Host, Host]:
    a = add_target(fleet, "lab-a", ssh_config=lab.ssh_config)
    b = add_target(fleet, "root@lab-b", ssh_config=lab.ssh_config, readonly=readonly_b)
    assert await fleet.connect_all() == []
    return a, b


# -- the happy path: two hosts, guests, events, samples --------------------------------------------
async def test_two_hosts_guests_events_and_samples(lab, make_guest, fleet):
    names = {"a": make_guest(lab["a"]), "b": make_guest(lab["b"])}
    a, b = await connect_lab(fleet, lab, readonly_b=True)
    assert a.uri == "qemu+ssh://lab-a/system" and b.uri == "qemu+ssh://root@lab-b/system"
    assert b.readonly and b.tunnel.remote_socket == "/run/libvirt/libvirt-sock-ro"
    for host in (a, b):
        assert host.facts.hostname == host.name.removeprefix("root@")
        local = host.tunnel.local_socket
        assert stat.S_IMODE(os.stat(os.path.dirname(local)).st_mode) == 0o700
        assert stat.S_ISSOCK(os.stat(local).st_mode)
    await until(lambda: a.find(names["a"]) and b.find(names["b"]), 10, "guests listed")
    assert a.find(names["a"]).state == "running" and b.find(names["b"]).state == "running"
    assert a.find(names["b"]) is None and b.find(names["a"]) is None

    events: list[tuple[str, str]] = []
    fleet.subscribe(lambda c: c.event and events.append((c.host.name, c.event)))
    for key, host in (("a", lab["a"]), ("b", lab["b"])):
        await asyncio.to_thread(
            libvirt_call, host, lambda c, n=names[key]: c.lookupByName(n).suspend()
        )
    await until(
        lambda: (
            {("lab-a", f"{names['a']} suspended"), (b.name, f"{names['b']} suspended")}
            <= set(events)
        ),
        10,
        "events",
    )
    assert a.find(names["a"]).state == "paused" and b.find(names["b"]).state == "paused"
    for key, host in (("a", lab["a"]), ("b", lab["b"])):
        await asyncio.to_thread(
            libvirt_call, host, lambda c, n=names[key]: c.lookupByName(n).resume()
        )
    await until(lambda: b.find(names["b"]).state == "running", 10, "resumed")

    marks = (a.last_sample_at, b.last_sample_at)
    await until(lambda: a.last_sample_at > marks[0] and b.last_sample_at > marks[1], 5, "samples")
    assert a.find(names["a"]).cpu_pct is not None

    dirs = [os.path.dirname(h.tunnel.local_socket) for h in (a, b)]
    await fleet.close()
    assert not any(os.path.exists(d) for d in dirs)  # the private dirs go with the hosts


# -- losing a host and getting it back ----------------------------------------------------------
async def check_other_keeps_sampling(other: Host, seconds: float = 1.5) -> None:
    mark = other.last_sample_at
    await until(lambda: other.last_sample_at > mark, seconds + 2, "the other host sampling")
    assert other.status is HostStatus.CONNECTED


async def test_libvirtd_killed_then_back(lab, make_guest, fleet):
    name = make_guest(lab["a"])
    a, b = await connect_lab(fleet, lab)
    await until(lambda: a.find(name), 10, "guest listed")
    uuids = set(a.guests)
    await asyncio.to_thread(lab["a"].stop_libvirtd)
    try:
        took = await until(lambda: a.status is HostStatus.DISCONNECTED, 30, "disconnected")
        print(f"libvirtd killed: disconnected after {took:.1f} s: {a.error}")
        await check_other_keeps_sampling(b)
        assert a.guests  # still shown (greyed by the UI), not dropped
    finally:
        await asyncio.to_thread(lab["a"].start_libvirtd)
    took = await until(lambda: a.status is HostStatus.CONNECTED, 40, "reconnected")
    print(f"libvirtd back: reconnected after {took:.1f} s")
    await until(lambda: a.find(name) and a.find(name).state == "running", 10, "guest again")
    assert set(a.guests) == uuids  # reloaded by UUID, nothing duplicated
    assert sum(g.name == name for g in a.guests.values()) == 1


async def test_sshd_dies_with_its_sessions_then_back(lab, make_guest, fleet):
    """sshd stopped and its session frozen: what a host that lost power or its cable
    looks like from here (no FIN ever comes). Only SSH keepalives can tell."""
    a, b = await connect_lab(fleet, lab)
    await asyncio.to_thread(lab["a"].stop_sshd)  # the listener: no new connections
    sessions = sshd_pids(lab["a"])  # what is left: sessions, ours among them
    assert sessions
    for pid in sessions:
        os.kill(pid, signal.SIGSTOP)
    try:
        took = await until(lambda: a.status is HostStatus.DISCONNECTED, 30, "disconnected")
        print(f"sshd frozen: disconnected after {took:.1f} s: {a.error}")
        await check_other_keeps_sampling(b)
        await asyncio.sleep(2)  # a reconnect attempt meanwhile fails: no sshd
        assert a.status is HostStatus.DISCONNECTED
    finally:
        for pid in sessions:
            for sig in (signal.SIGKILL, signal.SIGCONT):
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
        await asyncio.to_thread(lab["a"].start_sshd)
    took = await until(lambda: a.status is HostStatus.CONNECTED, 40, "reconnected")
    print(f"sshd back: reconnected after {took:.1f} s")
    await check_other_keeps_sampling(a)


# -- host keys ------------------------------------------------------------------------------------
def fingerprint_of(public_line: str) -> str:
    return asyncssh.import_public_key(public_line).get_fingerprint("sha256")


async def test_unknown_host_key_refused_then_accepted(lab, tmp_path, fleet):
    known = tmp_path / "known_hosts"
    config = lab_config(lab, tmp_path, known_hosts=str(known))
    no = Asker(accept=False)
    host = add_target(fleet, "lab-a", ssh_config=config, asker=no)
    with pytest.raises(VtuiError, match="host key of lab-a .*not accepted"):
        await host.connect()
    assert no.host_keys == [
        ("lab-a (10.77.0.1)", fingerprint_of(lab["a"].host_key_pub), "ssh-ed25519")
    ]
    assert host.status is HostStatus.FAILED and not known.exists()
    await host.close()

    yes = Asker(accept=True)
    host = add_target(fleet, "lab-a", ssh_config=config, asker=yes)
    await host.connect()
    assert host.status is HostStatus.CONNECTED and len(yes.host_keys) == 1
    saved = known.read_text().split()
    assert saved == ["10.77.0.1", *lab["a"].host_key_pub.split()[:2]]
    await host.close()

    again = Asker(accept=False)  # saved: not asked any more
    host = add_target(fleet, "lab-a", ssh_config=config, asker=again)
    await host.connect()
    assert again.host_keys == []


async def test_changed_host_key_is_refused_without_asking(lab, tmp_path, fleet):
    impostor = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    known = tmp_path / "known_hosts"
    known.write_text("10.77.0.1 " + " ".join(impostor.split()[:2]) + "\n")
    asker = Asker(accept=True)
    host = add_target(
        fleet, "lab-a", ssh_config=lab_config(lab, tmp_path, known_hosts=str(known)), asker=asker
    )
    with pytest.raises(VtuiError) as error:
        await host.connect()
    message = str(error.value)
    assert "HOST KEY CHANGED" in message and fingerprint_of(lab["a"].host_key_pub) in message
    assert "\n" not in message and asker.host_keys == []
    assert known.read_text().count("\n") == 1  # untouched


# -- failures are clear, quick, and stay on their own host ---------------------------------------
async def test_bad_hosts_fail_clearly_while_others_run(lab, tmp_path, fleet):
    stranger = tmp_path / "stranger_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)
    relay = relay_to(lab["a"], "10.77.0.99")
    extra = (
        f"Host lab-gone\n  HostName 10.77.0.99\n  User root\n  ProxyCommand {relay}\n"
        f"Host lab-silent\n  HostName 10.77.0.98\n  ProxyCommand sleep 60\n"
    )
    good = add_target(fleet, "lab-b", ssh_config=lab.ssh_config)
    await good.connect()
    good.start()
    wrong_key = add_target(
        fleet, "lab-a", ssh_config=lab_config(lab, tmp_path, "wrong_key", identity=str(stranger))
    )
    config = lab_config(lab, tmp_path, extra=extra)
    unreachable = add_target(fleet, "lab-gone", ssh_config=config)
    silent = add_target(fleet, "lab-silent", ssh_config=config)
    silent.tunnel.timeout = 3
    wrong_socket = add_target(
        fleet, "qemu+ssh://lab-a/system?socket=/run/libvirt/nope", ssh_config=lab.ssh_config
    )
    bad = [wrong_key, unreachable, silent, wrong_socket]

    mark = good.last_sample_at
    began = time.monotonic()
    errors = await asyncio.gather(*(h.connect() for h in bad), return_exceptions=True)
    took = time.monotonic() - began
    messages = [str(e) for e in errors]
    print(f"{took:.1f} s:", *messages, sep="\n  ")
    assert all(isinstance(e, VtuiError) and "\n" not in str(e) for e in errors)
    assert (
        messages[0] == "lab-a: cannot log in to lab-a as root: permission denied (no key, "
        "agent identity or password was accepted)"
    )
    assert messages[1].startswith("lab-gone: cannot reach lab-gone:22: proxy command:")
    assert "No route to host" in messages[1] or "timed out" in messages[1]
    assert messages[2] == "lab-silent: cannot reach lab-silent:22: no answer within 3 s"
    assert "no libvirt socket at /run/libvirt/nope on lab-a" in messages[3]
    assert took < 15  # all within the connect timeout, concurrently
    assert all(h.status is HostStatus.FAILED for h in bad)
    assert good.status is HostStatus.CONNECTED and good.last_sample_at > mark
    for h in bad:
        assert h.tunnel.local_socket is None and not h.tunnel.is_open


# -- secrets are asked through the asker, and kept for reconnects --------------------------------
async def test_key_passphrase_is_asked_in_the_app(lab, tmp_path, fleet):
    key = tmp_path / "locked_key"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "open sesame", "-f", str(key)], check=True
    )
    authorized = lab["a"].dir / "root/.ssh/authorized_keys"
    before = authorized.read_text()
    authorized.write_text(before + Path(f"{key}.pub").read_text())
    try:
        config = lab_config(lab, tmp_path, identity=str(key))
        wrong = Asker(secret="wrong")
        host = add_target(fleet, "lab-a", ssh_config=config, asker=wrong)
        with pytest.raises(
            VtuiError,
            match=f"cannot log in to lab-a as root: cannot decrypt key {key}: .*passphrase",
        ):
            await host.connect()
        assert wrong.prompts == [f"passphrase for key {key}"] * 3  # asked again, as ssh does

        right = Asker(secret="open sesame")
        host = add_target(fleet, "lab-a", ssh_config=config, asker=right)
        await host.connect()
        assert host.status is HostStatus.CONNECTED
        await host.tunnel.open()  # a reconnect does not ask again
        assert right.prompts == [f"passphrase for key {key}"]
    finally:
        authorized.write_text(before)


async def test_session_path(lab, fleet):
    """root's qemu:///session is served by the system daemon, as libvirt does locally."""
    host = add_target(fleet, "qemu+ssh://lab-a/session", ssh_config=lab.ssh_config)
    await host.connect()
    assert host.tunnel.remote_socket == "/run/libvirt/libvirt-sock"
    assert host.facts.hostname == "lab-a"


async def test_a_forwarded_socket_whose_channel_closed_hangs_up_on_libvirt(lab, fleet):
    """Bytes from libvirt that meet a channel the host has just closed (in the same turn
    of the loop, before its close reaches us) end that one connection, quietly; the
    host's own connection keeps working."""
    host = add_target(fleet, "lab-a", ssh_config=lab.ssh_config)
    await host.connect()
    forwarder = host.tunnel._forwarder
    before = set(forwarder._pipes)
    reader, writer = await asyncio.open_unix_connection(host.tunnel.local_socket)
    await until(lambda: forwarder._pipes - before, 5, "our connection forwarded")
    (pipe,) = forwarder._pipes - before
    await until(lambda: pipe.channel is not None, 10, "its channel open")
    pipe.channel.close()
    pipe.data_received(b"\0\0\0\x1c")  # (raised BrokenPipeError into asyncio before)
    assert await asyncio.wait_for(reader.read(), 5) == b""  # hung up
    writer.close()
    assert pipe not in forwarder._pipes
    change = await host.sample()
    assert not change.error and host.facts.hostname == "lab-a"


# -- the packets on the wire ------------------------------------------------------------------------
MSG_IGNORE, MSG_CHANNEL_DATA = 2, 94


def count_sent_packets(monkeypatch, *, send: bool = True) -> dict[int, int]:
    """Counts, by type, the packets asyncssh's client connections really send."""
    sent: dict[int, int] = {}
    real = asyncssh.SSHClientConnection.send_packet

    def send_packet(self, pkttype, *args, handler=None):
        sent[pkttype] = sent.get(pkttype, 0) + 1
        if send:
            real(self, pkttype, *args, handler=handler)

    monkeypatch.setattr(asyncssh.SSHClientConnection, "send_packet", send_packet)
    return sent


async def test_no_ignore_packet_before_each_packet(lab, fleet, monkeypatch):
    """asyncssh pads every packet with an empty IGNORE packet, a defence that only CBC
    ciphers need; with the lab's (GCM) cipher each libvirt call sends its data alone."""
    sent = count_sent_packets(monkeypatch)
    host = add_target(fleet, "lab-a", ssh_config=lab.ssh_config)
    await host.connect()
    for _ in range(3):
        assert not (await host.sample()).error
    assert not host.tunnel._conn.get_extra_info("send_cipher").endswith("-cbc")
    assert sent.get(MSG_CHANNEL_DATA, 0) >= 6
    assert sent.get(MSG_IGNORE, 0) == 0


def test_cbc_keeps_its_ignore_packets(monkeypatch):
    """With a CBC cipher the IGNORE packet goes out: it makes the next IV unpredictable."""
    sent = count_sent_packets(monkeypatch, send=False)
    for cipher, expected in (("aes128-cbc", 1), ("aes128-gcm@openssh.com", 0)):
        sent.clear()
        conn = object.__new__(_NoIgnorePadding)  # only its send_packet is exercised
        conn.get_extra_info = lambda name, default=None, c=cipher: c  # type: ignore[method-assign]
        conn.send_packet(MSG_IGNORE, b"\0\0\0\0")
        assert sent.get(MSG_IGNORE, 0) == expected, cipher
