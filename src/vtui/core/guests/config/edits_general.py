"""Changes to what a guest is rather than what it has: title and description, vCPUs
and memory. (How it boots: whole.py.)"""

from __future__ import annotations

from lxml import etree

from vtui.core.guests.config import calls
from vtui.core.guests.config.model import GuestConfig
from vtui.core.guests.config.plan import (
    VIRSH_FLAGS,
    BadInput,
    Call,
    Plan,
    Scope,
    base_refusals,
    drop,
    make_plan,
    per_scope,
    refuse,
    set_child_text,
)
from vtui.core.guests.config.words import human_kib


def _current(config: GuestConfig, scope: Scope):
    view = config.live if scope is Scope.LIVE else config.persistent_view
    assert view is not None  # the scope is allowed, so the definition exists
    return view


# -- title and description ---------------------------------------------------------------
def plan_metadata(
    config: GuestConfig, *, title: str | None = None, description: str | None = None
) -> Plan:
    """New title and/or description (None leaves one as it is; "" removes it)."""
    if title is not None and "\n" in title:
        raise BadInput("a title is one line")
    changes = {k: v for k, v in (("title", title), ("description", description)) if v is not None}
    changes = {k: v for k, v in changes.items() if v != getattr(config.shown, k)}
    if not changes:
        raise BadInput("the title and description are as they were")

    def change(root: etree._Element, _scope: Scope) -> None:
        for kind, text in changes.items():
            after = ("uuid", "genid", "title") if kind == "description" else ("uuid", "genid")
            set_child_text(root, kind, text, after)

    def build(scope: Scope):
        def each(part: Scope) -> list[Call]:
            view = _current(config, part)
            return [calls.set_metadata(part, k, v, getattr(view, k)) for k, v in changes.items()]

        lines = []
        for kind, text in changes.items():
            title_flag = ["--title"] if kind == "title" else []
            lines.append(
                ["desc", config.name, *title_flag, "--new-desc", text, *VIRSH_FLAGS[scope]]
            )
        return per_scope(scope, each), lines

    what = " and ".join(changes)
    return make_plan(config, f"change the {what} of {config.name}", change, build)


# -- vCPUs -------------------------------------------------------------------------------
def plan_vcpus(
    config: GuestConfig, *, count: int | None = None, maximum: int | None = None
) -> Plan:
    """vCPUs online (live and/or persistent) and the maximum (persistent only)."""
    for value, what in ((count, "vCPUs"), (maximum, "maximum vCPUs")):
        if value is not None and value < 1:
            raise BadInput(f"{what} must be at least 1")
    if count is not None and maximum is not None and count > maximum:
        raise BadInput(f"{count} vCPUs is more than the maximum of {maximum}")
    if count is None and maximum is None:
        raise BadInput("nothing to change")
    refusals = base_refusals(config)
    if maximum is not None:
        refuse(
            refusals, Scope.LIVE, "the maximum of a running guest cannot change (persistent only)"
        )

    def change(root: etree._Element, scope: Scope) -> None:
        vcpu = root.find("vcpu")
        if vcpu is None:
            vcpu = etree.SubElement(root, "vcpu")
        top = int(vcpu.text or "1")
        current = int(vcpu.get("current", top))
        if maximum is not None and scope is Scope.PERSISTENT:
            top = maximum
            vcpu.text = str(maximum)
        current = min(count if count is not None else current, top)
        if current < top:
            vcpu.set("current", str(current))
        else:
            drop(vcpu, "current")

    def build(scope: Scope):
        def each(part: Scope) -> list[Call]:
            cpu = _current(config, part).cpu
            steps = []
            if maximum is not None and part is Scope.PERSISTENT:
                steps.append(calls.set_vcpus(part, maximum, cpu.vcpus_max, maximum=True))
            if count is not None:
                old = config.vcpus_live if part is Scope.LIVE and config.vcpus_live else cpu.vcpus
                steps.append(calls.set_vcpus(part, count, old))
                # lowering the maximum: the count must come down first
                if maximum is not None and maximum < cpu.vcpus_max:
                    steps.reverse()
            return steps

        lines = []
        if maximum is not None:
            lines.append(["setvcpus", config.name, str(maximum), "--maximum", "--config"])
        if count is not None:
            lines.append(["setvcpus", config.name, str(count), *VIRSH_FLAGS[scope]])
        return per_scope(scope, each), lines

    what = (
        "vCPUs" if maximum is None else ("maximum vCPUs" if count is None else "vCPUs and maximum")
    )
    return make_plan(config, f"change the {what} of {config.name}", change, build, refusals)


# -- memory ------------------------------------------------------------------------------
def _set_kib(root: etree._Element, tag: str, kib: int) -> None:
    elem = root.find(tag)
    if elem is None:
        elem = etree.Element(tag)
        anchor = root.find("memory")
        if anchor is not None:
            anchor.addnext(elem)
        else:
            root.append(elem)
    elem.set("unit", "KiB")
    elem.text = str(kib)


def plan_memory(
    config: GuestConfig, *, current_kib: int | None = None, maximum_kib: int | None = None
) -> Plan:
    """The memory the guest has (the balloon, live and/or persistent) and its maximum
    (persistent only). A value above the maximum is left for libvirt to refuse."""
    for value, what in ((current_kib, "memory"), (maximum_kib, "maximum memory")):
        if value is not None and value <= 0:
            raise BadInput(f"{what} must be more than zero")
    if current_kib is None and maximum_kib is None:
        raise BadInput("nothing to change")
    refusals = base_refusals(config)
    if maximum_kib is not None:
        refuse(
            refusals,
            Scope.LIVE,
            "the maximum memory of a running guest cannot change (persistent only)",
        )
    if config.live is not None and config.live.memory.balloon == "none":
        refuse(
            refusals,
            Scope.LIVE,
            "it has no memory balloon (memballoon model none): persistent only",
        )

    def change(root: etree._Element, scope: Scope) -> None:
        if maximum_kib is not None and scope is Scope.PERSISTENT:
            _set_kib(root, "memory", maximum_kib)
        if current_kib is not None:
            _set_kib(root, "currentMemory", current_kib)

    def build(scope: Scope):
        def each(part: Scope) -> list[Call]:
            memory = _current(config, part).memory
            steps = []
            if maximum_kib is not None and part is Scope.PERSISTENT:
                steps.append(calls.set_memory(part, maximum_kib, memory.maximum_kib, maximum=True))
            if current_kib is not None:
                old = memory.current_kib
                if part is Scope.LIVE and config.memory_live_kib:
                    old = config.memory_live_kib
                steps.append(calls.set_memory(part, current_kib, old))
                if maximum_kib is not None and maximum_kib < memory.maximum_kib:
                    steps.reverse()  # shrinking: the balloon comes down first
            return steps

        lines = []
        if maximum_kib is not None:
            lines.append(["setmaxmem", config.name, f"{maximum_kib}KiB", "--config"])
        if current_kib is not None:
            lines.append(["setmem", config.name, f"{current_kib}KiB", *VIRSH_FLAGS[scope]])
        return per_scope(scope, each), lines

    if current_kib is not None and maximum_kib is not None:
        what = f"memory to {human_kib(current_kib)} of {human_kib(maximum_kib)}"
    elif maximum_kib is not None:
        what = f"maximum memory to {human_kib(maximum_kib)}"
    else:
        what = f"memory to {human_kib(current_kib)}"
    return make_plan(config, f"set the {what} of {config.name}", change, build, refusals)
