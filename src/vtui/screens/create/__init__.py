"""Creating a guest: the form, the review (XML and virt-install line), the progress."""

from vtui.screens.create.form import CreateScreen

__all__ = ["CreateScreen"]
