"""The questions the volumes tab asks: a new volume, a clone's name, a new size, the
local file of an upload or a download. Each is checked as typed (names, sizes, paths)
and the core checks again before anything changes."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from vtui.core.storage import (
    BadInput,
    Transfer,
    Volume,
    check_name,
    clone_volume,
    create_volume,
    parse_size,
    pool_types,
    resize_volume,
    start_download,
    start_upload,
)
from vtui.core.units import size
from vtui.screens.host.form import FormField, FormScreen, Problem, Values
from vtui.screens.host.transfers import show_transfer

if TYPE_CHECKING:
    from vtui.screens.host.volumes import VolumesSection

FULL_POOL_TYPES = ("logical", "disk")  # every volume takes all its space at once
LIMIT = FormField(
    "limit",
    "Rate limit",
    "",
    "none",
    "bytes per second at most, e.g. 50M (empty: as fast as it can)",
)


def _name_problem(name: str, taken: list[str], pool: str, field: str = "name") -> Problem | None:
    try:
        check_name(name)
    except BadInput as exc:
        return exc.message, field
    if name in taken:
        return f"pool {pool} already has a volume called {name!r}", field
    return None


def _size(text: str, field: str) -> tuple[int | None, Problem | None]:
    if not text.strip():
        return None, None
    try:
        value = parse_size(text)
    except BadInput as exc:
        return None, (exc.message, field)
    if value <= 0:
        return None, ("give a size above 0", field)
    return value, None


def create(section: VolumesSection) -> None:
    host, pool = section.host, section.pool_info
    assert pool is not None
    taken = list(section.volumes)

    async def ask() -> None:
        kinds = {k.type: k for k in await pool_types(host)}
        kind = kinds.get(pool.type)
        formats = list(kind.volume_formats) if kind else []
        if "qcow2" in formats:  # thin, snapshots, overlays: what most guests want
            formats.insert(0, formats.pop(formats.index("qcow2")))
        fields = [FormField("name", "Name", placeholder="e.g. web-02.qcow2", hint="no / < & ' \"")]
        if formats:
            fields.append(
                FormField("format", "Format", formats[0], choices=[(f, f) for f in formats])
            )
        fields.append(
            FormField(
                "capacity",
                "Size",
                placeholder="e.g. 20G",
                hint="what the guest sees: 20G, 512M, 1.5T (empty with a backing volume: its size)",
            )
        )
        backing = [v.name for v in section.volumes.values() if v.format in ("qcow2", "raw")]
        if "qcow2" in formats and backing:
            fields.append(
                FormField(
                    "backing",
                    "Backing volume",
                    "",
                    choices=[("", "none"), *((b, b) for b in backing)],
                    hint="a qcow2 overlay: reads what it has not written from this volume",
                )
            )

        def check(values: Values) -> Problem | None:
            name = str(values["name"])
            problem = _name_problem(name, taken, pool.name) if name else ("give it a name", "name")
            if problem:
                return problem
            fmt, base = str(values.get("format", "")), str(values.get("backing", ""))
            capacity, problem = _size(str(values["capacity"]), "capacity")
            if problem:
                return problem
            if capacity is None and not base:
                return "give a size, e.g. 20G", "capacity"
            if base and fmt != "qcow2":
                return "only a qcow2 volume can have a backing volume", "backing"
            full = pool.type in FULL_POOL_TYPES or fmt == "raw"
            if full and capacity and pool.available is not None and capacity > pool.available:
                return (
                    f"the pool has {size(pool.available)} free: a {fmt or 'raw'} volume takes all its size now",
                    "capacity",
                )
            return None

        async def submit(values: Values) -> Volume:
            capacity, _ = _size(str(values["capacity"]), "capacity")
            return await create_volume(
                host,
                pool.name,
                str(values["name"]),
                capacity,
                format=str(values["format"]) if "format" in values else None,
                backing=str(values.get("backing", "")) or None,
            )

        made = await section.app.push_screen_wait(
            FormScreen(f"New volume in pool {pool.name}", fields, submit, check=check)
        )
        if isinstance(made, Volume):
            section.tell(f"{host.name}: volume {made.name} created ({size(made.capacity)})")

    section.run_action(ask, f"create a volume in pool {pool.name}")


def clone(section: VolumesSection, volume: Volume) -> None:
    host, taken = section.host, list(section.volumes)
    stem, ext = os.path.splitext(volume.name)
    suggested = f"{stem}-clone{ext}"

    def check(values: Values) -> Problem | None:
        return _name_problem(str(values["name"]), taken, volume.pool)

    async def submit(values: Values) -> Volume:
        return await clone_volume(host, volume.pool, volume.name, str(values["name"]))

    _ask(
        section,
        FormScreen(
            f"Clone volume {volume.name}",
            [FormField("name", "New name", suggested, hint="a full copy in the same pool")],
            submit,
            check=check,
            yes="Clone (enter)",
            intro=f"libvirt copies its {size(volume.allocation)} on the host; this can take a while.",
        ),
        lambda made: f"{host.name}: {volume.name} cloned as {made.name}",
    )


def resize(section: VolumesSection, volume: Volume) -> None:
    host = section.host

    def wanted(values: Values) -> tuple[int | None, Problem | None]:
        capacity, problem = _size(str(values["capacity"]), "capacity")
        if problem or capacity is None:
            return None, problem or ("give the new size, e.g. 40G", "capacity")
        if capacity < volume.capacity and not values["shrink"]:
            return None, ("smaller than now: tick shrink if you mean it", "capacity")
        return capacity, None

    async def submit(values: Values) -> Volume:
        capacity, _ = wanted(values)
        assert capacity is not None
        shrink = bool(values["shrink"])
        return await resize_volume(host, volume.pool, volume.name, capacity, shrink=shrink)

    _ask(
        section,
        FormScreen(
            f"Resize volume {volume.name}",
            [
                FormField("capacity", "New size", placeholder=f"now {size(volume.capacity)}"),
                FormField("shrink", "shrink: the data past the new end is lost", False),
            ],
            submit,
            check=lambda values: wanted(values)[1],
            yes="Resize (enter)",
            intro=f"Now {size(volume.capacity)} ({volume.capacity} bytes). Growing does not "
            "grow the filesystem inside.",
        ),
        lambda made: f"{host.name}: volume {made.name} is now {size(made.capacity)}",
    )


def _ask(section: VolumesSection, form: FormScreen, done) -> None:
    def answered(result: object) -> None:
        if result is not None and not isinstance(result, bool):
            section.tell(done(result))
            section.reload_soon()

    section.app.push_screen(form, answered)


def _limit(values: Values) -> float | None:
    limit, _ = _size(str(values.get("limit", "")), "limit")
    return float(limit) if limit else None


def upload(section: VolumesSection) -> None:
    host, pool = section.host, section.pool
    assert pool is not None
    taken = list(section.volumes)

    def check(values: Values) -> Problem | None:
        path = os.path.expanduser(str(values["path"]).strip())
        if not path:
            return "give the path of a file on this machine", "path"
        if not os.path.isfile(path):
            return f"no file {path} on this machine", "path"
        name = str(values["name"]).strip() or os.path.basename(path)
        return _name_problem(name, taken, pool) or _size(str(values["limit"]), "limit")[1]

    async def submit(values: Values) -> Transfer:
        path = os.path.expanduser(str(values["path"]).strip())
        name = str(values["name"]).strip() or None
        return await start_upload(host, pool, path, name=name, limit_bps=_limit(values))

    fields = [
        FormField(
            "path",
            "Local file",
            placeholder="/path/on/this/machine/disk.qcow2",
            hint="a disk image here; a qcow2 file keeps its format and virtual size",
        ),
        FormField("name", "Volume name", placeholder="the file's name"),
        LIMIT,
    ]
    _transfer(
        section,
        FormScreen(
            f"Upload a file to pool {pool} on {host.name}",
            fields,
            submit,
            check=check,
            yes="Upload (enter)",
        ),
    )


def download(section: VolumesSection, volume: Volume) -> None:
    host = section.host

    def target(values: Values) -> str:
        path = os.path.expanduser(str(values["path"]).strip())
        return os.path.join(path, volume.name) if os.path.isdir(path) else path

    def check(values: Values) -> Problem | None:
        path = target(values)
        if not path:
            return "give a path on this machine", "path"
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            return f"no directory {folder} on this machine", "path"
        if os.path.exists(path) and not values["overwrite"]:
            return f"{path} exists: tick overwrite to replace it", "path"
        return _size(str(values["limit"]), "limit")[1]

    async def submit(values: Values) -> Transfer:
        return await start_download(
            host,
            volume.pool,
            volume.name,
            target(values),
            overwrite=bool(values["overwrite"]),
            limit_bps=_limit(values),
        )

    fields = [
        FormField(
            "path",
            "Local file",
            os.path.join(os.getcwd(), volume.name),
            hint="a file or a directory on this machine",
        ),
        FormField("overwrite", "overwrite the file if it exists", False),
        LIMIT,
    ]
    _transfer(
        section,
        FormScreen(
            f"Download volume {volume.name} ({size(volume.stream_length)})",
            fields,
            submit,
            check=check,
            yes="Download (enter)",
        ),
    )


def copy(section: VolumesSection, volume: Volume) -> None:
    from vtui.screens.host.copy_form import CopyForm

    _transfer(section, CopyForm(section.host, volume))


def _transfer(section: VolumesSection, form) -> None:
    """Open the form; a transfer it starts shows its progress (and goes on if closed)."""
    host = section.host

    def answered(result: object) -> None:
        if isinstance(result, Transfer):
            show_transfer(section.app, result, on_end=lambda _t: _ended(section, host))

    section.app.push_screen(form, answered)


def _ended(section: VolumesSection, host) -> None:
    if section.is_mounted and section.host is host:
        section.reload_soon()
