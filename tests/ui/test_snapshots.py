"""Every screen and dialog as it looks at 80x24 (a phone over SSH), the main screen also
at 160x50. The demo host (libvirt's test driver) gives them stable content; sampling is
paused before the picture is taken so no number moves."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from vtui.app import VtuiApp
from vtui.core.migration import (
    MigrationJob,
    MigrationJobs,
    MigrationOptions,
    MigrationProgress,
)
from vtui.core.settings import saved_hosts
from vtui.core.settings.saved_hosts import SavedHost
from vtui.core.uri import demo_uri
from vtui.screens.connections import ConnectionsScreen, HostForm
from vtui.screens.console import open_console
from vtui.screens.dialogs import ChoiceScreen, ConfirmScreen, HostKeyScreen, SecretScreen
from vtui.screens.migration.form import MigrateScreen
from vtui.screens.migration.jobs import JobsScreen, MigrationProgressScreen

from .helpers import demo_app, wait_for, wait_loaded

PHONE = (80, 24)


@pytest.fixture(autouse=True)
def saved_hosts_file(tmp_path, monkeypatch):
    """A private config dir with two saved hosts (the connections screen lists them)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    saved_hosts.add(SavedHost("web1", "root@web1.example", autoconnect=True))
    saved_hosts.add(SavedHost("db1", "admin@db1.example:2222", readonly=True))


async def loaded(app: VtuiApp, pilot: Pilot, guests: int = 25) -> None:
    await wait_for(lambda: all(len(h.guests) >= guests for h in app.fleet.hosts.values()), pilot)
    await wait_loaded(app, pilot)
    for host in app.fleet.hosts.values():  # no live refresh while the picture is taken
        host.paused = True
    # The first row, whichever host answered first (the selection stays where it landed).
    app.fleet_screen.table.select_row(0)
    await pilot.pause(0.2)


def footer_filled(screen) -> bool:
    """Textual fills a screen's footer in after the screen is on top: a picture taken
    before (under load) has an empty last row."""
    return all(footer.children for footer in screen.query("Footer"))


async def settled(pilot: Pilot) -> None:
    """Whatever a screen does when it appears (focus, highlight, scroll) is over."""
    await wait_for(lambda: footer_filled(pilot.app.screen), pilot)
    await pilot.wait_for_scheduled_animations()
    await pilot.pause(0.3)


@pytest.mark.parametrize("size", [PHONE, (160, 50)], ids=["80x24", "160x50"])
def test_main_screen(snap_compare, size):
    app = demo_app()

    async def run_before(pilot):
        await loaded(app, pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def snapshot_over_main(snap_compare, make_screen, *, uris: list[str] | None = None) -> bool:
    """The main screen with `make_screen(app)` pushed on top of it."""
    app = demo_app(uris=uris)

    async def run_before(pilot):
        await loaded(app, pilot)
        await app.push_screen(make_screen(app))
        await settled(pilot)

    return snap_compare(app, terminal_size=PHONE, run_before=run_before)


def test_confirm_dialog(snap_compare):
    assert snapshot_over_main(
        snap_compare,
        lambda app: ConfirmScreen(
            "Delete web-01",
            "Delete guest web-01 from demo?\nIts definition, snapshot metadata and managed save "
            "image are removed. This cannot be undone.",
            yes="Delete",
            option="Also delete its 1 storage volume(s): /default-pool/web-01.img",
        ),
    )


def test_choice_dialog(snap_compare):
    choices = [("all", "all states"), ("running", "running"), ("paused", "paused")]
    assert snapshot_over_main(
        snap_compare, lambda app: ChoiceScreen("Show guests in state", choices, "running")
    )


def test_host_key_dialog(snap_compare):
    assert snapshot_over_main(
        snap_compare,
        lambda app: HostKeyScreen(
            "lab-b (10.77.0.2)",
            "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",
            "ssh-ed25519",
        ),
    )


def test_secret_dialog(snap_compare):
    assert snapshot_over_main(
        snap_compare, lambda app: SecretScreen("Passphrase for /root/.ssh/id_ed25519")
    )


def test_connections_screen(snap_compare):
    assert snapshot_over_main(snap_compare, lambda app: ConnectionsScreen(app.fleet))


def test_host_form(snap_compare):
    saved = saved_hosts.load()[0]
    assert snapshot_over_main(snap_compare, lambda app: HostForm(saved, saved[1]))


def migrate_form(app: VtuiApp) -> MigrateScreen:
    return MigrateScreen(app.fleet, app.fleet.find_guest("web-01", host="demo"), MigrationJobs())


def test_migrate_form(snap_compare):
    assert snapshot_over_main(snap_compare, migrate_form, uris=[demo_uri(), demo_uri()])


def test_jobs_screen(snap_compare):
    assert snapshot_over_main(snap_compare, lambda app: JobsScreen(MigrationJobs()))


def test_migration_progress_screen(snap_compare):
    def progress(app: VtuiApp) -> MigrationProgressScreen:
        src, dst = app.fleet.hosts["demo"], app.fleet.hosts["demo#2"]
        guest = app.fleet.find_guest("web-01", host="demo")
        job = MigrationJob(1, src, guest, dst, MigrationOptions(), [])  # never launched
        job.progress = MigrationProgress(  # halfway: a determinate bar draws the same each time
            phase="copying memory",
            elapsed=12.0,
            data_total=4 << 30,
            data_processed=2 << 30,
            data_remaining=2 << 30,
            memory_total=4 << 30,
            memory_processed=2 << 30,
            memory_remaining=2 << 30,
            transfer_bps=170 << 20,
            iteration=1,
            expected_downtime_ms=300,
            eta=12.0,
        )
        return MigrationProgressScreen(job)

    assert snapshot_over_main(snap_compare, progress, uris=[demo_uri(), demo_uri()])


def test_console_screen(snap_compare):
    """The test driver has no consoles: the screen says so in its one-line way."""
    app = demo_app()

    async def run_before(pilot):
        await loaded(app, pilot)
        host = app.fleet.hosts["demo"]
        screen = open_console(app, host, app.fleet.find_guest("web-01"))
        await wait_for(lambda: screen.status != "connecting", pilot)
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=PHONE, run_before=run_before)


def test_dialogs_do_not_restyle_each_other(snap_compare):
    """Each screen's styles stay its own: the connections screen, then the migrate form,
    then a confirmation on top, all drawn as when each is opened alone (they used to leak:
    the migrate form's #title margin reached the confirmation, the connections screen's
    #form border reached the migrate form)."""
    app = demo_app(uris=[demo_uri(), demo_uri()])

    async def run_before(pilot):
        await loaded(app, pilot)
        connections = ConnectionsScreen(app.fleet)
        await app.push_screen(connections)
        await app.push_screen(HostForm([]))
        app.pop_screen()
        # Its footer, under the dialogs in the picture, fills in only while it is on top.
        await wait_for(lambda: footer_filled(connections), pilot)
        await app.push_screen(migrate_form(app))
        await app.push_screen(ConfirmScreen("Force off web-01", "Like pulling the power cord."))
        await settled(pilot)

    assert snap_compare(app, terminal_size=PHONE, run_before=run_before)
