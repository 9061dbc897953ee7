"""Pilot tests of the main screen on the demo host: sort, filter, confirm, read-only."""

from __future__ import annotations

from vtui.core.fleet.fleet import BACKGROUND_NUMBERS_EVERY, FOCUS_ALL_UP_TO
from vtui.core.uri import demo_uri
from vtui.screens.dialogs import ChoiceScreen, ConfirmScreen
from vtui.screens.host import HostScreen

from .helpers import demo_app, notifications, select, shown_names, wait_for, wait_loaded


async def test_sort_by_memory_then_name():
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(app, pilot)
        await pilot.press("M")
        assert shown_names(app)[0] == "gpu-lab"  # 32 GiB, the biggest
        await pilot.press("M")  # again: reversed
        assert app.fleet_screen.table.selected_guest is not None
        assert shown_names(app)[0] in ("vpn-edge", "tmp-debug-shell")  # 512 MiB
        await pilot.press("M")  # descending again...
        web = [n for n in shown_names(app) if n in ("web-01", "web-02", "web-03")]
        assert web == ["web-01", "web-02", "web-03"]  # ...equal memory: name order
        await pilot.press("N")
        names = shown_names(app)
        assert names == sorted(names, key=str.lower)


async def test_selection_follows_the_guest_when_resorted():
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(app, pilot)
        select(app, "db-primary")
        await pilot.press("M")
        assert app.fleet_screen.table.selected_guest.name == "db-primary"


async def test_selected_guest_stays_in_view_when_the_table_shrinks():
    app = demo_app()
    async with app.run_test(size=(80, 40)) as pilot:
        await wait_loaded(app, pilot)
        table = app.fleet_screen.table
        select(app, shown_names(app)[-1])
        await pilot.pause()
        await pilot.resize_terminal(80, 20)  # like the host panel growing above it
        await wait_for(lambda: table.size.height < 20, pilot)
        await pilot.pause()
        shown = table.scrollable_content_region.height - 1  # minus the header line
        top = round(table.scroll_y)
        assert top <= table.cursor_row < top + shown


async def test_sort_menu():
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(app, pilot)
        await pilot.press("o")
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("down", "enter")  # second column: state
        assert app.fleet_screen.table.sort_key == "state"


async def test_text_filter_and_clear():
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(app, pilot)
        total = app.fleet_screen.table.row_count
        await pilot.press("slash", "w", "e", "b", "enter")
        assert sorted(shown_names(app)) == ["staging-web-01", "web-01", "web-02", "web-03"]
        await pilot.press("escape")
        assert app.fleet_screen.table.row_count == total


async def test_state_filter():
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(app, pilot)
        await pilot.press("f")
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("down", "down", "enter")  # all, running, paused
        table = app.fleet_screen.table
        assert table.state_filter == "paused"
        states = {table.guests[key].state for key in table.order}
        assert states == {"paused"} and table.row_count == 3


async def test_force_off_asks_and_no_keeps_the_guest_running():
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(app, pilot)
        select(app, "web-01")
        await pilot.press("F")
        assert isinstance(app.screen, ConfirmScreen)
        assert "web-01" in app.screen.body and "lost" in app.screen.body
        await pilot.press("n")
        await pilot.pause(0.3)
        assert app.fleet_screen.table.selected_guest.state == "running"
        await pilot.press("F", "y")
        guest = app.fleet_screen.table.selected_guest
        await wait_for(lambda: guest.state == "shut off", pilot)
        assert guest.reason == "destroyed"


async def test_pause_and_resume_arrive_through_events():
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(app, pilot)
        select(app, "web-02")
        guest = app.fleet_screen.table.selected_guest
        await pilot.press("p")
        await wait_for(lambda: guest.state == "paused", pilot)
        await pilot.press("u")
        await wait_for(lambda: guest.state == "running", pilot)
        assert "web-02 resumed" in str(app.fleet_screen.query_one("#status").render())


