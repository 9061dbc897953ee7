"""The list of binding ids that start-up checks [keys] against is the screens' own."""

from __future__ import annotations

from vtui.keymap import declared_binding_ids
from vtui.keymap_ids import BINDING_IDS


def test_the_list_is_every_binding_id_declared():
    declared = declared_binding_ids()
    missing, stale = sorted(declared - BINDING_IDS), sorted(BINDING_IDS - declared)
    assert not missing and not stale, f"src/vtui/keymap_ids.py: add {missing}, remove {stale}"
