"""What a running guest did over the last minutes: CPU, memory, disk and network, one
sample per refresh, for the graphs of its details screen (and the main screen's CPU
sparkline).

A fleet may hold ten thousand guests, so each number is kept in one byte: CPU as
0.4 % steps, the others on a log scale (steps of about 10 %: fine for a graph whose
"now" and peak are read from the guest itself). One guest's ten minutes at a 2 s
interval take 1.8 KB; a stopped guest keeps nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping

from vtui.core.model import Guest

SERIES = ("cpu", "memory", "disk_read", "disk_write", "net_rx", "net_tx")
WIDTH = len(SERIES)
HISTORY_SECONDS = 600.0  # what the details screen's graphs cover
MAX_SAMPLES = 1200  # at most this many per guest, whatever the interval
_CPU_SCALE = 2.5  # byte = percent * 2.5 (0..250)
_LOG_STEPS = 7  # codes per doubling: 2**(1/7) is a 10 % step


def samples_for(interval: float, seconds: float = HISTORY_SECONDS) -> int:
    """How many samples cover `seconds` at this refresh interval."""
    return max(60, min(MAX_SAMPLES, math.ceil(seconds / max(interval, 0.1))))


# log2 of a mantissa in [0.5, 1) in steps, by its first 6 bits: no log() per sample
_MANTISSA_STEPS = tuple(round(math.log2(1 + (i + 0.5) / 64) * _LOG_STEPS) for i in range(64))
_frexp = math.frexp


def _log_code(value: float) -> int:
    """1..255 for a value of at least 1 (0 below): ~7 codes per doubling."""
    if value < 1:
        return 0
    mantissa, exponent = _frexp(value)
    code = (exponent - 1) * _LOG_STEPS + _MANTISSA_STEPS[int(mantissa * 128) - 64] + 1
    return code if code < 256 else 255


def _log_value(code: int) -> float:
    return 0.0 if code == 0 else 2.0 ** ((code - 1) / _LOG_STEPS)


class GuestHistory:
    """A ring of the last `capacity` samples of one guest. append() runs for every
    running guest at every refresh (10,000 of them in a big fleet): kept lean."""

    __slots__ = ("_data", "_next", "_memory", "capacity")

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._data = bytearray()
        self._next = -1  # where the next sample goes once the ring is full (-1: filling)
        self._memory = (0, 0)  # the last memory value and its code: it rarely moves

    def __len__(self) -> int:
        return len(self._data) // WIDTH

    def append(self, guest: Guest) -> None:
        cpu, rd, wr = guest.cpu_pct, guest.disk_rd_bps, guest.disk_wr_bps
        rx, tx = guest.net_rx_bps, guest.net_tx_bps
        memory = guest.memory_used_kib or guest.memory_rss_kib or guest.memory_kib
        if memory != self._memory[0]:
            self._memory = (memory, _log_code(memory) if memory else 0)
        record = bytes(
            (
                (int(cpu * _CPU_SCALE + 0.5) if cpu < 100 else 250) if cpu else 0,
                self._memory[1],
                _log_code(rd) if rd else 0,
                _log_code(wr) if wr else 0,
                _log_code(rx) if rx else 0,
                _log_code(tx) if tx else 0,
            )
        )
        self._put(record)

    def repeat_last(self, guest: Guest) -> None:
        """Append the last sample again: the sampler's shortcut for a guest whose
        record did not move (an idle guest's numbers are those of the last sample)."""
        data, at = self._data, self._next
        if not data:
            self.append(guest)
            return
        if at < 0:  # still filling: the last record is the newest
            self._put(bytes(data[-WIDTH:]))
            return
        start = at * WIDTH  # full: copied in place, the hot case
        data[start : start + WIDTH] = data[start - WIDTH : start] if at else data[-WIDTH:]
        self._next = (at + 1) % self.capacity

    def _put(self, record: bytes) -> None:
        at = self._next
        if at < 0:
            self._data += record
            if len(self._data) >= self.capacity * WIDTH:
                self._next = 0
            return
        self._data[at * WIDTH : at * WIDTH + WIDTH] = record
        self._next = (at + 1) % self.capacity

    def _codes(self, column: int) -> list[int]:
        codes = self._data[column::WIDTH]
        start = max(self._next, 0)
        return list(codes[start:] + codes[:start])

    def series(self, name: str, last: int | None = None) -> list[float]:
        """One number's samples, oldest first (the last `last` of them): CPU in percent,
        memory in KiB, the others in bytes per second."""
        codes = self._codes(SERIES.index(name))
        if last is not None:
            codes = codes[-last:]
        if name == "cpu":
            return [c / _CPU_SCALE for c in codes]
        return [_log_value(c) for c in codes]


class CpuHistoryView(Mapping[str, list[float]]):
    """The last `last` CPU samples of each guest, read from the histories on demand."""

    def __init__(self, histories: Mapping[str, GuestHistory], last: int):
        self._histories, self._last = histories, last

    def __getitem__(self, uuid: str) -> list[float]:
        return self._histories[uuid].series("cpu", self._last)

    def __iter__(self) -> Iterator[str]:
        return iter(self._histories)

    def __len__(self) -> int:
        return len(self._histories)
