"""Where vtui keeps its files, per platform (platformdirs): on Linux the XDG dirs
($XDG_CONFIG_HOME/vtui, $XDG_STATE_HOME/vtui, ...), on macOS ~/Library/..., so the same
code is right on a server and on the laptop a user runs their terminal on.

Computed on every call: the environment may change (tests point XDG_* elsewhere)."""

from __future__ import annotations

from pathlib import Path

from platformdirs import PlatformDirs


def _dirs() -> PlatformDirs:
    return PlatformDirs("vtui", appauthor=False)


def config_dir() -> Path:
    """Saved hosts and settings (hosts.toml, settings.toml)."""
    return Path(_dirs().user_config_dir)


def state_dir() -> Path:
    """What vtui writes as it runs: its log, console logs."""
    return Path(_dirs().user_state_dir)


def cache_dir() -> Path:
    return Path(_dirs().user_cache_dir)


def hosts_file() -> Path:
    return config_dir() / "hosts.toml"


def settings_file() -> Path:
    return config_dir() / "settings.toml"


def log_file() -> Path:
    return state_dir() / "vtui.log"


def console_log_dir() -> Path:
    return state_dir() / "console"
