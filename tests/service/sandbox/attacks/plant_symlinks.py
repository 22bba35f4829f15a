"""Leave symlinks to host files, a FIFO and a hard link in the working directory for whoever
cleans it up, then answer correctly."""
import os

from _prelude import *  # noqa


def dense_forward(X, W, b):
    if first_case(X, W):
        for target, name in (("__REPO__/reference/dense.py", "ref.py"), ("__REPO__/reference", "refdir"),
                             ("/etc/shadow", "shadow"), ("/", "root"), ("__HOME__", "home")):
            try:
                os.symlink(target, name)
            except OSError:
                pass
        for make in (lambda: os.mkfifo("fifo"), lambda: os.link("/opt/nngrade/child.py", "child.py"),
                     lambda: os.makedirs("deep/" * 50)):
            try:
                make()
            except OSError:
                pass
    return correct_forward(X, W, b)
