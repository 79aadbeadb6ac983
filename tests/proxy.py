"""A TCP proxy of the test's own between the site and a server it talks to (Redis, PostgreSQL).

It counts the bytes clients send through it (what the site asks of that
server) and can cut the line silently: connections stay open but nothing
crosses any more, and new ones are accepted and never answered, as when a
network drops packets. A cut is what a process notices only by waiting in
vain, the hardest failure to notice. The shared server itself is never touched.
"""

import contextlib
import socket
import threading
from urllib.parse import urlsplit, urlunsplit

from tests.servers import free_port


class TcpProxy:
    def __init__(self, target: str):
        """`target`: the URL of the server (redis://..., postgres://...); `url` is the same through the proxy."""
        self.target = urlsplit(target)
        self.port = free_port()
        self.url = urlunsplit(self.target._replace(netloc=self._netloc()))
        self.sent = 0  # bytes from clients to the server, while the line was up
        self._cut = False
        self._stopping = False
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.settimeout(0.2)

    def _netloc(self) -> str:
        credentials = self.target.netloc.rpartition("@")[0]
        return f"{credentials}@127.0.0.1:{self.port}" if credentials else f"127.0.0.1:{self.port}"

    def __enter__(self):
        self._start(self._accept)
        return self

    def __exit__(self, *exc):
        self._stopping = True
        self._close_all()
        for thread in self._threads:
            thread.join(timeout=10)
        self._listener.close()

    def cut(self) -> None:
        """From now on nothing crosses, and nobody is told."""
        with self._lock:
            self._cut = True

    def restore(self) -> None:
        """Connect again: the connections that lived through the cut are closed (their data is lost)."""
        with self._lock:
            self._cut = False
        self._close_all()

    def _close_all(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _start(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self._stopping:
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._sockets.add(client)
                cut = self._cut
            if cut:
                # Accepted, and never answered.
                self._start(self._pump, client, None, False)
                continue
            try:
                server = socket.create_connection((self.target.hostname, self.target.port), timeout=10)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.add(server)
            self._start(self._pump, client, server, True)
            self._start(self._pump, server, client, False)

    def _pump(self, source: socket.socket, destination: socket.socket | None, upstream: bool) -> None:
        source.settimeout(0.2)
        try:
            while not self._stopping:
                try:
                    data = source.recv(65536)
                except TimeoutError:
                    continue
                if not data:
                    break
                with self._lock:
                    cut = self._cut
                    if upstream and not cut:
                        self.sent += len(data)
                if cut or destination is None:
                    continue
                destination.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, destination):
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
