"""A volume transfer (upload, download, copy) running in the background: progress,
cancel, and how it ended.

    transfer = await start_upload(host, "default", "/srv/disk.qcow2")   # volume_io.py
    transfer.subscribe(lambda t: print(t.progress.fraction))           # on the loop
    summary = await transfer.wait()    # TransferSummary, or VtuiError (one line)
    await transfer.cancel()            # stops it and removes what it half made

The data moves on a thread of the transfer's own (it lasts minutes and would hold
one of the host's few worker threads); that thread counts as using the hosts'
connections (Host.track), so they are not closed under it. Progress reaches
listeners on the asyncio loop, a few times a second.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import libvirt

from vtui.core.errors import VtuiError, libvirt_message
from vtui.core.host import Host
from vtui.core.listeners import Publisher
from vtui.core.storage.streams import Cancelled, Meter
from vtui.core.units import size

RUNNING, COMPLETED, FAILED, CANCELLED = "running", "completed", "failed", "cancelled"
UPLOAD, DOWNLOAD, COPY = "upload", "download", "copy"
PUBLISH_EVERY = 0.2  # seconds between progress reports
RATE_WINDOW = 3.0  # seconds of history the rate is measured over


@dataclass(slots=True)
class TransferProgress:
    total: int  # bytes of the image
    done: int = 0  # bytes covered so far, holes included
    data_bytes: int = 0  # bytes that really travelled (holes do not)
    elapsed: float = 0.0
    rate_bps: float | None = None  # over the last few seconds
    eta: float | None = None  # seconds left at that rate
    sparse: bool | None = None  # holes travel as holes (None: not started yet)

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(self.done / self.total, 1.0)


@dataclass(frozen=True, slots=True)
class TransferSummary:
    total_bytes: int
    data_bytes: int
    seconds: float
    sparse: bool

    @property
    def average_bps(self) -> float | None:
        return self.total_bytes / self.seconds if self.seconds > 0 else None

    def line(self) -> str:
        rate = f" ({size(self.average_bps)}/s)" if self.average_bps else ""
        holes = self.total_bytes - self.data_bytes
        sparse = f", {size(holes)} of holes skipped" if self.sparse and holes > 0 else ""
        return f"{size(self.total_bytes)} in {self.seconds:.1f} s{rate}{sparse}"


# The blocking work of a transfer: moves the data, reports through the Meter, undoes
# what it made if it fails or is cancelled (then raises), and says whether it went sparse.
Work = Callable[[Meter, Callable[[bool], None]], None]


class Transfer(Publisher["Transfer"]):
    """One transfer. Publishes itself on progress and once it has ended."""

    def __init__(
        self,
        transfer_id: int,
        kind: str,
        source: str,
        target: str,
        hosts: Sequence[Host],
        total: int,
        limit_bps: float | None,
    ):
        super().__init__()
        self.id = transfer_id
        self.kind = kind
        self.source, self.target = source, target  # "host: pool/volume" or a local path
        self.hosts = tuple(hosts)
        self.state = RUNNING
        self.progress = TransferProgress(total)
        self.summary: TransferSummary | None = None
        self.error = ""  # one line once failed or cancelled
        self.started_at = time.time()
        self.finished_at: float | None = None
        self._meter = Meter(total, limit_bps, self._progress_from_thread)
        self._t0 = time.monotonic()
        self._samples: deque[tuple[float, int]] = deque()
        self._published_at = 0.0
        self._loop = asyncio.get_running_loop()
        self._done = asyncio.Event()
        self._thread = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix=f"transfer-{transfer_id}"
        )

    @property
    def title(self) -> str:
        return f"{self.kind} {self.source} -> {self.target}"

    @property
    def done(self) -> bool:
        return self.state != RUNNING

    @property
    def cancelling(self) -> bool:
        return self._meter.cancelled.is_set() and not self.done

    async def wait(self) -> TransferSummary:
        """The summary once complete; VtuiError (one line) if it failed or was cancelled."""
        await self._done.wait()
        if self.state == COMPLETED and self.summary is not None:
            return self.summary
        raise VtuiError(f"{self.title}: {self.error}")

    async def cancel(self) -> None:
        """Stop the transfer and wait until what it half made is removed."""
        if self.done:
            return
        self._meter.cancelled.set()
        self.publish(self)
        await self._done.wait()

    # -- running -------------------------------------------------------------------------
    def launch(self, work: Work) -> None:
        future = self._thread.submit(work, self._meter, self._sparse_known)
        for host in self.hosts:
            host.track(future)  # the thread uses these connections until it returns
        asyncio.ensure_future(self._follow(asyncio.wrap_future(future)))

    async def _follow(self, future: asyncio.Future) -> None:
        try:
            await future
        except Cancelled as exc:
            self._end(CANCELLED, f"cancelled{_note(exc)}")
        except libvirt.libvirtError as exc:
            self._end(FAILED, f"failed: {libvirt_message(exc)}")
        except VtuiError as exc:
            self._end(FAILED, f"failed: {exc.message}")
        except OSError as exc:
            self._end(
                FAILED,
                f"failed: {exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""),
            )
        except Exception as exc:  # noqa: BLE001 - still one line; the thread cleaned up
            self._end(FAILED, f"failed: {type(exc).__name__}: {exc}")
        else:
            self._complete()
        finally:
            self._thread.shutdown(wait=False)

    def _sparse_known(self, sparse: bool) -> None:
        self.progress.sparse = sparse  # (an attribute write: safe from the thread)

    def _progress_from_thread(self) -> None:
        now = time.monotonic()
        if now - self._published_at >= PUBLISH_EVERY:
            self._published_at = now
            self._loop.call_soon_threadsafe(self._publish_progress)

    def _publish_progress(self) -> None:
        if self.done:
            return
        now = time.monotonic()
        p, meter = self.progress, self._meter
        p.done, p.data_bytes, p.elapsed = meter.done, meter.data, now - self._t0
        self._samples.append((now, meter.done))
        while len(self._samples) > 2 and now - self._samples[0][0] > RATE_WINDOW:
            self._samples.popleft()
        first_t, first_done = self._samples[0]
        if now - first_t > 0.1:
            p.rate_bps = (meter.done - first_done) / (now - first_t)
            p.eta = (p.total - p.done) / p.rate_bps if p.rate_bps > 0 else None
        self.publish(self)

    def _complete(self) -> None:
        p = self.progress
        p.elapsed = time.monotonic() - self._t0
        p.done, p.data_bytes, p.eta = self._meter.done, self._meter.data, 0.0
        self.summary = TransferSummary(p.done, p.data_bytes, p.elapsed, bool(p.sparse))
        self._end(COMPLETED, "")

    def _end(self, state: str, error: str) -> None:
        self.state, self.error = state, error
        self.progress.eta = None if state != COMPLETED else 0.0
        self.finished_at = time.time()
        self._done.set()
        self.publish(self)


def _note(exc: BaseException) -> str:
    return f"; {exc.args[0]}" if exc.args else ""


class Transfers(Publisher[Transfer]):
    """Every transfer of this process, running or finished. Publishes a transfer
    whenever one starts, progresses or ends."""

    def __init__(self) -> None:
        super().__init__()
        self.transfers: list[Transfer] = []
        self._ids = itertools.count(1)

    def running(self) -> list[Transfer]:
        return [t for t in self.transfers if not t.done]

    def forget_finished(self) -> None:
        self.transfers = [t for t in self.transfers if not t.done]

    def start(
        self,
        kind: str,
        source: str,
        target: str,
        hosts: Sequence[Host],
        total: int,
        work: Work,
        limit_bps: float | None = None,
    ) -> Transfer:
        transfer = Transfer(next(self._ids), kind, source, target, hosts, total, limit_bps)
        self.transfers.append(transfer)
        transfer.subscribe(self.publish)
        transfer.launch(work)
        self.publish(transfer)
        return transfer


_default: Transfers | None = None


def default_transfers() -> Transfers:
    """The process-wide registry the UI and the CLI share."""
    global _default
    if _default is None:
        _default = Transfers()
    return _default
