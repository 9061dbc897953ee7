"""SSH for one-shot commands: OpenSSH, through libvirt's own ssh transport, as virsh does.

The interactive app keeps its own SSH connection (vtui.core.ssh: host keys and
passphrases asked inside the app, one link per host for hours). A batch command that
lasts a fraction of a second and never prompts is better served by the client virsh
uses: no 0.3 s spent importing an SSH stack, no libvirt data passing through Python,
and the user's OpenSSH set-up (ControlMaster, Match blocks, agents) works as for virsh.

libvirt runs `ssh ... HOST sh -c '<virt-ssh-helper or nc>'` itself; we hand it a tiny
wrapper (in a private 0700 directory, removed on close) that adds what vtui promises:
the extra ssh config (`--ssh-config`, read before ~/.ssh/config), never a prompt
(BatchMode: an unknown host key is refused), and the connect timeout.

A command can `warm_up` a host before it has loaded the rest of itself: an OpenSSH
master logs in while Python imports (a tenth of a second of CPU that would otherwise
come before the login), and libvirt's connection and the guests' start times ride on
it instead of logging in again. If that master fails, libvirt logs in on its own and
reports why.

This module imports no asyncio at the top: warm_up runs before it is loaded.
"""

from __future__ import annotations

import atexit
import itertools
import os
import pwd
import shlex
import subprocess
import time
from typing import Any
from urllib.parse import quote

from vtui.core.errors import VtuiError
from vtui.core.ssh.target import SshTarget

DEFAULT_KEYS = ("id_rsa", "id_ecdsa", "id_ecdsa_sk", "id_ed25519", "id_ed25519_sk")
_serial = itertools.count()


def _which(program: str) -> str | None:
    for folder in os.environ.get("PATH", os.defpath).split(os.pathsep):
        path = os.path.join(folder or ".", program)
        if os.access(path, os.X_OK) and not os.path.isdir(path):
            return path
    return None


# A unix socket's path must fit in 108 bytes; OpenSSH first binds "cm.<16 letters>"
SOCKET_ROOM = 108 - len("/cm") - 17


def _private_dir() -> str:
    """A fresh 0700 directory (the runtime dir when there is one, else TMPDIR, else
    /tmp: the first where the master's socket fits). Not tempfile or shutil: a
    command run in a loop would pay for what they import."""
    name = f"vtui-os-{os.getpid():x}-{time.time_ns() % 16**6:x}"
    for base in (os.environ.get("XDG_RUNTIME_DIR"), os.environ.get("TMPDIR"), "/tmp"):
        if base and os.path.isdir(base) and os.access(base, os.W_OK):
            if len(os.path.join(base, name)) + 4 < SOCKET_ROOM:
                break
    else:
        base = "/tmp"
    while True:
        path = os.path.join(base, f"{name}-{next(_serial)}")
        try:
            os.mkdir(path, 0o700)
            return path
        except FileExistsError:
            continue


def _remove_dir(path: str) -> None:
    for name in os.listdir(path):
        try:
            os.unlink(os.path.join(path, name))
        except OSError:
            pass
    try:
        os.rmdir(path)
    except OSError:
        pass


def _config_value(path: str) -> str:
    """A path as an ssh_config argument (quoted when it has spaces)."""
    if '"' in path:
        raise VtuiError(f"cannot use an ssh config path with a double quote: {path}")
    return f'"{path}"' if any(c.isspace() for c in path) else path


def _passwd_home() -> str | None:
    try:
        return pwd.getpwuid(os.getuid()).pw_dir
    except KeyError:
        return None


def ssh_config_text(extra: str | None, control_dir: str) -> str:
    """The config OpenSSH reads instead of its usual ones (-F): the extra file first,
    then the user's and the system's, as vtui's own SSH layer reads them; then our
    defaults, which apply only where those say nothing (the first value wins):
    - the libvirt connection's ssh is a master that a second command (the guests'
      start times) reuses, instead of logging in again;
    - OpenSSH finds ~ through the password database, vtui through $HOME: when they
      differ (a test, a sudo shell), known_hosts and keys are named under $HOME."""
    home = os.path.expanduser("~")
    lines = []
    for path in (extra, os.path.join(home, ".ssh", "config"), "/etc/ssh/ssh_config"):
        if path and os.access(path, os.R_OK):
            lines.append(f"Include {_config_value(os.path.abspath(path))}")
    lines.append("Host *")
    lines.append("  ControlMaster auto")
    lines.append(f"  ControlPath {_config_value(os.path.join(control_dir, 'cm'))}")
    lines.append("  ControlPersist no")
    if _passwd_home() != home:
        ssh_dir = os.path.join(home, ".ssh")
        known = " ".join(
            _config_value(os.path.join(ssh_dir, f)) for f in ("known_hosts", "known_hosts2")
        )
        lines.append(f"  UserKnownHostsFile {known}")
        for key in DEFAULT_KEYS:
            path = os.path.join(ssh_dir, key)
            if os.path.exists(path):
                lines.append(f"  IdentityFile {_config_value(path)}")
    return "\n".join(lines) + "\n"


