"""A change to a guest, planned before anything happens: the document it leads to, a
unified diff against libvirt's own XML, the equivalent virsh command, and the libvirt
calls (each with its undo) for each scope it may apply to.

Scopes: LIVE changes the running guest only (gone at its next start), PERSISTENT
changes the saved definition only (in force from the next start), BOTH does the two.
A scope that cannot apply (the guest is not running, is transient, or libvirt cannot
change that thing live) carries the reason instead.
"""

from __future__ import annotations

import difflib
import enum
import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import libvirt
from lxml import etree

from vtui.core.errors import VtuiError
from vtui.core.guests.config.model import GuestConfig
from vtui.core.guests.config.parse import parse_root


class Scope(enum.Enum):
    LIVE = "live"
    PERSISTENT = "persistent"
    BOTH = "both"

    @property
    def label(self) -> str:
        return {
            Scope.LIVE: "live only (until the guest stops)",
            Scope.PERSISTENT: "persistent only (from the next start)",
            Scope.BOTH: "live and persistent",
        }[self]

    @property
    def parts(self) -> tuple[Scope, ...]:
        """The single scopes this one is made of, live first."""
        return (Scope.LIVE, Scope.PERSISTENT) if self is Scope.BOTH else (self,)


AFFECT = {
    Scope.LIVE: libvirt.VIR_DOMAIN_AFFECT_LIVE,
    Scope.PERSISTENT: libvirt.VIR_DOMAIN_AFFECT_CONFIG,
}
FLAG_NAMES = {Scope.LIVE: "AFFECT_LIVE", Scope.PERSISTENT: "AFFECT_CONFIG"}
VIRSH_FLAGS = {Scope.LIVE: ["--live"], Scope.PERSISTENT: ["--config"]}
VIRSH_FLAGS[Scope.BOTH] = ["--live", "--config"]
DEFAULT_URI = "qemu:///system"


@dataclass
class Context:
    """What the calls of one apply share: the connection, the guest, and notes one
    call leaves for a later one or for its undo (e.g. a volume it created)."""

    conn: libvirt.virConnect
    dom: libvirt.virDomain
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Call:
    """One step of a change. `run` is a libvirt call made in the host's threads; a
    step with `run_async` instead is awaited on the loop (the storage layer's own
    functions). `undo` reverses it if a later step fails."""

    text: str  # the libvirt call and its flags, as the review shows it
    run: Callable[[Context], Any] | None = None
    undo: Callable[[Context], Any] | None = None
    run_async: Callable[[Context], Awaitable[Any]] | None = None
    undo_async: Callable[[Context], Awaitable[Any]] | None = None


Builder = Callable[[Scope], tuple[list[Call], list[list[str]]]]


@dataclass
class Plan:
    host: str
    uri: str
    guest: str
    uuid: str
    title: str  # what the change does, e.g. "add disk vdb"
    before: dict[Scope, str]  # libvirt's XML per single scope (LIVE, PERSISTENT)
    after: dict[Scope, str]  # the candidate documents
    refusals: dict[Scope, str]  # why a scope cannot apply
    build: Builder  # scope -> (calls, virsh argv lists without "virsh -c URI")
    device_xml: str = ""  # the device element the calls carry, if any
    note: str = ""  # said with the diff (e.g. "the domain XML does not change")
    guard: str = ""  # the saved definition (canonical) this change replaces wholesale
    loses: str = ""  # what applying destroys (asked again by the UI)

    def allowed(self) -> list[Scope]:
        return [s for s in (Scope.BOTH, Scope.LIVE, Scope.PERSISTENT) if s not in self.refusals]

    @property
    def default_scope(self) -> Scope | None:
        allowed = self.allowed()
        return allowed[0] if allowed else None

    def diff(self, scope: Scope) -> str:
        """Unified diff of the definition `scope` changes (the persistent one for both)."""
        which = Scope.PERSISTENT if scope is Scope.BOTH else scope
        if which not in self.before and scope is Scope.BOTH:
            which = Scope.LIVE
        return unified_diff(
            self.guest, which, self.before.get(which, ""), self.after.get(which, "")
        )

    def calls(self, scope: Scope) -> list[str]:
        return [c.text for c in self.build(scope)[0]]

    def virsh(self, scope: Scope) -> list[str]:
        """The virsh command lines doing the same, shell-quoted."""
        prefix = ["virsh"] if self.uri in ("", DEFAULT_URI) else ["virsh", "-c", self.uri]
        return [shlex.join(prefix + argv) for argv in self.build(scope)[1]]


