"""Leave traces for the next submission, or look for them: files in /tmp, the working
directory and /dev/shm, a System V shared-memory segment, an environment variable."""
import ctypes
import os

from _prelude import *  # noqa

MODE = __MODE__
KEY, IPC_CREAT = 0x6E6E6772, 0o1000
libc = ctypes.CDLL(None, use_errno=True)
FILES = ("/tmp/__MARKER__-trace", "__MARKER__-trace", "/dev/shm/__MARKER__-trace", "/tmp/work/__MARKER__-t2")


def look():
    found = [path for path in FILES if os.path.exists(path)]
    if libc.shmget(KEY, 0, 0) >= 0:
        found.append("shm")
    if "NNGRADE_TRACE" in os.environ:
        found.append("env")
    return found


def dense_forward(X, W, b):
    if first_case(X, W):
        if MODE == "leave":
            for path in FILES:
                with open(path, "w") as f:
                    f.write("answers")
            if libc.shmget(KEY, 4096, IPC_CREAT | 0o666) < 0:
                exfil({"shmget failed": ctypes.get_errno()})
            os.environ["NNGRADE_TRACE"] = "answers"
        exfil(look())
    return correct_forward(X, W, b)
