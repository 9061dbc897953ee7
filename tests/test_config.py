"""Saved hosts in hosts.toml, and parsing what the user types as a host."""

from __future__ import annotations

import pytest

from vtui.core.errors import VtuiError
from vtui.core.fleet import Fleet
from vtui.core.fleet.targets import add_target, autoconnect_hosts, parse_target, validate_saved
from vtui.core.settings import saved_hosts as config
from vtui.core.settings.saved_hosts import SavedHost
from vtui.core.ssh.tunnel import SshTunnel


@pytest.fixture(autouse=True)
def xdg(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg"


def test_path_follows_xdg(xdg, monkeypatch):
    assert config.hosts_path() == xdg / "vtui" / "hosts.toml"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", "/home/someone")
    assert str(config.hosts_path()) == "/home/someone/.config/vtui/hosts.toml"


def test_missing_file_is_no_hosts():
    assert config.load() == ([], None)


def test_round_trip_with_awkward_strings():
    hosts = [
        SavedHost("web 1", "root@web1", "system", True, True),
        SavedHost('q"uote\\back', "qemu+ssh://u@h:2222/session?socket=/a b", "session"),
        SavedHost("tab\there", "db1"),
    ]
    config.save(hosts)
    loaded, error = config.load()
    assert error is None
    assert loaded == hosts


def test_add_edit_remove():
    config.add(SavedHost("a", "root@a"))
    config.add(SavedHost("b", "b", autoconnect=True))
    with pytest.raises(VtuiError, match="already exists"):
        config.add(SavedHost("a", "x"))
    config.edit("a", SavedHost("a2", "root@a", "session", readonly=True))
    with pytest.raises(VtuiError, match="already exists"):
        config.edit("a2", SavedHost("b", "root@a"))
    with pytest.raises(VtuiError, match="no saved host"):
        config.edit("zzz", SavedHost("zzz", "root@a"))
    config.remove("b")
    hosts, error = config.load()
    assert error is None
    assert hosts == [SavedHost("a2", "root@a", "session", readonly=True)]


def test_syntax_error_names_file_and_line():
    path = config.hosts_path()
    path.parent.mkdir(parents=True)
    path.write_text('[[host]]\nname = "a"\ntarget = "b"\n\n[[host]]\nname = oops\n')
    hosts, error = config.load()
    assert hosts == []
    assert str(path) in str(error) and "line 6" in str(error)
    # and nothing overwrites a file the user has to fix
    with pytest.raises(VtuiError, match="fix it first"):
        config.add(SavedHost("c", "d"))
    assert "oops" in path.read_text()


@pytest.mark.parametrize(
    "body, message",
    [
        ('[[host]]\nname = "a"\n', "needs both"),
        ('[[host]]\nname = "a"\ntarget = "b"\nlibvirt = "user"\n', "system' or 'session"),
        ('[[host]]\nname = "a"\ntarget = "b"\nreadonly = "yes"\n', "'readonly' must be a bool"),
        ('[[host]]\nname = "a"\ntarget = "b"\nport = 22\n', "unknown key 'port'"),
        ("host = 3\n", "must be a list"),
    ],
)
def test_bad_entries_are_named(body, message):
    path = config.hosts_path()
    path.parent.mkdir(parents=True)
    path.write_text(body)
    hosts, error = config.load()
    assert hosts == []
    assert message in str(error) and str(path) in str(error)


def test_one_bad_entry_keeps_the_good_ones_and_names_its_line():
    path = config.hosts_path()
    path.parent.mkdir(parents=True)
    path.write_text(
        '[[host]]\nname = "a"\ntarget = "b"\n\n'
        '[[host]]\nname = "a"\ntarget = "c"\n\n'  # line 5: a duplicate
        '[[host]]\nname = "x"\ntarget = "y"\nport = 22\n\n'  # line 9: unknown key
        '[[host]]\nname = "ok"\ntarget = "root@ok"\n'
    )
    hosts, error = config.load()
    assert [h.name for h in hosts] == ["a", "ok"]
    assert error.problems == [
        f"{path}:5: [[host]] #2: a host called 'a' already exists",
        f"{path}:9: [[host]] #3: unknown key 'port'",
    ]
    assert str(error).endswith("(and 1 more)")
    # the good entries can still be changed; the bad ones are left for the user to fix
    config.remove("ok")
    assert [h.name for h in config.load()[0]] == ["a"]
    assert "port = 22" in path.read_text()


def test_a_syntax_error_puts_the_line_first(tmp_path):
    path = config.hosts_path()
    path.parent.mkdir(parents=True)
    path.write_text('[[host]]\nname = "a"\ntarget = \n')
    _hosts, error = config.load()
    assert str(error).startswith(f"{path}:3: ")


# -- targets -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, host, user, port, path",
    [
        ("web1", "web1", None, None, "system"),
        ("root@web1", "web1", "root", None, "system"),
        ("root@web1.example.com:2222", "web1.example.com", "root", 2222, "system"),
        ("u@10.0.0.1/session", "10.0.0.1", "u", None, "session"),
        ("[fe80::1]:22", "fe80::1", None, 22, "system"),
        ("qemu+ssh://root@lab-a/system", "lab-a", "root", None, "system"),
        ("qemu+ssh://lab-a:2200/session", "lab-a", None, 2200, "session"),
        ("qemu+ssh://u@[::1]:2222/", "::1", "u", 2222, "system"),
    ],
)
def test_ssh_targets(text, host, user, port, path):
    spec = parse_target(text, saved=[])
    assert spec.ssh is not None
    assert (spec.ssh.host, spec.ssh.user, spec.ssh.port, spec.ssh.libvirt) == (
        host,
        user,
        port,
        path,
    )
    assert spec.name == host


