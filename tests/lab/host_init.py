"""PID 1 of one lab host (stdlib only; run by hosts.Lab under `unshare`).

usage: python host_init.py CONFIG.json

Runs inside fresh net+uts+mount+pid namespaces with private mount propagation, so the
bind mounts below are invisible to the rest of the machine. Sets the host up, starts
virtlogd, libvirtd and sshd, then stays as the namespace's init: it reaps orphans and
exits on SIGTERM, whereupon the kernel SIGKILLs everything left in the namespace.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time


def sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True)


def setup(cfg: dict) -> None:
    socket.sethostname(cfg["hostname"])
    for src, dst in cfg["binds"]:  # private /run, /etc/libvirt, /var/lib/libvirt, /root, ...
        if os.path.isdir(src):
            # mkdir is not namespaced: this creates the (empty) standard libvirt dir on
            # the machine if its package never did; everything inside stays private.
            os.makedirs(dst, exist_ok=True)
        sh("mount", "--rbind", src, dst)  # r: carry binds made inside src along
    sh("ip", "link", "set", "lo", "up")
    # The lab adds our end of the veth pair once we exist; wait for it.
    deadline = time.monotonic() + 10
    while subprocess.run(["ip", "link", "show", "eth0"], capture_output=True).returncode:
        if time.monotonic() > deadline:
            raise RuntimeError("eth0 never appeared")
        time.sleep(0.02)
    sh("ip", "addr", "add", f"{cfg['ip']}/24", "dev", "eth0")
    sh("ip", "link", "set", "eth0", "up")
    sh("virtlogd", "-d")  # libvirtd needs it for guest console/log files
    sh("libvirtd", "-d", "-l")  # -l: also listen on TCP, for p2p migration over qemu+tcp
    sh("/usr/sbin/sshd", "-f", cfg["sshd_config"], "-E", cfg["sshd_log"])


def reap_forever() -> None:
    # Daemons double-fork and get reparented to us: reap them so they don't linger as
    # zombies. SIGCHLD is blocked and waited for, so no wake-up can be missed.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
    while True:
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass
        signal.sigtimedwait({signal.SIGCHLD}, 5)


def main() -> None:
    # A namespace init only receives signals it has handlers for: install them first.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    try:
        setup(cfg)
    except Exception as e:
        print(f"host {cfg['hostname']} setup failed: {e!r}", flush=True)
        os._exit(1)
    print(f"host {cfg['hostname']} up", flush=True)
    reap_forever()


if __name__ == "__main__":
    main()