async def test_readonly_refuses_and_says_why():
    app = demo_app(readonly=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(app, pilot)
        select(app, "web-01")
        await pilot.press("F")
        assert not isinstance(app.screen, ConfirmScreen)
        await pilot.pause(0.1)
        assert any("read-only" in m for m in notifications(app))
        assert app.fleet_screen.table.selected_guest.state == "running"


async def test_refusal_when_state_does_not_fit():
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(app, pilot)
        select(app, "gpu-lab")  # shut off
        await pilot.press("p")
        await pilot.pause(0.1)
        assert any("gpu-lab" in m and "not running" in m for m in notifications(app))


async def test_delete_with_storage_after_confirmation():
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(app, pilot)
        select(app, "staging-web-01")  # shut off, one disk volume
        await pilot.press("D")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        assert app.screen.option and "/var/lib/libvirt/images/" in " ".join(app.screen.items)
        await pilot.click("#option")
        await pilot.press("y")
        await wait_for(lambda: "staging-web-01" not in shown_names(app), pilot)
        host = next(iter(app.fleet.hosts.values()))

        def volume_names():
            pool = host.conn.storagePoolLookupByName("default")
            return pool.listVolumes()

        assert not any(v.startswith("staging-web-01") for v in await host.call(volume_names))


async def test_palette_lists_actions_for_the_selected_guest():
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(app, pilot)
        select(app, "web-01")
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Force off web-01" in titles and "Pause web-01" in titles
        assert "Start web-01" not in titles  # already running


async def test_unknown_uri_is_reported_and_the_app_keeps_running():
    app = demo_app(uris=["bogus:///nothing"])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(lambda: any("No host answered" in m for m in notifications(app)), pilot)
        assert any("bogus:///nothing" in m for m in notifications(app))
        await pilot.press("F")  # no guest: a message, no crash
        await pilot.pause(0.1)
        assert any("no guest selected" in m for m in notifications(app))


async def test_hidden_screen_pauses_sampling_and_catches_up():
    app = demo_app(uris=[demo_uri(), demo_uri()])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.fleet_screen.table.row_count >= 60, pilot)
        a, b = app.fleet.hosts.values()
        await pilot.press("tab", "enter")  # host list -> details of host a
        await wait_for(lambda: isinstance(app.screen, HostScreen), pilot)
        assert app.screen.host is a and not a.paused and b.paused
        select_b = next(g for g in b.guests.values() if g.state == "running")
        await b.call(lambda: b.conn.lookupByUUIDString(select_b.uuid).suspend())
        await wait_for(lambda: select_b.state == "paused", pilot)  # events still arrive
        await pilot.press("escape")
        await wait_for(lambda: app.screen is app.fleet_screen, pilot)
        assert not a.paused and not b.paused
        table = app.fleet_screen.table
        assert table.guests[(b.name, select_b.uuid)].state == "paused"


async def test_the_selected_guests_host_reads_its_numbers_every_sample_in_a_big_fleet():
    app = demo_app(uris=[demo_uri() for _ in range(FOCUS_ALL_UP_TO + 1)])
    async with app.run_test(size=(120, 40)) as pilot:
        hosts = list(app.fleet.hosts.values())
        await wait_for(lambda: all(h.guests for h in hosts), pilot)
        last = hosts[-1]
        app.fleet_screen.table.select((last.name, next(iter(last.guests))))
        await wait_for(lambda: last.numbers_every == 1, pilot)
        assert all(h.numbers_every == BACKGROUND_NUMBERS_EVERY for h in hosts[:-1])
        await pilot.press("tab", "enter")  # host list -> details of the first host
        await wait_for(lambda: isinstance(app.screen, HostScreen), pilot)
        shown = app.screen.host
        assert shown.numbers_every == 1 and not shown.paused
        await pilot.press("escape")  # back: the selected guest's host again
        await wait_for(lambda: app.screen is app.fleet_screen, pilot)
        await wait_for(lambda: last.numbers_every == 1, pilot)
        assert shown is last or shown.numbers_every == BACKGROUND_NUMBERS_EVERY


async def test_collapsed_host_leaves_the_table_and_stops_sampling():
    app = demo_app(uris=[demo_uri(), demo_uri()])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.fleet_screen.table.row_count >= 60, pilot)
        a, _b = app.fleet.hosts.values()
        await pilot.press("tab", "space")
        assert a.paused
        assert all(
            g.host != a.name
            for g in map(app.fleet_screen.table.guests.get, app.fleet_screen.table.order)
        )
        await pilot.press("space")
        assert not a.paused and app.fleet_screen.table.row_count >= 60


async def test_palette_offers_only_what_applies_on_a_read_only_host():
    app = demo_app(readonly=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(app, pilot)
        select(app, "web-01")
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert not any(
            t.startswith(("Migrate", "Console of", "Screen of", "Pause")) for t in titles
        )
        assert "Filter guests by state" in titles  # looking around still works


async def test_palette_does_not_offer_both_autostart_commands():
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(app, pilot)
        select(app, "web-01")
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert ("Enable autostart web-01" in titles) != ("Disable autostart web-01" in titles)
