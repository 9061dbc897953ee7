"""Small modal dialogs shared by every screen: confirm, choose, SSH questions."""

from vtui.screens.dialogs.choice import ChoiceScreen
from vtui.screens.dialogs.confirm import ConfirmScreen
from vtui.screens.dialogs.hostkey import AppAsker, HostKeyScreen, SecretScreen

__all__ = ["AppAsker", "ChoiceScreen", "ConfirmScreen", "HostKeyScreen", "SecretScreen"]
