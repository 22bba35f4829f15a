"""System calls NumPy never needs: BPF, perf, keyrings, userfaultfd, modules, kexec, reboot,
personality, raw handles, other processes' descriptors, clocks, TIOCSTI and clone3."""
import ctypes

from _prelude import *  # noqa

libc = ctypes.CDLL(None, use_errno=True)
CALLS = {"bpf": (321, 0, 0, 0), "perf_event_open": (298, 0, 0, -1, -1, 0), "keyctl": (250, 0, 0, 0),
         "add_key": (248, b"user", b"k", b"v", 1, -2), "request_key": (249, b"user", b"k", 0, 0),
         "userfaultfd": (323, 0), "personality": (135, 0x0400000), "kexec_load": (246, 0, 0, 0, 0),
         "init_module": (175, 0, 0, b""), "finit_module": (313, 0, b"", 0), "reboot": (169, 0, 0, 0, 0),
         "swapon": (167, b"/tmp/x", 0), "acct": (163, b"/tmp/x"), "syslog": (103, 3, 0, 0),
         "open_by_handle_at": (304, -100, 0, 0), "fanotify_init": (300, 0, 0), "mknodat": (259, -100, b"n", 0o10644, 0),
         "kcmp": (312, 1, 1, 0, 0, 0), "pidfd_open": (434, 1, 0), "pidfd_getfd": (438, 0, 0, 0),
         "iopl": (172, 3), "ioperm": (173, 0, 1024, 1), "settimeofday": (164, 0, 0), "clock_settime": (227, 0, 0),
         "sethostname": (170, b"x", 1), "ioctl TIOCSTI": (16, 0, 0x5412, b"x"), "clone3": (435, 0, 0)}


def dense_forward(X, W, b):
    if first_case(X, W):
        found = {}
        for name, (number, *args) in CALLS.items():
            result = libc.syscall(number, *args)
            found[name] = ctypes.get_errno() if result == -1 else f"returned {result}"
        exfil(found)
    return correct_forward(X, W, b)
