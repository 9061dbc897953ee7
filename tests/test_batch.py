"""`vtui list|top|host|start|...`: the batch commands, run in-process through
vtui.batch.main (and a few through `python -m vtui`), against the demo host and the
lab's real libvirtd."""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import vtui.batch
from tests.support import read_until
from vtui.batch import BATCH_COMMANDS, main
from vtui.batch.records import GUEST_FIELDS
from vtui.core.uri import demo_uri, display_name

ROOT = Path(__file__).resolve().parents[1]
NOWHERE = "qemu+unix:///system?socket=/nonexistent"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_cli(*argv: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run(
        [sys.executable, "-m", "vtui", *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=ROOT,
    )


def run_python(code: str) -> subprocess.CompletedProcess:
    """`code` in a fresh interpreter on this checkout: what a new process loads."""
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("vtui: "), err
    assert "Traceback" not in err
    return lines[0]


def test_commands_exported():
    assert {
        "list",
        "top",
        "host",
        "start",
        "shutdown",
        "reboot",
        "destroy",
        "suspend",
        "resume",
        "migrate",
    } <= BATCH_COMMANDS


# -- list on the demo host ------------------------------------------------------------------


def test_list_demo_table(capsys):
    code, out, err = run(capsys, "list", "--demo", "--wait", "0.2")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["NAME", "STATE"]
    assert "HOST" not in lines[0]  # one host: no host column
    assert len(lines) == 1 + 33
    assert max(len(line) for line in lines) <= 80
    web = next(line for line in lines if line.startswith("web-01 "))
    assert "running" in web and "2.0G" in web


def test_list_demo_json_matches_libvirt(capsys):
    import libvirt

    code, out, err = run(capsys, "list", "--demo", "--json", "--wait", "0.2")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["format_version"] == 1 and doc["hosts"] == ["demo"] and doc["errors"] == []
    guests = {g["uuid"]: g for g in doc["guests"]}
    conn = libvirt.openReadOnly(demo_uri())
    try:
        doms = conn.listAllDomains(0)
        assert set(guests) == {d.UUIDString() for d in doms}
        for dom in doms:
            g = guests[dom.UUIDString()]
            assert list(g) == list(GUEST_FIELDS)
            assert g["name"] == dom.name()
            _state, max_kib, cur_kib, vcpus, _cpu = dom.info()
            assert g["memory_bytes"] == cur_kib * 1024
            assert g["vcpus"] == vcpus
            assert g["persistent"] == bool(dom.isPersistent())
    finally:
        conn.close()
    web = next(g for g in doc["guests"] if g["name"] == "web-01")
    assert web["state"] == "running" and web["host"] == "demo"
    # the test driver reports no disk or network statistics: unknown (null), never 0
    assert web["disk_read_bytes_per_sec"] is None and web["net_rx_bytes_per_sec"] is None
    off = next(g for g in doc["guests"] if g["name"] == "gpu-lab")
    assert off["state"] == "shut off" and off["cpu_percent"] is None
    assert off["disk_read_bytes_per_sec"] is None


def test_list_state_filter_and_csv(capsys):
    code, out, err = run(
        capsys, "list", "--demo", "--csv", "--no-rates", "--state", "shutoff", "--state", "crashed"
    )
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows and {r["state"] for r in rows} == {"shut off", "crashed"}
    assert list(rows[0]) == list(GUEST_FIELDS)
    assert rows[0]["cpu_percent"] == ""  # unknown = empty cell
    code, out, _ = run(capsys, "list", "--demo", "--json", "--no-rates", "--state", "active")
    states = {g["state"] for g in json.loads(out)["guests"]}
    assert states == {"running", "paused", "pmsuspended"}
    code, out, _ = run(capsys, "list", "--demo", "--json", "--no-rates")
    running = [g for g in json.loads(out)["guests"] if g["state"] == "running"]
    assert running and all(g["cpu_percent"] is None for g in running)  # one sample only


def test_list_two_hosts_has_host_column(capsys):
    code, out, err = run(capsys, "list", "--demo", "-c", "test:///default", "--no-rates")
    assert code == 0, err
    assert out.splitlines()[0].split()[:3] == ["NAME", "HOST", "STATE"]
    assert any(line.split()[:2] == ["test", "test"] for line in out.splitlines())


# -- host and top on the demo host ----------------------------------------------------------


def test_host_demo(capsys):
    code, out, err = run(capsys, "host", "--demo", "-c", "test:///default", "--json", "--no-rates")
    assert code == 0, err
    hosts = {h["name"]: h for h in json.loads(out)["hosts"]}
    demo = hosts["demo"]
    assert demo["cpus"] == 32 and demo["driver"] == "TEST"
    assert demo["guests_total"] == 33 and demo["guests_by_state"]["running"] == 21
    assert demo["ksm"] is None and "not" in demo["ksm_unavailable_reason"]
    assert demo["vcpu_commitment"] == pytest.approx(demo["active_vcpus"] / 32, abs=1e-3)
    assert demo["memory_total_bytes"] == 128 * 1024**3
    cells = hosts["test"]["numa_cells"]
    assert [c["id"] for c in cells] == [0, 1] and cells[0]["memory_free_bytes"] is not None

    code, out, err = run(capsys, "host", "--demo", "--no-rates")
    assert code == 0, err
    assert out.splitlines()[0] == "demo"
    text = out
    for label in ("hostname", "cpu", "memory", "numa", "ksm", "guests", "commitment"):
        assert f"  {label} " in text
    assert "33: " in text and "not available" in text


def test_top_batch_csv(capsys, tmp_path):
    target = tmp_path / "top.csv"
    code, out, err = run(
        capsys,
        "top",
        "--demo",
        "--batch",
        "-n",
        "2",
        "-d",
        "0.2",
        "--sort",
        "mem",
        "--csv",
        str(target),
    )
    assert code == 0, err
    blocks = out.split("\n\n")
    assert len(blocks) == 2
    for block in blocks:
        lines = block.splitlines()
        assert lines[0].startswith("vtui top ") and "guests: 33" in lines[0]
        assert lines[1].startswith("  demo: cpu")
        assert lines[2].split()[0] == "NAME"
        assert lines[3].startswith("db-primary ")  # 24 GiB: biggest first
        assert "gpu-lab" not in block  # shut off: not shown
    rows = list(csv.DictReader(target.open()))
    assert len(rows) == 2 * 25  # active guests, twice
    assert list(rows[0]) == ["timestamp", *GUEST_FIELDS]
    assert len({r["timestamp"] for r in rows}) >= 1
    assert all(r["timestamp"].endswith("Z") for r in rows)


def test_top_needs_batch_and_csv_to_stdout(capsys):
    code, out, err = run(capsys, "top", "--demo")
    assert code == 2 and out == ""
    assert "plain `vtui`" in one_error_line(err)
    code, out, err = run(
        capsys, "top", "--demo", "-b", "-n", "1", "-d", "0.2", "--csv", "-", "--all"
    )
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 33


# -- actions on the demo host (its state lives in memory, per process) ----------------------


def test_actions_on_demo(capsys):
    code, out, err = run(capsys, "start", "gpu-lab", "--demo", "--wait", "5")
    assert code == 0, err
    assert out.strip() == "gpu-lab on demo: started; now running"
    code, out, err = run(capsys, "destroy", "web-01", "--demo")
    assert code == 0 and "forced off" in out
    code, out, err = run(capsys, "start", "web-01", "--demo")  # already running
    assert code == 1 and out == ""
    assert "it is running" in one_error_line(err)
    code, out, err = run(capsys, "suspend", "web-01", "--demo", "--readonly")
    assert code == 1 and "read-only" in one_error_line(err)
    code, out, err = run(capsys, "resume", "ci-runner-03", "--demo", "--wait", "5")
    assert code == 0 and out.strip().endswith("now running")


def test_guest_lookup_errors(capsys):
    code, out, err = run(capsys, "start", "no-such-guest", "--demo")
    assert code == 1 and "no guest called 'no-such-guest'" in one_error_line(err)
    # the same demo file twice: two hosts "demo" and "demo#2" have every guest
    code, out, err = run(capsys, "destroy", "web-01", "--demo", "-c", demo_uri())
    assert code == 1 and "several hosts" in one_error_line(err)
    code, out, err = run(
        capsys, "destroy", "web-01", "--demo", "-c", demo_uri(), "--host", "demo#2"
    )
    assert code == 0 and out.strip() == "web-01 on demo#2: forced off (destroyed)"


def test_migrate_refused_by_preflight(capsys):
    # the test driver's second host lacks the demo guest's disk: the core's checks say so
    code, out, err = run(
        capsys, "migrate", "gpu-lab", "--demo", "-c", "test:///default", "--to", "test"
    )
    assert code == 1 and out == ""
    line = one_error_line(err)
    assert "demo: guest gpu-lab: cannot migrate to test:" in line and "missing on test" in line
    code, out, err = run(
        capsys, "migrate", "gpu-lab", "--demo", "-c", NOWHERE, "--to", display_name(NOWHERE)
    )
    assert code == 3 and "/nonexistent" in one_error_line(err)


# -- bad usage and unreachable hosts --------------------------------------------------------


@pytest.mark.parametrize(
    "argv, words",
    [
        (["list", "--demo", "--bogus"], "unrecognized arguments: --bogus"),
        (["list", "--demo", "--state", "sleepy"], "unknown state 'sleepy'"),
        (["list", "--demo", "--json", "--csv"], "not allowed with"),
        (["list", "--demo", "--wait", "-1"], "must be a positive number"),
        (["top", "--demo", "-b", "-n", "zero"], "not a whole number"),
        (["top", "--demo", "-b", "--sort", "colour"], "invalid choice"),
        (["start", "--demo"], "required: GUEST"),
        (["migrate", "web-01", "--demo"], "required: --to"),
        (["migrate", "web-01", "--demo", "--to", "x", "--live", "--offline"], "not allowed with"),
        (["frobnicate"], "unknown command"),
    ],
)
def test_bad_usage_exit_2(capsys, argv, words):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert words in one_error_line(err)


def test_help_exits_0(capsys):
    code, out, _ = run(capsys, "list", "--help")
    assert code == 0 and "exit status" in out and "--state" in out


def test_unreachable_host_exit_3(capsys):
    began = time.monotonic()
    code, out, err = run(capsys, "list", "-c", NOWHERE, "--json")
    assert code == 3 and out == ""
    assert "/nonexistent" in one_error_line(err)
    assert time.monotonic() - began < 5
    code, out, err = run(capsys, "start", "web-01", "-c", NOWHERE)
    assert code == 3 and "/nonexistent" in one_error_line(err)


def test_some_hosts_unreachable_still_reports_the_others(capsys):
    code, out, err = run(capsys, "list", "--demo", "-c", NOWHERE, "--json", "--no-rates")
    assert code == 3
    doc = json.loads(out)
    assert doc["hosts"] == ["demo"] and len(doc["guests"]) == 33
    assert [e["uri"] for e in doc["errors"]] == [NOWHERE]
    assert "/nonexistent" in one_error_line(err)
    # an action on a guest that was found does not care about the other host
    code, out, err = run(capsys, "destroy", "web-01", "--demo", "-c", NOWHERE)
    assert code == 0 and "forced off" in out
    # a guest that was not found might be on the host we could not search
    code, out, err = run(capsys, "start", "nope", "--demo", "-c", NOWHERE)
    assert code == 3 and "not searched" in err.splitlines()[-1]


@pytest.fixture
def silent_socket(tmp_path):
    """A libvirt socket that accepts connections and never answers (a hung daemon)."""
    path = tmp_path / "silent.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen(8)
    accepted = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"qemu+unix:///system?socket={path}"
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def test_hung_host_times_out_without_hanging(silent_socket):
    began = time.monotonic()
    result = run_cli(
        "list", "--demo", "-c", silent_socket, "--timeout", "1", "--no-rates", timeout=30
    )
    assert result.returncode == 3, result.stderr
    assert "no answer" in one_error_line(result.stderr)
    assert "web-01" in result.stdout
    assert time.monotonic() - began < 10


def test_an_empty_uri_is_no_host_given(capsys):
    assert main(["list", "-c", ""]) == 2  # not libvirt's default URI
    assert "no host given" in capsys.readouterr().err


def test_migrate_to_the_only_host_given_says_the_guest_is_there(capsys):
    assert main(["migrate", "web-01", "--demo", "--to", "demo"]) == 1
    err = capsys.readouterr().err
    assert "'web-01' is already on demo" in err and "qemu:///system" not in err
    assert main(["migrate", "no-such", "--demo", "--to", "demo"]) == 1
    assert "on a host other than the destination demo" in capsys.readouterr().err


def test_a_broken_hosts_file_is_said_and_its_good_entries_used(capsys, private_home, tmp_path):
    hosts = tmp_path / "xdg" / "vtui" / "hosts.toml"
    hosts.parent.mkdir(parents=True)
    hosts.write_text(
        '[[host]]\nname = "demo2"\ntarget = "test:///default"\n\n'
        '[[host]]\nname = "bad"\ntarget = "test:///default"\ncolour = "red"\n'
    )
    assert main(["list", "demo2"]) == 0
    err = capsys.readouterr().err
    assert f"warning: {hosts}:5:" in err and "colour" in err
    assert main(["list", "--demo"]) == 0  # whatever hosts the command uses
    assert "colour" in capsys.readouterr().err


def test_cli_entry_point_dispatches_batch_commands():
    result = run_cli("list", "--demo", "--json", "--no-rates")
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["guests"]) == 33
    result = run_cli("host", "--demo", "--nope")
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_batch_does_not_import_textual():
    code = (
        "import sys, vtui.batch; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stdout + result.stderr
    assert vtui.batch.main is main


def test_what_runs_before_the_ssh_login_loads_no_network_or_libvirt_code(private_home):
    """A command parses its options and resolves its hosts, then starts the SSH login;
    only then does it load the rest (virsh starts its login 0.03 s after it starts).
    The log and the TOML reader wait too (no settings files here to read), and so do
    dataclasses (with the inspect module it loads, a fifth of what came before)."""
    code = (
        "import sys; from vtui.cli import main; from vtui.batch import COMMANDS; "
        "args = COMMANDS['list'].parser().parse_intermixed_args(['lab-a']); "
        "COMMANDS['suspend'].parser().parse_intermixed_args(['web', '--host', 'lab-a']); "
        "from vtui.core.fleet.targets import ssh_target_of; "
        "from vtui.core.fleet.openssh import warm_up; ssh_target_of('lab-a'); "
        "bad = [m for m in ('libvirt', 'asyncio', 'lxml', 'socket', 'logging', 'tomllib', "
        "'dataclasses') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stdout + result.stderr


def test_one_guest_action_loads_no_bulk_clone_or_snapshot_code():
    """Scripts call `vtui suspend GUEST` in loops: it must not pay for the rest."""
    code = (
        "import sys; from vtui.batch import main; code = main(['suspend', 'web-01', '--demo']); "
        "bad = [m for m in ('vtui.core.guests.bulk', 'vtui.core.guests.clone', "
        "'vtui.core.guests.snapshots', 'vtui.core.storage', 'vtui.core.host.caps', "
        "'vtui.core.host.devices') if m in sys.modules]; "
        "print(code, bad); sys.exit(1 if bad or code else 0)"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "web-01 on demo: paused" in result.stdout


@pytest.mark.parametrize("package", ["vtui.core.guests", "vtui.core.host"])
def test_every_lazily_loaded_name_of_a_package_is_its_modules(package):
    import importlib
    import pkgutil

    lazy = importlib.import_module(package)
    assert sorted(lazy.__all__) == lazy._EXPORTS.names
    submodules = {m.name for m in pkgutil.iter_modules(lazy.__path__)}
    assert not submodules & set(lazy.__all__)  # a module would shadow the name
    for name in lazy.__all__:
        module = importlib.import_module(f"{package}.{lazy._EXPORTS.where[name]}")
        assert getattr(lazy, name) is getattr(module, name)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        lazy.nothing  # noqa: B018


# -- the lab's real libvirtd ---------------------------------------------------------------


def virsh(uri: str, *args: str) -> str:
    return subprocess.run(
        ["virsh", "-c", uri, *args], capture_output=True, text=True, check=True, timeout=30
    ).stdout


def virsh_state(uri: str, name: str) -> str:
    return virsh(uri, "domstate", name).strip()


@pytest.mark.lab
def test_lab_list_json_matches_virsh(capsys, local_host, make_guest):
    running = make_guest(local_host)
    stopped = make_guest(local_host, start=False)
    code, out, err = run(capsys, "list", "-c", local_host.uri, "--json", "--wait", "0.3")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["errors"] == [] and len(doc["hosts"]) == 1
    ours = {g["uuid"]: g for g in doc["guests"]}
    uuids = set(virsh(local_host.uri, "list", "--all", "--uuid").split())
    assert set(ours) == uuids
    for guest in ours.values():
        assert guest["state"] == virsh_state(local_host.uri, guest["uuid"])
    by_name = {g["name"]: g for g in doc["guests"]}
    assert by_name[running]["state"] == "running" and by_name[stopped]["state"] == "shut off"
    assert by_name[running]["cpu_percent"] is not None
    assert by_name[running]["memory_bytes"] == 128 * 1024**2
    assert by_name[stopped]["cpu_percent"] is None
    code, out, _ = run(
        capsys, "list", "-c", local_host.uri, "--state", "inactive", "--csv", "--no-rates"
    )
    names = {r["name"] for r in csv.DictReader(io.StringIO(out))}
    assert stopped in names and running not in names


@pytest.mark.lab
def test_lab_actions_change_guest_state(capsys, local_host, make_guest):
    name = make_guest(local_host, start=False)
    uri = local_host.uri

    def act(*argv: str) -> str:
        code, out, err = run(capsys, *argv, name, "-c", uri)
        assert code == 0, err
        return out.strip()

    done = act("start", "--wait", "30")
    assert done.startswith(f"{name} on ") and done.endswith(": started; now running")
    assert virsh_state(uri, name) == "running"
    act("suspend", "--wait", "10")
    assert virsh_state(uri, name) == "paused"
    act("resume", "--wait", "10")
    assert virsh_state(uri, name) == "running"
    assert "asked to reboot" in act("reboot")
    assert "asked to shut down" in act("shutdown")
    assert "forced off" in act("destroy", "--wait", "10")
    assert virsh_state(uri, name) == "shut off"
    code, _, err = run(capsys, "resume", name, "-c", uri)
    assert code == 1 and "it is not paused" in one_error_line(err)


@pytest.mark.lab
def test_lab_host_facts(capsys, local_host):
    code, out, err = run(capsys, "host", "-c", local_host.uri, "--json", "--wait", "0.3")
    assert code == 0, err
    rec = json.loads(out)["hosts"][0]
    assert rec["hostname"] == virsh(local_host.uri, "hostname").strip()
    info = dict(
        line.split(":", 1) for line in virsh(local_host.uri, "nodeinfo").splitlines() if ":" in line
    )
    assert rec["cpus"] == int(info["CPU(s)"])
    assert rec["driver"] == "QEMU"
    assert rec["cpu_percent"] is not None
    assert 0 < rec["memory_used_bytes"] < rec["memory_total_bytes"]
    assert rec["numa_cells"] and rec["numa_cells"][0]["memory_free_bytes"] > 0
    assert (rec["ksm"] is None) == (rec["ksm_unavailable_reason"] is not None)


@pytest.mark.lab
def test_lab_top_batch_csv(capsys, local_host, make_guest, tmp_path):
    busy = make_guest(local_host, busy=True)
    target = tmp_path / "top.csv"
    code, out, err = run(
        capsys, "top", "-c", local_host.uri, "-b", "-n", "2", "-d", "0.5", "--csv", str(target)
    )
    assert code == 0, err
    assert out.count("vtui top ") == 2
    rows = [r for r in csv.DictReader(target.open()) if r["name"] == busy]
    assert len(rows) == 2
    assert all(float(r["cpu_percent"]) > 10 for r in rows)  # its vCPU spins
    assert rows[0]["timestamp"] <= rows[1]["timestamp"]


@pytest.mark.lab
def test_lab_top_reads_stopped_guests_every_fifth_sample(
    capsys, local_host, make_guest, monkeypatch
):
    from vtui.core.host import connection

    stopped = make_guest(local_host, start=False)
    running = make_guest(local_host)
    asked: list[bool] = []
    real = connection.bulk_stats

    def bulk_stats(conn, known, *, active_only=False):
        asked.append(active_only)
        return real(conn, known, active_only=active_only)

    monkeypatch.setattr(connection, "bulk_stats", bulk_stats)
    code, out, err = run(
        capsys, "top", "-c", local_host.uri, "-b", "-n", "6", "-d", "0.2", "--all", "--csv", "-"
    )
    assert code == 0, err
    assert asked.count(False) < len(asked) - 2, asked  # most samples: running guests only
    rows = list(csv.DictReader(io.StringIO(out)))
    for name, state in ((stopped, "shut off"), (running, "running")):
        # listed with their state in every block, also those of active-only samples
        assert [r["state"] for r in rows if r["name"] == name] == [state] * 6, (name, rows)


@pytest.mark.lab
def test_lab_ssh_alias_as_host(capsys, lab, local_host):
    # "lab-a" is an alias of the lab's ssh config: the same SSH tunnel the TUI uses
    code, out, err = run(
        capsys, "list", "lab-a", "--ssh-config", lab.ssh_config, "--json", "--no-rates"
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["hosts"] == ["lab-a"]
    assert {g["uuid"] for g in doc["guests"]} == set(
        virsh(local_host.uri, "list", "--all", "--uuid").split()
    )


@pytest.mark.lab
def test_lab_migrate_live_between_ssh_hosts(capsys, lab, make_guest):
    a, b = lab["a"], lab["b"]
    name = make_guest(a)  # removed afterwards from whichever host has it
    code, out, err = run(
        capsys,
        "migrate",
        name,
        "--host",
        "lab-a",
        "--to",
        "lab-b",
        "--ssh-config",
        lab.ssh_config,
        "--bandwidth",
        "500",
    )
    assert code == 0, err
    assert out.startswith(f"{name} migrated from lab-a to lab-b (live, 500 MiB/s): ")
    assert "Traceback" not in err
    assert virsh_state(b.uri, name) == "running"
    assert name not in virsh(a.uri, "list", "--all", "--name").split()
    # the same guest cannot go to where it already is
    code, out, err = run(
        capsys, "migrate", name, "--host", "lab-b", "--to", "lab-b", "--ssh-config", lab.ssh_config
    )
    assert code == 1 and "same host" in one_error_line(err)


@pytest.mark.lab
def test_lab_migrate_ctrl_c_cancels_and_the_guest_stays(lab, make_guest):
    import signal

    a, b = lab["a"], lab["b"]
    name = make_guest(a)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vtui",
            "migrate",
            name,
            "--host",
            "lab-a",
            "--to",
            "lab-b",
            "--ssh-config",
            lab.ssh_config,
            "--bandwidth",
            "1",
        ],  # 128 MiB: minutes
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        seen = read_until(proc.stderr, "copying memory")
        assert "copying memory" in seen, seen
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, seen + err
    assert "cancelling" in err and "Traceback" not in err
    assert virsh_state(a.uri, name) == "running"
    assert name not in virsh(b.uri, "list", "--all", "--name").split()


@pytest.mark.lab
def test_lab_migrate_dry_run_prints_the_checks_and_moves_nothing(capsys, lab, make_guest):
    a, b = lab["a"], lab["b"]
    name = make_guest(a)
    base = ["migrate", name, "--host", "lab-a", "--to", "lab-b", "--ssh-config", lab.ssh_config]
    code, out, err = run(capsys, *base, "--dry-run")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"{name}: lab-a -> lab-b (live)"
    assert f"pass  name: no guest called {name} or with its UUID on lab-b" in lines
    assert all(line[:6] in ("pass  ", "warn  ", "      ") for line in lines[1:]), out

    make_guest(b, name=name, start=False)  # now the name is taken there
    code, out, err = run(capsys, *base, "--dry-run")
    assert code == 1 and err == ""
    assert f"fail  name: lab-b already has a guest called {name} (defined)" in out
    assert "      fix: rename or remove the one on lab-b" in out.splitlines()
    code, out, err = run(capsys, *base, "--dry-run", "--json")
    assert code == 1
    doc = json.loads(out)
    assert doc["ok"] is False and doc["migration"] is None and doc["source"] == "lab-a"
    clash = next(c for c in doc["checks"] if c["name"] == "name")
    assert clash == {
        "name": "name",
        "status": "fail",
        "message": f"lab-b already has a guest called {name} (defined)",
        "fix": "rename or remove the one on lab-b",
    }
    assert virsh_state(a.uri, name) == "running"  # nothing moved


@pytest.mark.lab
def test_lab_migrate_json_reports_the_migration(capsys, lab, make_guest):
    a, b = lab["a"], lab["b"]
    name = make_guest(a)
    code, out, err = run(
        capsys,
        "migrate",
        name,
        "--host",
        "lab-a",
        "--to",
        "lab-b",
        "--ssh-config",
        lab.ssh_config,
        "--json",
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["ok"] is True and doc["error"] is None and doc["options"] == "live"
    assert doc["migration"]["data_bytes"] > 0 and doc["migration"]["seconds"] > 0
    assert all(c["status"] in ("pass", "warn") for c in doc["checks"])
    assert virsh_state(b.uri, name) == "running"
