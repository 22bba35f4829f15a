"""The seccomp filter loaded into every sandboxed submission before its first byte runs.

Policy: allow by default, deny (with ``EPERM``, so Python raises a readable
``PermissionError``) every system call that NumPy exercises never need and that widens
the kernel surface or reaches outside the sandbox:

* debugging and other processes' memory: ``ptrace``, ``process_vm_readv/writev``,
  ``kcmp``, ``pidfd_getfd``;
* namespaces and mounts: ``unshare``, ``setns``, ``mount``, ``umount2``, ``pivot_root``,
  ``chroot``, ``fsopen``/``fsmount``/``move_mount``/``open_tree``…, and ``clone`` with
  any namespace flag (a plain ``fork`` or thread is allowed, limited by RLIMIT_NPROC);
  ``clone3`` answers ``ENOSYS`` so the C library falls back to ``clone``, whose flags
  the filter can inspect;
* networking: ``socket``, ``socketpair`` (the RPC socket was opened before), and
  therefore no TCP, UDP, netlink or unix sockets of its own;
* kernel attack surface never used by NumPy: ``bpf``, ``perf_event_open``,
  ``userfaultfd``, ``io_uring_*``, ``keyctl``/``add_key``/``request_key``, module and
  kexec calls, ``reboot``, ``swapon``/``swapoff``, ``acct``, ``syslog``,
  ``open_by_handle_at``, ``fanotify_init``, ``mknod``, ``personality`` (no ABI tricks),
  the set*id family, and ``ioctl(TIOCSTI)`` (typing into a terminal);
* other architectures: a call made through a non-native ABI (i386 ``int 0x80``, x32)
  kills the process (libseccomp's bad-architecture action).

Allowed, because the real workloads use them (checked by running every reference and
the attack suite under the filter): memory management (``mmap``, ``mprotect``,
``madvise``, ``brk``), files inside the read-only view and the private tmpfs
(``openat``, ``read``, ``write``, ``stat`` family, ``getdents64``), ``futex`` and
``clone`` without namespace flags (OpenBLAS and Python threads, ``os.fork``),
``wait4``, signals, clocks, ``getrandom``, ``sched_getaffinity``, ``prlimit64`` (lowering
only: raising a hard limit needs a capability the sandbox does not have), ``exit_group``.

This module runs inside the sandbox; it imports only the standard library and pyseccomp.
"""

from __future__ import annotations

import errno
import os

DENY = (
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd", "pidfd_open",
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "mount_setattr",
    "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree",
    "socket", "socketpair",
    "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
    "keyctl", "add_key", "request_key",
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
    "reboot", "swapon", "swapoff", "acct", "syslog", "quotactl", "lookup_dcookie",
    "open_by_handle_at", "name_to_handle_at", "fanotify_init", "mknod", "mknodat", "personality",
    "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setfsuid", "setfsgid",
    "setgroups", "capset", "vhangup", "iopl", "ioperm", "settimeofday", "clock_settime", "adjtimex",
    "clock_adjtime", "sethostname", "setdomainname",
)
#: CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, NEWTIME: each one denied.
NAMESPACE_FLAGS_EACH = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000, 0x80)
TIOCSTI = 0x5412


def build():
    """The filter as a libseccomp object."""
    import pyseccomp as sc

    f = sc.SyscallFilter(defaction=sc.ALLOW)
    f.set_attr(sc.Attr.ACT_BADARCH, sc.KILL_PROCESS)
    for name in DENY:
        try:
            f.add_rule(sc.ERRNO(errno.EPERM), name)
        except (OSError, ValueError):
            pass  # a call this kernel/libseccomp does not know cannot be made either
    for flag in NAMESPACE_FLAGS_EACH:
        f.add_rule(sc.ERRNO(errno.EPERM), "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
    f.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    f.add_rule(sc.ERRNO(errno.EPERM), "ioctl", sc.Arg(1, sc.MASKED_EQ, 0xFFFFFFFF, TIOCSTI))
    return f


def compile_bpf() -> bytes:
    """The filter compiled to a classic BPF program, once, in the zygote.

    libseccomp takes a few milliseconds to generate the program; every sandbox then
    loads the same bytes with one ``prctl``.
    """
    fd = os.memfd_create("nngrade-seccomp")
    try:
        with os.fdopen(os.dup(fd), "wb", buffering=0) as out:
            build().export_bpf(out)
        os.lseek(fd, 0, os.SEEK_SET)
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def load_bpf(program: bytes) -> None:
    """Install a compiled program in the calling thread (no_new_privs must be set first)."""
    import ctypes

    if not program or len(program) % 8:
        raise OSError(errno.EINVAL, "empty or malformed seccomp program")

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    buf = ctypes.create_string_buffer(program, len(program))
    prog = SockFprog(len(program) // 8, ctypes.cast(buf, ctypes.c_void_p))
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl(PR_SET_SECCOMP): {os.strerror(err)}")


def install() -> None:
    """Build and load the filter into the calling process (irreversible; children inherit it)."""
    build().load()
