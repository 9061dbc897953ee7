"""`vtui pools`, `vtui volumes` and `vtui volume upload|download|copy`: the batch
commands on the demo host (libvirt's test driver) and on the lab's real libvirtd."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import libvirt
import pytest

from tests.lab.pools import make_pool, remove_pool, volumes_in
from tests.support import read_until
from vtui.batch import BATCH_COMMANDS, main
from vtui.batch.storage_records import POOL_FIELDS, VOLUME_FIELDS
from vtui.core.uri import demo_uri

ROOT = Path(__file__).resolve().parents[1]
NOWHERE = "qemu+unix:///system?socket=/nonexistent"
MiB = 1024 * 1024


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vtui: ") and "Traceback" not in err, err
    return lines[0]


def test_storage_commands_are_registered():
    assert {"pools", "volumes", "volume"} <= BATCH_COMMANDS


# -- the demo host ---------------------------------------------------------------------------
def test_pools_json_matches_libvirt(capsys):
    code, out, err = run(capsys, "pools", "--demo", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["format_version"] == 1 and doc["hosts"] == ["demo"] and doc["errors"] == []
    conn = libvirt.openReadOnly(demo_uri())
    try:
        expected = {p.name(): p for p in conn.listAllStoragePools(0)}
        assert [p["name"] for p in doc["pools"]] == sorted(expected)
        for record in doc["pools"]:
            assert list(record) == list(POOL_FIELDS)
            pool = expected[record["name"]]
            _state, capacity, allocation, available = pool.info()
            assert (record["capacity_bytes"], record["allocation_bytes"]) == (capacity, allocation)
            assert record["available_bytes"] == available
            assert record["volumes"] == pool.numOfVolumes()
            assert record["state"] == "active" and record["type"] == "dir"
    finally:
        conn.close()


def test_pools_table_and_csv(capsys):
    code, out, err = run(capsys, "pools", "--demo")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split()[:5] == ["NAME", "STATE", "AUTOSTART", "TYPE", "SIZE"]
    assert lines[1].split()[0] == "default" and lines[1].endswith("/var/lib/libvirt/images")
    code, out, err = run(capsys, "pools", "--demo", "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and list(rows[0]) == list(POOL_FIELDS)
    assert [r["name"] for r in rows] == ["default", "iso"] and rows[0]["autostart"] == "false"


def test_volumes_of_a_pool_with_their_guests(capsys):
    code, out, err = run(capsys, "volumes", "default", "--demo", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["pool"] == "default" and doc["errors"] == []
    volumes = {v["name"]: v for v in doc["volumes"]}
    assert all(list(v) == list(VOLUME_FIELDS) for v in volumes.values())
    web = volumes["web-01.qcow2"]
    assert web["used_by"] == ["web-01"] and web["format"] == "qcow2"
    assert web["capacity_bytes"] == 40 * 1024**3 and web["pool"] == "default"

    code, out, err = run(capsys, "volumes", "--demo", "--csv")  # every pool
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and {r["pool"] for r in rows} == {"default", "iso"}
    assert next(r for r in rows if r["name"] == "web-01.qcow2")["used_by"] == "web-01"

    code, out, err = run(capsys, "volumes", "iso", "--demo")
    assert code == 0 and out.splitlines()[0].split()[:3] == ["NAME", "FORMAT", "SIZE"]


def test_storage_command_errors(capsys):
    code, out, err = run(capsys, "volumes", "no-such-pool", "--demo")
    assert code == 1 and out.splitlines()[0].startswith("NAME")
    assert one_error_line(err) == "vtui: demo: no storage pool called 'no-such-pool'"

    code, out, err = run(capsys, "pools", "--demo", "-c", NOWHERE, "--json")
    assert code == 3
    doc = json.loads(out)
    assert [p["name"] for p in doc["pools"]] == ["default", "iso"]
    assert [e["uri"] for e in doc["errors"]] == [NOWHERE]

    for argv, message in [
        (["volume"], "say what to do"),
        (["volume", "move", "x"], "unknown action 'move'"),
        (["volume", "download", "justapool", "f", "--demo"], "'justapool' is not POOL/VOLUME"),
        (["volume", "upload", "f", "pool/", "--demo"], "is not POOL[/NAME]"),
        (["volume", "copy", "p/v", "--demo"], "the following arguments are required: --to"),
    ]:
        code, _out, err = run(capsys, *argv)
        assert code == 2 and message in one_error_line(err), (argv, err)


# -- the lab -----------------------------------------------------------------------------------
@pytest.fixture
def lab_pools(lab):
    made = {"a": make_pool(lab["a"].uri), "b": make_pool(lab["b"].uri)}
    yield made
    for key, name in made.items():
        remove_pool(lab[key].uri, name)


def test_upload_download_and_copy_over_ssh(lab, lab_pools, tmp_path, capsys, private_home):
    a = lab["a"]
    original = tmp_path / "disk.img"
    with open(original, "wb") as f:
        f.truncate(3 * MiB)
        f.write(os.urandom(MiB))
    target = f"{lab_pools['a']}/up.img"
    code, out, err = run(capsys, "volume", "upload", str(original), target, "-c", a.uri)
    assert code == 0, err
    assert out.startswith(f"upload {original} -> ") and out.rstrip().endswith("of holes skipped")
    assert volumes_in(a.uri, lab_pools["a"]) == ["up.img"]

    back = tmp_path / "back.img"
    code, out, err = run(capsys, "volume", "download", target, str(back), "-c", a.uri)
    assert code == 0, err
    assert back.read_bytes() == original.read_bytes()
    code, _out, err = run(capsys, "volume", "download", target, str(back), "-c", a.uri)
    assert code == 1 and "exists (ask to overwrite it)" in one_error_line(err)

    ssh = ["--ssh-config", lab.ssh_config]
    code, out, err = run(
        capsys,
        *["volume", "copy", target, "--host", "lab-a", "--to", "lab-b", *ssh],
        *["--to-pool", lab_pools["b"], "--name", "copied.img"],
    )
    assert code == 0, err
    assert out.startswith(f"copy lab-a:{target} -> lab-b:{lab_pools['b']}/copied.img: ")
    copied = lab["b"].dir / "var-lib-libvirt" / lab_pools["b"] / "copied.img"
    assert copied.read_bytes() == original.read_bytes()

    code, _out, err = run(capsys, "volume", "upload", str(original), target, "-c", a.uri)
    assert code == 1 and "already has a volume called 'up.img'" in one_error_line(err)
    code, _out, err = run(
        capsys, "volume", "upload", str(original), target, "-c", a.uri, "--readonly"
    )
    assert code == 1 and "read-only" in one_error_line(err)


def test_ctrl_c_cancels_an_upload_and_removes_the_volume(lab, lab_pools, tmp_path):
    a = lab["a"]
    big = tmp_path / "big.img"
    big.write_bytes(os.urandom(32 * MiB))  # 32 s at 1 MiB/s: Ctrl-C comes long before the end
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    argv = ["volume", "upload", str(big), lab_pools["a"], "-c", a.uri, "--bandwidth", "1"]
    began = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "vtui", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    timing = ""
    try:
        seen = read_until(proc.stderr, "%")  # progress: a line a second (not a terminal)
        assert "%" in seen and f"upload {big} -> " in seen, seen
        read_at = time.monotonic()
        proc.send_signal(signal.SIGINT)
        timing = f"first progress line read at {read_at - began:.2f} s, SIGINT sent after "
        timing += f"{time.monotonic() - read_at:.3f} s"
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # (what it printed, whether it ran to its end, and when the test acted, if it fails)
    assert proc.returncode == 130, (timing, seen, err, out)
    assert out == "" and "cancelled; no volume left behind" in err and "Traceback" not in err
    assert volumes_in(a.uri, lab_pools["a"]) == []
