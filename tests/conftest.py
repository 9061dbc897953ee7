"""Shared fixtures: real libvirtd/sshd hosts in namespaces (tests/lab/) and tiny guests.

    lab         session  Lab with hosts lab["a"] (10.77.0.1) and lab["b"] (10.77.0.2)
    local_host  session  lab["a"], the private local libvirtd for tests without SSH
    host        function a vtui Host connected to lab["a"] (named "lab-a", not sampling)
    lab_hosts   function vtui Hosts connected to lab["a"] and lab["b"] ("lab-a", "lab-b")
    pool        function a dir pool of lab["a"] made for the test (name), removed after
    lab_networks function a list to put the names of networks a test makes; removed after
    guest_image session  (kernel, initrd) of the busybox test guest
    make_guest  function make_guest(host, name=None, start=True, paused=False,
                         busy=False, serial=True, display=None) -> name; removed
                         again afterwards (display: "vnc" or "vnc:/socket", see
                         tests/lab/images.guest_xml)

Tests using these get the `lab` marker automatically (deselect with -m "not lab").
No libvirt event loop is registered here: the app does that (vtui.core.host.events).
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.lab.hosts import Host, Lab, missing_requirements
from tests.lab.images import ensure_guest_image, guest_xml
from vtui.core import eventloop

LAB_FIXTURES = {"lab", "local_host", "make_guest", "host", "lab_hosts", "pool", "lab_networks"}


def pytest_asyncio_loop_factories(config, item):
    """Async tests run on the loop the app runs on (uvloop), not asyncio's default."""
    return {"uvloop": eventloop.new_event_loop}


def pytest_collection_modifyitems(items):
    for item in items:
        if LAB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.lab)


@pytest.fixture(autouse=True)
def steady_cursors(request, monkeypatch):
    """Pictures show a focused field's cursor, always: a blinking one is there or not
    depending on when the picture falls in its half-second (on a loaded machine a
    picture waited for longer than that and lost it)."""
    if "snap_compare" not in request.fixturenames:
        return
    from textual.widgets import Input, TextArea

    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)
    monkeypatch.setattr(TextArea, "_toggle_cursor_blink_visible", lambda self: None)


@pytest.fixture(scope="session")
def guest_image() -> tuple[str, str]:
    return ensure_guest_image()


@pytest.fixture(scope="session")
def lab():
    why = missing_requirements()
    if why:
        pytest.skip(why)
    lab = Lab()
    try:  # Lab also registers an atexit hook, for exits that skip fixture teardown
        lab.start()
        yield lab
    finally:
        lab.stop()


@pytest.fixture(scope="session")
def local_host(lab) -> Host:
    return lab["a"]


def _in_thread(fn, *args):
    # libvirt calls block; keep them off whatever event loop the calling test runs.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args).result()


@pytest.fixture
def make_guest(lab, guest_image):
    import libvirt

    kernel, initrd = guest_image
    made: list[str] = []

    def define(
        host: Host,
        name: str,
        start: bool,
        paused: bool,
        busy: bool,
        serial: bool,
        display: str | None,
    ):
        conn = libvirt.open(host.uri)
        try:
            xml = guest_xml(name, kernel, initrd, busy=busy, serial=serial, display=display)
            dom = conn.defineXML(xml)
            made.append(name)
            if start or paused:
                dom.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED if paused else 0)
        finally:
            conn.close()

    def make(
        host: Host | str,
        name: str | None = None,
        start: bool = True,
        paused: bool = False,
        busy: bool = False,
        serial: bool = True,
        display: str | None = None,
    ) -> str:
        host = lab[host] if isinstance(host, str) else host
        name = name or f"vtui-t-{uuid.uuid4().hex[:8]}"
        _in_thread(define, host, name, start, paused, busy, serial, display)
        return name

    yield make

    def cleanup():
        # Look on every host: a test may have migrated its guest elsewhere.
        flags = (
            libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
            | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
            | libvirt.VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA
            | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM
        )
        for host in lab:
            try:
                conn = libvirt.open(host.uri)
            except libvirt.libvirtError:
                continue  # its libvirtd is down (a test stopped it); nothing we can do
            try:
                for name in made:
                    try:
                        dom = conn.lookupByName(name)
                        if dom.isActive():
                            dom.destroy()
                        if dom.isPersistent():
                            dom.undefineFlags(flags)
                    except libvirt.libvirtError:
                        pass  # already gone (or raced away): fine
            finally:
                conn.close()

    if made:
        _in_thread(cleanup)


@pytest.fixture
def private_home(tmp_path, monkeypatch):
    """A HOME and XDG config of the test's own, and no ssh agent: SSH tests must never
    read or write the machine's ~/.ssh."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    return home


@pytest.fixture
async def host(local_host):
    from vtui.core.host import Host

    h = Host(local_host.uri, name="lab-a")
    await h.connect()
    yield h
    await h.close()


@pytest.fixture
async def lab_hosts(lab):
    """Both lab hosts, connected directly (their libvirtd sockets), as a and b."""
    import asyncio

    from vtui.core.host import Host

    a, b = Host(lab["a"].uri, name="lab-a"), Host(lab["b"].uri, name="lab-b")
    await a.connect()
    await b.connect()
    yield a, b
    await asyncio.gather(a.close(), b.close())


@pytest.fixture
def pool(local_host):
    from tests.lab.pools import make_pool, remove_pool

    name = make_pool(local_host.uri)
    yield name
    remove_pool(local_host.uri, name)


@pytest.fixture
def lab_networks(local_host):
    """Names of networks a test makes; destroyed and undefined afterwards."""
    import libvirt

    names: list[str] = []
    yield names

    def remove() -> None:
        conn = libvirt.open(local_host.uri)
        try:
            for name in names:
                try:
                    net = conn.networkLookupByName(name)
                except libvirt.libvirtError:
                    continue
                if net.isActive():
                    net.destroy()
                if net.isPersistent():
                    net.undefine()
        finally:
            conn.close()

    _in_thread(remove)
