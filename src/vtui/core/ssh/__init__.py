"""Reaching remote libvirt daemons over SSH (asyncssh).

`target` is plain data and cheap to import; `tunnel`, `transport` and `known_hosts`
import asyncssh, which costs half a second, so they are only imported when a host
really needs SSH (nothing here imports them eagerly).
"""
