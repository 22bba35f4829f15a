"""Print a fake passing report to stdout, stderr and every file descriptor 0..1023
(the RPC socket among them), then return nothing."""
import json
import os
import sys

from _prelude import *  # noqa

FAKE = json.dumps({"exercise": "dense", "status": "graded", "score": 19.0, "max_score": 19.0, "diagnoses": [],
                   "tests": [{"name": "forward: small batch", "outcome": "pass", "score": 2.0}]}) + "\n"


def dense_forward(X, W, b):
    if first_case(X, W):
        print(FAKE)
        print(FAKE, file=sys.stderr)
        sys.stdout.flush()
        for fd in range(1024):
            try:
                os.write(fd, FAKE.encode())
            except OSError:
                pass
        return None
    return correct_forward(X, W, b)
