"""How the UI reports what went wrong: one line on screen, the details in the log.

A worker started with `exit_on_error=False` that raises would otherwise vanish: its
error only reaches the node that started it, as a Worker.StateChanged message that does
not bubble. Screens, dialogs and the app mix in `ReportsWorkerFailures`, so a failed
worker is seen anywhere. A VtuiError is expected (libvirt said no, a host is down): its
one line is shown. Anything else is a bug: the user reads one line naming it and the
log file, and the traceback goes to the log.
"""

from __future__ import annotations

from textual.app import App
from textual.worker import Worker, WorkerState

from vtui.core import logs
from vtui.core.errors import VtuiError

log = logs.logger("vtui.ui")


def report(app: App, error: BaseException, what: str) -> None:
    if isinstance(error, VtuiError):
        log.warning("%s: %s", what, error)
        app.notify(str(error), severity="error", timeout=10, markup=False)
        return
    log.error("%s failed", what, exc_info=error)
    where = logs.current_file()
    details = f"; the details are in {where}" if where else ""
    text = " ".join(f"{type(error).__name__}: {error}".split())
    app.notify(
        f"internal error in {what}: {text}{details}", severity="error", timeout=20, markup=False
    )


def worker_label(worker: Worker) -> str:
    """What the worker was doing, as its starter described it ("pause web-01 on demo")."""
    described = worker.description and not worker.description.startswith("<")
    return worker.description if described else worker.name or f"a {worker.group} task"


class ReportsWorkerFailures:
    """Mix into a Screen or App: its workers that raise are reported, not lost."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state is WorkerState.ERROR and worker.error is not None:
            report(worker.node.app, worker.error, worker_label(worker))
