"""Batch commands over several guests and patterns (`vtui shutdown 'web-*' db1`,
`vtui snapshot ...`, `vtui clone`, `vtui rename`), in-process on the demo host: each
command opens its own connection to the demo file, so every test starts afresh."""

from __future__ import annotations

import json

import pytest

from tests.test_batch import NOWHERE, one_error_line, run
from vtui.core.uri import demo_uri


def lines(text: str) -> list[str]:
    return text.strip().splitlines()


def test_several_guests_and_patterns(capsys):
    code, out, err = run(capsys, "start", "web-*", "gpu-lab", "nothere", "--demo")
    assert code == 1
    assert lines(out) == ["gpu-lab on demo: started"]
    assert lines(err) == [
        f"vtui: demo: cannot start web-0{i}: it is running (shut it down first)" for i in (1, 2, 3)
    ] + ["vtui: no guest called 'nothere'"]

    code, out, err = run(capsys, "suspend", "re:^web-0[12]$", "--demo", "--wait", "5")
    assert code == 0 and err == ""
    assert lines(out) == [f"web-0{i} on demo: paused; now paused" for i in (1, 2)]

    # the same guest named twice is done once; a pattern on two hosts takes both
    code, out, err = run(capsys, "destroy", "web-01", "web-0[1]", "--demo")
    assert code == 0 and lines(out) == ["web-01 on demo: forced off (destroyed)"]
    code, out, err = run(capsys, "destroy", "web-0[3]", "--demo", "-c", demo_uri())
    assert code == 0
    assert sorted(lines(out)) == [
        "web-03 on demo#2: forced off (destroyed)",
        "web-03 on demo: forced off (destroyed)",
    ]


def test_json_results_and_errors(capsys):
    code, out, err = run(capsys, "shutdown", "web-0?", "gpu-lab", "no-*", "--demo", "--json")
    assert code == 1
    doc = json.loads(out)
    assert doc["format_version"] == 1 and doc["command"] == "shutdown"
    results = {r["name"]: r for r in doc["results"]}
    assert list(results) == ["web-01", "web-02", "web-03", "gpu-lab"]
    assert results["web-01"] == {
        "host": "demo",
        "name": "web-01",
        "uuid": "af48c3e0-d8cf-5373-a4ee-851d7264ca27",
        "ok": True,
        "skipped": False,
        "message": "asked to shut down",
    }
    off = results["gpu-lab"]
    assert not off["ok"] and off["skipped"]
    assert (
        off["message"] == "cannot shut down gpu-lab: it is not running (shut off: start it first)"
    )
    assert doc["errors"] == [{"host": None, "uri": None, "message": "no guest matches 'no-*'"}]
    assert lines(err) == [
        "vtui: demo: cannot shut down gpu-lab: it is not running (shut off: start it first)",
        "vtui: no guest matches 'no-*'",
    ]
    # one guest with --json: the same document
    code, out, _ = run(capsys, "resume", "ci-runner-03", "--demo", "--json")
    assert code == 0 and json.loads(out)["results"][0]["message"] == "resumed"


def test_not_found_where_a_host_was_down_is_exit_3(capsys):
    code, out, err = run(capsys, "start", "web-*", "ghost-*", "--demo", "-c", NOWHERE)
    assert code == 3
    assert "vtui: no guest matches 'ghost-*'; not searched: " in err
    assert "/nonexistent" in err


