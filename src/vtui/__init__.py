"""vtui: a keyboard-driven terminal console for libvirt."""

__version__ = "0.1.0"
