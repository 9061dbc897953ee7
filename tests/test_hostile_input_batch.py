"""Regression tests for issue 17 (hostile input), the command line, core and demo-host side:
refresh intervals, mistyped commands, wide names in `vtui list`, unknown rates, SSH and
test-driver error messages, `-c ''`, delete after a managed save, the demo host's
numbers, a guest's used memory and a half-broken saved-hosts file. (The TUI's side of
the same issue is tested with Pilot elsewhere.)"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from pathlib import Path

import libvirt
import pytest
from rich.cells import cell_len

import vtui.app
import vtui.cli
import vtui.screens.peek.terminal
from vtui.batch import main
from vtui.core import gctune
from vtui.core.errors import VtuiError
from vtui.core.fleet import Fleet
from vtui.core.fleet.targets import add_target
from vtui.core.guests.lifecycle import delete_guest, run_action, storage_of
from vtui.core.host import Host
from vtui.core.host.stats import apply_record
from vtui.core.model import Guest
from vtui.core.uri import demo_uri

from .support import until
from .test_batch import one_error_line, run, run_cli


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A HOME, config and state of the test's own, and no ssh agent."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    return home


class FakeApp:
    """Stands in for VtuiApp: vtui.cli.main builds it and runs it only once every
    argument was accepted."""

    made: list[FakeApp] = []

    def __init__(self, fleet, *, asker=None, notes=(), keymap=None, connecting=None):
        self.fleet, self.notes, self.ran = fleet, list(notes), False
        FakeApp.made.append(self)

    async def run_async(self):
        self.ran = True


@pytest.fixture
def tui(home, monkeypatch):
    """vtui.cli.main without a terminal: the app is a FakeApp (FakeApp.made says whether
    the TUI would have started), no terminal query, the GC left as it is."""
    FakeApp.made = []
    monkeypatch.setattr(vtui.app, "VtuiApp", FakeApp)
    monkeypatch.setattr(vtui.screens.peek.terminal, "detect_graphics", lambda: None)
    monkeypatch.setattr(gctune, "tune", lambda: None)
    return FakeApp.made


# -- 3: refresh intervals -----------------------------------------------------------------

BAD_INTERVALS = ["nan", "inf", "-1", "0", "1e9"]


@pytest.mark.parametrize("value", BAD_INTERVALS)
def test_3_tui_refuses_an_insane_interval_before_starting(tui, capsys, value):
    code = vtui.cli.main(["--demo", f"--interval={value}"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    line = one_error_line(err)
    assert "--interval" in line and repr(value) in line
    assert tui == []  # no app was made, let alone run


def test_3_tui_accepts_a_sane_interval(tui, capsys):
    assert vtui.cli.main(["--demo", "--interval", "5"]) == 0, capsys.readouterr().err
    assert len(tui) == 1 and tui[0].ran
    assert tui[0].fleet.interval == 5.0
    assert all(h.interval == 5.0 for h in tui[0].fleet.hosts.values())


@pytest.mark.parametrize("value", BAD_INTERVALS)
def test_3_top_refuses_an_insane_delay(home, value):
    # (in a process of its own: an accepted delay of 1e9 s would wait ~31 years)
    try:
        result = run_cli("top", "--demo", "-b", "-n", "1", f"--delay={value}", timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail(f"vtui top accepted --delay={value} and was still waiting after 10 s")
    assert result.returncode == 2 and result.stdout == "", result.stdout + result.stderr
    line = one_error_line(result.stderr)
    assert "--delay" in line and repr(value) in line


# -- 12: a mistyped subcommand --------------------------------------------------------------


def test_12_a_mistyped_command_is_said_and_no_tui_starts(tui, capsys):
    assert vtui.cli.main(["lst", "--demo"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    line = one_error_line(err)
    assert "did you mean 'list'?" in line and "'lst'" in line
    assert tui == []


def test_12_a_saved_host_called_like_a_command_is_a_host(tui, capsys, tmp_path):
    hosts = tmp_path / "xdg" / "vtui" / "hosts.toml"
    hosts.parent.mkdir(parents=True)
    hosts.write_text('[[host]]\nname = "lst"\ntarget = "test:///default"\n')
    assert vtui.cli.main(["lst"]) == 0, capsys.readouterr().err
    assert "did you mean" not in capsys.readouterr().err
    assert len(tui) == 1 and tui[0].ran
    assert tui[0].fleet.hosts["lst"].uri == "test:///default"


@pytest.mark.parametrize("where", ["~/.ssh/config", "--ssh-config"])
def test_12_an_ssh_alias_called_like_a_command_is_a_host(tui, capsys, home, tmp_path, where):
    config = home / ".ssh" / "config" if where == "~/.ssh/config" else tmp_path / "extra.conf"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("Host lst\n  HostName 127.0.0.1\n  Port 1\n")
    extra = ["--ssh-config", str(config)] if where == "--ssh-config" else []
    assert vtui.cli.main(["lst", *extra]) == 0, capsys.readouterr().err
    assert "did you mean" not in capsys.readouterr().err
    assert len(tui) == 1 and tui[0].ran
    assert "lst" in tui[0].fleet.hosts  # added as a host, not connected yet


# -- 7: wide characters in `vtui list` --------------------------------------------------------

WIDE_NAMES = [
    "plain",
    "数据库-主",  # CJK: two cells each
    "rocket🚀web",  # emoji: two cells
    "cafe\u0301-e\u0301te\u0301",  # combining acute accents: no cell
    "ｖｍ-ＡＢ",  # fullwidth letters: two cells each
]


def guest_file(path: Path, names: list[str]) -> str:
    """A test-driver host with one small guest per name; its URI."""
    from xml.sax.saxutils import escape

    domains = "".join(
        f"<domain type='test'><name>{escape(n)}</name><memory unit='MiB'>512</memory>"
        f"<vcpu>1</vcpu><os><type>hvm</type></os></domain>"
        for n in names
    )
    path.write_text(f"<?xml version='1.0'?><node>{domains}</node>", encoding="utf-8")
    return f"test://{path}"


@pytest.mark.parametrize("wide", [False, True])
def test_7_list_keeps_columns_aligned_in_terminal_cells(capsys, home, tmp_path, wide):
    uri = guest_file(tmp_path / "wide.xml", WIDE_NAMES)
    code, out, err = run(capsys, "list", "-c", uri, "--no-rates", *(["-w"] if wide else []))
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 1 + len(WIDE_NAMES)
    shown = {line.split("  ")[0] for line in lines[1:]}
    assert shown == set(WIDE_NAMES)  # names as they are, nothing cut or replaced
    state_at = cell_len(lines[0][: lines[0].index("STATE")])
    for line in lines[1:]:
        # the STATE column starts at the same terminal cell on every line
        assert cell_len(line[: line.index("  running") + 2]) == state_at, (line, lines[0])
    # and the last column lines up too: UP ends, or UUID starts, at the header's cell
    if wide:
        uuid_at = cell_len(lines[0][: lines[0].index("UUID")])
        assert {cell_len(line[: line.rindex(" ") + 1]) for line in lines[1:]} == {uuid_at}
    else:
        assert {cell_len(line) for line in lines[1:]} == {cell_len(lines[0])}, lines


def test_7_list_keeps_the_host_column_aligned_after_wide_names(capsys, home, tmp_path):
    uri = guest_file(tmp_path / "wide.xml", WIDE_NAMES)
    code, out, err = run(capsys, "list", "-c", uri, "--demo", "--no-rates")
    assert code == 0, err
    lines = out.splitlines()
    host_at = cell_len(lines[0][: lines[0].index("HOST")])
    assert sum(line.split("  ")[0] in WIDE_NAMES for line in lines) == len(WIDE_NAMES)
    for line in lines[1:]:
        host = "test" if line.split("  ")[0] in WIDE_NAMES else "demo"
        assert cell_len(line[: line.index(f"  {host}  ") + 2]) == host_at, (line, lines[0])


# -- 11: unknown rates are null and "-" --------------------------------------------------------

RATE_FIELDS = (
    "disk_read_bytes_per_sec",
    "disk_write_bytes_per_sec",
    "net_rx_bytes_per_sec",
    "net_tx_bytes_per_sec",
)


def test_11_rates_the_driver_does_not_report_are_null_and_dashes(capsys, home, tmp_path):
    uri = guest_file(tmp_path / "guests.xml", ["alpha", "beta"])
    code, out, err = run(capsys, "list", "-c", uri, "--json", "--rates", "--wait", "0.2")
    assert code == 0, err
    guests = json.loads(out)["guests"]
    assert [g["state"] for g in guests] == ["running", "running"]
    for guest in guests:
        assert {f: guest[f] for f in RATE_FIELDS} == dict.fromkeys(RATE_FIELDS), guest

    code, out, err = run(capsys, "list", "-c", uri, "--rates", "--wait", "0.2")
    assert code == 0, err
    header, *rows = out.splitlines()
    disk, net = header.index("DISK R/W"), header.index("NET RX/TX")
    for row in rows:
        assert row[disk:net].strip() == "-/-", row
        assert row[net : net + len("NET RX/TX")].strip() == "-/-", row
        assert "0B" not in row and "/0" not in row


# -- 13: messages that leak internals ------------------------------------------------------


def test_13_batch_ssh_refusal_shows_no_python_tuple(capsys, home):
    code, out, err = run(capsys, "list", "root@127.0.0.1:1", "--timeout", "5")
    assert code == 3 and out == ""
    line = one_error_line(err)
    assert "('" not in line and "', " not in line
    assert "127.0.0.1" in line and "refused" in line.lower()


async def test_13_core_ssh_refusal_shows_no_python_tuple(home):
    """The app's own SSH layer (asyncssh), which the TUI's notification shows."""
    fleet = Fleet(connect_timeout=5)
    host = add_target(fleet, "root@127.0.0.1:1")
    try:
        with pytest.raises(VtuiError) as caught:
            await host.connect()
    finally:
        await fleet.close()
    message = str(caught.value)
    assert "('" not in message and "', " not in message, message
    assert "127.0.0.1:1" in message, message
    assert host.error and "('" not in host.error


@pytest.fixture
def junk_server():
    """A TCP server on 127.0.0.1 that answers every connection with a line that is no
    SSH banner (a web server) and then keeps it open, saying nothing more."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            accepted.append(conn)
            try:
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def test_13_batch_server_sending_garbage_is_not_called_silent(home, junk_server):
    # (in a process of its own: a host that never finishes its handshake may leave a
    # libvirt thread behind, and the batch command then ends its process)
    began = time.monotonic()
    result = run_cli("list", f"root@127.0.0.1:{junk_server}", "--timeout", "2", timeout=60)
    assert result.returncode == 3 and result.stdout == "", result.stderr
    line = one_error_line(result.stderr).lower()
    assert "no answer" not in line, line
    assert "not as an ssh server" in line or "not an ssh server" in line, line
    assert time.monotonic() - began < 30


