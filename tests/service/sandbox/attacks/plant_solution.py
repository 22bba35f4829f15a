"""Leave a solution (and a note) wherever the next submission might look."""
import os

from _prelude import *  # noqa

NOTE = "def dense_backward(X, W, dY):  # __MARKER__ planted by an earlier submission\n"


def dense_forward(X, W, b):
    if first_case(X, W):
        for path in ("solution.py", "/tmp/solution.py", "/dev/shm/solution.py", "/tmp/work/../solution2.py",
                     "/var/tmp/solution.py", "/opt/solution.py", "__HOME__/solution.py"):
            try:
                with open(path, "w") as f:
                    f.write(NOTE)
            except OSError:
                pass
        os.environ["PLANTED"] = NOTE
    return correct_forward(X, W, b)
