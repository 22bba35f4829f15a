"""Answer with a well-framed, correctly tagged reply whose header describes as many empty arrays
as fit (tiny in bytes, costly if the trusted side built them all), on every call."""
import json
import os
import stat
import struct
import time

from _prelude import *  # noqa

calls = [0]
COUNT = __COUNT__


def dense_forward(X, W, b):
    calls[0] += 1
    header = json.dumps({"t": ["d", [["call", ["i", str(calls[0])]], ["value", ["n"]]]],
                         "a": [["<f8", [0]]] * COUNT}, separators=(",", ":")).encode()
    payload = b"NNG1" + struct.pack("<I", len(header)) + header
    for fd in range(3, 64):
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                os.write(fd, struct.pack("<Q", len(payload)) + payload)
        except OSError:
            continue
    time.sleep(30)
