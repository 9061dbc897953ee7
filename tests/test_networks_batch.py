"""`vtui networks` and `vtui devices`, run in-process through vtui.batch.main, against
the demo host, the test driver and the lab's real libvirtd; and what `vtui host`
gained (NUMA cells' CPUs, KSM tunables)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import libvirt
import pytest

from vtui.batch import BATCH_COMMANDS, main
from vtui.batch.devices import DEVICE_FIELDS
from vtui.batch.networks import NETWORK_CSV_FIELDS, NETWORK_FIELDS
from vtui.core.uri import demo_uri

NOWHERE = "qemu+unix:///system?socket=/nonexistent"
DEVICES_URI = f"test://{Path(__file__).parent / 'data' / 'devices-host.xml'}"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_registered():
    assert {"networks", "devices"} <= BATCH_COMMANDS


# -- vtui networks ----------------------------------------------------------------------------------
def test_networks_demo_json_matches_libvirt(capsys):
    code, out, err = run(capsys, "networks", "--demo", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["format_version"] == 1 and doc["hosts"] == ["demo"] and doc["errors"] == []
    records = {n["name"]: n for n in doc["networks"]}
    conn = libvirt.openReadOnly(demo_uri())
    try:
        nets = conn.listAllNetworks(0)
        assert sorted(records) == sorted(n.name() for n in nets)
        for net in nets:
            rec = records[net.name()]
            assert list(rec) == list(NETWORK_FIELDS)
            assert rec["uuid"] == net.UUIDString() and rec["host"] == "demo"
            assert rec["state"] == ("active" if net.isActive() else "inactive")
            assert rec["autostart"] == bool(net.autostart())
    finally:
        conn.close()
    default = records["default"]
    assert default["forward_mode"] == "nat" and default["bridge"] == "virbr0"
    assert default["ipv4"] == [
        {
            "address": "192.168.122.1",
            "prefix": 24,
            "dhcp_ranges": [{"start": "192.168.122.2", "end": "192.168.122.254"}],
        }
    ]
    assert {"web-01", "db-primary"} <= {g["name"] for g in default["guests"]}
    assert records["lan"]["forward_mode"] == "bridge" and records["lan"]["ipv4"] == []
    assert records["storage"]["forward_mode"] == "isolated"


def test_networks_csv_and_table(capsys):
    code, out, err = run(capsys, "networks", "--demo", "--csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == list(NETWORK_CSV_FIELDS)
    default = next(r for r in rows if r["name"] == "default")
    assert default["ipv4"] == "192.168.122.1/24"
    assert default["dhcp_ranges"] == "192.168.122.2-192.168.122.254"
    assert "web-01" in default["guests"].split(";") and default["dhcp_leases"] == ""

    code, out, err = run(capsys, "networks", "--demo", "-c", "test:///default")
    assert code == 0, err
    header, *lines = out.splitlines()
    assert header.split()[:3] == ["NAME", "HOST", "STATE"]
    assert any(line.split()[:3] == ["default", "test", "active"] for line in lines)


def test_networks_unreachable_host_exit_3(capsys):
    code, out, err = run(capsys, "networks", "--demo", "-c", NOWHERE, "--json")
    assert code == 3
    doc = json.loads(out)
    assert doc["hosts"] == ["demo"] and len(doc["errors"]) == 1
    assert len(err.strip().splitlines()) == 1 and err.startswith("vtui: ")
    code, out, err = run(capsys, "networks", "-c", NOWHERE)
    assert code == 3 and out == ""


def test_networks_bad_usage_exit_2(capsys):
    code, _out, err = run(capsys, "networks", "--demo", "--json", "--csv")
    assert code == 2 and err.startswith("vtui: networks: ")


def test_networks_on_the_lab(capsys, local_host):
    conn = libvirt.open(local_host.uri)
    xml = "<network><name>vt-batch</name><ip address='10.78.17.1' prefix='24'/></network>"
    try:
        conn.networkDefineXML(xml)
        code, out, err = run(capsys, "networks", "-c", local_host.uri, "--json")
    finally:
        conn.networkLookupByName("vt-batch").undefine()
        conn.close()
    assert code == 0, err
    (rec,) = [n for n in json.loads(out)["networks"] if n["name"] == "vt-batch"]
    assert rec["state"] == "inactive" and rec["forward_mode"] == "isolated"
    assert rec["ipv4"] == [{"address": "10.78.17.1", "prefix": 24, "dhcp_ranges": []}]
    assert rec["dhcp_leases"] == [] and rec["guests"] == []


# -- vtui devices -----------------------------------------------------------------------------------
def test_devices_json_csv_and_type_filter(capsys):
    code, out, err = run(capsys, "devices", "-c", DEVICES_URI, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["format_version"] == 1 and doc["errors"] == []
    records = {d["name"]: d for d in doc["devices"]}
    assert all(list(d) == list(DEVICE_FIELDS) for d in records.values())
    vf = records["pci_0000_04_10_1"]
    assert vf["physical_function"] == "0000:03:00.0" and vf["guests_running"] == ["passthru"]
    assert vf["assignable"] is False and vf["not_assignable_reason"]
    pf = records["pci_0000_03_00_0"]
    assert pf["pci_class"] == "0x020000" and pf["iommu_group"] == 12
    assert pf["virtual_functions"] == ["0000:04:10.1"] and pf["host_uses"] == ["interface enp3s0"]

    code, out, err = run(capsys, "devices", "-c", DEVICES_URI, "--csv", "--type", "usb,net")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["type"] for r in rows] == ["usb", "net"] and list(rows[0]) == list(DEVICE_FIELDS)
    assert rows[0]["guests"] == "passthru"

    code, out, err = run(capsys, "devices", "-c", DEVICES_URI, "--type", "pci")
    assert code == 0, err
    header, *lines = out.splitlines()
    assert header.split()[:2] == ["TYPE", "ADDRESS"] and len(lines) == 3
    assert any("SR-IOV PF, 1 VFs" in line for line in lines)


def test_devices_bad_type_and_driver_without_devices(capsys):
    code, _out, err = run(capsys, "devices", "--demo", "--type", "gpu")
    assert code == 2 and "unknown device type 'gpu'" in err
    code, out, err = run(capsys, "devices", "--demo", "--json")
    assert code == 0, err
    assert json.loads(out)["devices"] == []


# -- vtui host: NUMA cells' CPUs and KSM tunables ----------------------------------------------------
def test_host_json_numa_cpus_and_ksm_tunables(capsys, local_host):
    code, out, err = run(
        capsys, "host", "-c", local_host.uri, "-c", "test:///default", "--json", "--no-rates"
    )
    assert code == 0, err
    hosts = {h["driver"]: h for h in json.loads(out)["hosts"]}
    cells = hosts["TEST"]["numa_cells"]
    assert [c["cpus"] for c in cells] == [list(range(8)), list(range(8, 16))]
    ksm = hosts["QEMU"]["ksm"]
    assert ksm is not None
    assert ksm["pages_to_scan"] == int(Path("/sys/kernel/mm/ksm/pages_to_scan").read_text())
    assert isinstance(ksm["merge_across_nodes"], bool) and ksm["sleep_millisecs"] >= 0
    code, out, err = run(capsys, "host", "-c", "test:///default", "--no-rates")
    assert "cell 0 (CPUs 0-7)" in out and "cell 1 (CPUs 8-15)" in out


@pytest.mark.parametrize(
    "cpus, text",
    [([], ""), ([0], " (CPUs 0)"), ([0, 1, 2, 5, 7, 8], " (CPUs 0-2,5,7-8)")],
)
def test_cpu_ranges(cpus, text):
    from vtui.batch.commands import cpu_ranges

    assert cpu_ranges(cpus) == text