def test_snapshot_verbs(capsys):
    code, out, err = run(
        capsys, "snapshot", "create", "web-0[12]", "gpu-lab", "--name", "pre", "--demo"
    )
    assert code == 0, err
    assert lines(out) == [
        "web-01 on demo: snapshot pre taken (internal, with memory)",
        "web-02 on demo: snapshot pre taken (internal, with memory)",
        "gpu-lab on demo: snapshot pre taken (internal)",
    ]
    name = "pre-pg16-upgrade"
    code, out, err = run(
        capsys, "snapshot", "create", "db-primary", "legacy-app-centos7", "--name", name, "--demo"
    )
    assert code == 1 and out == ""
    assert lines(err) == [
        f"vtui: demo: cannot snapshot db-primary: there is already a snapshot called '{name}'",
        "vtui: demo: cannot snapshot legacy-app-centos7: it is crashed (start it or force it "
        "off first)",
    ]
    code, out, err = run(capsys, "snapshot", "create", "gpu-lab", "--memory", "--demo")
    assert code == 1 and "only a running guest has memory" in one_error_line(err)

    code, out, err = run(capsys, "snapshot", "list", "db-primary", "--demo")
    assert code == 0, err
    table = lines(out)
    assert table[0].split() == [
        "GUEST",
        "HOST",
        "SNAPSHOT",
        "CREATED",
        "STATE",
        "KIND",
        "SIZE",
        "DESCRIPTION",
    ]
    assert "db-primary  demo  pre-pg16-upgrade " in table[1]
    assert "  post-pg16-upgrade *" in table[2]  # a child, and the current one

    code, out, err = run(capsys, "snapshot", "list", "db-primary", "--json", "--demo")
    snaps = json.loads(out)["snapshots"]
    assert [(s["name"], s["parent"], s["current"]) for s in snaps] == [
        ("pre-pg16-upgrade", None, False),
        ("post-pg16-upgrade", "pre-pg16-upgrade", True),
    ]
    assert snaps[1]["kind"] == "internal, with memory" and snaps[1]["created_at"].endswith("Z")

    code, out, err = run(capsys, "snapshot", "revert", "db-primary", "--current", "--demo")
    assert lines(out) == ["db-primary on demo: reverted to post-pg16-upgrade; now running"]
    code, out, err = run(
        capsys,
        "snapshot",
        "delete",
        "db-primary",
        "--name",
        "pre-pg16-upgrade",
        "--children",
        "--demo",
    )
    assert lines(out) == [
        "db-primary on demo: deleted snapshot pre-pg16-upgrade and 1 below it (post-pg16-upgrade)"
    ]
    code, out, err = run(capsys, "snapshot", "revert", "web-01", "--name", "nope", "--demo")
    assert code == 1 and "has no snapshot called 'nope'" in one_error_line(err)
    code, out, err = run(capsys, "snapshot", "revert", "web-01", "--demo")
    assert code == 2 and "one of the arguments --name --current is required" in err


def test_clone_and_rename(capsys):
    code, out, err = run(capsys, "clone", "gpu-lab", "gpu-lab-2", "--demo")
    assert code == 0, err
    assert out.startswith("gpu-lab on demo: cloned as gpu-lab-2 (1 disk(s) copied; UUID ")
    code, out, err = run(capsys, "clone", "web-01", "web-01-copy", "--demo")
    assert code == 1 and one_error_line(err) == (
        "vtui: demo: cannot clone web-01: it is running (shut it down first)"
    )
    code, out, err = run(capsys, "rename", "gpu-lab", "gpu-lab-old", "--demo")
    assert code == 0 and lines(out) == ["gpu-lab on demo: renamed to gpu-lab-old"]
    code, out, err = run(capsys, "rename", "win2019-build", "x", "--demo")
    assert code == 1 and "saved memory image" in one_error_line(err)
    code, out, err = run(capsys, "rename", "web-01", "x", "--demo", "--readonly")
    assert code == 1 and "read-only" in one_error_line(err)


def test_migrate_several_each_refused_with_its_reason(capsys):
    code, out, err = run(
        capsys,
        "migrate",
        "gpu-lab",
        "web-0[12]",
        "--demo",
        "-c",
        "test:///default",
        "--to",
        "test",
        "--parallel",
        "2",
    )
    assert code == 1 and out == ""
    failures = lines(err)
    assert len(failures) == 3
    assert all(line.startswith("vtui: demo: ") for line in failures)
    assert any("gpu-lab" in line and "refused" in line for line in failures)


@pytest.mark.lab
def test_lab_several_guests_waited_for_together(capsys, local_host, make_guest):
    uri = local_host.uri
    names = sorted(make_guest(local_host, start=False) for _ in range(3))
    code, out, err = run(capsys, "start", *names, "-c", uri, "--wait", "60")
    assert code == 0, err
    assert [line.split(" on ")[0] for line in lines(out)] == names
    assert all(line.endswith(": started; now running") for line in lines(out))
    pattern = "re:^(" + "|".join(names) + ")$"
    code, out, err = run(capsys, "destroy", pattern, "-c", uri, "--wait", "30", "--json")
    assert code == 0, err
    results = json.loads(out)["results"]
    assert [r["name"] for r in results] == names
    assert {r["message"] for r in results} == {"forced off (destroyed); now shut off"}