def _login_args(target: SshTarget) -> list[str]:
    """What names the login on ssh's command line (after the options)."""
    args = []
    if target.port:
        args += ["-p", str(target.port)]
    if target.user:
        args += ["-l", target.user]
    if target.key_file:
        args += ["-i", os.path.expanduser(target.key_file)]
    return args


def _identity(target: SshTarget) -> tuple:
    """Targets that share one SSH login (readonly or the libvirt path do not matter)."""
    return (target.host, target.user, target.port, target.key_file, target.ssh_config)


class _Setup:
    """One login's private directory: the ssh config, the wrapper libvirt runs, and
    perhaps a master started early (warm_up)."""

    def __init__(self, target: SshTarget, timeout: float, *, master: bool):
        ssh = _which("ssh")
        if ssh is None:
            raise VtuiError("no ssh client found (install openssh-client)")
        self.dir = _private_dir()
        self.users = 0
        self.control = os.path.join(self.dir, "cm")  # (one login per directory)
        config = os.path.join(self.dir, "ssh_config")
        with open(config, "w", encoding="utf-8") as out:
            out.write(ssh_config_text(target.ssh_config, self.dir))
        argv = [ssh, "-F", config, "-o", "BatchMode=yes"]
        argv += ["-o", f"ConnectTimeout={max(int(timeout + 0.5), 1)}"]
        self.master: subprocess.Popen | None = None
        if master:
            # The master opens a session of its own with the login, as a plain ssh does
            # (not -N): until a connection's first session starts, sshd leaves Nagle's
            # algorithm on, and the first session multiplexed after a bare login waited
            # about 40 ms for a delayed ACK (lab: 55 ms against 12). Its command reads
            # our pipe, so it also ends if this process dies without stopping it.
            self.master = subprocess.Popen(
                [*argv, "-o", "ControlMaster=yes", "-o", f"ControlPath={self.control}"]
                + ["-o", "ControlPersist=no", "-T", *_login_args(target), "--"]
                + [target.host, "exec cat"],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # a Ctrl-C is ours to handle, not ssh's
            )
            # libvirt's ssh and ours use that master (or log in themselves if it failed)
            argv += ["-o", "ControlMaster=auto", "-o", f"ControlPath={self.control}"]
        self.wrapper = os.path.join(self.dir, "ssh")
        with open(self.wrapper, "w", encoding="utf-8") as out:
            out.write(f'#!/bin/sh\nexec {shlex.join(argv)} "$@"\n')
        os.chmod(self.wrapper, 0o700)
        _setups.append(self)

    async def ready(self, timeout: float) -> None:
        """Until the early master is logged in (its socket is there), it has failed,
        or `timeout`: libvirt must not log in beside it."""
        import asyncio

        deadline = time.monotonic() + timeout
        while self.master is not None and self.master.poll() is None:
            if os.path.exists(self.control) or time.monotonic() > deadline:
                return
            await asyncio.sleep(0.005)

    def stop(self) -> None:
        """End the master (nothing uses it any more) and remove the directory."""
        master, self.master = self.master, None
        if master is not None and master.poll() is None:
            master.terminate()
            try:
                master.wait(2)
            except subprocess.TimeoutExpired:
                master.kill()
                master.wait()
        if master is not None and master.stdin is not None:
            master.stdin.close()
        if self in _setups:
            _setups.remove(self)
        _remove_dir(self.dir)


_setups: list[_Setup] = []
_warm: dict[tuple, _Setup] = {}


@atexit.register
def stop_all() -> None:
    """Whatever way the command ended, no ssh master outlives it."""
    for setup in list(_setups):
        setup.stop()
    _warm.clear()


def warm_up(target: SshTarget, timeout: float) -> None:
    """Start logging in to `target` now, while the command loads the rest of itself.
    Failures are left to the connection itself, which reports them."""
    key = _identity(target)
    if key not in _warm:
        try:
            _warm[key] = _Setup(target, timeout, master=True)
        except (OSError, VtuiError):
            pass


