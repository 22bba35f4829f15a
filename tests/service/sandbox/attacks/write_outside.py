"""Write outside the working directory: the host's /tmp, the repository, the data directory,
$HOME, and the read-only runtime (the runner, NumPy, the standard library)."""
import os

from _prelude import *  # noqa

TARGETS = ["/tmp/__MARKER__", "__REPO__/__MARKER__", "__REPO__/reference/__MARKER__", "__DATA_DIR__/__MARKER__",
           "__HOME__/__MARKER__", "/var/tmp/__MARKER__", "/dev/shm/__MARKER__", "/opt/nngrade/__MARKER__",
           "/opt/__MARKER__", "/opt/site/__MARKER__", "/dev/__MARKER__", "/usr/__MARKER__", "/__MARKER__", "/proc/self/root/tmp/__MARKER__", "../__MARKER__",
           "/opt/nngrade/child.py", "/opt/nngrade/execution.py", "/opt/site/numpy/__init__.py",
           "/opt/python/lib/python3.11/os.py", "/etc/ld.so.cache"]


def dense_forward(X, W, b):
    if first_case(X, W):
        found = {}
        for path in TARGETS:
            try:
                with open(path, "a") as f:
                    f.write("\nraise SystemExit('__MARKER__')\n")
                found[path] = "written"
            except OSError as exc:
                found[path] = f"errno {exc.errno}"
        exfil(found)
    return correct_forward(X, W, b)
