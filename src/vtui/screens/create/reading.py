"""Reading the create form's widgets into GuestAnswers (the core checks them)."""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Checkbox, Input, Select

from vtui.core.guests.create import (
    NEW_DISK,
    NO_NETWORK,
    CloudInitAnswer,
    DiskAnswer,
    GuestAnswers,
    NetworkAnswer,
    SourceAnswer,
)
from vtui.screens.create import fields
from vtui.screens.create.fields import value


def read_answers(screen: Screen) -> tuple[GuestAnswers, list[str]]:
    """The form's answers, and what could not even be read (a size that is no size)."""
    q = screen.query_one
    problems: list[str] = []

    def text(selector: str) -> str:
        return q(selector, Input).value.strip()

    def listed(selector: str) -> list[str]:
        return [p.strip() for p in text(selector).replace(",", " ").split() if p.strip()]

    memory, problem = fields.parse_memory(text("#memory"))
    problems += [problem] if problem else []
    try:
        vcpus = int(text("#vcpus"))
    except ValueError:
        vcpus = 0
        problems.append("vCPUs must be a whole number")
    disk_size, problem = fields.parse_disk_size(text("#disk-size"))
    disk_mode = value(q("#disk-mode", Select)) or "none"
    problems += [problem] if problem and disk_mode == NEW_DISK else []
    net_kind = value(q("#net-kind", Select)) or NO_NETWORK
    kind = value(q("#source", Select))
    key = text("#key")
    answers = GuestAnswers(
        name=q("#name", Input).value,
        title=text("#title"),
        source=SourceAnswer(
            kind=kind,
            volume=text("#volume"),
            local_file=text("#local-file"),
            url=text("#url"),
            kernel=text("#kernel"),
            initrd=text("#initrd"),
            cmdline=text("#cmdline"),
        ),  # fmt: skip
        cloud_init=CloudInitAnswer(
            hostname=text("#hostname"),
            user=text("#user"),
            ssh_keys=[key] if key else [],
            ssh_key_files=listed("#key-files"),
            password=q("#password", Input).value,
            packages=listed("#packages"),
            static_address=text("#static-ip"),
            gateway=text("#gateway"),
            dns=listed("#dns"),
        ),  # fmt: skip
        os=text("#os"),
        memory=memory,
        vcpus=vcpus,
        cpu_mode=value(q("#cpu", Select)),
        cpu_model=text("#cpu-model"),
        disk=DiskAnswer(
            mode=disk_mode,
            pool=value(q("#pool", Select)),
            size=disk_size,
            format=value(q("#disk-format", Select)) or "qcow2",
            bus=value(q("#disk-bus", Select)),
            volume=text("#disk-volume"),
        ),  # fmt: skip
        network=NetworkAnswer(
            kind=net_kind,
            source=value(q("#net-source", Select)),
            model=value(q("#net-model", Select)),
            mac=text("#mac"),
        ),  # fmt: skip
        firmware=value(q("#firmware", Select)) or "bios",
        secure_boot=q("#secure-boot", Checkbox).value,
        machine=value(q("#machine", Select)),
        domain_type=value(q("#domain-type", Select)),
        graphics=value(q("#graphics", Select)) or "none",
        guest_agent=q("#agent", Checkbox).value,
        rng=q("#rng", Checkbox).value,
        start=q("#start", Checkbox).value,
    )
    return answers, problems
