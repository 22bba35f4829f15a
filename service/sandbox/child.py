"""The program that runs inside the sandbox: a zygote that forks one sandbox per submission.

Process tree (inside bubblewrap's own user, pid, net, ipc, uts and mount namespaces)::

    zygote  (numpy imported; never holds a secret, a reference, or a student byte)
      └─ keeper  (one per submission: makes fresh namespaces, then waits and reports)
           └─ runner, pid 1 of a fresh pid namespace  (limits, seccomp, then student code)

The trusted side talks to the zygote over a SOCK_SEQPACKET socket (fd given in argv):
each ``spawn`` message carries three descriptors by SCM_RIGHTS — the RPC socket, the
write end of the output pipe, and the keeper's control socket.  The keeper first identifies
itself on its control socket (the kernel attaches its pid) and waits until the trusted
side has put it in the sandbox's cgroups.  It then creates a new
user namespace (the sandbox uid mapped to itself), then new mount, pid, network, IPC
and UTS namespaces; mounts private tmpfs on the work directory, ``/tmp`` and
``/dev/shm``, and an empty read-only one on ``/dev/pts`` (no terminal shared with another
sandbox); hides ``/proc``; and forks the runner.  When the runner ends, the pid
namespace dies with it, taking every process the submission started.  The keeper kills
the runner when the trusted side asks (``k``) or disappears, and reports the runner's
exit status and CPU time.

The runner waits for ``load`` (source + limits), applies the resource limits, drops
every capability, sets no-new-privileges, loads the seccomp filter, and only then
compiles the student's code.  It then answers ``call`` messages until it is killed.

Imports: the standard library, NumPy, and the framework files bound next to this one.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
import resource
import builtins
import signal
import socket
import sys

LIBC = ctypes.CDLL("libc.so.6", use_errno=True)
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 1, 2, 4, 8, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_CAPBSET_DROP, PR_SET_DUMPABLE = 1, 38, 24, 4
PR_SET_CHILD_SUBREAPER = 36
SYS_CAPSET = {"x86_64": 126, "aarch64": 91}.get(platform.machine(), 126)
MAX_REQUEST = 512 * 1024 * 1024
WORKDIR = "/tmp/work"
#: The seccomp filter as a BPF program, compiled once by the zygote (empty: no seccomp).
SECCOMP_PROGRAM = b""


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- keeper


#: Directories every keeper covers with a private tmpfs: nothing the zygote needs after the
#: fork may live under them (its code and NumPy are imported lazily from elsewhere).
PRIVATE_MOUNTS = ("/tmp", "/dev/shm")
#: Without a mount namespace, each sandbox works in a fresh directory with this prefix under /tmp,
#: locked (flock) by its keeper for as long as the keeper lives: an unlocked one is stale.
WORKDIR_PREFIX = "nngrade-sandbox-"


def make_namespaces(disabled: set[str], tmpfs_mb: int) -> list[str]:
    """In the keeper: fresh namespaces and private tmpfs.  Returns the layers achieved."""
    if "userns" in disabled:
        return []
    uid, gid = os.geteuid(), os.getegid()
    try:
        _check(LIBC.unshare(CLONE_NEWUSER), "unshare(user)")
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
        _check(LIBC.unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNET), "unshare")
    except OSError:
        return []
    layers = ["namespaces"]
    _check(LIBC.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
    opts = f"size={tmpfs_mb}m,nr_inodes=4096,mode=0777".encode()
    for target in PRIVATE_MOUNTS:
        if os.path.isdir(target):
            _check(LIBC.mount(b"tmpfs", target.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, opts), f"tmpfs {target}")
    private_devpts()
    os.makedirs(WORKDIR, exist_ok=True)
    layers.append("tmpfs")
    return layers


def private_devpts() -> None:
    """No terminal shared with any other sandbox: an empty, read-only ``/dev/pts``.

    bubblewrap's ``/dev`` (and, in degraded mode, the host's) holds one devpts that every
    keeper of the zygote would share, so one submission could read what another wrote to a
    pty.  Covering it leaves no pty to open: ``/dev/ptmx`` (a link to ``pts/ptmx`` under
    bubblewrap, the host's multiplexer node otherwise) finds no devpts next to it and fails.
    """
    if os.path.isdir("/dev/pts"):
        _check(LIBC.mount(b"tmpfs", b"/dev/pts", b"tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                          b"size=4k,nr_inodes=1,mode=0555"), "empty /dev/pts")


def hide_proc() -> bool:
    """In the runner (pid 1 of its namespace): a proc of its own, or none at all."""
    if LIBC.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, b"hidepid=2") == 0:
        return True
    return LIBC.mount(b"tmpfs", b"/proc", b"tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, b"size=4k,mode=0555") == 0


def _children() -> list[int]:
    me = os.getpid()
    try:
        with open(f"/proc/{me}/task/{me}/children") as f:
            return [int(pid) for pid in f.read().split()]
    except OSError:  # a kernel without CONFIG_PROC_CHILDREN: scan every process's parent
        found = []
        for entry in os.listdir("/proc"):
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            if entry.isdigit() and int(stat[stat.rindex(")") + 2:].split()[1]) == me:
                found.append(int(entry))
        return found


def kill_descendants() -> None:
    """Without a pid namespace: kill whatever the submission left running.

    The keeper is a child subreaper, so every orphan of the submission (a double fork with
    setsid, a fork bomb's children) is re-parented to it; kill its children until none is left.
    """
    while True:
        for pid in _children():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def keeper(rpc: int, out: int, ctl: int, disabled: set[str], tmpfs_mb: int) -> None:
    """Identify itself, make the namespaces, fork the runner, then wait for it or for a kill request.

    The first byte on the control socket (``c``) carries this process's credentials: the trusted
    side set SO_PASSCRED, so the kernel attaches the keeper's pid as the trusted side sees it
    (translated out of bubblewrap's pid namespace) and no process can claim another's.  The
    trusted side moves the keeper into the sandbox's cgroups and answers ``g``; only then is the
    runner forked, so it and everything it starts are counted there.
    """
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    ctl_sock = socket.socket(fileno=ctl)
    try:
        ctl_sock.sendall(b"c")
        if ctl_sock.recv(1) != b"g":
            os._exit(0)
    except OSError:
        os._exit(0)
    layers = make_namespaces(disabled, tmpfs_mb)
    lock = -1
    if "namespaces" in layers:
        workdir = WORKDIR
    else:  # degraded: no private tmpfs, so a directory of its own that the keeper removes afterwards
        import fcntl
        import tempfile

        workdir = tempfile.mkdtemp(prefix=WORKDIR_PREFIX, dir="/tmp")
        lock = os.open(workdir, os.O_RDONLY | os.O_DIRECTORY)
        fcntl.flock(lock, fcntl.LOCK_EX)  # held until the keeper exits: a service's start-up clears only unlocked ones
        # and no pid namespace to end every process with the runner: the submission's orphans come here
        LIBC.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    pid = os.fork()
    if pid == 0:
        os.close(ctl)
        os.setsid()  # its own session and process group: kill(0, …) cannot reach the zygote or siblings
        LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        runner(rpc, out, layers, disabled, workdir)
        os._exit(0)
    os.close(rpc)
    os.close(out)
    pidfd = os.pidfd_open(pid)
    import select

    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    poller.register(ctl, select.POLLIN)
    killed_by_request = False
    while True:
        events = dict(poller.poll())
        if pidfd in events:
            break
        if ctl in events:
            data = ctl_sock.recv(16)
            os.kill(pid, signal.SIGKILL)  # pid 1 of the namespace: everything in it dies
            killed_by_request = True
            poller.unregister(ctl)
            if not data:
                break
    _, status, usage = os.wait4(pid, 0)
    cpu = usage.ru_utime + usage.ru_stime
    try:
        ctl_sock.sendall(f"{status} {cpu:.3f} {int(killed_by_request)}".encode())
    except OSError:
        pass
    if workdir != WORKDIR:
        kill_descendants()
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)  # fd-based: does not follow planted symlinks
        os.close(lock)
    os._exit(0)


# --------------------------------------------------------------------------- runner


def drop_capabilities() -> None:
    for cap in range(64):
        LIBC.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    header = Header(0x20080522, 0)
    data = (Data * 2)()
    _check(LIBC.syscall(SYS_CAPSET, ctypes.byref(header), ctypes.byref(data)), "capset")


def tasks_of_my_uid() -> int:
    """Processes and threads of this real uid that this /proc shows."""
    uid, count = str(os.getuid()), 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as f:
                fields = dict(line.split(":", 1) for line in f.read().splitlines() if ":" in line)
        except (OSError, ValueError):
            continue
        if fields.get("Uid", "").split()[:1] == [uid]:
            count += int(fields.get("Threads", "1"))
    return count


def apply_limits(limits: dict, *, own_user_namespace: bool = True) -> None:
    cpu = max(1, int(limits["cpu_seconds"] + 0.999))
    memory = int(limits["memory_mb"]) * 1024 * 1024
    processes = int(limits["processes"])
    if not own_user_namespace:
        # RLIMIT_NPROC counts every task of the real uid in the user namespace: without one of its own
        # that includes the zygote and every other sandbox, so the budget is on top of those.
        processes += tasks_of_my_uid()
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (16 * 1024 * 1024, 16 * 1024 * 1024))
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    LIBC.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def runner(rpc_fd: int, out_fd: int, layers: list[str], disabled: set[str], workdir: str) -> None:
    import channel  # noqa: the framework files sit next to this one

    if "namespaces" in layers and hide_proc():
        layers.append("proc-hidden")
    null = os.open("/dev/null", os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(out_fd, 1)
    os.dup2(out_fd, 2)
    for stream in (sys.stdout, sys.stderr):  # what it printed before a hang or a crash still arrives
        stream.reconfigure(line_buffering=True, write_through=True)
    keep = {0, 1, 2, rpc_fd}
    os.closerange(3, rpc_fd)
    os.closerange(rpc_fd + 1, 1024)
    for fd in (null, out_fd):
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass
    sock = socket.socket(fileno=rpc_fd)
    os.chdir(workdir)
    planned = layers + ["rlimits", "no-new-privs"]
    planned += ["no-capabilities"] if "namespaces" in layers or os.geteuid() == 0 else []
    planned += [] if "seccomp" in disabled else ["seccomp"]
    channel.send(sock, {"hello": planned})
    request = channel.recv(sock, max_bytes=MAX_REQUEST)
    if type(request) is not dict or request.get("op") != "load":
        os._exit(3)
    achieved = list(layers)
    apply_limits(request["limits"], own_user_namespace="namespaces" in layers)
    achieved.append("rlimits")
    if "namespaces" in layers or os.geteuid() == 0:
        try:
            drop_capabilities()
            achieved.append("no-capabilities")
        except OSError:
            pass
    LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    achieved.append("no-new-privs")
    if "seccomp" not in disabled and SECCOMP_PROGRAM:
        try:
            import seccomp_policy

            seccomp_policy.load_bpf(SECCOMP_PROGRAM)
            achieved.append("seccomp")
        except OSError:  # the report says so through the layer list
            pass
    serve(sock, request, achieved)


def serve(sock: socket.socket, request: dict, layers: list[str]) -> None:
    """Report the layers applied, load the submission, then answer calls until killed.

    Each reply carries the number of the request it answers (``channel.py`` describes the
    conversation).  If the runner's own code fails once student code ran, the process
    exits with a status that says so (``channel.EXIT_*``), never with a traceback.
    """
    import channel
    import execution

    tag = request.get("call")
    channel.send(sock, {"call": tag, "layers": layers})  # before a byte of the submission is compiled
    try:
        filename = str(request.get("filename") or "submission.py")
        try:
            source = request["source"]
            source = source.tobytes().decode("utf-8", "surrogatepass") if hasattr(source, "tobytes") else str(source)
            namespace = execution.load_submission(source, filename)
            reply = {"loaded": True}
        except execution.Fault as fault:
            reply = {"fault": [fault.code, fault.message]}
            namespace = None
        _reply(sock, tag, reply)
        if namespace is None:
            _exit(0)
        while True:
            message = channel.recv(sock, max_bytes=MAX_REQUEST, readonly=True)
            if type(message) is not dict or message.get("op") != "call":
                _exit(0)
            result = execution.invoke(namespace, str(message["function"]), tuple(message["args"]),
                                      dict(message["kwargs"]), filename=filename, copy_result=False)
            _reply(sock, message.get("call"), result)
    except EOFError:  # the trusted side closed the channel: nothing left to answer
        _exit(0)
    except BaseException:
        _exit(channel.EXIT_BUILTINS_REPLACED if _builtins_replaced() else channel.EXIT_RUNNER_BROKEN)


def _reply(sock: socket.socket, tag: object, reply: dict) -> None:
    """Send ``reply`` to request ``tag``, or the fault that says why it cannot be sent."""
    import channel

    _flush()
    if _builtins_replaced():  # what the channel's code relies on: its answers would be garbage
        _exit(channel.EXIT_BUILTINS_REPLACED)
    reply["call"] = tag
    try:
        parts = channel.frame(reply)
        if channel.frame_length(parts) > channel.MAX_REPLY:
            parts = channel.frame({"call": tag, "fault": ["bad-return-type",
                                   f"The result is {channel.frame_length(parts) / 2**20:.0f} MB; the largest "
                                   f"accepted result is {channel.MAX_REPLY // 2**20} MB."]})
    except channel.NotPlain as exc:
        parts = channel.frame({"call": tag, "fault": ["bad-return-type", str(exc)[:2000]]})
    except MemoryError:
        parts = channel.frame({"call": tag, "fault": ["memory-limit", "The result did not fit in memory."]})
    for part in parts:
        sock.sendall(part)


#: Bound before any student code runs: the submission may replace ``os._exit`` and builtins.
_exit = os._exit
#: Builtins the runner's own code (this file, the channel, the codec, execution) relies on.
RUNNER_BUILTINS = ("len", "isinstance", "issubclass", "type", "sum", "str", "repr", "int", "float", "bool", "bytes",
                   "memoryview", "list", "tuple", "dict", "range", "enumerate", "zip", "iter", "next", "getattr",
                   "hasattr", "callable", "id", "hash", "super", "object", "BaseException", "Exception", "ValueError",
                   "TypeError", "MemoryError", "EOFError")
_ORIGINAL_BUILTINS = tuple((name, getattr(builtins, name)) for name in RUNNER_BUILTINS)
_BUILTINS = builtins.__dict__


def _builtins_replaced() -> bool:
    for name, original in _ORIGINAL_BUILTINS:  # no builtin called here: they may be the ones replaced
        if _BUILTINS.get(name) is not original:
            return True
    return False


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass


# --------------------------------------------------------------------------- zygote


def zygote(ctl_fd: int, disabled: set[str], tmpfs_mb: int) -> None:
    import numpy  # noqa: F401  (the point of the zygote: imported once, shared by every fork)

    if "seccomp" not in disabled:
        real = ctypes.util.find_library
        names = {"seccomp": "libseccomp.so.2", "c": "libc.so.6"}
        ctypes.util.find_library = lambda name: names.get(name) or real(name)  # no ldconfig subprocess
        try:
            import seccomp_policy

            global SECCOMP_PROGRAM
            SECCOMP_PROGRAM = seccomp_policy.compile_bpf()
        except Exception:  # libseccomp or its bindings missing: the layer is reported absent
            disabled = disabled | {"seccomp"}
    import channel  # noqa: F401
    import execution  # noqa: F401

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # keepers are reaped automatically
    ctl = socket.socket(fileno=ctl_fd)
    ctl.send(b"ready " + ",".join(sorted(disabled)).encode())
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(ctl, 64, 3)
        except OSError:
            os._exit(0)
        if not msg or msg != b"spawn" or len(fds) != 3:
            for fd in fds:
                os.close(fd)
            if not msg:
                os._exit(0)
            continue
        pid = os.fork()
        if pid == 0:
            ctl.close()
            try:
                keeper(*fds, disabled=disabled, tmpfs_mb=tmpfs_mb)
            finally:
                os._exit(1)
        for fd in fds:
            os.close(fd)


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    # argv: child.py CTL_FD DISABLED TMPFS_MB SITE_DIR
    ctl_fd, disabled, tmpfs_mb, site = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
    sys.path[:0] = [here, site]
    sys.dont_write_bytecode = True
    os.umask(0o077)
    zygote(ctl_fd, {d for d in disabled.split(",") if d and d != "-"}, tmpfs_mb)


if __name__ == "__main__":
    main()
