"""Creating a pool from a form's answers: check them, define, build, start, autostart.
A failure undoes exactly the steps done (see ledger.py) and says what went wrong."""

from __future__ import annotations

from collections.abc import Mapping

import libvirt

from vtui.core.errors import VtuiError, libvirt_message
from vtui.core.host import Host
from vtui.core.host.guard import call_or_fail, writable_conn
from vtui.core.storage.access import on_host
from vtui.core.storage.checks import BadInput, check_name
from vtui.core.storage.definitions import pool_xml
from vtui.core.storage.ledger import Ledger, with_undo_note
from vtui.core.storage.model import Pool, PoolType
from vtui.core.storage.pool_types import pool_types
from vtui.core.storage.pools import read_pool

# Build flags per type: a filesystem is only made on an empty device (libvirt probes it);
# logical and disk builds refuse devices that hold data without the OVERWRITE flag.
BUILD_FLAGS = {"fs": libvirt.VIR_STORAGE_POOL_BUILD_NO_OVERWRITE}


def check_answers(kind: PoolType, values: Mapping[str, str], taken: set[str]) -> dict[str, str]:
    """The answers, trimmed and checked against the type's fields; BadInput if wrong."""
    answers = {f.name: (values.get(f.name) or f.default).strip() for f in kind.fields}
    unknown = sorted(set(values) - set(answers))
    if unknown:
        raise BadInput(f"a {kind.type} pool has no field {unknown[0]!r}")
    name = check_name(answers["name"], "pool")
    if name in taken:
        raise BadInput(f"there already is a pool called {name!r}")
    for field in kind.fields:
        value = answers[field.name]
        if field.required and not value:
            raise BadInput(f"a {kind.type} pool needs {field.label.lower()} ({field.hint})")
        if value and field.choices and value not in field.choices:
            raise BadInput(
                f"{field.label.lower()} {value!r} is not one of {', '.join(field.choices)}"
            )
    target = answers.get("target_path", "")
    if target and not target.startswith("/"):
        raise BadInput(f"target path {target!r} is not absolute (it must start with /)")
    return {k: v for k, v in answers.items() if v}


@on_host
async def create_pool(
    host: Host,
    pool_type: str,
    values: Mapping[str, str],
    *,
    build: bool = False,
    start: bool = True,
    autostart: bool = False,
) -> Pool:
    """Define a persistent pool of `pool_type` from `values` (field name -> answer, see
    pool_types()), optionally build its storage, start it and mark it autostart."""
    what = f"create pool {values.get('name', '')}".rstrip()
    conn = writable_conn(host, what)
    kinds = {k.type: k for k in await pool_types(host)}
    kind = kinds.get(pool_type)
    if kind is None:
        offered = ", ".join(kinds) or "none"
        raise BadInput(
            f"cannot {what}: this host does not support {pool_type!r} pools (it has: {offered})"
        )
    if build and not kind.can_build:
        raise BadInput(f"cannot {what}: libvirt cannot build a {pool_type} pool")
    taken = await call_or_fail(
        host, "list the storage pools", lambda: {p.name() for p in conn.listAllStoragePools(0)}
    )
    try:
        answers = check_answers(kind, values, taken)
    except BadInput as exc:
        raise BadInput(f"cannot {what}: {exc.message}") from None
    xml = pool_xml(pool_type, answers)

    def work() -> Pool:
        ledger = Ledger()
        try:
            pool = conn.storagePoolDefineXML(xml, 0)
            ledger.did(f"undefine pool {answers['name']}", pool.undefine)
            _build_and_start(pool, kind, answers, build, start, ledger)
            if autostart:
                pool.setAutostart(1)
                ledger.did("turn autostart off", lambda: pool.setAutostart(0))
            created = read_pool(pool)
        except (libvirt.libvirtError, VtuiError) as exc:
            reason = exc.message if isinstance(exc, VtuiError) else libvirt_message(exc)
            raise VtuiError(with_undo_note(f"cannot {what}: {reason}", ledger.undo())) from exc
        ledger.forget()
        return created

    return await call_or_fail(host, what, work)


def _build_and_start(
    pool: libvirt.virStoragePool,
    kind: PoolType,
    answers: Mapping[str, str],
    build: bool,
    start: bool,
    ledger: Ledger,
) -> None:
    started = False
    if build and kind.type == "dir":
        # Build (mkdir) only a directory that is not there yet, so that undoing removes
        # only what vtui made: a start tells whether it exists.
        started = _try_start(pool)
        if not started:
            pool.build(0)
            ledger.did("remove the directory it made", lambda: pool.delete(0))
    elif build:
        pool.build(BUILD_FLAGS.get(kind.type, 0))
        if kind.type == "logical":
            ledger.did("remove the volume group it made", lambda: pool.delete(0))
    if start and not started:
        try:
            pool.create(0)
        except libvirt.libvirtError as exc:
            if kind.type == "dir" and _missing_path(exc):
                raise VtuiError(
                    f"target path {answers.get('target_path')} does not exist on the host "
                    "(create it there, or ask for the pool to be built)"
                ) from exc
            raise
        started = True
    if started and not start:
        pool.destroy()  # started only to look for the directory
    elif started:
        ledger.did("stop the pool", pool.destroy)


def _try_start(pool: libvirt.virStoragePool) -> bool:
    try:
        pool.create(0)
    except libvirt.libvirtError as exc:
        if _missing_path(exc):
            return False
        raise
    return True


def _missing_path(exc: libvirt.libvirtError) -> bool:
    return "No such file or directory" in libvirt_message(exc)