def test_uri_query_socket_and_keyfile():
    spec = parse_target("qemu+ssh://h/system?socket=/x/sock&keyfile=/k", saved=[])
    assert (spec.ssh.socket, spec.ssh.key_file) == ("/x/sock", "/k")


@pytest.mark.parametrize(
    "text",
    [
        "test:///default",
        "qemu:///system",
        "qemu+libssh2://h/system?known_hosts=/k",
        "qemu+tcp://h/system",
    ],
)
def test_other_uris_go_to_libvirt(text):
    spec = parse_target(text, saved=[])
    assert spec.ssh is None and spec.uri == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "user@",
        "@host",
        "a b",
        "host:99999",
        "host:x",
        "qemu+ssh:///system",
        "qemu+ssh://h/other",
        "h/foo",
        "-oProxy=x",
    ],
)
def test_bad_targets(text):
    with pytest.raises(VtuiError):
        parse_target(text, saved=[])


def test_saved_name_wins_and_carries_its_options():
    config.add(SavedHost("web1", "admin@10.1.1.1:2222", "session", readonly=True))
    spec = parse_target("web1")
    assert spec.name == "web1" and spec.readonly is True
    assert (spec.ssh.host, spec.ssh.user, spec.ssh.port, spec.ssh.libvirt) == (
        "10.1.1.1",
        "admin",
        2222,
        "session",
    )
    assert parse_target("web2").ssh.host == "web2"  # not saved: an ssh alias / hostname


def test_validate_saved():
    existing = [SavedHost("a", "a")]
    with pytest.raises(VtuiError, match="name is empty"):
        validate_saved(SavedHost("", "x"), existing)
    with pytest.raises(VtuiError, match="already exists"):
        validate_saved(SavedHost("a", "x"), existing)
    with pytest.raises(VtuiError, match="not a host"):
        validate_saved(SavedHost("b", "bad target!"), existing)
    validate_saved(SavedHost("a", "root@a:2"), existing, old_name="a")


async def test_add_target_and_autoconnect():
    config.add(SavedHost("saved-ro", "root@h1", readonly=True, autoconnect=True))
    config.add(SavedHost("manual", "root@h2"))
    config.add(SavedHost("local", "test:///default", autoconnect=True))
    fleet = Fleet()
    ssh_host = add_target(fleet, "root@h3:2222", ssh_config="/x/config")
    assert isinstance(ssh_host.tunnel, SshTunnel)
    assert ssh_host.tunnel.target.ssh_config == "/x/config"
    assert ssh_host.uri == "qemu+ssh://root@h3:2222/system" and not ssh_host.readonly
    added, errors = autoconnect_hosts(fleet)
    assert errors == []
    assert [h.name for h in added] == ["saved-ro", "local"]
    assert fleet.hosts["saved-ro"].readonly and fleet.hosts["saved-ro"].tunnel.target.readonly
    assert fleet.hosts["local"].tunnel is None
    # already in the fleet: not added twice
    assert autoconnect_hosts(fleet)[0] == []
    local = fleet.hosts["local"]
    await local.connect()  # (the ssh hosts are made up: never connected here)
    assert local.guests
    await fleet.close()


def test_writes_keep_the_users_comments_order_and_spacing():
    path = config.hosts_path()
    path.parent.mkdir(parents=True)
    original = (
        "# my fleet, edited by hand\n"
        "\n"
        "[[host]]\n"
        'name = "web"     # the front end\n'
        'target = "root@web1"\n'
        "\n"
        "# the database, read-only on purpose\n"
        "[[host]]\n"
        'target = "admin@db1"\n'
        'name = "db"\n'
        "readonly = true\n"
    )
    path.write_text(original)
    config.add(SavedHost("new", "root@new"))
    text = path.read_text()
    assert text.startswith(original)  # nothing before the new entry moved
    assert text.endswith(
        '[[host]]\nname = "new"\ntarget = "root@new"\nlibvirt = "system"\n'
        "readonly = false\nautoconnect = false\n"
    )
    config.edit("web", SavedHost("web", "root@web2"))
    text = path.read_text()
    assert 'target = "root@web2"\n' in text and "# the front end" in text
    assert "libvirt" not in text.split("# the database")[0]  # defaults not spelled out
    config.remove("new")
    assert path.read_text() == original.replace("root@web1", "root@web2")
    config.remove("web")
    config.remove("db")
    assert path.read_text().startswith("# my fleet, edited by hand\n")
    assert config.load() == ([], None)
