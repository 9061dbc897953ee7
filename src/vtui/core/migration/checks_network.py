"""Pre-flight checks of the guest's NICs: every libvirt network one uses must exist
and be active on the destination, every host bridge or interface must exist there.
(A missing one fails the migration on the destination, after the memory has moved.)"""

from __future__ import annotations

from vtui.core.migration.check import FAIL, PASS, WARN, Check
from vtui.core.migration.inspect_destination import Destination
from vtui.core.migration.inspect_source import Source


def network_checks(src: Source, dst: Destination, dst_name: str, live: bool) -> list[Check]:
    checks = []
    # offline, the guest only fails to start there: a warning
    missing = FAIL if live else WARN
    for nic in src.config.nics:
        label = f"nic {nic.mac}" if nic.mac else "nic"
        if nic.kind == "network":
            active = dst.networks.get(nic.source)
            if active is None:
                checks.append(Check(label, missing, f"network {nic.source} does not exist on "
                                    f"{dst_name}", f"define and start it on {dst_name} "
                                    "(same name)"))  # fmt: skip
            elif not active:
                checks.append(Check(label, missing, f"network {nic.source} is not active on "
                                    f"{dst_name}", f"virsh net-start {nic.source} on "
                                    f"{dst_name}"))  # fmt: skip
            else:
                checks.append(Check(label, PASS, f"network {nic.source} active on {dst_name}"))
        elif nic.kind in ("bridge", "direct"):
            what = "bridge" if nic.kind == "bridge" else "host interface"
            found, why = dst.interfaces.get(nic.source, (None, "not checked"))
            if found:
                checks.append(Check(label, PASS, f"{what} {nic.source} present on {dst_name}"))
            elif found is False:
                checks.append(Check(label, missing, f"{what} {nic.source} does not exist on "
                                    f"{dst_name}", f"create {nic.source} on {dst_name}, or "
                                    "use a network both hosts have"))  # fmt: skip
            else:
                checks.append(Check(label, WARN, f"cannot check {what} {nic.source} on "
                                    f"{dst_name}: {why}", "make sure it exists there"))  # fmt: skip
        elif nic.kind == "user":
            checks.append(Check(label, PASS, "user-mode networking (inside QEMU)"))
    return checks
