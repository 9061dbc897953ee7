"""SSH tunnels to remote libvirt daemons (asyncssh), implementing host.Tunnel.

One SSH connection per host, honouring ~/.ssh/config (aliases, HostName, User, Port,
IdentityFile, ProxyJump, ProxyCommand), the agent and key files. It forwards a local
unix socket, in a private 0700 directory, to the remote libvirt socket; libvirt then
opens `qemu+unix:///system?socket=LOCAL`. Host keys are checked against known_hosts:
an unknown key is shown to the user through an `Asker` and saved only if accepted, a
changed key is refused outright. Passphrases and passwords are asked through the same
Asker (inside the app), never on the terminal.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import shutil
import socket
import time
from collections.abc import Awaitable, Callable
from urllib.parse import quote

import asyncssh
from asyncssh.encryption import get_default_encryption_algs

from vtui.core.errors import VtuiError
from vtui.core.ssh.known_hosts import (
    known_hosts_files,
    save_host_key,
    trusted_keys,
    user_known_hosts_file,
)
from vtui.core.ssh.probe import not_ssh_reason
from vtui.core.ssh.target import Asker, RefusingAsker, SshTarget
from vtui.core.ssh.transport import (
    LocalForwarder,
    ProxyCommand,
    SocketConnector,
    drop_ignore_padding,
    private_dir,
)
from vtui.core.timeouts import CONNECT_TIMEOUT

KEEPALIVE = (5, 3)  # seconds between SSH keepalives, unanswered ones before the link is dead
SYSTEM_SOCKET = "/run/libvirt/libvirt-sock"
SYSTEM_SOCKET_RO = "/run/libvirt/libvirt-sock-ro"
PASSWORD_TRIES = 3
# asyncssh runs ChaCha20-Poly1305 (its first choice, like OpenSSH's) as four cipher calls
# per packet on the event loop, AES-GCM as one (AES-NI): bulk data such as a volume
# upload moves about 1.5-2x faster. Put first unless the ssh config chose ciphers.
FAST_CIPHERS = (b"aes128-gcm@openssh.com", b"aes256-gcm@openssh.com")


class _Client(asyncssh.SSHClient):
    """Routes asyncssh's callbacks (link lost, password prompts) to its tunnel."""

    def __init__(self, tunnel: SshTunnel):
        self.tunnel = tunnel
        self.password_tries = 0

    def connection_made(self, conn: asyncssh.SSHClientConnection) -> None:
        drop_ignore_padding(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        self.tunnel._lost(self, exc)

    def password_auth_requested(self) -> Awaitable[str | None] | None:
        self.password_tries += 1
        if self.password_tries > PASSWORD_TRIES:
            return None
        prompt = f"password for {self.tunnel.login}"
        return self.tunnel._secret(prompt, again=self.password_tries > 1)

    def kbdint_auth_requested(self) -> str:
        return ""  # let the server choose its submethods

    async def kbdint_challenge_received(self, name, instructions, lang, prompts):
        answers = []
        for prompt, _echo in prompts:
            text = " ".join(p for p in (instructions.strip(), prompt.strip()) if p)
            answer = await self.tunnel._secret(text or f"answer for {self.tunnel.login}")
            if answer is None:
                return None
            answers.append(answer)
        return answers


class SshTunnel:
    """host.Tunnel over one asyncssh connection; reopenable for reconnects."""

    def __init__(
        self,
        target: SshTarget,
        ask: Asker | None = None,
        *,
        timeout: float = CONNECT_TIMEOUT,
        keepalive: tuple[int, int] = KEEPALIVE,
    ):
        self.target = target
        self.ask = ask or RefusingAsker()
        self.timeout = timeout
        self.keepalive = keepalive
        self.local_socket: str | None = None
        self.remote_socket: str | None = None
        self._conn: asyncssh.SSHClientConnection | None = None
        self._client: _Client | None = None
        self._forwarder: LocalForwarder | None = None
        self._proxy: ProxyCommand | None = None
        self._dir: str | None = None
        self._on_lost: Callable[[str], None] | None = None
        self._secrets: dict[str, str] = {}  # answers kept in memory for reconnects
        self._asking = 0  # prompts open right now
        self._asked_seconds = 0.0  # time spent waiting for the user
        self._direct_host: str | None = None
        self._port = target.port or 22
        self._auth_problem = ""  # why the last login failed, if we know better

    @property
    def where(self) -> str:
        return f"{self.target.host}:{self._port}"

    @property
    def login(self) -> str:
        return f"{self.target.user}@{self.target.host}" if self.target.user else self.target.host

    @property
    def is_open(self) -> bool:
        return self._forwarder is not None

    def on_lost(self, callback: Callable[[str], None]) -> None:
        self._on_lost = callback

    def config_paths(self) -> list[str]:
        """The extra config first (first value wins, as in OpenSSH), then ~/.ssh/config."""
        paths = []
        if self.target.ssh_config:
            paths.append(os.path.expanduser(self.target.ssh_config))
        user_config = os.path.expanduser("~/.ssh/config")
        if os.access(user_config, os.R_OK):
            paths.append(user_config)
        return paths

    # -- opening ------------------------------------------------------------------------
    async def open(self) -> str:
        """(Re)connect and forward; return the libvirt URI to open. Raises VtuiError."""
        await self.close(grace=0)  # a reconnect: the old libvirt connection is dead anyway
        try:
            return await self._open()
        except BaseException:
            await self.close(grace=0)
            raise

    async def _open(self) -> str:
        settings = await self._settings()
        self._port = settings.port
        # where a direct TCP connection goes (None: through a proxy or jump host)
        direct = not (settings.tunnel or settings.proxy_command)
        self._direct_host = (settings.host or self.target.host) if direct else None
        try:
            await self._connect(settings)
        except asyncssh.HostKeyNotVerifiable as exc:
            await self._close_connection()
            await self._accept_new_host_key(settings, exc)
            await self._connect(settings)
        conn = self._conn
        if conn is None:
            raise VtuiError(f"{self.target.host}: the SSH connection closed while opening")
        self.remote_socket = await self._bounded(self._find_remote_socket(conn))
        self._dir = private_dir()
        local = os.path.join(self._dir, "libvirt-sock")
        forwarder = LocalForwarder(conn, self.remote_socket)
        await forwarder.start(local)
        self._forwarder, self.local_socket = forwarder, local
        t = self.target
        return f"{t.driver}+unix:///{t.libvirt}?socket={quote(local, safe='/')}"

    async def _settings(self) -> asyncssh.SSHClientConnectionOptions:
        """What the ssh config says about this host (no keys loaded)."""
        try:
            return await asyncssh.SSHClientConnectionOptions.construct(
                config=self.config_paths(),
                host=self.target.host,
                port=self._port_arg(),
                username=self.target.user or (),
                client_keys=None,
                agent_path=None,
            )
        except (OSError, ValueError, asyncssh.Error) as exc:
            raise VtuiError(f"cannot use ssh config for {self.target.host}: {exc}") from None

    def _port_arg(self):
        return self.target.port if self.target.port else ()

    def _connect_kwargs(self, settings) -> dict:
        kwargs = dict(
            config=self.config_paths(),
            port=self._port_arg(),
            client_factory=lambda: self._new_client(),
            passphrase=self._passphrase,
        )
        if self.target.user:
            kwargs["username"] = self.target.user
        files = known_hosts_files(settings)
        if settings.known_hosts is not None:  # a missing file is an empty one, as in ssh
            kwargs["known_hosts"] = [f for f in files if os.path.isfile(f)] or ([], [], [])
        if self.target.key_file:
            kwargs["client_keys"] = [os.path.expanduser(self.target.key_file)]
        if not settings.keepalive_interval:  # the config's ServerAliveInterval wins
            kwargs["keepalive_interval"], kwargs["keepalive_count_max"] = self.keepalive
        ciphers = fast_ciphers_first(settings.encryption_algs)
        if ciphers:
            kwargs["encryption_algs"] = ciphers
        return kwargs

    def _new_client(self) -> _Client:
        self._client = _Client(self)
        return self._client

    async def _start_proxy(self, settings) -> socket.socket | None:
        """Run the config's ProxyCommand ourselves, so its stderr is ours to show."""
        if not settings.proxy_command or settings.tunnel:
            return None
        self._proxy = ProxyCommand(settings.proxy_command)
        return await self._proxy.start()

    async def _connect(self, settings) -> None:
        self._auth_problem = ""
        sock = await self._start_proxy(settings)
        kwargs = self._connect_kwargs(settings)
        if sock is not None:  # over the ProxyCommand, one write per turn (see SocketConnector)
            kwargs["tunnel"] = SocketConnector(sock)
        try:
            self._conn = await self._bounded(asyncssh.connect(self.target.host, **kwargs))
        except asyncssh.HostKeyNotVerifiable:
            raise
        except asyncssh.PermissionDenied:
            why = (
                self._auth_problem
                or "permission denied (no key, agent identity or password was accepted)"
            )
            raise VtuiError(
                f"cannot log in to {self.target.host} as {settings.username}: {why}"
            ) from None
        except (OSError, asyncssh.Error) as exc:
            raise VtuiError(f"cannot reach {self.where}: {await self._reason(exc)}") from None

    async def _silence_reason(self) -> str:
        """Why the connect timed out: nothing answered, or something that is not an SSH
        server did (core/ssh/probe.py)."""
        waited = f"no answer within {self.timeout:.0f} s"
        if self._direct_host is None or self._port is None:
            return waited  # behind a proxy or jump host we cannot look ourselves
        return await not_ssh_reason(self._direct_host, self._port) or waited

    async def _reason(self, exc: BaseException) -> str:
        proxy_says = await self._proxy.first_error() if self._proxy else ""
        return f"proxy command: {proxy_says}" if proxy_says else _describe(exc)

    async def _bounded(self, aw: Awaitable):
        """Await aw within the connect timeout, not counting time the user spends
        answering a prompt."""
        task = asyncio.ensure_future(aw)
        began, asked_before = time.monotonic(), self._asked_seconds
        try:
            while True:
                if self._asking:
                    wait = 0.5
                else:
                    spent = time.monotonic() - began - (self._asked_seconds - asked_before)
                    wait = self.timeout - spent
                    if wait <= 0:
                        raise VtuiError(
                            f"cannot reach {self.where}: {await self._silence_reason()}"
                        )
                done, _ = await asyncio.wait({task}, timeout=wait)
                if done:
                    return task.result()
        finally:
            if not task.done():
                task.cancel()

    # -- prompts ---------------------------------------------------------------------------
    async def _asked(self, aw: Awaitable):
        self._asking += 1
        began = time.monotonic()
        try:
            return await aw
        finally:
            self._asking -= 1
            self._asked_seconds += time.monotonic() - began

    async def _secret(self, prompt: str, again: bool = False) -> str | None:
        if again:
            self._secrets.pop(prompt, None)
        if prompt not in self._secrets:
            answer = await self._asked(self.ask.secret(prompt))
            if answer is None:
                return None
            self._secrets[prompt] = answer
        return self._secrets[prompt]

    async def _passphrase(self, filename: str) -> str | None:
        """Asked again when wrong, as ssh does; asyncssh would only fail the login."""
        prompt = f"passphrase for key {filename}"
        for attempt in range(PASSWORD_TRIES):
            answer = await self._secret(prompt, again=attempt > 0)
            if answer is None:
                self._auth_problem = f"no passphrase given for {filename}"
                return None
            problem = await asyncio.to_thread(_key_problem, filename, answer)
            if problem is None:
                return answer
            self._auth_problem = problem
            if "passphrase" not in problem.lower():
                break  # e.g. a missing library: asking again would not help
        self._secrets.pop(prompt, None)
        return None

    # -- host keys --------------------------------------------------------------------------
    async def _accept_new_host_key(self, settings, exc: Exception) -> None:
        """Unknown key: ask, and save it if accepted. Changed key: refuse, never ask."""
        sock = await self._start_proxy(settings)
        try:
            key = await self._bounded(
                asyncssh.get_server_host_key(
                    self.target.host, self._port_arg(), sock=sock, config=self.config_paths()
                )
            )
        except (OSError, asyncssh.Error) as err:
            raise VtuiError(f"cannot reach {self.where}: {await self._reason(err)}") from None
        finally:
            await self._stop_proxy()
        if key is None:
            raise VtuiError(f"{self.target.host} offers no host key to check: {exc}")
        name = settings.host_key_alias or settings.host
        files = known_hosts_files(settings)
        known = trusted_keys(files, name, settings.port)
        fingerprint = key.get_fingerprint("sha256")
        key_type = key.get_algorithm()
        shown = self.target.host if name == self.target.host else f"{self.target.host} ({name})"
        if known and key not in known:
            raise VtuiError(
                f"HOST KEY CHANGED for {shown}: it now offers {key_type} {fingerprint}, which "
                f"does not match {files[0] if files else 'known_hosts'}; refusing to connect "
                f"(possible attack; if the change is expected, remove the old key with "
                f"ssh-keygen -R {name})"
            )
        if known:  # our key is known yet asyncssh refused it: say why asyncssh did
            raise VtuiError(f"cannot verify the host key of {shown}: {_one_line(str(exc))}")
        accepted = await self._asked(self.ask.confirm_host_key(shown, fingerprint, key_type))
        if not accepted:
            raise VtuiError(f"host key of {shown} not accepted")
        save_host_key(user_known_hosts_file(settings), name, settings.port, key)

    # -- the remote socket --------------------------------------------------------------------
    async def _find_remote_socket(self, conn: asyncssh.SSHClientConnection) -> str:
        """Which remote socket to forward to, checked with a remote shell command so a
        wrong path is a clear error rather than an 'end of file' from libvirt later."""
        t = self.target
        if t.socket:
            fallback, script = t.socket, f"set -- {shlex.quote(t.socket)}"
        elif t.libvirt == "session":
            # The user's runtime dir, as libvirt computes it; root's session is served by
            # the system daemon. The first client to ask starts a user's session daemon.
            fallback, script = (
                None,
                (
                    'd="${XDG_RUNTIME_DIR:-$HOME/.cache}/libvirt"; '
                    '[ "$(id -u)" = 0 ] && d=/run/libvirt; '
                    'set -- "$d/libvirt-sock" "$d/virtqemud-sock"; '
                    f"test -S $1 || test -S $2 || virsh -q -c {t.driver}:///session uri "
                    ">/dev/null 2>&1"
                ),
            )
        else:
            fallback = SYSTEM_SOCKET_RO if t.readonly else SYSTEM_SOCKET
            script = f"set -- {fallback}"
        script += (
            '; for s; do test -S "$s" && { printf %s "$s"; exit 0; }; done; printf %s "$1"; exit 3'
        )
        result = await conn.run(script, check=False)
        path = str(result.stdout or "")
        if result.exit_status == 0 and path:
            return path
        if result.exit_status == 3:
            which = f"the session daemon of {self.login}" if t.libvirt == "session" else "libvirtd"
            raise VtuiError(f"no libvirt socket at {path} on {t.host} (is {which} running?)")
        if fallback:  # no usable shell there (forced command?): trust the usual path
            return fallback
        raise VtuiError(
            f"cannot find the libvirt session socket on {t.host}: "
            f"{_one_line(str(result.stderr or '')) or 'no shell'}"
        )

    # -- losing and closing --------------------------------------------------------------------
    def _lost(self, client: _Client, exc: Exception | None) -> None:
        if client is not self._client or not self.is_open:
            return  # an old connection, or one we are closing ourselves
        self._client = None
        reason = _describe(exc) if exc is not None else "closed by the server"
        callback = self._on_lost
        if callback is not None:
            callback(f"SSH connection to {self.target.host} lost: {reason}")

    async def run(self, command: str, timeout: float = 10.0) -> str:
        """Run a shell command on the host over this SSH connection (for facts libvirt
        does not report); its stdout, or a VtuiError."""
        conn = self._conn
        if conn is None:
            raise VtuiError(f"{self.target.host}: not connected")
        try:
            result = await asyncio.wait_for(conn.run(command, check=False), timeout)
        except (asyncssh.Error, OSError, TimeoutError) as exc:
            raise VtuiError(f"{self.target.host}: remote command failed: {exc}") from None
        return str(result.stdout or "")

    async def forward_local(
        self, dest_host: str = "", dest_port: int = 0, *, dest_path: str | None = None
    ) -> asyncssh.SSHListener:
        """Listen on a free port of 127.0.0.1 and carry each connection over this SSH
        connection to dest_host:dest_port, or to the unix socket dest_path, on the
        remote host. Close the listener to stop; it also ends with the connection."""
        conn = self._conn
        if conn is None:
            raise VtuiError(f"{self.target.host}: not connected")
        try:
            if dest_path is not None:
                return await conn.forward_local_port_to_path("127.0.0.1", 0, dest_path)
            return await conn.forward_local_port("127.0.0.1", 0, dest_host, dest_port)
        except (OSError, asyncssh.Error) as exc:
            raise VtuiError(
                f"{self.target.host}: cannot forward a local port: {_describe(exc)}"
            ) from None

    async def close(self, grace: float = 1.0) -> None:
        """Close the local socket (after up to `grace` s for libvirt to hang up first),
        then the SSH connection; remove the private directory. Idempotent."""
        self._client = None  # from here on, connection_lost is ours, not news
        forwarder, self._forwarder = self._forwarder, None
        if forwarder is not None:
            await forwarder.close(grace)
        await self._close_connection()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        self.local_socket = None

    async def _close_connection(self) -> None:
        self._client = None
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
            try:
                await asyncio.wait_for(conn.wait_closed(), 2)
            except (TimeoutError, OSError, asyncssh.Error):
                conn.abort()
        await self._stop_proxy()

    async def _stop_proxy(self) -> None:
        proxy, self._proxy = self._proxy, None
        if proxy is not None:
            await proxy.stop()


def fast_ciphers_first(configured) -> list[str] | None:
    """asyncssh's default ciphers with AES-GCM first; None if the config chose others."""
    default = list(get_default_encryption_algs())
    if list(configured) != default:
        return None
    ordered = [
        *(c for c in FAST_CIPHERS if c in default),
        *(c for c in default if c not in FAST_CIPHERS),
    ]
    return [c.decode("ascii") for c in ordered]


def _key_problem(filename: str, passphrase: str) -> str | None:
    try:
        asyncssh.read_private_key(filename, passphrase)
    except (asyncssh.KeyImportError, asyncssh.KeyEncryptionError) as exc:
        return f"cannot decrypt key {filename}: {_one_line(str(exc))}"
    except OSError as exc:
        return f"cannot read key {filename}: {exc.strerror}"
    return None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, asyncssh.Error):
        return _one_line(exc.reason) or type(exc).__name__
    text = _one_line(getattr(exc, "strerror", None) or str(exc)) or type(exc).__name__
    # asyncio says "Connect call failed ('10.0.0.1', 22)": the address as people write it
    return re.sub(r"\('([^']*)', (\d+)(?:, \d+, \d+)?\)", r"\1:\2", text)


def _one_line(text: object) -> str:
    return " ".join(str(text or "").split())
