"""One action on many guests, from the user's side: which guests it will touch and which
it skips (and why), one confirmation listing them all, then the results list filling
in. The work runs on the app, so closing the results does not stop it."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import App

from vtui.core.guests import BulkAction, BulkResult, BulkTarget, check_bulk, plan_bulk, run_bulk
from vtui.screens.bulk.results import BulkResultsScreen
from vtui.screens.dialogs import ConfirmScreen

Unmark = Callable[[list[tuple[str, str]]], None]


def _lines(ready: list[BulkTarget], skipped: list[BulkResult]) -> list[str]:
    lines = [f"{t.guest.name} on {t.host.name}" for t in ready]
    lines += [f"skip {r.guest} on {r.host}: {r.message}" for r in skipped]
    return lines


async def run_bulk_flow(
    app: App,
    action: BulkAction,
    targets: list[BulkTarget],
    *,
    loss: str = "",
    option: str | None = None,
    with_option: Callable[[bool], BulkAction] | None = None,
    unmark: Unmark | None = None,
) -> None:
    """Plan, confirm, run. `loss` says what a destructive action loses; `option` is a
    checkbox on the confirmation, and `with_option(checked)` the action it makes."""
    plan = plan_bulk(action, targets)
    if action.check is not None and plan.ready:
        app.notify(f"checking {len(plan.ready)} guest(s)…", timeout=2)
        plan = await check_bulk(plan)
    verb = action.label.capitalize()
    title = f"{verb}: {len(plan.ready)} guest(s)"
    if not plan.ready:
        app.push_screen(
            BulkResultsScreen(f"{verb}: nothing to do", [], plan.skipped, unmark=unmark)
        )
        return
    body = f"{verb} these {len(plan.ready)} guest(s)?"
    if loss:
        body += f"\n{loss}"
    if plan.skipped:
        body += f"\n{len(plan.skipped)} will be skipped (listed last, with the reason)."
    confirm = ConfirmScreen(
        title, body, yes=verb, option=option, items=_lines(plan.ready, plan.skipped)
    )
    if not action.destructive:
        confirm.remove_class("-danger")
    answer = await app.push_screen_wait(confirm)
    if not answer or not answer[0]:
        return
    chosen = with_option(answer[1]) if with_option is not None else action
    results = BulkResultsScreen(title, plan.ready, plan.skipped, unmark=unmark)
    app.push_screen(results)
    ready = list(plan.ready)

    async def work() -> None:
        done = await run_bulk(chosen, ready, on_result=results.add_result)
        results.finish()
        failed = sum(not r.ok and not r.skipped for r in done)
        if results not in app.screen_stack:  # closed meanwhile: say how it ended
            ok = sum(r.ok for r in done)
            app.notify(
                f"{verb}: {ok} done, {failed} failed",
                severity="error" if failed else "information",
                timeout=10,
            )

    app.run_worker(work(), description=f"{action.label} {len(ready)} guests", exit_on_error=False)
