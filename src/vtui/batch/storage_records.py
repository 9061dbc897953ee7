"""The stable machine-readable shape of pools and volumes (see docs/json.md). Same
rules as records.py: sizes in bytes, unknown is None, fields only ever grow."""

from __future__ import annotations

from vtui.core.storage import Pool, Volume

POOL_FIELDS = (
    "host",
    "name",
    "uuid",
    "type",
    "state",
    "autostart",
    "persistent",
    "capacity_bytes",
    "allocation_bytes",
    "available_bytes",
    "target_path",
    "source",
    "volumes",
)

VOLUME_FIELDS = (
    "host",
    "pool",
    "name",
    "path",
    "type",
    "format",
    "capacity_bytes",
    "allocation_bytes",
    "physical_bytes",
    "backing_path",
    "backing_format",
    "used_by",
    "backing_of",
)
LIST_SEPARATOR = ";"  # several names in one CSV cell (--json keeps them apart exactly)


def pool_record(host: str, pool: Pool) -> dict:
    return {
        "host": host,
        "name": pool.name,
        "uuid": pool.uuid,
        "type": pool.type,
        "state": pool.state,
        "autostart": pool.autostart,
        "persistent": pool.persistent,
        "capacity_bytes": pool.capacity,
        "allocation_bytes": pool.allocation,
        "available_bytes": pool.available,
        "target_path": pool.target_path or None,
        "source": pool.source or None,
        "volumes": pool.volumes,
    }


def volume_record(host: str, volume: Volume) -> dict:
    return {
        "host": host,
        "pool": volume.pool,
        "name": volume.name,
        "path": volume.path,
        "type": volume.type,
        "format": volume.format or None,
        "capacity_bytes": volume.capacity,
        "allocation_bytes": volume.allocation,
        "physical_bytes": volume.physical,
        "backing_path": volume.backing_path,
        "backing_format": volume.backing_format,
        "used_by": list(volume.used_by),
        "backing_of": list(volume.backing_of),
    }


def csv_ready(record: dict) -> dict:
    """Lists joined into one cell."""
    return {k: LIST_SEPARATOR.join(v) if isinstance(v, list) else v for k, v in record.items()}
