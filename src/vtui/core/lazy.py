"""A package's public names, each loaded from its submodule only when first used.

A one-guest command (`vtui suspend web1`) needs lifecycle actions and nothing of bulk
actions, clones or snapshots; importing all of them because they share a package cost
it about 50 ms of a call that virsh answers in 350 ms.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any


class LazyExports:
    def __init__(self, package: str, modules: dict[str, tuple[str, ...]]):
        self.package = package
        self.where = {name: module for module, names in modules.items() for name in names}

    @property
    def names(self) -> list[str]:
        return sorted(self.where)

    def load(self, name: str) -> Any:
        module = self.where.get(name)
        if module is None:
            raise AttributeError(f"module {self.package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{self.package}.{module}"), name)
        setattr(sys.modules[self.package], name, value)  # later uses skip this
        return value