class OpenSshRoute:
    """host.Tunnel for batch commands: libvirt's ssh transport with our wrapper."""

    # Close it before the libvirt connection: ending the master ends libvirt's ssh at
    # once, where closing libvirt first waits 40 ms for a multiplexed ssh to finish.
    closes_first = True

    def __init__(self, target: SshTarget, *, timeout: float = 10.0):
        self.target = target
        self.timeout = timeout
        self._setup: _Setup | None = None
        self._ahead: dict[str, Any] = {}  # command -> its run, started with the login

    @property
    def where(self) -> str:
        return self.target.host

    def _ensure_setup(self) -> _Setup:
        if self._setup is None:
            setup = _warm.get(_identity(self.target))
            if setup is None or setup.master is None:
                setup = _Setup(self.target, self.timeout, master=False)
            setup.users += 1
            self._setup = setup
        return self._setup

    async def open(self) -> str:
        """The libvirt URI that reaches the host through our ssh wrapper."""
        import asyncio

        setup = self._ensure_setup()
        await setup.ready(self.timeout)
        for command in self._ahead:  # beside libvirt's own start-up over the same login
            if self._ahead[command] is None:
                self._ahead[command] = asyncio.ensure_future(self._run(command, self.timeout))
        t = self.target
        user = f"{quote(t.user, safe='')}@" if t.user else ""
        host = f"[{t.host}]" if ":" in t.host else t.host
        port = f":{t.port}" if t.port else ""
        query = f"command={quote(setup.wrapper, safe='/')}&no_tty=1"
        if t.key_file:
            query += f"&keyfile={quote(os.path.expanduser(t.key_file), safe='/')}"
        if t.socket:
            query += f"&socket={quote(t.socket, safe='/')}"
        return f"{t.driver}+ssh://{user}{host}{port}/{t.libvirt}?{query}"

    async def silence_reason(self) -> str | None:
        """Why the login timed out, when a look at the port can tell (core/ssh/probe.py):
        `ssh -G` names the address and port OpenSSH used, aliases resolved; behind a
        proxy or a jump host there is nothing of ours to look at."""
        import asyncio

        from vtui.core.spawn import PIPE, spawn
        from vtui.core.ssh.probe import not_ssh_reason

        t = self.target
        argv = [self._ensure_setup().wrapper, "-G", *_login_args(t), "--", t.host]
        try:
            proc = await spawn(argv, stdout=PIPE)
            out, _ = await asyncio.wait_for(proc.communicate(), 5)
        except (OSError, TimeoutError):
            return None
        config: dict[str, str] = {}
        for line in out.decode(errors="replace").splitlines():
            key, _, value = line.partition(" ")
            config.setdefault(key.lower(), value.strip())
        if config.get("proxycommand", "none") != "none":
            return None
        if config.get("proxyjump", "none") != "none":
            return None
        try:
            port = int(config.get("port", "22"))
        except ValueError:
            return None
        return await not_ssh_reason(config.get("hostname") or t.host, port)

    def on_lost(self, callback) -> None:
        """libvirt notices a dead link itself (its close callback)."""

    def run_ahead(self, command: str) -> None:
        """Run `command` as soon as the login is up, beside libvirt's connection; run()
        of that command then returns its output."""
        self._ahead.setdefault(command, None)

    async def run(self, command: str, timeout: float = 10.0) -> str:
        """Run a shell command on the host, over the login libvirt's connection uses
        when there is one (no second login); its stdout."""
        ahead = self._ahead.pop(command, None)
        if ahead is not None:
            return await ahead
        return await self._run(command, timeout)

    async def _run(self, command: str, timeout: float) -> str:
        import asyncio

        from vtui.core.spawn import PIPE, spawn

        setup = self._ensure_setup()
        t = self.target
        argv = [setup.wrapper, "-T", *_login_args(t), "--", t.host, command]
        try:
            proc = await spawn(argv, stdout=PIPE, stderr=PIPE)
        except OSError as exc:
            raise VtuiError(f"{t.host}: cannot run ssh: {exc.strerror or exc}") from None
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise VtuiError(
                f"{t.host}: remote command gave no answer within {timeout:.0f} s"
            ) from None
        except asyncio.CancelledError:
            proc.kill()  # (closing: the ssh process must not outlive us)
            raise
        if proc.returncode == 255:  # ssh itself failed (the command's own status is its own)
            why = " ".join(err.decode(errors="replace").split()) or "ssh failed"
            raise VtuiError(f"{t.host}: remote command failed: {why}")
        return out.decode(errors="replace")

    async def close(self, grace: float = 0.0) -> None:
        import asyncio

        ahead = [task for task in self._ahead.values() if task is not None]
        self._ahead.clear()
        for task in ahead:  # asked for, never needed (no guest was running)
            task.cancel()
        await asyncio.gather(*ahead, return_exceptions=True)
        setup, self._setup = self._setup, None
        if setup is None:
            return
        setup.users -= 1
        if setup.users <= 0:
            for key, warm in list(_warm.items()):
                if warm is setup:
                    del _warm[key]
            await asyncio.to_thread(setup.stop)
