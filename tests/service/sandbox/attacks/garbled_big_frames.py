"""On every call, write a garbled frame of SIZE bytes on the channel (a valid length, then
garbage), then wait to be stopped: every case costs the trusted side one large receive buffer."""
import os
import stat
import struct
import time

from _prelude import *  # noqa

SIZE = __SIZE__


def dense_forward(X, W, b):
    junk = b"NNG1" + b"\xff" * (SIZE - 4)
    for fd in range(3, 64):
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                view = memoryview(struct.pack("<Q", SIZE) + junk)
                while view:
                    view = view[os.write(fd, view):]
        except OSError:
            continue
    time.sleep(30)
