"""The list of binding ids that start-up checks [keys] against is the screens' own."""

from __future__ import annotations

from vtui.keymap import all_bindings
from vtui.keymap_ids import BINDING_IDS


def test_the_list_is_every_binding_id_declared():
    declared = set(all_bindings())
    missing, stale = sorted(declared - BINDING_IDS), sorted(BINDING_IDS - declared)
    assert not missing and not stale, f"src/vtui/keymap_ids.py: add {missing}, remove {stale}"