async def test_13_core_server_sending_garbage_is_not_called_silent(home, junk_server):
    fleet = Fleet(connect_timeout=2)
    host = add_target(fleet, f"root@127.0.0.1:{junk_server}")
    try:
        with pytest.raises(VtuiError) as caught:
            await host.connect()
    finally:
        await fleet.close()
    message = str(caught.value).lower()
    assert "no answer" not in message, message
    assert "not as an ssh server" in message, message


def test_13_a_missing_test_driver_file_is_one_line_without_libxml_noise(capfd, home, tmp_path):
    missing = tmp_path / "nonexistent.xml"
    capfd.readouterr()
    assert main(["list", "-c", f"test://{missing}"]) == 3
    out, err = capfd.readouterr()
    assert out == ""
    assert "I/O warning" not in err and "failed to load external entity" not in err, err
    line = one_error_line(err)
    assert str(missing) in line


# -- 15: `-c ''` -------------------------------------------------------------------------------
# (the batch side is tests/test_batch.py::test_an_empty_uri_is_no_host_given)


def test_15_tui_with_an_empty_uri_says_no_host_given(tui, capsys):
    assert vtui.cli.main(["-c", ""]) == 2
    out, err = capsys.readouterr()
    assert out == "" and one_error_line(err) == "vtui: no host given"
    assert tui == []


