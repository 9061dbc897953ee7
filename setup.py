"""The compiled parts of vtui (pyproject.toml has the rest of the build).

vtui.core.host._domstats reads a host's bulk statistics with libvirt's C API, and
vtui.core.host._event_thread runs libvirt's event loop without the GIL (see the
comment at the top of each for why). They build against the same libvirt headers and
library that libvirt-python needs; if they cannot be built, vtui installs anyway and
does the same through libvirt-python, more slowly.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "vtui.core.host._domstats",
            ["src/vtui/core/host/_domstats.c"],
            libraries=["virt"],
            optional=True,
        ),
        Extension(
            "vtui.core.host._event_thread",
            ["src/vtui/core/host/_event_thread.c"],
            libraries=["virt"],
            optional=True,
        ),
    ]
)
