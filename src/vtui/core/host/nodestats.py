"""A host's CPU and memory counters in one call each instead of two.

libvirt-python's getCPUStats and getMemoryStats first ask how many values there are,
then read them: two round trips to the host on every sample, half of the calls a fleet
makes per sample. How many there are never changes on a host, so once libvirt-python
has told us, the same C function is called directly (ctypes) with room for that many:
one round trip. Anything unexpected (no libvirt library to load, a failing call, a
different count) falls back to libvirt-python's call, which also raises the proper
error; a host where the fast call failed is not tried again.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from typing import Any

import libvirt

FIELD_LENGTH = 80  # VIR_NODE_CPU_STATS_FIELD_LENGTH == VIR_NODE_MEMORY_STATS_FIELD_LENGTH


class _Param(ctypes.Structure):
    """virNodeCPUStats and virNodeMemoryStats have this same layout."""

    _fields_ = [("field", ctypes.c_char * FIELD_LENGTH), ("value", ctypes.c_ulonglong)]


def _load() -> tuple[Any, Any, Any] | None:
    try:
        try:  # the soname libvirt-python itself is linked against (no ldconfig run)
            lib = ctypes.CDLL("libvirt.so.0")
        except OSError:
            lib = ctypes.CDLL(ctypes.util.find_library("virt") or "libvirt.so")
        pointer = ctypes.pythonapi.PyCapsule_GetPointer
        pointer.restype = ctypes.c_void_p
        pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
        functions = []
        for name in ("virNodeGetCPUStats", "virNodeGetMemoryStats"):
            fn = getattr(lib, name)
            fn.restype = ctypes.c_int
            fn.argtypes = [
                ctypes.c_void_p,
                ctypes.c_int,
                ctypes.POINTER(_Param),
                ctypes.POINTER(ctypes.c_int),
                ctypes.c_uint,
            ]
            functions.append(fn)
        return pointer, functions[0], functions[1]
    except (OSError, AttributeError):
        return None


_C = _load()


class NodeStats:
    """One host's counters (used from its worker threads, one at a time)."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}  # which call -> how many values
        self._slow: set[str] = set()  # calls to make the libvirt-python way only

    def cpu(self, conn: libvirt.virConnect) -> dict[str, int]:
        return self._read(conn, "getCPUStats", 1, libvirt.VIR_NODE_CPU_STATS_ALL_CPUS)

    def memory(self, conn: libvirt.virConnect) -> dict[str, int]:
        return self._read(conn, "getMemoryStats", 2, libvirt.VIR_NODE_MEMORY_STATS_ALL_CELLS)

    def _read(self, conn: libvirt.virConnect, name: str, which: int, number: int) -> dict:
        count = self._counts.get(name)
        tried = _C is not None and bool(count) and name not in self._slow
        if tried:
            assert _C is not None and count
            fast = self._fast(conn, _C[which], number, count)
            if fast is not None:
                return fast
        stats = getattr(conn, name)(number)  # (raises what went wrong, if anything did)
        if tried:
            self._slow.add(name)  # the fast way failed where this one works: not again
        self._counts[name] = len(stats)
        return stats

    @staticmethod
    def _fast(conn: libvirt.virConnect, fn, number: int, count: int) -> dict | None:
        assert _C is not None
        try:
            handle = _C[0](conn._o, b"virConnectPtr")
        except (ValueError, TypeError, AttributeError):
            return None
        params = (_Param * count)()
        got = ctypes.c_int(count)
        if fn(handle, number, params, ctypes.byref(got), 0) < 0 or got.value != count:
            return None
        return {params[i].field.decode(): params[i].value for i in range(count)}
