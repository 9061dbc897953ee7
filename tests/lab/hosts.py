"""Several libvirt "hosts" on one machine, each in its own namespaces, for vtui's tests.

Every host is `unshare --net --uts --mount --pid` running host_init.py as PID 1, with
private /run, /etc/libvirt, /var/lib/libvirt, /var/log/libvirt, /var/cache/libvirt and
/root bind-mounted from a fresh temp dir, its own libvirtd (+ virtlogd) and a key-only
sshd. A veth pair joins hosts "a" (10.77.0.1) and "b" (10.77.0.2); the root namespace
has no address on that net and nothing leaves it.

Needs root. Typical use:

    with Lab() as lab:
        libvirt.open(lab["a"].uri)
        subprocess.run(["ssh", "-F", lab.ssh_config, "lab-b", "hostname"])
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .images import cache_dir

HERE = Path(__file__).resolve().parent
DEFAULT_HOSTS = {"a": "10.77.0.1", "b": "10.77.0.2"}
# What the daemons see as their environment: nothing of the test process leaks in.
DAEMON_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8"}
REQUIRED_TOOLS = (
    "unshare",
    "nsenter",
    "setpriv",
    "ip",
    "libvirtd",
    "virtlogd",
    "virsh",
    "sshd",
    "ssh",
    "ssh-keygen",
    "bash",
    "qemu-system-x86_64",
)
CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def missing_requirements() -> str | None:
    """Why a lab cannot run here, or None."""
    if os.geteuid() != 0:
        return "the libvirt lab needs root (namespaces, bind mounts, libvirtd)"
    path = DAEMON_ENV["PATH"] + ":" + os.environ.get("PATH", "")
    missing = [t for t in REQUIRED_TOOLS if not shutil.which(t, path=path)]
    if missing:
        return f"the libvirt lab needs these tools: {', '.join(missing)}"
    return None


def _bash_relay(h: Host) -> str:
    """The tests' relay: bash's /dev/tcp (no extra packages). When ssh closes our stdin,
    the reader is killed too so the socket really closes (bash cannot shutdown() it);
    else sshd and the leftover cat wait on each other. Its socket has Nagle's
    algorithm on (bash cannot set TCP_NODELAY)."""
    return f"bash -c 'exec 3<>/dev/tcp/{h.ip}/22; cat <&3 & cat >&3; kill $!; wait'"


class LabError(RuntimeError):
    pass


class ExecError(subprocess.CalledProcessError):
    def __str__(self) -> str:  # CalledProcessError hides stderr, which is what we need
        return f"{super().__str__()}\nstdout: {self.stdout}\nstderr: {self.stderr}"


def _ns_init_pid(unshare_pid: int, timeout: float = 5) -> int:
    """PID (in the root namespace) of the child `unshare --fork` starts: the ns PID 1."""
    deadline = time.monotonic() + timeout
    path = f"/proc/{unshare_pid}/task/{unshare_pid}/children"
    while time.monotonic() < deadline:
        try:
            kids = Path(path).read_text().split()
        except FileNotFoundError:
            raise LabError(f"unshare {unshare_pid} died") from None
        if kids:
            return int(kids[0])
        time.sleep(0.005)
    raise LabError(f"unshare {unshare_pid} started no child")


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def join_netns(netns_path: str) -> None:
    """Move the calling thread (only it) into the network namespace at netns_path:
    sockets it makes from then on live there, and so do threads it starts."""
    fd = os.open(netns_path, os.O_RDONLY)
    try:
        _setns(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def thread_in_netns(netns_path: str) -> Iterator[None]:
    """The calling thread in netns_path for the with block, back in its own after."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        join_netns(netns_path)
        try:
            yield
        finally:
            _setns(home)
    finally:
        os.close(home)


