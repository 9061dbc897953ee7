"""Garbage-collector settings for a process that holds thousands of guests.

A bulk stats reply allocates tens of thousands of short-lived objects (a virDomain
wrapper, a dict and strings per guest). With Python's default threshold (700) that
triggers many collections per reply, and each older-generation pass walks every
long-lived Guest, deque and widget. Collecting less often keeps a 10,000-guest
refresh close to the cost of the libvirt call itself; reference counting still frees
almost everything immediately.
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 50_000


def tune() -> None:
    _gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
