"""Batch commands reach SSH hosts with OpenSSH (core/fleet/openssh.py), as virsh does:
one login per host and command, never a prompt, nothing left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_batch import ROOT, one_error_line, run, virsh

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("private_home")]


def logins(host) -> int:
    """SSH logins the host's sshd has accepted so far."""
    log = Path(host.dir, "sshd.log")
    return log.read_text(errors="replace").count("Accepted publickey") if log.exists() else 0


def ssh_leftovers() -> list[str]:
    """ssh processes of vtui's batch logins still running (there must be none)."""
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if "vtui-os-" in line]


def test_list_logs_in_once_and_leaves_nothing(capsys, lab, make_guest, tmp_path, monkeypatch):
    a = lab["a"]
    running = make_guest(a)  # a running guest: its start time needs a remote command too
    runtime = tmp_path / "run"
    runtime.mkdir()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))  # our private directories go there
    before = logins(a)
    code, out, err = run(capsys, "list", "lab-a", "--ssh-config", lab.ssh_config, "--json")
    assert code == 0, err
    assert logins(a) - before == 1  # libvirt's connection and the uptime command share it
    doc = json.loads(out)
    guest = next(g for g in doc["guests"] if g["name"] == running)
    assert guest["state"] == "running" and guest["uptime_seconds"] is not None
    assert list(runtime.iterdir()) == []  # the wrapper, config and sockets are gone
    assert ssh_leftovers() == []


def test_unknown_host_key_is_refused_in_one_line(capsys, lab, tmp_path):
    a = lab["a"]
    config = tmp_path / "ssh_config"
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    # (a relay of one process: the lab's bash relay leaves a child holding ssh's stderr
    # open after ssh gave up, and libvirt, virsh too, waits for it)
    relay = f"{sys.executable} -S -I {ROOT / 'bench/delay_relay.py'} 0 {a.ip} 22"
    config.write_text(
        f"Host lab-a\n  HostName {a.ip}\n  User root\n  IdentityFile {lab.client_key}\n"
        f"  UserKnownHostsFile {empty}\n  GlobalKnownHostsFile /dev/null\n"
        f"  StrictHostKeyChecking ask\n"
        f"  ProxyCommand nsenter --net={a.netns_path} {relay}\n"
    )
    began = time.monotonic()
    code, out, err = run(capsys, "list", "lab-a", "--ssh-config", str(config))
    assert code == 3 and out == ""
    line = one_error_line(err)
    assert line.startswith("vtui: lab-a: cannot connect to qemu+ssh://lab-a/system")
    assert "Host key verification failed" in line
    assert time.monotonic() - began < 15
    assert empty.read_text() == ""  # batch mode never accepts a key
    assert ssh_leftovers() == []


def test_actions_and_migrate_use_the_same_route(capsys, lab, make_guest):
    name = make_guest(lab["a"], start=False)
    code, out, err = run(
        capsys, "start", name, "--host", "lab-a", "--ssh-config", lab.ssh_config, "--wait", "20"
    )
    assert code == 0, err
    assert out.strip() == f"{name} on lab-a: started; now running"
    code, out, err = run(
        capsys, "destroy", name, "-c", "qemu+ssh://lab-a/system", "--ssh-config", lab.ssh_config
    )
    assert code == 0, err
    assert name in virsh(lab["a"].uri, "list", "--all", "--name").split()
    assert ssh_leftovers() == []


def test_the_command_process_exits_at_once_and_cleanly(lab):
    """`vtui list` as a script runs it: exit status, output complete, no stray output."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    began = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "vtui", "list", "lab-a", "--ssh-config", lab.ssh_config, "--csv"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines()[0].startswith("host,name,uuid,")
    assert time.monotonic() - began < 20
    assert ssh_leftovers() == []


def test_an_early_login_ends_with_the_command_that_started_it(lab, tmp_path):
    """A command killed outright (SIGKILL: no atexit, no finally) leaves no SSH login
    behind: the login's own session reads a pipe that dies with the process."""
    code = (
        "import os, sys, time\n"
        "from vtui.core.fleet import openssh\n"
        "from vtui.core.fleet.targets import ssh_target_of\n"
        f"openssh.warm_up(ssh_target_of('lab-a', ssh_config={lab.ssh_config!r}), 10)\n"
        "(setup,) = openssh._warm.values()\n"
        "deadline = time.monotonic() + 20\n"
        "while not os.path.exists(setup.control) and time.monotonic() < deadline:\n"
        "    time.sleep(0.01)\n"
        "print(setup.master.pid, os.path.exists(setup.control), flush=True)\n"
        "os.kill(os.getpid(), 9)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "XDG_RUNTIME_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    pid, logged_in = result.stdout.split()
    assert logged_in == "True", result.stderr
    deadline = time.monotonic() + 10
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        assert not alive(pid), "the login outlived its command"
    finally:
        if alive(pid):
            os.kill(int(pid), 9)


def alive(pid: str) -> bool:
    """Running (an exited process nobody has reaped yet is a zombie: not running)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] != "Z"
