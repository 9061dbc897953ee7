"""The create form's rows and how its widgets turn into GuestAnswers. Every choice
list comes from the host (HostChoices); text from outside is never markup."""

from __future__ import annotations

from textual.containers import Horizontal
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Label, Select

from vtui.core.guests.create import (
    BIOS,
    CUSTOM_CPU,
    EFI,
    GRAPHICS,
    HOST_MODEL,
    HOST_PASSTHROUGH,
    NET_MODELS,
    SOURCE_KINDS,
    SOURCE_LABELS,
    HostChoices,
)
from vtui.core.storage import BadInput, parse_size
from vtui.core.units import size

AUTO = "auto"  # a Select's value for "what suits the OS and the host"


def row(label: str, *widgets: Widget, id: str | None = None) -> Horizontal:
    """One labelled line of the form."""
    return Horizontal(Label(label, classes="field"), *widgets, classes="row", id=id)


def options(pairs: list[tuple[str, str]]) -> list[tuple[Content, str]]:
    return [(Content(label), value) for value, label in pairs]


def source_options() -> list[tuple[Content, str]]:
    return options([(k, SOURCE_LABELS[k]) for k in SOURCE_KINDS])


def parse_memory(text: str) -> tuple[int, str]:
    """(bytes, problem): "2G", "512M"; a bare number is MiB."""
    text = text.strip()
    if not text:
        return 0, "say how much memory (e.g. 2G)"
    try:
        return (int(text) * 1024**2 if text.isdigit() else parse_size(text)), ""
    except BadInput as exc:
        return 0, f"memory: {exc.message}"


def parse_disk_size(text: str) -> tuple[int, str]:
    try:
        return parse_size(text or "0"), ""
    except BadInput as exc:
        return 0, f"disk size: {exc.message}"


def memory_hint(choices: HostChoices | None) -> str:
    return f"host has {size(choices.memory)}" if choices and choices.memory else ""


def cpu_hint(choices: HostChoices | None) -> str:
    return f"host has {choices.cpus}" if choices and choices.cpus else ""


def firmware_options(choices: HostChoices) -> list[tuple[Content, str]]:
    found = [(BIOS, "BIOS")]
    caps = choices.domcaps
    if caps is None or caps.firmware.efi:
        found.append((EFI, "UEFI"))
    return options(found)


def domain_type_options(choices: HostChoices) -> list[tuple[Content, str]]:
    best = choices.best_domain_type()
    label = {"kvm": "KVM (hardware)", "qemu": "QEMU TCG (emulation, no KVM here)"}.get(best, best)
    found = [(AUTO, f"auto: {label}")] if best else [(AUTO, "auto")]
    for kind in choices.domain_types():
        found.append((kind, {"kvm": "KVM", "qemu": "QEMU TCG (emulated, slow)"}.get(kind, kind)))
    return options(found)


def machine_options(choices: HostChoices) -> list[tuple[Content, str]]:
    return options([(AUTO, "auto: what suits the OS")] + [(m, m) for m in choices.machines()])


def cpu_options(choices: HostChoices) -> list[tuple[Content, str]]:
    modes = (
        choices.domcaps.cpu_modes if choices.domcaps else (HOST_MODEL, HOST_PASSTHROUGH, "custom")
    )
    found = [("", "hypervisor default")]
    if HOST_MODEL in modes:
        model = choices.domcaps.host_cpu_model if choices.domcaps else ""
        found.append((HOST_MODEL, f"host-model{f' ({model})' if model else ''}"))
    if HOST_PASSTHROUGH in modes:
        found.append((HOST_PASSTHROUGH, "host-passthrough (fastest, not migratable)"))
    if "custom" in modes:
        found.append((CUSTOM_CPU, "a named model"))
    return options(found)


def graphics_options(choices: HostChoices) -> list[tuple[Content, str]]:
    offered = choices.domcaps.graphics if choices.domcaps else GRAPHICS
    labels = {
        "none": "none (serial console)",
        "vnc": "VNC (127.0.0.1)",
        "spice": "SPICE (127.0.0.1)",
    }
    return options([(g, labels[g]) for g in GRAPHICS if g == "none" or g in offered])


def pool_options(choices: HostChoices) -> list[tuple[Content, str]]:
    found = []
    for pool in choices.pools:
        if pool.active:
            free = f", {size(pool.available)} free" if pool.available is not None else ""
            found.append((pool.name, f"{pool.name} ({pool.type}{free})"))
    return options(found)


def network_source_options(choices: HostChoices, kind: str) -> list[tuple[Content, str]]:
    if kind == "network":
        return options(
            [
                (n.name, f"{n.name} ({n.forward_mode}{'' if n.active else ', inactive'})")
                for n in choices.networks
            ]
        )
    if kind == "bridge":
        return options([(i.name, i.label) for i in choices.interfaces if i.kind in ("bridge", "")])
    if kind == "macvtap":
        return options([(i.name, i.label) for i in choices.interfaces if i.kind != "bridge"])
    return []


def model_options() -> list[tuple[Content, str]]:
    return options([(AUTO, "auto: what the OS drives")] + [(m, m) for m in NET_MODELS])


def value(select: Select) -> str:
    """A Select's value as text ("" when nothing is chosen; AUTO means "")."""
    found = select.value
    return "" if found is Select.NULL or found == AUTO else str(found)
