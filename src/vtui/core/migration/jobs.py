"""Migration jobs: move a guest to another host in the background, watch, cancel.

    job = await start_migration(src_host, guest, dst_host, MigrationOptions(bandwidth_mib=50))
    job.subscribe(lambda job: print(job.progress))
    summary = await job.wait()     # MigrationSummary, or VtuiError with libvirt's reason

start_migration runs the pre-flight checks and refuses (MigrationRefused) on any
failure. The blocking migrate call runs on a thread of the job's own: it lasts as
long as the migration and would otherwise hold one of the source host's few worker
threads for minutes. The job-statistics polls, cancel and the post-copy switch go
through the source host's threads like every other call.

vtui never destroys or undefines anything itself: the source definition goes only
through libvirt's UNDEFINE_SOURCE flag, after a successful migration. On failure or
cancel, libvirt resumes the guest on the source; the job says where it is.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from concurrent.futures import ThreadPoolExecutor

import libvirt

from vtui.core.errors import VtuiError, libvirt_message
from vtui.core.host import Host
from vtui.core.listeners import Publisher
from vtui.core.migration.checks import Check, failures, preflight
from vtui.core.migration.options import (
    MigrationOptions,
    peer_uri,
)
from vtui.core.migration.progress import (
    CANCELLED,
    CANCELLING,
    COMPLETED,
    FAILED,
    POST_COPY,
    RUNNING,
    MigrationProgress,
    MigrationSummary,
    phase_of,
    progress_from_stats,
)
from vtui.core.model import Guest
from vtui.core.states import state_name

POLL_SECONDS = 0.5


class MigrationRefused(VtuiError):
    """The pre-flight checks failed; .checks has them all."""

    def __init__(self, checks: list[Check], *, host: str, guest: str):
        bad = failures(checks)
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        super().__init__(f"refused: {bad[0].line}{more}", host=host, guest=guest)
        self.checks = checks


class MigrationJob(Publisher["MigrationJob"]):
    """One migration: its options, live progress, and how it ended. Publishes itself
    after every progress sample and at the end."""

    def __init__(
        self,
        job_id: int,
        src_host: Host,
        guest: Guest,
        dst_host: Host,
        options: MigrationOptions,
        checks: list[Check],
    ):
        super().__init__()
        self.id = job_id
        self.src_host, self.dst_host = src_host, dst_host
        self.guest_name, self.guest_uuid = guest.name, guest.uuid
        self.options, self.checks = options, checks
        self.dest_uri = peer_uri(dst_host, options) if options.peer_to_peer else ""
        self.state = RUNNING
        self.progress = MigrationProgress()
        self.summary: MigrationSummary | None = None
        self.error = ""  # one line: libvirt's reason and where the guest is
        self.started_at = time.time()
        self.finished_at: float | None = None
        self._t0 = time.monotonic()
        self._cancel_requested = False
        self._abort_sent = False
        self._post_copy_started = False
        self._src_dom: libvirt.virDomain | None = None
        self._done = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"migrate-{guest.name}")

    # -- watching -------------------------------------------------------------------------
    @property
    def title(self) -> str:
        return f"{self.guest_name}: {self.src_host.name} -> {self.dst_host.name}"

    @property
    def done(self) -> bool:
        return self.state != RUNNING

    async def wait(self) -> MigrationSummary:
        """The summary once completed; VtuiError (libvirt's reason) if it failed/was cancelled."""
        await self._done.wait()
        if self.state == COMPLETED and self.summary is not None:
            return self.summary
        raise VtuiError(self.error, host=self.src_host.name, guest=self.guest_name)

    # -- cancelling ------------------------------------------------------------------------
    async def cancel(self) -> None:
        """Abort the migration; the guest keeps running on the source. Raises VtuiError
        when it is too late (post-copy) or libvirt refuses."""
        if self.done:
            return
        if self._post_copy_started or self.progress.phase == POST_COPY:
            raise VtuiError(
                "cannot cancel after the switch to post-copy: the guest already "
                "runs on the destination",
                host=self.src_host.name,
                guest=self.guest_name,
            )
        self._cancel_requested = True
        self.progress.phase = CANCELLING
        self.publish(self)
        await self._send_abort()

    async def _send_abort(self) -> None:
        try:
            await self.src_host.call(self._abort_blocking)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID:
                return  # no job on the domain yet: the poller aborts once it appears
            raise VtuiError(
                f"cannot cancel: {libvirt_message(exc)}",
                host=self.src_host.name,
                guest=self.guest_name,
            ) from exc
        self._abort_sent = True

    def _abort_blocking(self) -> None:
        self._source_domain(self.src_host.require_conn()).abortJob()

    # -- running ---------------------------------------------------------------------------
    def _launch(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    def _source_domain(self, conn: libvirt.virConnect) -> libvirt.virDomain:
        if self._src_dom is None:
            self._src_dom = conn.lookupByUUIDString(self.guest_uuid)
        return self._src_dom

    async def _run(self) -> None:
        poller = asyncio.ensure_future(self._poll()) if self.options.live else None
        try:
            src_conn, dst_conn = self.src_host.require_conn(), self.dst_host.require_conn()
            future = self._thread.submit(self._migrate_blocking, src_conn, dst_conn)
            self.src_host.track(future)  # both connections are in use until it returns
            self.dst_host.track(future)
            stats = await asyncio.wrap_future(future)
        except libvirt.libvirtError as exc:
            await self._finish_failed(libvirt_message(exc))
        except VtuiError as exc:
            await self._finish_failed(exc.message)
        except Exception as exc:  # noqa: BLE001 - still report it as one line, never lose state
            await self._finish_failed(f"{type(exc).__name__}: {exc}")
        else:
            self._finish_completed(stats)
        finally:
            if poller is not None:
                poller.cancel()
            self._thread.shutdown(wait=False)
        # the source gets no "undefined" event for UNDEFINE_SOURCE: re-read both sides now
        await asyncio.gather(
            self.src_host.refresh_guest(self.guest_uuid),
            self.dst_host.refresh_guest(self.guest_uuid),
            return_exceptions=True,
        )
        self.finished_at = time.time()
        self._done.set()
        self.publish(self)

    def _migrate_blocking(self, src_conn: libvirt.virConnect, dst_conn: libvirt.virConnect) -> dict:
        dom = self._source_domain(src_conn)
        opts = self.options
        previous_downtime = None
        if opts.live and opts.max_downtime_ms:
            try:
                previous_downtime = dom.migrateGetMaxDowntime(0)
            except libvirt.libvirtError:
                pass
            dom.migrateSetMaxDowntime(int(opts.max_downtime_ms), 0)
        try:
            if opts.peer_to_peer:
                dom.migrateToURI3(self.dest_uri, opts.params(), opts.flags())
                dst_dom = None
            else:
                dst_dom = dom.migrate3(dst_conn, opts.params(), opts.flags())
        except libvirt.libvirtError:
            if previous_downtime is not None:  # leave the source guest as it was
                try:
                    dom.migrateSetMaxDowntime(previous_downtime, 0)
                except libvirt.libvirtError:
                    pass
            raise
        return self._completed_stats(dom, dst_dom, dst_conn)

    def _completed_stats(self, dom, dst_dom, dst_conn) -> dict:
        """Totals of the finished job: the destination keeps them; else the source."""
        candidates = [lambda: dst_dom or dst_conn.lookupByUUIDString(self.guest_uuid), lambda: dom]
        for get in candidates:
            try:
                stats = get().jobStats(
                    libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED
                    | libvirt.VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED
                )
            except libvirt.libvirtError:
                continue
            if stats.get("type", libvirt.VIR_DOMAIN_JOB_NONE) != libvirt.VIR_DOMAIN_JOB_NONE:
                return stats
        return {}

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(POLL_SECONDS)
            try:
                stats = await self.src_host.call(self._sample_blocking)
            except (libvirt.libvirtError, VtuiError):
                continue  # between phases, or the domain just left: the migrate call tells
            if self.done:
                return
            if stats.get("type", libvirt.VIR_DOMAIN_JOB_NONE) == libvirt.VIR_DOMAIN_JOB_NONE:
                continue
            elapsed = time.monotonic() - self._t0
            phase = (
                CANCELLING if self._cancel_requested else phase_of(stats, self._post_copy_started)
            )
            self.progress = progress_from_stats(stats, phase, elapsed, self.progress)
            self.publish(self)
            if self._cancel_requested and not self._abort_sent:
                try:
                    await self._send_abort()
                except VtuiError:
                    pass
            elif (
                self.options.post_copy
                and not self._post_copy_started
                and self.progress.iteration >= 2
            ):
                await self._start_post_copy()

    def _sample_blocking(self) -> dict:
        # jobStats only: virDomainGetState was seen to block for seconds mid-migration
        return self._source_domain(self.src_host.require_conn()).jobStats()

    async def _start_post_copy(self) -> None:
        """After the first full pass, let the guest run on the destination and pull the
        remaining pages from there (what virsh calls --postcopy-after-precopy)."""
        dom = self._src_dom
        if dom is None:
            return  # not started yet: the next sample asks again
        try:
            await self.src_host.call(dom.migrateStartPostCopy, 0)
        except libvirt.libvirtError as exc:
            self.error = f"post-copy not started: {libvirt_message(exc)}"
            self.options.post_copy = False  # keep going pre-copy
            return
        self._post_copy_started = True

    # -- ending ----------------------------------------------------------------------------
    def _finish_completed(self, stats: dict) -> None:
        elapsed = time.monotonic() - self._t0
        last = self.progress
        final = (
            progress_from_stats(stats, COMPLETED, elapsed, None)
            if stats
            else MigrationProgress(phase=COMPLETED, elapsed=elapsed)
        )
        if not stats:  # offline migrations move no data and keep no job statistics
            final.data_total, final.data_processed = last.data_total, last.data_processed
        if not final.disk_processed and last.disk_processed:
            # the destination's totals count memory only; the storage copy was measured
            # on the source, whose job ended with the guest's departure
            final.disk_total = final.disk_processed = last.disk_processed
            final.data_processed += last.disk_processed
            final.data_total += last.disk_processed
        final.data_remaining = final.memory_remaining = final.disk_remaining = 0
        final.eta = 0.0
        self.progress = final
        self.summary = MigrationSummary(
            total_seconds=elapsed,
            downtime_ms=final.expected_downtime_ms,
            data_bytes=final.data_processed,
            memory_bytes=final.memory_processed,
            disk_bytes=final.disk_processed,
            iterations=final.iteration,
        )
        self.state = COMPLETED
        self.error = ""

    async def _finish_failed(self, reason: str) -> None:
        where = await self._where_is_guest()
        cancelled = self._cancel_requested
        self.state = CANCELLED if cancelled else FAILED
        self.progress.phase = self.state
        self.progress.elapsed = time.monotonic() - self._t0
        self.progress.eta = None
        self.error = f"{'cancelled' if cancelled else 'failed'}: {reason}; {where}"

    async def _where_is_guest(self) -> str:
        src = self.src_host.name

        def look() -> str:
            conn = self.src_host.require_conn()
            try:
                code, _reason = conn.lookupByUUIDString(self.guest_uuid).state()
            except libvirt.libvirtError as exc:
                if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                    return f"{self.guest_name} is no longer on {src}"
                raise
            return f"{self.guest_name} is {state_name(code)} on {src}"

        try:
            return await self.src_host.call(look)
        except (libvirt.libvirtError, VtuiError):
            return f"cannot tell the state of {self.guest_name} on {src}"


class MigrationJobs(Publisher[MigrationJob]):
    """Every migration of this process, running or finished, several at once. Publishes
    a job whenever any job starts, progresses or ends."""

    def __init__(self) -> None:
        super().__init__()
        self.jobs: list[MigrationJob] = []
        self._ids = itertools.count(1)

    def running(self) -> list[MigrationJob]:
        return [j for j in self.jobs if not j.done]

    def for_guest(self, guest_uuid: str) -> MigrationJob | None:
        """The running migration of this guest, if any."""
        return next((j for j in self.running() if j.guest_uuid == guest_uuid), None)

    def forget_finished(self) -> None:
        self.jobs = [j for j in self.jobs if not j.done]

    async def start(
        self, src_host: Host, guest: Guest, dst_host: Host, options: MigrationOptions
    ) -> MigrationJob:
        """Check, then start. Raises MigrationRefused (a VtuiError) if a check fails."""

        def busy() -> None:
            job = self.for_guest(guest.uuid)
            if job is not None:
                raise VtuiError(
                    f"is already being migrated ({job.title})", host=src_host.name, guest=guest.name
                )

        busy()
        checks = await preflight(src_host, guest, dst_host, options)
        if failures(checks):
            raise MigrationRefused(checks, host=src_host.name, guest=guest.name)
        busy()  # another start may have won while we checked
        job = MigrationJob(next(self._ids), src_host, guest, dst_host, options, checks)
        self.jobs.append(job)
        job.subscribe(self.publish)
        job._launch()
        self.publish(job)
        return job


_default: MigrationJobs | None = None


def default_jobs() -> MigrationJobs:
    """The process-wide registry the UI and the CLI share."""
    global _default
    if _default is None:
        _default = MigrationJobs()
    return _default


async def start_migration(
    src_host: Host,
    guest: Guest,
    dst_host: Host,
    options: MigrationOptions | None = None,
    *,
    jobs: MigrationJobs | None = None,
) -> MigrationJob:
    """Run the pre-flight checks and start migrating `guest` from src_host to dst_host."""
    registry = jobs if jobs is not None else default_jobs()
    return await registry.start(src_host, guest, dst_host, options or MigrationOptions())
