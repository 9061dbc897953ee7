"""The create form's sections, as rows of widgets (ids are what form.py reads)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Checkbox, Input, Label, Select

from vtui.core.guests.create import CLOUD_IMAGE, EXISTING_DISK, NEW_DISK
from vtui.screens.create import fields
from vtui.screens.create.fields import AUTO, options, row


def install_rows() -> ComposeResult:
    """The install source and what each kind asks."""
    yield Label("Install", classes="section")
    yield row(
        "Source",
        Select(
            fields.source_options(),
            value=CLOUD_IMAGE,
            allow_blank=False,
            compact=True,
            id="source",
        ),
    )
    yield row(
        "Volume/path",
        Input(placeholder="pool/volume or /path on the host", compact=True, id="volume"),
        id="row-volume",
    )
    yield row(
        "Local file",
        Input(placeholder="or a file here, uploaded", compact=True, id="local-file"),
        id="row-local-file",
    )
    yield row(
        "Tree URL",
        Input(placeholder="http://.../os/", compact=True, id="url"),
        id="row-url",
    )
    yield row(
        "Kernel",
        Input(placeholder="/path on the host", compact=True, id="kernel"),
        id="row-kernel",
    )
    yield row(
        "Initrd",
        Input(placeholder="/path on the host (optional)", compact=True, id="initrd"),
        id="row-initrd",
    )
    yield row("Cmdline", Input("console=ttyS0", compact=True, id="cmdline"), id="row-cmdline")


def cloud_init_rows(keys: str) -> ComposeResult:
    """cloud-init's answers (shown for a cloud image)."""
    with Vertical(id="row-cloud"):
        yield Label("cloud-init", classes="section")
        yield row(
            "User",
            Input(placeholder="created with sudo; empty: the image's", compact=True, id="user"),
        )
        yield row(
            "Key files",
            Input(keys, placeholder="~/.ssh/id_ed25519.pub, ...", compact=True, id="key-files"),
        )
        yield row("Pasted key", Input(placeholder="ssh-ed25519 AAAA...", compact=True, id="key"))
        yield row(
            "Password",
            Input(
                password=True,
                placeholder="optional, stored hashed",
                compact=True,
                id="password",
            ),
        )
        yield row("Hostname", Input(placeholder="default: the name", compact=True, id="hostname"))
        yield row(
            "Packages",
            Input(placeholder="e.g. nginx, qemu-guest-agent", compact=True, id="packages"),
        )
        yield row(
            "Static IP",
            Input(placeholder="CIDR; empty: DHCP", compact=True, id="static-ip"),
        )
        yield row("Gateway/DNS", Input(compact=True, id="gateway"), Input(compact=True, id="dns"))


def storage_rows() -> ComposeResult:
    """The main disk."""
    yield Label("Storage", classes="section")
    disk_modes = options(
        [(NEW_DISK, "new volume"), (EXISTING_DISK, "existing volume"), ("none", "no disk")]
    )
    yield row(
        "Disk",
        Select(disk_modes, value=NEW_DISK, allow_blank=False, compact=True, id="disk-mode"),
    )
    yield row("Pool", Select([], compact=True, prompt="no active pool", id="pool"), id="row-pool")
    yield row(
        "Size",
        Input("10G", compact=True, id="disk-size"),
        Select(
            options([("qcow2", "qcow2 (thin)"), ("raw", "raw (allocated)")]),
            value="qcow2",
            allow_blank=False,
            compact=True,
            id="disk-format",
        ),
        id="row-size",
    )
    yield row(
        "Existing",
        Input(placeholder="pool/volume or /path", compact=True, id="disk-volume"),
        id="row-disk-volume",
    )
    buses = options(
        [(AUTO, "auto: what the OS drives")]
        + [(b, b) for b in ("virtio", "scsi", "sata", "ide", "usb")]
    )
    yield row(
        "Disk bus",
        Select(buses, value=AUTO, allow_blank=False, compact=True, id="disk-bus"),
        id="row-bus",
    )


def network_rows() -> ComposeResult:
    """The network interface."""
    yield Label("Network", classes="section")
    kinds = options(
        [
            ("network", "virtual network"),
            ("bridge", "host bridge"),
            ("macvtap", "macvtap"),
            ("none", "none"),
        ]
    )
    yield row(
        "Interface",
        Select(kinds, value="none", allow_blank=False, compact=True, id="net-kind"),
    )
    yield row(
        "Source",
        Select([], compact=True, prompt="none found", id="net-source"),
        id="row-net-source",
    )
    yield row(
        "Model",
        Select(
            fields.model_options(),
            value=AUTO,
            allow_blank=False,
            compact=True,
            id="net-model",
        ),
        Input(placeholder="MAC: generated", compact=True, id="mac"),
        id="row-net-model",
    )


def platform_rows() -> ComposeResult:
    """Firmware, hypervisor, machine, CPU, graphics, devices, and what then."""
    yield Label("Platform", classes="section")
    yield row(
        "Firmware",
        Select(
            options([("bios", "BIOS")]),
            value="bios",
            allow_blank=False,
            compact=True,
            id="firmware",
        ),
        Checkbox("Secure Boot", compact=True, id="secure-boot"),
    )
    yield row(
        "Hypervisor",
        Select(
            options([(AUTO, "auto")]),
            value=AUTO,
            allow_blank=False,
            compact=True,
            id="domain-type",
        ),
    )
    yield row(
        "Machine",
        Select(
            options([(AUTO, "auto: what suits the OS")]),
            value=AUTO,
            allow_blank=False,
            compact=True,
            id="machine",
        ),
    )
    yield row(
        "CPU",
        Select(
            options([("", "hypervisor default")]),
            value="",
            allow_blank=False,
            compact=True,
            id="cpu",
        ),
        Input(placeholder="model", compact=True, id="cpu-model"),
    )
    yield row(
        "Graphics",
        Select(
            options([("none", "none (serial console)")]),
            value="none",
            allow_blank=False,
            compact=True,
            id="graphics",
        ),
    )
    yield row(
        "Devices",
        Checkbox("guest agent", True, compact=True, id="agent"),
        Checkbox("RNG", True, compact=True, id="rng"),
    )
    yield row(
        "Then",
        Checkbox("start it", True, compact=True, id="start"),
        Checkbox("open console", True, compact=True, id="console"),
    )
