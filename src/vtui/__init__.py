"""vtui: a keyboard-driven terminal console for libvirt."""

import logging

__version__ = "0.1.0"

# Until the app or a batch command configures the log (core/logs.py), records go
# nowhere: Python's last-resort handler would print them over the screen.
logging.getLogger("vtui").addHandler(logging.NullHandler())
