"""Planning how the guest boots: the boot order, a kernel kept in the definition, or
an install tree's kernel and initrd for the installer's first boot only."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin

from vtui.core.guests.create.answers import (
    ISO,
    KERNEL,
    NEW_DISK,
    PXE,
    URL,
)
from vtui.core.guests.create.draft import Draft
from vtui.core.guests.create.plan import (
    INITRD_FILE,
    KERNEL_FILE,
)


@dataclass(slots=True)
class Boot:
    order: list[str] = field(default_factory=lambda: ["hd"])
    kernel: str = ""
    initrd: str = ""
    cmdline: str = ""
    install_cmdline: str = ""


def plan_boot(draft: Draft) -> Boot:
    """How the guest boots: os/boot order, or a kernel (kept, or for the installer only)."""
    answers, source = draft.answers, draft.answers.source
    has_disk = any(d.device == "disk" for d in draft.disks)
    boot = Boot()
    if source.kind == ISO:
        new_disk = answers.disk.mode == NEW_DISK
        boot.order = ["hd", "cdrom"] if new_disk else ["cdrom", "hd"] if has_disk else ["cdrom"]
        if new_disk:
            draft.notes.append(
                "boots its disk first: the new disk is empty, so the CD-ROM starts the installer; once installed, the disk boots"
            )
    elif source.kind == PXE:
        boot.order = ["network", "hd"] if has_disk else ["network"]
        draft.notes.append("boots from the network (PXE), then its disk")
    elif source.kind == KERNEL:
        for ref, what in ((source.kernel, "kernel"), (source.initrd, "initrd")):
            if ref and not ref.startswith("/"):
                draft.problems.append(f"the {what} must be an absolute path on the host")
        boot.kernel, boot.initrd, boot.cmdline = source.kernel, source.initrd, source.cmdline
        draft.notes.append(f"boots the kernel {source.kernel} directly")
    elif source.kind == URL:
        _tree(draft)
        boot.install_cmdline = _with_console(source.cmdline, answers.graphics)
    return boot


def _tree(draft: Draft) -> None:
    """The install tree's kernel and initrd: downloaded here, uploaded for one boot."""
    source, answers = draft.answers.source, draft.answers
    tree = draft.os.tree_for(answers.arch or draft.choices.arch or "x86_64")
    kernel = source.kernel or (tree.kernel if tree else "")
    initrd = source.initrd or (tree.initrd if tree else "")
    base = source.url.rstrip("/") + "/"
    pool = source.upload_pool or answers.disk.pool or draft.choices.default_pool()
    for role, path, suffix in ((KERNEL_FILE, kernel, "vmlinuz"), (INITRD_FILE, initrd, "initrd")):
        url = urljoin(base, path.lstrip("/")) if path else ""
        draft.new_volume(
            role,
            pool,
            f"{answers.name}-install-{suffix}",
            capacity=0,
            format="raw",
            url=url,
            temporary=True,
        )
    where = "from the tree's .treeinfo" if not (kernel and initrd) else f"{kernel}, {initrd}"
    draft.notes.append(
        f"installs from {source.url}: its kernel and initrd ({where}) are downloaded here, "
        "uploaded for the installer's first boot and deleted once it has started"
    )


def _with_console(cmdline: str, graphics: str) -> str:
    if graphics == "none" and "console=" not in cmdline:
        return f"{cmdline} console=ttyS0".strip()
    return cmdline.strip()
