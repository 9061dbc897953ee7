"""The guest details screen on the demo host: Enter and the palette open it, every
section draws, an edit shows its diff and virsh line before it applies, read-only
connections refuse edits with the reason."""

from __future__ import annotations

from textual.widgets import OptionList, Static, TextArea

from vtui.commands import screen_commands
from vtui.core.guests.config import Scope
from vtui.screens.guest import GuestScreen
from vtui.screens.guest.form import FormScreen
from vtui.screens.guest.review import ReviewScreen
from vtui.screens.guest.sections import SECTIONS
from vtui.widgets.row_table import RowTable

from .helpers import demo_app, notifications, select, wait_for, wait_loaded


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def open_details(app, pilot, name: str = "win2022-ad") -> GuestScreen:
    await wait_loaded(app, pilot)
    select(app, name)
    await pilot.press("enter")
    await wait_for(
        lambda: isinstance(app.screen, GuestScreen) and app.screen.config is not None, pilot
    )
    return app.screen


async def test_enter_opens_every_section_of_the_selected_guest():
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_details(app, pilot)
        assert screen.config.name == "win2022-ad"
        overview = text_of(screen, "#overview-text")
        assert "caec1832-30a7-5722-a671-a27ce64f42fa" in overview and "win2022-adhost" in overview
        for index, (key, _label) in enumerate(SECTIONS):
            await pilot.press(str((index + 1) % 10))
            assert screen.section == key
            assert screen.query_one(f"#{key}").display
        assert "6 GiB" in text_of(screen, "#memory-text")
        assert screen.query_one("#disks-table", RowTable).keys == ["sda", "sdc"]
        assert screen.query_one("#nics-table", RowTable).keys == ["52:54:00:1a:4a:94"]
        assert "<name>win2022-ad</name>" in screen.query_one(TextArea).text
        await pilot.press("escape")  # the XML editor lets go of the key; the screen goes back
        await pilot.press("escape")
        await wait_for(lambda: app.screen is app.fleet_screen, pilot)


async def test_the_palette_opens_the_details_too():
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_loaded(app, pilot)
        select(app, "web-01")
        found = [
            c for c in screen_commands(app, app.fleet_screen) if c.title == "Details of web-01"
        ]
        assert len(found) == 1
        found[0].callback()
        await wait_for(
            lambda: isinstance(app.screen, GuestScreen) and app.screen.config is not None, pilot
        )
        assert app.screen.config.name == "web-01"


async def test_an_edit_shows_its_diff_and_virsh_line_then_applies():
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_details(app, pilot)
        await pilot.press("3", "e")  # CPU section, edit
        await wait_for(lambda: isinstance(app.screen, FormScreen), pilot)
        form = app.screen
        form.query_one("#f-count").value = "2"
        await pilot.press("ctrl+s")
        await wait_for(lambda: isinstance(app.screen, ReviewScreen), pilot)
        review = app.screen
        assert review.scope is Scope.BOTH
        diff = str(review.query_one("#diff", Static).render())
        assert '-  <vcpu placement="static">4</vcpu>' in diff
        assert '+  <vcpu placement="static" current="2">4</vcpu>' in diff
        virsh = str(review.query_one("#virsh", Static).render())
        assert "setvcpus win2022-ad 2 --live --config" in virsh
        await pilot.click("#scope-persistent")
        await wait_for(lambda: review.scope is Scope.PERSISTENT, pilot)
        assert "--config" in str(review.query_one("#virsh", Static).render())
        assert "--live" not in str(review.query_one("#virsh", Static).render())
        await pilot.press("ctrl+s")
        await wait_for(
            lambda: app.screen is screen and screen.config.persistent_view.cpu.vcpus == 2, pilot
        )
        assert screen.config.live.cpu.vcpus == 4
        assert "vCPUs: 4 now, 2 from the next start" in text_of(screen, "#cpu-text")
        assert "wait for a restart" in text_of(screen, "#guest-header")
        assert "⟳" in str(screen.query_one("#sections", OptionList).get_option_at_index(2).prompt)
        assert any("done (persistent)" in n for n in notifications(app))


async def test_a_refused_scope_says_why_and_nothing_is_applied():
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_details(app, pilot)
        await pilot.press("5", "e")  # boot: persistent only
        await wait_for(lambda: isinstance(app.screen, FormScreen), pilot)
        app.screen.query_one("#f-order").value = "cdrom,hd"
        await pilot.press("ctrl+s")
        await wait_for(lambda: isinstance(app.screen, ReviewScreen), pilot)
        review = app.screen
        assert review.scope is Scope.PERSISTENT
        assert review.query_one("#scope-live").disabled
        assert "cannot change this in a running guest" in str(review.query_one("#scope-live").label)
        await pilot.press("escape")
        await wait_for(lambda: app.screen is screen, pilot)
        assert screen.config.persistent_view.boot.order == ("hd",)


async def test_read_only_connection_refuses_every_edit_with_the_reason():
    app = demo_app(readonly=True)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_details(app, pilot)
        assert "read-only" in text_of(screen, "#guest-header")
        for keys in (("1", "t"), ("3", "e"), ("6", "a"), ("7", "x")):
            await pilot.press(*keys)
            await pilot.pause(0.1)
            assert app.screen is screen
        said = notifications(app)
        assert len([n for n in said if "read-only" in n]) == 4
        assert screen.query_one(TextArea).read_only
