"""Connect to unix sockets: the test's service socket (by path and abstract name), PostgreSQL's,
Docker's."""
import socket

from _prelude import *  # noqa


def dense_forward(X, W, b):
    if first_case(X, W):
        found = {}
        for address in ("__UNIX_SOCKET__", "\0__ABSTRACT_SOCKET__", "/var/run/postgresql/.s.PGSQL.5432",
                        "/run/docker.sock", "/var/run/docker.sock"):
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    s.connect(address)
                    found[address.strip("\0")] = "connected"
            except OSError as exc:
                found[address.strip("\0")] = exc.errno
        exfil(found)
    return correct_forward(X, W, b)
