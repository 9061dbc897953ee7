"""The one compiled part of vtui (pyproject.toml has the rest of the build).

vtui.core.host._domstats reads a host's bulk statistics with libvirt's C API (see the
comment at its top for why). It builds against the same libvirt headers and library
that libvirt-python needs; if it cannot be built, vtui installs anyway and samples
through libvirt-python, more slowly.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "vtui.core.host._domstats",
            ["src/vtui/core/host/_domstats.c"],
            libraries=["virt"],
            optional=True,
        )
    ]
)
