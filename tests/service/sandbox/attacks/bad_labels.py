"""Patch the runner's own invoke so that every answer names changed arguments with labels that
look like positions but are not ASCII decimals in range: a superscript, an Arabic-Indic three,
a position far past the last argument, and a keyword the call does not have."""
import sys

from _prelude import *  # noqa

execution = sys.modules["execution"]
real_invoke = execution.invoke


def invoke(*args, **kwargs):
    reply = real_invoke(*args, **kwargs)
    if "value" in reply:
        reply["mutated"] = [LABEL]
    return reply


LABEL = __LABEL__
execution.invoke = invoke
