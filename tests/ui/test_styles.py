"""A screen's styles are its own: opening one screen never restyles another."""

from __future__ import annotations

from vtui.core.migration import MigrationJobs
from vtui.core.uri import demo_uri
from vtui.screens.connections import ConnectionsScreen, HostForm
from vtui.screens.dialogs import ConfirmScreen
from vtui.screens.migration.form import MigrateScreen

from .helpers import demo_app, wait_for


def look(screen, selector: str) -> tuple:
    styles = screen.query_one(selector).styles
    return (styles.width, styles.border, styles.margin, styles.padding, styles.color)


async def test_styles_do_not_leak_between_screens(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    app = demo_app(uris=[demo_uri(), demo_uri()])
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_for(lambda: all(len(h.guests) >= 25 for h in app.fleet.hosts.values()), pilot)
        guest = app.fleet.find_guest("web-01", host="demo")

        async def confirm_title() -> tuple:
            screen = ConfirmScreen("Force off web-01", "Like pulling the power cord.")
            await app.push_screen(screen)
            await pilot.pause()
            seen = look(screen, "#title")
            app.pop_screen()
            return seen

        async def migrate_form() -> tuple:
            screen = MigrateScreen(app.fleet, guest, MigrationJobs())
            await app.push_screen(screen)
            await pilot.pause()
            seen = look(screen, "#dialog") + look(screen, "#form") + look(screen, "#title")
            app.pop_screen()
            return seen

        fresh_confirm = await confirm_title()
        fresh_migrate = await migrate_form()
        # the screens whose bare #form / #title rules used to leak, opened first
        await app.push_screen(ConnectionsScreen(app.fleet))
        await app.push_screen(HostForm([]))
        await pilot.pause()
        app.pop_screen()
        assert await migrate_form() == fresh_migrate
        assert await confirm_title() == fresh_confirm