def unified_diff(guest: str, which: Scope, before: str, after: str) -> str:
    label = "running guest" if which is Scope.LIVE else "persistent definition"
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        f"{guest} ({label}, now)",
        f"{guest} ({label}, after)",
        n=3,
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def canonical(xml: str) -> str:
    """A document as the diff shows it: libvirt's XML re-indented two spaces, so a
    candidate made from it differs only where it was changed."""
    root = parse_root(xml)
    return to_text(root)


def to_text(root: etree._Element) -> str:
    copy = etree.fromstring(etree.tostring(root))
    etree.indent(copy, space="  ")
    return etree.tostring(copy, encoding="unicode") + "\n"


def element_text(elem: etree._Element) -> str:
    """One element (a device) as a small document of its own."""
    copy = etree.fromstring(etree.tostring(elem))
    copy.tail = None
    etree.indent(copy, space="  ")
    return etree.tostring(copy, encoding="unicode") + "\n"


def base_refusals(config: GuestConfig) -> dict[Scope, str]:
    """Why each scope cannot apply to this guest whatever the change."""
    refusals: dict[Scope, str] = {}
    if not config.active:
        refusals[Scope.LIVE] = f"{config.name} is not running"
    if not config.persistent:
        refusals[Scope.PERSISTENT] = f"{config.name} is transient (it has no saved definition)"
    _both(refusals)
    return refusals


def _both(refusals: dict[Scope, str]) -> None:
    why = refusals.get(Scope.LIVE) or refusals.get(Scope.PERSISTENT)
    if why:
        refusals[Scope.BOTH] = why


def refuse(refusals: dict[Scope, str], scope: Scope, why: str) -> dict[Scope, str]:
    """Add a reason a single scope cannot apply (keeps an earlier, more basic one)."""
    refusals.setdefault(scope, why)
    _both(refusals)
    return refusals


def refuse_alone(refusals: dict[Scope, str], scope: Scope, why: str) -> dict[Scope, str]:
    """A single scope cannot apply on its own, yet both together can (e.g. deleting a
    disk's volume: only once the disk leaves both definitions)."""
    refusals.setdefault(scope, why)
    return refusals


def documents(config: GuestConfig) -> dict[Scope, str]:
    """libvirt's XML per single scope the guest has."""
    docs = {}
    if config.live_xml:
        docs[Scope.LIVE] = config.live_xml
    if config.persistent_xml:
        docs[Scope.PERSISTENT] = config.persistent_xml
    return docs


def candidates(
    config: GuestConfig, change: Callable[[etree._Element, Scope], None]
) -> tuple[dict[Scope, str], dict[Scope, str]]:
    """(canonical before, canonical after) per single scope: `change` edits a copy of
    each definition in place."""
    before, after = {}, {}
    for scope, xml in documents(config).items():
        root = parse_root(xml)
        before[scope] = to_text(root)
        change(root, scope)
        after[scope] = to_text(root)
    return before, after


class BadInput(VtuiError):
    """An answer that cannot make a change (before anything reaches libvirt)."""


def make_plan(
    config: GuestConfig,
    title: str,
    change: Callable[[etree._Element, Scope], None],
    build: Builder,
    refusals: dict[Scope, str] | None = None,
    **extra: Any,
) -> Plan:
    """A plan whose candidates are `change` applied to each definition the guest has."""
    before, after = candidates(config, change)
    return Plan(
        host=config.host,
        uri=config.uri,
        guest=config.name,
        uuid=config.uuid,
        title=title,
        before=before,
        after=after,
        refusals=base_refusals(config) if refusals is None else refusals,
        build=build,
        **extra,
    )


def per_scope(scope: Scope, make: Callable[[Scope], list[Call]]) -> list[Call]:
    """The calls of each single scope `scope` is made of, live first."""
    return [call for part in scope.parts for call in make(part)]


def drop(elem: etree._Element, key: str) -> None:
    """Remove an attribute if it is there."""
    if key in elem.attrib:
        del elem.attrib[key]


def remove(elem: etree._Element) -> None:
    """Take an element out of its document."""
    parent = elem.getparent()
    if parent is not None:
        parent.remove(elem)


def set_child_text(
    parent: etree._Element, tag: str, text: str, after: tuple[str, ...] = ()
) -> None:
    """Set <tag>text</tag> under parent (made after the last of `after` present, else
    at the end); an empty text removes the element."""
    elem = parent.find(tag)
    if not text:
        if elem is not None:
            parent.remove(elem)
        return
    if elem is None:
        elem = etree.Element(tag)
        anchor = None
        for name in after:
            found = parent.find(name)
            if found is not None:
                anchor = found
        if anchor is not None:
            anchor.addnext(elem)
        else:
            parent.append(elem)
    elem.text = text
