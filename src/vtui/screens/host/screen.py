"""Everything about one host, a tab per section: overview, KSM, storage pools, volumes,
virtual networks, devices. 1-6 (or Tab to the tab bar, then the arrows) switch tabs.

The keys of every section are bound here, each gated by check_action to the tab shown:
the footer shows the actions that apply to what is selected, and a hidden twin on the
same key says why one does not (read-only connection, pool not active...).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from textual.actions import parse as parse_action
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static, TabbedContent, TabPane

from vtui.core.host import Change, Host, HostStatus
from vtui.failures import ReportsWorkerFailures
from vtui.screens.host.devices import DevicesSection
from vtui.screens.host.ksm import KsmSection
from vtui.screens.host.networks import NetworksSection
from vtui.screens.host.overview import OverviewSection
from vtui.screens.host.pools import PoolChosen, PoolsSection
from vtui.screens.host.section import POLL_SECONDS, Section
from vtui.screens.host.transfers import TransfersScreen
from vtui.screens.host.volumes import VolumesSection

# each section and its tab's label; the order gives the number keys 1-6
SECTIONS: tuple[tuple[type[Section], str], ...] = (
    (OverviewSection, "Overview"),
    (KsmSection, "KSM"),
    (PoolsSection, "Pools"),
    (VolumesSection, "Volumes"),
    (NetworksSection, "Networks"),
    (DevicesSection, "Devices"),
)
TABS = tuple(cls.TAB for cls, _label in SECTIONS)


# the thing each section's actions act on, in their binding ids ("pools.start_pool"):
# the last part of an id is a short name in settings.toml, and "start" or "delete"
# alone stay the main screen's (guest.start, guest.delete)
NOUNS = {"ksm": "ksm", "pools": "pool", "volumes": "volume", "networks": "network"}


def keys(
    section: str, key: str, action: str, label: str, show: bool = True, ident: str = ""
) -> list[Binding]:
    """A section's action, and its hidden twin on the same key that, where the action
    does not apply, runs it anyway to say why not (instead of the key doing nothing)."""
    ident = ident or f"{section}.{action}_{NOUNS.get(section, 'device')}"
    return [
        Binding(key, f"act('{section}', '{action}')", label, id=ident, show=show),
        Binding(key, f"anyway('{section}', '{action}')", label, id=ident, show=False),
    ]


class HostScreen(ReportsWorkerFailures, Screen):
    AUTO_FOCUS = ""  # none: the shown section focuses its list (not the tab bar)
    DEFAULT_CSS = """
    HostScreen #host-title { height: 1; padding: 0 1; background: $panel; }
    HostScreen #host-tabs { height: 1fr; }
    HostScreen TabPane { padding: 0; height: 1fr; }
    """
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back", id="host.back"),
        *(
            Binding(str(number), f"tab('{cls.TAB}')", label, id=f"host.{cls.TAB}", show=False)
            for number, (cls, label) in enumerate(SECTIONS, 1)
        ),
        Binding("T", "transfers", "Transfers", id="host.transfers", show=False),
        *keys("ksm", "e", "tune", "Change tunables"),
        *keys("pools", "enter", "volumes", "Volumes", ident="pools.open_volumes"),
        *keys("pools", "s", "start", "Start"),
        *keys("pools", "x", "stop", "Stop"),
        *keys("pools", "a", "autostart", "Autostart"),
        *keys("pools", "r", "refresh", "Refresh", show=False),
        *keys("pools", "n", "create", "New"),
        *keys("pools", "D,delete", "delete", "Delete"),
        *keys("volumes", "n", "create", "New"),
        *keys("volumes", "u", "upload", "Upload"),
        *keys("volumes", "d", "download", "Download"),
        *keys("volumes", "t", "copy", "Copy to host"),
        *keys("volumes", "c", "clone", "Clone", show=False),
        *keys("volumes", "z", "resize", "Resize", show=False),
        *keys("volumes", "w", "wipe", "Wipe", show=False),
        *keys("volumes", "D,delete", "delete", "Delete"),
        *keys("volumes", "p", "pool", "Pool", ident="volumes.choose_pool"),
        *keys("volumes", "r", "refresh", "Refresh pool", False, "volumes.refresh_volumes"),
        *keys("networks", "s", "start", "Start"),
        *keys("networks", "x", "stop", "Stop"),
        *keys("networks", "a", "autostart", "Autostart"),
        *keys("networks", "n", "create", "New"),
        *keys("networks", "D,delete", "delete", "Delete"),
        *keys("networks", "r", "refresh", "Refresh", False, "networks.refresh_networks"),
        *keys("devices", "d", "detach", "Detach"),
        *keys("devices", "a", "reattach", "Reattach"),
        *keys("devices", "f", "filter", "Filter", ident="devices.filter_devices"),
    ]

    def __init__(self, host: Host, tab: str = "overview"):
        super().__init__()
        self.host = host  # the fleet screen keeps sampling this host while we are shown
        self.tab = tab if tab in TABS else "overview"  # the tab shown
        self.sections: dict[str, Section] = {cls.TAB: cls(host) for cls, _label in SECTIONS}
        self._status = host.status

    def compose(self) -> ComposeResult:
        yield Static("", id="host-title")
        with TabbedContent(initial=self.tab, id="host-tabs"):
            for number, (cls, label) in enumerate(SECTIONS, 1):
                with TabPane(f"{number} {label}", id=cls.TAB):
                    if cls.TAB == self.tab:  # the others are mounted when first shown
                        yield self.sections[cls.TAB]
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.show_title()
        self.host.subscribe(self._on_change)
        self.set_interval(POLL_SECONDS, self._poll)
        self.activate(self.tab)

    def on_unmount(self) -> None:
        self.host.unsubscribe(self._on_change)

    @property
    def active(self) -> Section:
        return self.sections[self.tab]

    # -- tabs --------------------------------------------------------------------------------
    def action_tab(self, tab: str) -> None:
        tabs = self.query_one(TabbedContent)
        if tabs.active != tab:
            tabs.active = tab
        else:
            self.activate(tab)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id in self.sections:
            self.activate(event.pane.id)

    def activate(self, tab: str) -> None:
        self.tab = tab
        for name, section in self.sections.items():
            if name != tab:
                section.hide()
        section = self.sections[tab]
        if section.parent is None:  # first shown: its on_mount reads and focuses it
            section.active = True
            self.query_one(f"TabPane#{tab}", TabPane).mount(section)
        elif section.is_mounted:
            section.show()
            section.take_focus()
        self.refresh_bindings()

    def on_pool_chosen(self, message: PoolChosen) -> None:
        volumes = self.sections["volumes"]
        assert isinstance(volumes, VolumesSection)
        volumes.choose_pool(message.pool)
        if message.open_volumes:
            self.action_tab("volumes")

    # -- staying live --------------------------------------------------------------------------
    def _on_change(self, change: Change) -> None:
        # The host publishes from plain loop callbacks, outside Textual's context: hand
        # the change to this screen's own message queue (timers and workers need it).
        if self.is_mounted:
            self.call_later(self._apply_change, change)

    def _apply_change(self, change: Change) -> None:
        if not self.is_mounted:
            return
        if change.host_changed:
            self.show_title()
            if self.host.status is not self._status:
                self._status = self.host.status
                if self._status is HostStatus.CONNECTED:  # back: everything may have moved
                    for section in self.sections.values():
                        section.mark_stale()
                self.refresh_bindings()
        for section in self.sections.values():
            if section.is_mounted:  # (the others read everything when first shown)
                section.changed(change)

    def _poll(self) -> None:
        if self.host.status is HostStatus.CONNECTED:
            self.active.poll()

    def show_title(self) -> None:
        host, facts = self.host, self.host.facts
        parts: list[str | tuple[str, str]] = [(host.name, "bold")]
        if facts is not None and facts.hostname:
            parts.append(f" ({facts.hostname})")
        if host.readonly:
            parts.append((" read-only", "yellow"))
        if host.status is not HostStatus.CONNECTED:
            parts.append((f" {host.status.value}", "bold red"))
        parts.append(("   1-6 or Tab: sections · T: transfers · ?: keys", "dim"))
        for title in self.query("#host-title").results(Static):
            title.update(Content.assemble(*parts))

    # -- actions: the shown section's, if they apply ---------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action not in ("act", "anyway"):
            return True
        section = self.sections.get(str(parameters[0]))
        if section is None or not section.active or not section.is_mounted:
            return False
        refused = section.refusal(str(parameters[1])) is not None
        return refused if action == "anyway" else not refused

    def action_act(self, section: str, action: str) -> None:
        self.sections[section].act(action)

    def action_anyway(self, section: str, action: str) -> None:
        self.sections[section].act(action)  # says why not

    def action_transfers(self) -> None:
        self.app.push_screen(TransfersScreen())

    def commands(self) -> Iterator[tuple[str, str, Callable[[], object]]]:
        """For the command palette: the sections, then what applies in the shown one."""
        host = self.host.name
        for number, (cls, label) in enumerate(SECTIONS, 1):
            yield (
                f"{label} of {host}",
                f"host screen, tab {number}",
                lambda t=cls.TAB: self.action_tab(t),
            )
        yield (
            "Volume transfers",
            "uploads, downloads and copies: progress, cancel",
            self.action_transfers,
        )
        section = self.active
        if not section.is_mounted:
            return
        for binding in self.BINDINGS:
            if not isinstance(binding, Binding) or not binding.action.startswith("act("):
                continue
            _namespace, _action, (tab, name) = parse_action(binding.action)
            if tab == section.TAB and section.refusal(str(name)) is None:
                yield (
                    binding.description,
                    f"{section.LABEL} of {host}",
                    lambda n=str(name): section.act(n),
                )