# -- 2: delete after a managed save ------------------------------------------------------------


@pytest.fixture
async def demo():
    host = Host(demo_uri(), name="demo")
    await host.connect()
    try:
        yield host
    finally:
        await host.close()


def has_managed_save(host: Host, uuid: str):
    return host.call(lambda: host.conn.lookupByUUIDString(uuid).hasManagedSaveImage(0))


async def gone(host: Host, uuid: str) -> bool:
    def look():
        try:
            host.conn.lookupByUUIDString(uuid)
        except libvirt.libvirtError as exc:
            return exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN
        return False

    return await host.call(look)


async def test_2_delete_after_a_managed_save_removes_the_guest(demo):
    guest = demo.find("web-01")
    assert guest is not None and guest.state == "running" and guest.persistent
    uuid = guest.uuid
    await run_action(demo, guest, "managedsave")
    await until(lambda: demo.find("web-01").state == "shut off", timeout=10, what="saved")
    assert await has_managed_save(demo, uuid) == 1

    guest = demo.find("web-01")
    await storage_of(demo, guest)  # as the TUI's D does, before it asks
    failures = await delete_guest(demo, guest)  # "y", volumes kept
    assert failures == []
    assert await gone(demo, uuid)
    await until(lambda: demo.find("web-01") is None, timeout=10, what="gone from the list")


