"""The NoCloud seed as an ISO 9660 image, made in memory with pycdlib (no genisoimage
or xorriso on either machine): volume label "cidata", the files under their real
names through Joliet and Rock Ridge, which is how Linux mounts them."""

from __future__ import annotations

import io

import pycdlib

VOLUME_LABEL = "cidata"


def _iso_name(name: str) -> str:
    """An ISO 9660 level-1 name for the plain directory (8.3, upper case)."""
    stem = "".join(c for c in name.upper() if c.isalnum())[:8] or "FILE"
    return f"/{stem}.;1"


def seed_iso(files: dict[str, bytes], label: str = VOLUME_LABEL) -> bytes:
    """An ISO image holding `files` (name -> content) in its root directory."""
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=3, joliet=3, rock_ridge="1.09", vol_ident=label)
    try:
        used: set[str] = set()
        for name, data in files.items():
            iso_name = _iso_name(name)
            while iso_name in used:  # two names with the same 8.3 form
                iso_name = _iso_name(f"{len(used)}{name}")
            used.add(iso_name)
            iso.add_fp(io.BytesIO(data), len(data), iso_name, rr_name=name, joliet_path=f"/{name}")
        out = io.BytesIO()
        iso.write_fp(out)
        return out.getvalue()
    finally:
        iso.close()


def read_seed_iso(image: bytes) -> tuple[str, dict[str, bytes]]:
    """(volume label, files by name) of a seed image: what a guest would see."""
    iso = pycdlib.PyCdlib()
    iso.open_fp(io.BytesIO(image))
    try:
        label = iso.pvd.volume_identifier.decode().strip()
        files = {}
        for child in iso.list_children(rr_path="/"):
            if child.is_dot() or child.is_dotdot() or child.is_dir():
                continue
            name = child.rock_ridge.name().decode()
            out = io.BytesIO()
            iso.get_file_from_iso_fp(out, rr_path=f"/{name}")
            files[name] = out.getvalue()
        return label, files
    finally:
        iso.close()
