"""Write straight to the RPC socket: a frame header declaring an enormous result, or a frame of
garbage with a plausible length."""
import os
import stat
import struct

from _prelude import *  # noqa

KIND = __KIND__


def dense_forward(X, W, b):
    if first_case(X, W):
        for fd in range(3, 64):
            try:
                if not stat.S_ISSOCK(os.fstat(fd).st_mode):
                    continue
            except OSError:
                continue
            if KIND == "huge":
                os.write(fd, struct.pack("<Q", 2**62))
            else:
                os.write(fd, struct.pack("<Q", 64) + b"NNG1" + b"\xff" * 60)
        import time
        time.sleep(30)
    return correct_forward(X, W, b)