async def test_2_delete_of_a_guest_shipped_with_a_managed_save_image(demo):
    saved = [
        g
        for g in demo.guests.values()
        if g.state == "shut off" and await has_managed_save(demo, g.uuid)
    ]
    assert saved, "the demo host ships a guest with a managed save image"
    guest = saved[0]
    assert await delete_guest(demo, guest, []) == []
    assert await gone(demo, guest.uuid)


# -- 22: the demo host's numbers ---------------------------------------------------------------


def test_22_demo_host_memory_is_unknown_not_full(capsys, home):
    code, out, err = run(capsys, "host", "--demo", "--json", "--no-rates")
    assert code == 0, err
    demo = json.loads(out)["hosts"][0]
    assert demo["memory_total_bytes"] == 128 * 1024**3
    assert demo["memory_used_bytes"] is None  # the test driver's "0 free" means unknown
    assert demo["cpu_percent"] is None  # one sample: unknown, not 0

    code, out, err = run(capsys, "host", "--demo", "--no-rates")
    assert code == 0, err
    memory = next(line for line in out.splitlines() if line.startswith("  memory "))
    assert memory.split(None, 1)[1] == "- used of 128.0 GiB"
    assert "%" not in memory

    code, out, err = run(capsys, "top", "--demo", "-b", "-n", "1", "-d", "0.2")
    assert code == 0, err
    assert "mem -/128G" in out.splitlines()[1] and "mem 128G/128G" not in out


def test_22_running_guests_cpu_is_unknown_without_rates(capsys, home):
    # (JSON null: tests/test_batch.py::test_list_state_filter_and_csv; here the table)
    code, out, err = run(capsys, "list", "--demo", "--no-rates", "--state", "running")
    assert code == 0, err
    header, *rows = out.splitlines()
    cpu = header.index("CPU%")
    assert len(rows) == 21
    for row in rows:
        assert row[cpu : cpu + 4].strip() == "-", row


# -- 24: a guest's used memory ------------------------------------------------------------------


def a_guest() -> Guest:
    return Guest(uuid="u", name="small", host="h", state="shut off")


