"""Names are shown literally: a guest called `[reverse]rev` is never read as markup, in
the table's companions, notifications, dialogs, the console title or the palette."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from vtui.core.settings import saved_hosts
from vtui.core.settings.saved_hosts import SavedHost
from vtui.screens.connections import ConnectionsScreen
from vtui.screens.console import open_console
from vtui.screens.dialogs import ConfirmScreen
from vtui.widgets.row_table import RowTable

from .helpers import demo_app, notifications, select, wait_for

HOSTILE = "[reverse]rev"
XML = f"""<domain type='test'><name>{HOSTILE.replace("&", "&amp;")}</name>
<memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>"""


def shown(widget: Static) -> str:
    return str(widget.render())


@pytest.fixture(autouse=True)
def private_config(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))


async def test_a_guest_name_is_never_markup():
    app = demo_app(uris=["test:///default"])
    async with app.run_test(size=(120, 40)) as pilot:
        host = app.fleet.hosts["test"]
        await wait_for(lambda: host.guests, pilot)
        await host.call(lambda: host.conn.defineXML(XML))
        await wait_for(lambda: any(g.name == HOSTILE for g in host.guests.values()), pilot)
        select(app, HOSTILE)
        await pilot.pause(0.2)
        assert shown(app.screen.query_one("#guest-cpu-label", Static)) == f"{HOSTILE} CPU"
        await pilot.press("p")  # shut off: refused, and the refusal names it exactly
        await wait_for(lambda: any("cannot pause" in m for m in notifications(app)), pilot)
        assert any(f"cannot pause {HOSTILE}:" in m for m in notifications(app))
        # the palette's titles name the guest literally too
        titles = [str(c.title) for c in app.get_system_commands(app.screen)]
        assert f"Start {HOSTILE}" in titles
        await pilot.press("D")  # delete: the confirmation names exactly what goes
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        assert shown(app.screen.query_one("#title", Static)) == f"Delete {HOSTILE}"
        assert f"Delete guest {HOSTILE} from test?" in shown(app.screen.query_one("#body", Static))
        await pilot.press("n")
        screen = open_console(app, host, app.fleet_screen.table.selected_guest)
        await wait_for(lambda: screen.status != "connecting", pilot)
        assert shown(screen.query_one("#console-title", Static)).startswith(f"{HOSTILE} on test")


async def test_a_saved_host_name_is_never_markup():
    saved_hosts.add(SavedHost("[reverse]evil", "root@evil.example"))
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.push_screen(ConnectionsScreen(app.fleet))
        await pilot.pause(0.2)
        table = app.screen.query_one(RowTable)
        assert table.cells("[reverse]evil")[0] == "[reverse]evil"
        lines = [strip.text for strip in (table.render_line(y) for y in range(2))]
        assert "[reverse]evil" in lines[1]
