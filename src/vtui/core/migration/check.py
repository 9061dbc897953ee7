"""One pre-flight result: pass, warn or fail, what was found, and what to do about it."""

from __future__ import annotations

from dataclasses import dataclass

PASS, WARN, FAIL = "pass", "warn", "fail"


@dataclass(frozen=True, slots=True)
class Check:
    """A name, pass/warn/fail, one line for the user and, for a warning or a failure,
    the fix in a few words."""

    name: str
    status: str
    message: str
    fix: str = ""

    @property
    def line(self) -> str:
        return f"{self.name}: {self.message}"


def failures(checks: list[Check]) -> list[Check]:
    return [c for c in checks if c.status == FAIL]
