"""The create form with Pilot: the name checked as typed and every problem listed on
the demo host (libvirt's test driver), the review and back; then a real guest made
from the form on the lab's libvirtd, started paused, its console opened and the boot
seen from its first line."""

from __future__ import annotations

from pathlib import Path

import libvirt
import pytest
from textual.widgets import Input, Select, Static

from tests.lab.images import READY_LINE
from tests.ui.helpers import demo_app, wait_for, wait_loaded
from vtui.app import VtuiApp
from vtui.core.fleet import Fleet
from vtui.core.guests.create import KERNEL, PXE
from vtui.core.uri import demo_uri
from vtui.screens.console import ConsoleScreen, close_console
from vtui.screens.create import CreateScreen
from vtui.screens.create.review import CreatingScreen, ReviewScreen
from vtui.widgets.terminal import Terminal

BOOT = 60.0


def text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def open_form(app: VtuiApp, pilot) -> CreateScreen:
    await pilot.press("n")
    await wait_for(lambda: isinstance(app.screen, CreateScreen), pilot)
    screen = app.screen
    await wait_for(lambda: screen.choices is not None, pilot)
    return screen


def fill(screen: CreateScreen, **values: str) -> None:
    for key, value in values.items():
        widget = screen.query_one(f"#{key.replace('_', '-')}")
        if isinstance(widget, Input):
            widget.value = value
        elif isinstance(widget, Select):
            widget.value = value


async def test_name_is_checked_as_typed_and_every_problem_is_listed():
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_loaded(app, pilot)
        screen = await open_form(app, pilot)
        assert screen.query_one("#name", Input).has_focus
        await pilot.press(*"web<1")
        assert "contains <: a name cannot contain" in text(screen, "#name-problem")
        screen.query_one("#name", Input).value = "web-01"
        await pilot.pause()
        assert text(screen, "#name-problem") == "demo already has a guest called 'web-01'"
        screen.query_one("#name", Input).value = "fresh"
        await pilot.pause()
        assert text(screen, "#name-problem") == ""
        fill(screen, memory="0", vcpus="99", source=KERNEL)
        await pilot.press("ctrl+r")
        await pilot.pause()
        problems = text(screen, "#problems").splitlines()
        assert "✗ memory must be more than 0" in problems
        assert "✗ 99 vCPUs is more than demo has (32 CPUs)" in problems
        assert "✗ direct kernel boot needs the kernel's path on the host" in problems
        assert isinstance(app.screen, CreateScreen)  # nothing reviewed, nothing made


async def test_review_shows_the_xml_and_the_line_and_back_keeps_the_answers():
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_loaded(app, pilot)
        screen = await open_form(app, pilot)
        fill(screen, name="pxe-1", source=PXE, memory="512M")
        await pilot.pause()
        await pilot.press("ctrl+r")
        await wait_for(lambda: isinstance(app.screen, ReviewScreen), pilot)
        review = app.screen
        assert "<name>pxe-1</name>" in text(review, "#xml")
        assert text(review, "#line").startswith("virt-install --connect test://")
        assert "--boot network,hd" in text(review, "#line")
        await pilot.press("escape")
        await wait_for(lambda: app.screen is screen, pilot)
        assert screen.query_one("#name", Input).value == "pxe-1"
        assert app.fleet.hosts["demo"].find("pxe-1") is None  # nothing was made


# -- snapshots (80x24: a phone over SSH) -------------------------------------------------------
@pytest.fixture
def stable(monkeypatch, private_home):
    """No machine-dependent text: the built-in OS list, no ~/.ssh keys offered."""
    monkeypatch.setenv("OSINFO_SYSTEM_DIR", "/nonexistent/osinfo")


async def form_loaded(app: VtuiApp, pilot) -> CreateScreen:
    await wait_loaded(app, pilot)
    for host in app.fleet.hosts.values():
        host.paused = True  # no live refresh while the picture is taken
    screen = await open_form(app, pilot)
    await pilot.pause(0.3)
    return screen


@pytest.mark.usefixtures("stable")
def test_form_snapshot(snap_compare):
    app = demo_app()

    async def run_before(pilot):
        screen = await form_loaded(app, pilot)
        screen.query_one("#name", Input).cursor_blink = False  # the same picture every time
        await pilot.press(*"new-web")
        await pilot.wait_for_scheduled_animations()
        await pilot.pause(0.2)
        assert screen.query_one("#name", Input).value == "new-web"

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


@pytest.mark.usefixtures("stable")
def test_review_snapshot(snap_compare):
    # The review's virt-install line names the host's URI, and the demo's is the path of
    # the checkout: a copy at a fixed path keeps the picture the same in any clone.
    fixed = Path("/tmp/vtui-review-snapshot-demo-host.xml")
    fixed.write_bytes(Path(demo_uri().removeprefix("test://")).read_bytes())
    fleet = Fleet(interval=0.5)
    fleet.add(f"test://{fixed}", name="demo")
    app = VtuiApp(fleet)

    async def run_before(pilot):
        screen = await form_loaded(app, pilot)
        fill(screen, name="new-web", source=PXE, memory="2G", vcpus="2", mac="52:54:00:00:00:02")
        await pilot.pause()
        await pilot.press("ctrl+r")
        await wait_for(lambda: isinstance(app.screen, ReviewScreen), pilot)
        await pilot.wait_for_scheduled_animations()
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


# -- a real guest on the lab ---------------------------------------------------------------------
@pytest.fixture
def created(local_host):
    names: list[str] = []
    yield names
    conn = libvirt.open(local_host.uri)
    try:
        for name in names:
            try:
                dom = conn.lookupByName(name)
            except libvirt.libvirtError:
                continue
            if dom.isActive():
                dom.destroy()
            dom.undefine()
    finally:
        conn.close()


async def test_form_creates_a_guest_and_its_console_shows_the_boot(
    local_host, guest_image, created
):
    kernel, initrd = guest_image
    fleet = Fleet(interval=2.0)
    fleet.add(local_host.uri, name="lab-a")
    app = VtuiApp(fleet)
    name = "vtui-cu-kernel"
    created.append(name)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(lambda: "lab-a" in app.fleet.hosts and app.fleet.hosts["lab-a"].facts, pilot)
        screen = await open_form(app, pilot)
        await pilot.press(*name)
        fill(screen, source=KERNEL, disk_mode="none", net_kind="none", domain_type="qemu")
        fill(screen, kernel=kernel, initrd=initrd, cmdline="console=ttyS0 quiet", memory="128M")
        fill(screen, os="linux-old")
        await pilot.pause()
        await pilot.press("ctrl+r")
        await wait_for(lambda: isinstance(app.screen, ReviewScreen), pilot)
        assert "QEMU TCG emulation (asked for)" in text(app.screen, "#notes")
        await pilot.press("c")
        await wait_for(lambda: isinstance(app.screen, (CreatingScreen, ConsoleScreen)), pilot)
        # The console screen is pushed before its terminal is mounted: wait for both.
        await wait_for(
            lambda: isinstance(app.screen, ConsoleScreen) and app.screen.query(Terminal),
            pilot,
            timeout=BOOT,
        )
        console = app.screen
        lines = lambda: "\n".join(console.terminal.display_lines(scrollback=True))  # noqa: E731
        await wait_for(lambda: READY_LINE in lines(), pilot, timeout=BOOT)
        assert console.status == "attached"
        await close_console(app, console)  # detached before the app goes
    conn = libvirt.open(local_host.uri)
    try:
        dom = conn.lookupByName(name)
        assert dom.isActive() and dom.isPersistent()
    finally:
        conn.close()
