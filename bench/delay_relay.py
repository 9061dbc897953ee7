"""A ProxyCommand that adds one-way latency: relays stdin/stdout to HOST:PORT and
holds every chunk for DELAY seconds in each direction (the kernel here has no netem).
Plain threads and file descriptors, so stdin/stdout may be pipes or a socket pair.

    python3 delay_relay.py DELAY HOST PORT
"""

import os
import queue
import socket
import sys
import threading
import time


def reader(read, q: queue.Queue, delay: float) -> None:
    while True:
        try:
            data = read()
        except OSError:
            data = b""
        q.put((time.monotonic() + delay, data))
        if not data:
            return


def writer(write, q: queue.Queue, done) -> None:
    while True:
        due, data = q.get()
        if not data:
            done()
            return
        time.sleep(max(0.0, due - time.monotonic()))
        try:
            write(data)
        except OSError:
            done()
            return


def main(delay: float, host: str, port: int) -> None:
    sock = socket.create_connection((host, port))
    # as ssh's own TCP connection does: small SSH packets go out at once, not after
    # the peer's delayed ACK (Nagle), which would add up to 40 ms to a round trip
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    up, down = queue.Queue(), queue.Queue()
    finished = threading.Event()

    def write_out(data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(1, view) :]

    threads = [
        threading.Thread(target=reader, args=(lambda: os.read(0, 65536), up, delay)),
        threading.Thread(target=writer, args=(sock.sendall, up, finished.set)),
        threading.Thread(target=reader, args=(lambda: sock.recv(65536), down, delay)),
        threading.Thread(target=writer, args=(write_out, down, finished.set)),
    ]
    for t in threads:
        t.daemon = True
        t.start()
    finished.wait()


if __name__ == "__main__":
    main(float(sys.argv[1]), sys.argv[2], int(sys.argv[3]))