def test_24_used_memory_is_the_balloons_not_qemus_rss():
    guest = a_guest()
    apply_record(
        guest,
        {
            "state.state": libvirt.VIR_DOMAIN_RUNNING,
            "balloon.current": 131072,  # 128 MiB set
            "balloon.maximum": 131072,
            "balloon.available": 120000,  # what the guest sees
            "balloon.unused": 80000,
            "balloon.rss": 212992,  # 208 MiB: QEMU's own overhead included
        },
    )
    assert guest.memory_kib == 131072
    assert guest.memory_used_kib == 40000
    assert guest.memory_rss_kib == 212992

    from vtui.batch.commands import guest_row
    from vtui.batch.records import guest_record

    record = guest_record(guest)
    assert record["memory_used_bytes"] == 40000 * 1024
    assert record["memory_rss_bytes"] == 212992 * 1024
    row = guest_row(guest, with_host=False, wide=True, now=time.time())
    assert row[-5] == "39M"  # MEM USED, not 208M


@pytest.mark.parametrize(
    "balloon",
    [
        {"balloon.rss": 212992},
        {"balloon.available": 120000, "balloon.rss": 212992},
        {"balloon.unused": 80000, "balloon.rss": 212992},
    ],
    ids=["rss-only", "no-unused", "no-available"],
)
def test_24_used_memory_is_unknown_without_the_balloons_figures(balloon):
    guest = a_guest()
    guest.memory_used_kib = 1  # a previous sample's value must not linger
    record = {"state.state": libvirt.VIR_DOMAIN_RUNNING, "balloon.current": 131072, **balloon}
    apply_record(guest, record)
    assert guest.memory_used_kib is None
    assert guest.memory_rss_kib == 212992

    from vtui.batch.commands import guest_row
    from vtui.batch.records import guest_record

    assert guest_record(guest)["memory_used_bytes"] is None
    assert guest_row(guest, with_host=False, wide=True, now=time.time())[-5] == "-"


# -- 5: one bad entry in the saved-hosts file -----------------------------------------------
# (an unknown key with `vtui list NAME` and `vtui list --demo`:
# tests/test_batch.py::test_a_broken_hosts_file_is_said_and_its_good_entries_used)

HOSTS = """\
[[host]]
name = "good"
target = "test:///default"

[[host]]
name = "good"
target = "root@elsewhere.example"

[[host]]
name = "typed"
target = "test:///default"
readonly = "yes"
"""


@pytest.fixture
def half_broken_hosts(home, tmp_path) -> Path:
    hosts = tmp_path / "xdg" / "vtui" / "hosts.toml"
    hosts.parent.mkdir(parents=True)
    hosts.write_text(HOSTS)
    return hosts


def assert_warned(err: str, hosts: Path) -> None:
    warnings = [line for line in err.splitlines() if line.startswith("vtui: warning: ")]
    duplicate = [w for w in warnings if f"{hosts}:5:" in w]
    wrong_type = [w for w in warnings if f"{hosts}:9:" in w]
    assert len(duplicate) == 1 and "'good' already exists" in duplicate[0], err
    assert len(wrong_type) == 1 and "'readonly' must be a bool" in wrong_type[0], err


@pytest.mark.parametrize(
    "argv",
    [
        ["list", "good", "--json", "--no-rates"],
        ["list", "--demo", "--json", "--no-rates"],
        ["host", "--demo", "--json", "--no-rates"],
    ],
    ids=["list-good", "list-demo", "host-demo"],
)
def test_5_bad_entries_are_named_and_the_good_ones_used(capsys, half_broken_hosts, argv):
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert_warned(err, half_broken_hosts)
    doc = json.loads(out)  # the warnings never reach stdout
    if argv[1] == "good":  # the first, good entry still works
        assert doc["hosts"] == ["good"]
        assert {g["name"] for g in doc["guests"]} == {"test"}


def test_5_tui_with_demo_says_the_bad_entries(tui, capsys, half_broken_hosts):
    assert vtui.cli.main(["--demo"]) == 0, capsys.readouterr().err
    notes = "\n".join(tui[0].notes)
    assert f"{half_broken_hosts}:5:" in notes and "'good' already exists" in notes, notes
    assert "1 more" in notes, notes  # the second bad entry is not silently dropped
