"""Before any change: what it does to the domain XML (a unified diff), the virsh
command doing the same, the libvirt calls, and where it applies (live, persistent,
both; a scope that cannot apply says why). Dismisses with the chosen Scope, or None."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, RadioButton, RadioSet, Static

from vtui.core.guests.config import Plan, Scope
from vtui.screens.dialogs.frame import Dialog

ORDER = (Scope.BOTH, Scope.LIVE, Scope.PERSISTENT)


def diff_content(diff: str) -> Content:
    """A unified diff, its added and removed lines coloured (taken literally)."""
    if not diff:
        return Content.styled("(the domain XML does not change)", "dim")
    lines = []
    for line in diff.rstrip("\n").split("\n"):
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        elif line.startswith("@@"):
            style = "cyan"
        else:
            style = ""
        lines.append(Content.styled(line, style) if style else Content(line))
    return Content("\n").join(lines)


class ReviewScreen(Dialog[Scope | None]):
    DEFAULT_CSS = """
    ReviewScreen > .dialog { width: 100%; height: 100%; max-height: 100%; }
    ReviewScreen #diff-box { height: 1fr; min-height: 4; border: round $panel; overflow-x: auto; }
    ReviewScreen #diff { width: auto; text-wrap: nowrap; }
    ReviewScreen #virsh-box { height: auto; max-height: 5; }
    ReviewScreen #virsh { color: $text-accent; }
    ReviewScreen #calls, ReviewScreen #why { color: $text-muted; }
    ReviewScreen #loses { color: $error; text-style: bold; }
    ReviewScreen RadioSet { height: auto; width: 100%; border: none; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="review.cancel"),
        Binding("ctrl+s", "apply", "Apply", id="review.apply", priority=True),
    ]

    def __init__(self, plan: Plan, *, refusal: str = ""):
        super().__init__(classes="-danger" if plan.loses else "")
        self.plan = plan
        self.refusal = refusal  # why nothing can apply (a read-only connection)
        allowed = plan.allowed()
        self.scope: Scope | None = allowed[0] if allowed and not refusal else None

    def compose(self) -> ComposeResult:
        plan = self.plan
        with Vertical(classes="dialog"):
            yield Static(Content(plan.title[:1].upper() + plan.title[1:]), classes="dialog-title")
            if plan.note:
                yield Static(Content(plan.note), id="note")
            if plan.loses:
                yield Static(Content(f"Deletes {plan.loses}. This cannot be undone."), id="loses")
            with VerticalScroll(id="diff-box"):
                yield Static(id="diff")
            with VerticalScroll(id="virsh-box"):
                yield Static(id="virsh")
                yield Static(id="calls")
            with RadioSet(id="scopes", compact=True):
                for scope in ORDER:
                    why = plan.refusals.get(scope) or self.refusal
                    label = scope.label if not why else f"{scope.label}: no, {why}"
                    yield RadioButton(
                        Content(label),
                        value=scope is self.scope,
                        disabled=bool(why),
                        id=f"scope-{scope.value}",
                        compact=True,
                    )
            with Horizontal(classes="dialog-buttons"):
                yield Button(
                    "Apply (ctrl+s)",
                    variant="warning" if plan.loses else "primary",
                    id="apply",
                    disabled=self.scope is None,
                )
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.show_scope()
        if self.scope is not None:
            self.query_one(f"#scope-{self.scope.value}", RadioButton).focus()
        else:
            self.query_one("#cancel", Button).focus()

    def show_scope(self) -> None:
        scope = self.scope or next(
            (s for s in ORDER if s in self.plan.before or s is Scope.BOTH), Scope.BOTH
        )
        self.query_one("#diff", Static).update(diff_content(self.plan.diff(scope)))
        if self.scope is None:
            self.query_one("#virsh", Static).update(Content(self.refusal or "nothing can apply"))
            self.query_one("#calls", Static).update("")
            return
        lines = [Content.assemble(("$ ", "dim"), line) for line in self.plan.virsh(scope)]
        self.query_one("#virsh", Static).update(Content("\n").join(lines))
        calls = "libvirt: " + "; ".join(self.plan.calls(scope))
        self.query_one("#calls", Static).update(Content(calls))

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        chosen = event.pressed.id.removeprefix("scope-") if event.pressed.id else ""
        self.scope = next((s for s in ORDER if s.value == chosen), self.scope)
        self.show_scope()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "apply":
            self.action_apply()
        else:
            self.action_cancel()

    def action_apply(self) -> None:
        if self.scope is not None:
            self.dismiss(self.scope)

    def action_cancel(self) -> None:
        self.dismiss(None)