def _run_in_netns(netns_path: str, fn, *args):
    """fn(*args) in a throw-away thread that setns()'d into netns_path. Sockets made
    there stay in that netns; the calling thread never changes namespace."""
    out: dict = {}

    def worker() -> None:
        try:
            join_netns(netns_path)
            out["r"] = fn(*args)
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller
            out["e"] = e

    t = threading.Thread(target=worker, name="lab-netns")
    t.start()
    t.join()
    if "e" in out:
        raise out["e"]
    return out["r"]


def _sweep_stale_labs() -> None:
    """Remove temp dirs of labs whose test process was SIGKILLed (pdeathsig has already
    killed their namespaces); leave any dir with a live owner or unshare process."""
    for d in Path(tempfile.gettempdir()).glob("vtui-lab-*"):
        pidfiles = [d / "owner.pid", *d.glob("*/unshare.pid")]
        try:
            pids = [int(p.read_text()) for p in pidfiles]
        except (OSError, ValueError):
            continue  # being set up right now, or not ours
        if not any(Path(f"/proc/{p}").exists() for p in pids):
            shutil.rmtree(d, ignore_errors=True)


class Host:
    """One lab host. Paths are as seen from the root namespace."""

    def __init__(self, lab: Lab, name: str, ip: str):
        self.lab, self.name, self.ip = lab, name, ip
        self.hostname = f"lab-{name}"
        self.dir = lab.root / name
        self.socket = str(self.dir / "run/libvirt/libvirt-sock")
        self.uri = f"qemu+unix:///system?socket={self.socket}"
        self.proc: subprocess.Popen | None = None  # the `unshare` process
        self.ns_pid = 0  # the namespace's PID 1 (target for nsenter / kill)

    def __repr__(self) -> str:
        return f"<Host {self.hostname} {self.ip} ns_pid={self.ns_pid}>"

    @property
    def netns_path(self) -> str:
        return f"/proc/{self.ns_pid}/ns/net"

    @property
    def host_key_pub(self) -> str:
        return (self.dir / "ssh_host_ed25519_key.pub").read_text().strip()

    # -- running things inside ---------------------------------------------------------

    def exec(
        self,
        *cmd: str,
        check: bool = True,
        env: dict | None = None,
        input: str | None = None,
        timeout: float | None = 60,
    ) -> subprocess.CompletedProcess:
        """Run cmd inside all of this host's namespaces (its /run, hostname, net, pids)."""
        argv = ["nsenter", "-t", str(self.ns_pid), "-a", "--", *cmd]
        r = subprocess.run(
            argv, capture_output=True, text=True, env=env, input=input, timeout=timeout
        )
        if check and r.returncode:
            raise ExecError(r.returncode, argv, r.stdout, r.stderr)
        return r

    def socket_to(self, port: int = 22, ip: str | None = None, timeout: float = 5) -> socket.socket:
        """A TCP socket to ip (default: this host):port, connected from inside this netns."""
        s = _run_in_netns(self.netns_path, socket.create_connection, (ip or self.ip, port), timeout)
        s.settimeout(None)
        return s

    # -- daemons --------------------------------------------------------------------------

    def daemon_pid(self, pidfile: str) -> int | None:
        """Root-namespace pid of the daemon whose pidfile (holding its in-namespace pid)
        is /run/<pidfile>, or None if it isn't running."""
        try:
            inner = int((self.dir / "run" / pidfile).read_text())
        except (FileNotFoundError, ValueError):
            return None
        my_ns = os.readlink(f"/proc/{self.ns_pid}/ns/pid")
        for p in Path("/proc").iterdir():
            if not p.name.isdigit():
                continue
            try:
                if os.readlink(p / "ns/pid") != my_ns:
                    continue
                status = (p / "status").read_text()
            except OSError:
                continue
            fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
            if int(fields["NSpid"].split()[-1]) == inner and not fields["State"].startswith("Z"):
                return int(p.name)
        return None

    def _stop_daemon(self, pidfile: str, timeout: float = 10) -> None:
        pid = self.daemon_pid(pidfile)
        if pid is None:
            return
        sig, deadline = signal.SIGTERM, time.monotonic() + timeout
        while self.daemon_pid(pidfile) == pid:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                break
            if time.monotonic() > deadline:
                sig = signal.SIGKILL
            else:
                sig = 0  # just probe until it has gone
            time.sleep(0.02)

    def libvirtd_answers(self) -> bool:
        r = subprocess.run(
            ["virsh", "-q", "-c", self.uri, "capabilities"], capture_output=True, timeout=60
        )
        return r.returncode == 0

    def wait_libvirtd(self, timeout: float = 60) -> None:
        # The socket shows up before the drivers are initialised, and libvirtd exits with
        # status 0 when e.g. the qemu driver fails: only an answer proves readiness.
        deadline = time.monotonic() + timeout
        while True:
            if os.path.exists(self.socket) and self.libvirtd_answers():
                return
            if self.proc is not None and self.proc.poll() is not None:
                raise LabError(f"{self.hostname} died:\n{self.diagnostics()}")
            if time.monotonic() > deadline:
                raise LabError(f"libvirtd on {self.hostname} not answering:\n{self.diagnostics()}")
            time.sleep(0.05)

    def wait_sshd(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.socket_to(22, timeout=1).close()
                return
            except OSError:
                if self.proc is not None and self.proc.poll() is not None:
                    raise LabError(f"{self.hostname} died:\n{self.diagnostics()}") from None
                if time.monotonic() > deadline:
                    raise LabError(
                        f"sshd on {self.hostname} not answering:\n{self.diagnostics()}"
                    ) from None
                time.sleep(0.05)

    def stop_libvirtd(self) -> None:
        self._stop_daemon("libvirtd.pid")

    def start_libvirtd(self) -> None:
        self.exec("libvirtd", "-d", "-l", env=DAEMON_ENV)
        self.wait_libvirtd()

    def stop_sshd(self) -> None:
        self._stop_daemon("sshd.pid")

    def start_sshd(self) -> None:
        self.exec(
            "/usr/sbin/sshd",
            "-f",
            str(self.dir / "sshd_config"),
            "-E",
            str(self.dir / "sshd.log"),
            env=DAEMON_ENV,
        )
        self.wait_sshd()

    def diagnostics(self) -> str:
        def tail(p: Path, n: int = 15) -> str:
            try:
                return "\n".join(p.read_text(errors="replace").splitlines()[-n:])
            except OSError:
                return "(none)"

        return (
            f"--- init.log\n{tail(self.dir / 'init.log')}\n"
            f"--- libvirtd.log\n{tail(self.dir / 'var-log-libvirt/libvirtd.log')}\n"
            f"--- sshd.log\n{tail(self.dir / 'sshd.log')}"
        )

    # -- lifecycle (driven by Lab) ------------------------------------------------------

    def _prepare(self) -> None:
        d, lab = self.dir, self.lab
        for sub in (
            "run/sshd",
            "run/lock",
            "run/libvirt",
            "etc-libvirt/qemu",
            "var-lib-libvirt",
            "var-log-libvirt/qemu",
            "var-cache-libvirt/qemu/capabilities",
            "root/.ssh",
        ):
            (d / sub).mkdir(parents=True, exist_ok=True)
        (d / "root").chmod(0o700)
        (d / "root/.ssh").chmod(0o700)
        subprocess.run(
            [
                "ssh-keygen",
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                self.hostname,
                "-f",
                str(d / "ssh_host_ed25519_key"),
            ],
            check=True,
        )
        (d / "etc-libvirt/libvirtd.conf").write_text(
            f'host_uuid = "{uuid.uuid4()}"\n'  # else migration says "same host"
            "listen_tls = 0\nlisten_tcp = 1\n"
            'auth_tcp = "none"\n'  # p2p migration over qemu+tcp between the hosts
            'log_outputs = "3:file:/var/log/libvirt/libvirtd.log"\n'
        )
        (d / "etc-libvirt/qemu.conf").write_text(
            'user = "root"\ngroup = "root"\n'
            "cgroup_controllers = [ ]\n"  # the hosts' guests would collide in one cgroup tree
            'security_driver = "none"\n'  # no AppArmor/SELinux profile dance on CI machines
            "dynamic_ownership = 0\nremember_owner = 0\n"  # never chown the cached images
            f'migration_host = "{self.ip}"\n'
        )  # default would be our hostname
        for f in lab.caps_cache.glob("*.xml"):  # skip ~1.5 s of QEMU probing per daemon
            shutil.copy(f, d / "var-cache-libvirt/qemu/capabilities" / f.name)
        (d / "sshd_config").write_text(
            f"ListenAddress 0.0.0.0:22\nHostKey {d}/ssh_host_ed25519_key\n"
            "PidFile /run/sshd.pid\n"
            "PermitRootLogin prohibit-password\nPubkeyAuthentication yes\n"
            "AuthorizedKeysFile .ssh/authorized_keys\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nUsePAM no\n"
            "AllowTcpForwarding yes\nAllowStreamLocalForwarding yes\n"
            "MaxSessions 100\nMaxStartups 100\nPrintMotd no\nPrintLastLog no\n"
            "Subsystem sftp /usr/lib/openssh/sftp-server\n"
        )
        # root's ssh setup inside the host: lab clients get in, and the host itself can
        # reach its peers (p2p migration over qemu+ssh).
        ssh = d / "root/.ssh"
        shutil.copy(lab.client_key + ".pub", ssh / "authorized_keys")
        shutil.copy(lab.client_key, ssh / "id_ed25519")
        binds = [
            (d / "run", "/run"),
            (d / "etc-libvirt", "/etc/libvirt"),
            (d / "var-lib-libvirt", "/var/lib/libvirt"),
            (d / "var-log-libvirt", "/var/log/libvirt"),
            (d / "var-cache-libvirt", "/var/cache/libvirt"),
            (d / "root", "/root"),
            (lab.root / "hosts", "/etc/hosts"),
        ]
        if (lab.root / "passwd").exists():
            binds += [(lab.root / "passwd", "/etc/passwd"), (lab.root / "group", "/etc/group")]
        # The guest images must stay visible to qemu inside the host, but the default cache
        # (~/.cache/vtui-test) is under /root, which we cover. Bind such dirs into our
        # private copy first; the recursive bind of the copy then carries them along.
        pre = []
        for keep in lab.visible_dirs:
            for src, dst in binds:
                if src.is_dir() and keep.is_relative_to(dst):
                    inner = src / keep.relative_to(dst)
                    inner.mkdir(parents=True, exist_ok=True)
                    pre.append((keep, inner))
        binds = pre + binds
        (d / "init.json").write_text(
            json.dumps(
                {
                    "hostname": self.hostname,
                    "ip": self.ip,
                    "binds": [(str(s), str(dst)) for s, dst in binds],
                    "sshd_config": str(d / "sshd_config"),
                    "sshd_log": str(d / "sshd.log"),
                }
            )
        )

    def _spawn(self) -> None:
        argv = [
            "unshare",
            "--net",
            "--uts",
            "--mount",
            "--pid",
            "--fork",
            "--mount-proc",
            "--kill-child",
            "--propagation",
            "private",
            sys.executable,
            "-I",
            str(HERE / "host_init.py"),
            str(self.dir / "init.json"),
        ]
        if threading.current_thread() is threading.main_thread():
            # If the test process dies without cleaning up (SIGKILL), unshare gets SIGKILL
            # and --kill-child takes the whole namespace with it. Only from the main thread:
            # pdeathsig fires when the *thread* that forked exits.
            argv = ["setpriv", "--pdeathsig", "KILL", "--", *argv]
        with open(self.dir / "init.log", "wb") as log:
            # own session: a Ctrl-C in the terminal reaches pytest, which tears down
            # cleanly, instead of killing the hosts under a running test.
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=DAEMON_ENV,
                start_new_session=True,
            )
        (self.dir / "unshare.pid").write_text(str(self.proc.pid))
        self.ns_pid = _ns_init_pid(self.proc.pid)

    def _kill(self, timeout: float = 5) -> None:
        """SIGTERM the namespace's PID 1: the kernel then kills everything in it."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.kill(self.ns_pid, signal.SIGTERM)  # unshare itself ignores SIGTERM
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()  # --kill-child: the ns init dies with it
            self.proc.wait(timeout)


class Lab:
    """N libvirt+sshd hosts joined by veth pairs (2 hosts: one pair; more: a bridge).

    Files you hand to qemu must lie outside the hosts' private dirs (/root, /run,
    /var/lib/libvirt, ...) or be listed in visible_dirs before start(); the image
    cache is listed by default.
    """

    def __init__(self, hosts: dict[str, str] | None = None):
        self.spec = dict(hosts or DEFAULT_HOSTS)
        self.root: Path | None = None
        self.hosts: dict[str, Host] = {}
        self.caps_cache = cache_dir() / "qemu-caps"
        self.visible_dirs = [cache_dir().resolve()]  # must stay reachable inside the hosts
        self.up_seconds = self.down_seconds = 0.0

    def __getitem__(self, name: str) -> Host:
        return self.hosts[name]

    def __iter__(self):
        return iter(self.hosts.values())

    def __enter__(self) -> Lab:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def client_key(self) -> str:
        return str(self.root / "keys/id_ed25519")

    @property
    def known_hosts(self) -> str:
        return str(self.root / "keys/known_hosts")

    @property
    def ssh_config(self) -> str:
        return str(self.root / "keys/ssh_config")

    def socket_to(self, name: str, port: int = 22) -> socket.socket:
        """TCP socket to host `name`:port, made inside its netns; hand it to
        e.g. asyncssh.connect(sock=...)."""
        return self.hosts[name].socket_to(port)

    def start(self) -> Lab:
        if self.root is not None:
            raise LabError("lab already started")
        t0 = time.monotonic()
        _sweep_stale_labs()
        self.root = Path(tempfile.mkdtemp(prefix="vtui-lab-"))
        (self.root / "owner.pid").write_text(str(os.getpid()))
        atexit.register(self.stop)  # also on Ctrl-C / a crash outside the fixture
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        self.up_seconds = time.monotonic() - t0
        return self

    def _start(self) -> None:
        root = self.root
        (root / "keys").mkdir()
        subprocess.run(
            [
                "ssh-keygen",
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                "vtui-lab-client",
                "-f",
                self.client_key,
            ],
            check=True,
        )
        (root / "hosts").write_text(
            "127.0.0.1 localhost\n" + "".join(f"{ip} lab-{n}\n" for n, ip in self.spec.items())
        )
        try:
            pwd.getpwnam("libvirt-qemu")
        except KeyError:
            # Debian's libvirtd refuses to start without this user, even with user="root".
            # Give the hosts a private passwd/group instead of touching the machine's.
            (root / "passwd").write_text(
                Path("/etc/passwd").read_text() + "libvirt-qemu:x:64055:64055::/var/lib/libvirt:"
                "/usr/sbin/nologin\n"
            )
            (root / "group").write_text(Path("/etc/group").read_text() + "libvirt-qemu:x:64055:\n")
        self.hosts = {n: Host(self, n, ip) for n, ip in self.spec.items()}
        for h in self:
            h._prepare()
        Path(self.known_hosts).write_text(
            "".join(f"{h.hostname},{h.ip} {' '.join(h.host_key_pub.split()[:2])}\n" for h in self)
        )
        for h in self:
            shutil.copy(self.known_hosts, h.dir / "root/.ssh/known_hosts")
        for h in self:
            h._spawn()
        self._write_ssh_config()  # names the netns paths, which need the pids
        self._link()
        # Wait for all hosts at once (a cold QEMU probe takes ~1.5 s each). No `with`: on
        # Ctrl-C we must not join the waiters; stop() kills the hosts and they return.
        pool = ThreadPoolExecutor(2 * len(self.hosts))
        try:
            waits = [pool.submit(h.wait_libvirtd) for h in self]
            waits += [pool.submit(h.wait_sshd) for h in self]
            for f in waits:
                f.result()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        self._save_caps_cache()

    def _link(self) -> None:
        hosts = list(self)
        if len(hosts) == 2:  # straight veth pair between the two namespaces
            a, b = hosts
            subprocess.run(
                [
                    "ip",
                    "link",
                    "add",
                    "eth0",
                    "netns",
                    str(a.ns_pid),
                    "type",
                    "veth",
                    "peer",
                    "name",
                    "eth0",
                    "netns",
                    str(b.ns_pid),
                ],
                check=True,
            )
            return
        # otherwise: a bridge inside the first host's netns, one veth per host into it
        first = hosts[0]
        first.exec("ip", "link", "add", "labbr", "type", "bridge")
        first.exec("ip", "link", "set", "labbr", "up")
        for i, h in enumerate(hosts):
            subprocess.run(
                [
                    "ip",
                    "link",
                    "add",
                    "eth0",
                    "netns",
                    str(h.ns_pid),
                    "type",
                    "veth",
                    "peer",
                    "name",
                    f"p{i}",
                    "netns",
                    str(first.ns_pid),
                ],
                check=True,
            )
            first.exec("ip", "link", "set", f"p{i}", "master", "labbr", "up")

    def _write_ssh_config(self) -> None:
        self.write_ssh_config(Path(self.ssh_config), _bash_relay)

    def write_ssh_config(self, path: Path, relay: Callable[[Host], str]) -> None:
        """An ssh config naming every host, reached through `relay(host)`: a command
        run inside the host's netns (the root namespace has no route to 10.77.0.x)
        that relays stdio to the host's sshd."""
        out = []
        for h in self:
            out.append(
                f"Host {h.hostname}\n"
                f"  HostName {h.ip}\n  User root\n"
                f"  IdentityFile {self.client_key}\n  IdentitiesOnly yes\n"
                f"  UserKnownHostsFile {self.known_hosts}\n  GlobalKnownHostsFile /dev/null\n"
                f"  StrictHostKeyChecking yes\n  BatchMode yes\n  LogLevel ERROR\n"
                f"  ProxyCommand nsenter --net={h.netns_path} {relay(h)}\n"
            )
        path.write_text("\n".join(out))

    def _save_caps_cache(self) -> None:
        """Keep host a's QEMU capabilities for the next lab (per-file atomic replace)."""
        src = next(iter(self)).dir / "var-cache-libvirt/qemu/capabilities"
        self.caps_cache.mkdir(parents=True, exist_ok=True)
        for f in src.glob("*.xml"):
            dst = self.caps_cache / f.name
            data = f.read_bytes()
            if dst.exists() and dst.read_bytes() == data:
                continue
            tmp = dst.with_name(f".{f.name}.{os.getpid()}")
            tmp.write_bytes(data)
            os.replace(tmp, dst)

    def stop(self) -> None:
        """Kill every process of the lab (by pid) and remove its temp dir. Idempotent."""
        atexit.unregister(self.stop)
        if self.root is None:
            return
        t0 = time.monotonic()
        for h in self:
            h._kill()  # sequential is fine: ~30 ms each
        if all(h.proc is None or h.proc.poll() is not None for h in self):
            shutil.rmtree(self.root, ignore_errors=True)
        self.root = None
        self.down_seconds = time.monotonic() - t0
