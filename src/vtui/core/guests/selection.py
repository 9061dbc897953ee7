"""Picking guests by pattern: what a user types to mark many guests at once, and what
the batch commands take instead of a single name.

    matcher = guest_matcher("web-* state=running")
    chosen = [g for g in guests if matcher(g)]

A pattern is one or more words, all of which must match. A word is a glob (`web-*`,
`db?`) or, between slashes or after `re:`, a regular expression (`/^k8s-node-0[1-3]$/`,
`re:prod|stage`). A bare word matches the guest's name, host or state; `name=`,
`host=` or `state=` in front of it limits it to that field. Globs match the whole
field and ignore case; a regular expression searches anywhere in it.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
from collections.abc import Callable

from vtui.core.errors import VtuiError
from vtui.core.model import Guest

FIELDS = ("name", "host", "state")
GLOB_CHARS = frozenset("*?[")


class BadPattern(VtuiError):
    """A pattern that cannot be read (an unknown field, a broken regular expression)."""


def is_pattern(text: str) -> bool:
    """Whether a guest argument is a pattern rather than one name or UUID."""
    return bool(GLOB_CHARS & set(text)) or text.startswith("re:") or _slashed(text)


def _slashed(text: str) -> bool:
    return len(text) >= 2 and text.startswith("/") and text.endswith("/")


def word_matcher(word: str) -> Callable[[str], bool]:
    """A test of one field's text against one word (glob or regular expression)."""
    if word.startswith("re:") or _slashed(word):
        source = word[3:] if word.startswith("re:") else word[1:-1]
        try:
            regex = re.compile(source, re.IGNORECASE)
        except re.error as exc:
            raise BadPattern(f"not a regular expression: {source!r} ({exc})") from None
        return lambda text: regex.search(text) is not None
    glob = re.compile(fnmatch.translate(word), re.IGNORECASE)
    return lambda text: glob.match(text) is not None


def _fields(guest: Guest) -> dict[str, str]:
    return {"name": guest.name, "host": guest.host, "state": guest.state}


def _field_test(field: str, match: Callable[[str], bool]) -> Callable[[Guest], bool]:
    return lambda guest: match(_fields(guest)[field])


def _any_field_test(match: Callable[[str], bool]) -> Callable[[Guest], bool]:
    return lambda guest: any(match(value) for value in _fields(guest).values())


def guest_matcher(pattern: str) -> Callable[[Guest], bool]:
    """A test of a guest against every word of `pattern`; BadPattern if unreadable."""
    try:
        words = shlex.split(pattern)  # quotes keep "state=shut off" one word
    except ValueError as exc:
        raise BadPattern(f"cannot read the pattern {pattern!r}: {exc}") from None
    if not words:
        raise BadPattern("the pattern is empty")
    tests: list[Callable[[Guest], bool]] = []
    for word in words:
        field, sep, rest = word.partition("=")
        if sep and field in FIELDS and rest:
            tests.append(_field_test(field, word_matcher(rest)))
        elif sep and field.isidentifier() and field not in FIELDS:
            raise BadPattern(f"unknown field {field!r} in {word!r} (one of {', '.join(FIELDS)})")
        else:
            tests.append(_any_field_test(word_matcher(word)))
    return lambda guest: all(test(guest) for test in tests)


def name_matcher(argument: str) -> Callable[[Guest], bool]:
    """A batch GUEST argument: a pattern over names, or one exact name or UUID."""
    if is_pattern(argument):
        match = word_matcher(argument)
        return lambda g: match(g.name)
    return lambda g: argument in (g.name, g.uuid)
