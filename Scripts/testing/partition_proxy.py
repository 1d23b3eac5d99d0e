#!/usr/bin/env python3
"""A TCP proxy that a test can cut and restore, standing for a network partition.

    partition_proxy.py TARGET_HOST TARGET_PORT

Listens on a free port of 127.0.0.1 and prints it on the first line of stdout. SIGUSR1 cuts the link:
every open connection is closed and new ones are refused until SIGUSR2 restores it. Stopped by SIGTERM.
"""
import signal
import socket
import sys
import threading

target = (sys.argv[1], int(sys.argv[2]))
cut = threading.Event()
lock = threading.Lock()
open_sockets = []


def close_all():
    with lock:
        for s in open_sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        open_sockets.clear()


def pump(source, sink):
    try:
        while True:
            data = source.recv(65536)
            if not data or cut.is_set():
                break
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(client):
    if cut.is_set():
        client.close()
        return
    try:
        upstream = socket.create_connection(target, timeout=5)
    except OSError:
        client.close()
        return
    upstream.settimeout(None)
    with lock:
        open_sockets.extend([client, upstream])
    threading.Thread(target=pump, args=(client, upstream), daemon=True).start()
    threading.Thread(target=pump, args=(upstream, client), daemon=True).start()


def on_cut(signum, frame):
    cut.set()
    close_all()


def on_restore(signum, frame):
    cut.clear()


# A parent may have blocked signals (a test runner does); the proxy must hear its own.
signal.pthread_sigmask(signal.SIG_UNBLOCK, set(signal.Signals))
signal.signal(signal.SIGTERM, signal.SIG_DFL)
signal.signal(signal.SIGUSR1, on_cut)
signal.signal(signal.SIGUSR2, on_restore)
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(64)
print(listener.getsockname()[1], flush=True)
while True:
    try:
        connection, _ = listener.accept()
    except InterruptedError:
        continue
    threading.Thread(target=serve, args=(connection,), daemon=True).start()
