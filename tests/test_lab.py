"""The test lab itself works: hosts, guests, consoles, ssh, daemon restarts, teardown."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from tests.lab.hosts import Lab, missing_requirements, thread_in_netns
from tests.lab.images import PROMPT, READY_LINE, guest_xml


def _open(uri: str):
    import libvirt

    return libvirt.open(uri)


def test_hosts_answer_over_their_sockets(lab):
    import xml.etree.ElementTree as ET

    uuids = set()
    for host in lab:
        conn = _open(host.uri)
        try:
            assert conn.getHostname() == host.hostname
            uuids.add(ET.fromstring(conn.getCapabilities()).findtext("host/uuid"))
        finally:
            conn.close()
    assert [h.hostname for h in lab] == ["lab-a", "lab-b"]
    assert len(uuids) == 2  # distinct host_uuid, or migration refuses "same host"


def test_guest_boots_to_serial_shell(local_host, make_guest):
    from tests.lab.console import SerialConsole
    from tests.lab.events import ensure_event_loop

    ensure_event_loop()  # before opening the connection that carries the stream
    name = make_guest(local_host, paused=True)  # paused: no early output is lost
    conn = _open(local_host.uri)
    try:
        dom = conn.lookupByName(name)
        con = SerialConsole(conn, dom)
        t0 = time.monotonic()
        dom.resume()
        con.expect(READY_LINE, timeout=60)
        boot = time.monotonic() - t0
        con.expect(PROMPT, timeout=10)
        assert b"42" in con.run("echo $((6*7))")
        con.close()
        print(f"guest boot to '{READY_LINE}': {boot:.2f}s")
    finally:
        conn.close()


def test_busy_guest_burns_cpu(local_host, make_guest):
    from tests.lab.console import SerialConsole
    from tests.lab.events import ensure_event_loop

    ensure_event_loop()
    name = make_guest(local_host, paused=True, busy=True)
    conn = _open(local_host.uri)
    try:
        dom = conn.lookupByName(name)
        con = SerialConsole(conn, dom)
        dom.resume()
        con.expect(PROMPT, timeout=60)
        # The guest's own idle time, not the host's CPU share: that one depends on how
        # busy the test machine is.
        out = con.run("head -1 /proc/stat; sleep 1; head -1 /proc/stat").decode()
        con.close()
        a, b = (
            [int(x) for x in line.split()[1:]]
            for line in out.splitlines()
            if line.startswith("cpu ")
        )
        idle = (b[3] - a[3]) / (sum(b) - sum(a))
        assert idle < 0.2, f"busy guest is {idle:.0%} idle"
    finally:
        conn.close()


@pytest.mark.parametrize("name", ["lab-a", "lab-b"])
def test_ssh_config_reaches_hosts(lab, name):
    r = subprocess.run(
        ["ssh", "-F", lab.ssh_config, name, "hostname"], capture_output=True, text=True, timeout=30
    )
    assert (r.returncode, r.stdout.strip()) == (0, name), r.stderr


def test_socket_to_reaches_sshd(lab):
    with lab.socket_to("b") as s:
        assert s.recv(64).startswith(b"SSH-2.0-")


def test_thread_in_netns_moves_only_this_thread_and_back(lab):
    """bench/fleet.py makes its sockets in host b's netns this way: a plain connect
    reaches a's sshd there, and the thread is home again after the block."""
    import socket
    import threading

    def netns() -> int:
        return os.stat("/proc/thread-self/ns/net").st_ino

    home, b = netns(), os.stat(lab["b"].netns_path).st_ino
    others: list[int] = []
    with thread_in_netns(lab["b"].netns_path):
        assert netns() == b
        started = threading.Thread(target=lambda: others.append(netns()))
        started.start()
        started.join()
        with socket.create_connection((lab["a"].ip, 22), timeout=5) as s:
            assert s.recv(64).startswith(b"SSH-2.0-")
    assert (netns(), others) == (home, [b])  # a thread started inside inherits it


def test_libvirtd_restart_keeps_guests(lab, make_guest):
    host = lab["b"]
    name = make_guest(host)
    host.stop_libvirtd()
    assert not host.libvirtd_answers()
    host.start_libvirtd()
    conn = _open(host.uri)
    try:
        assert conn.getHostname() == "lab-b"
        assert conn.lookupByName(name).isActive()  # qemu outlives its libvirtd
    finally:
        conn.close()


def test_sshd_stop_start(lab):
    host = lab["b"]
    host.stop_sshd()
    with pytest.raises(ConnectionRefusedError):
        lab.socket_to("b")
    host.start_sshd()
    with lab.socket_to("b") as s:
        assert s.recv(64).startswith(b"SSH-2.0-")


@pytest.mark.lab
def test_lab_teardown_kills_everything(guest_image):
    """A separate one-host lab with a running guest: stop() leaves no process or dir."""
    if why := missing_requirements():
        pytest.skip(why)
    spare = Lab({"c": "10.77.0.3"}).start()
    host = spare["c"]
    conn = _open(host.uri)
    try:
        conn.createXML(guest_xml("doomed", *guest_image))
    finally:
        conn.close()
    pids = [
        host.proc.pid,
        host.ns_pid,
        host.daemon_pid("libvirtd.pid"),
        host.daemon_pid("libvirt/qemu/doomed.pid"),
    ]
    assert all(pids), pids
    root = spare.root
    spare.stop()
    assert not root.exists()
    assert [p for p in pids if os.path.exists(f"/proc/{p}")] == []
