"""Starting a zygote: the command line that builds the sandbox, and the control channel.

With bubblewrap the zygote sees a read-only, minimal filesystem: ``/usr`` (shared
libraries), the Python runtime at ``/opt/python``, NumPy and pyseccomp at ``/opt/site``,
and the five runner files at ``/opt/nngrade``; a tmpfs at ``/tmp``; a fresh ``/dev`` and
``/proc``.  Not the project, not ``reference/`` or ``graders/`` (except the three portable
framework files), not the data directory, ``/root``, ``/home`` or ``/etc``.  It runs as
uid 65534 in new user, pid, network, IPC, UTS and cgroup namespaces, with an empty
environment but for the thread caps.

Without bubblewrap (degraded mode) the zygote is a plain child process started with the
same empty environment, from the same mirror of the runner files and NumPy (never under
``/tmp``, which each sandbox covers); the per-submission namespaces, limits and seccomp
still apply where the kernel allows them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy

from graders.framework.proxy import RunnerUnavailable

from .child import PRIVATE_MOUNTS, WORKDIR_PREFIX

HERE = Path(__file__).resolve().parent
FRAMEWORK = HERE.parent.parent / "graders" / "framework"
RUNNER_FILES = {
    "child.py": HERE / "child.py",
    "channel.py": HERE / "channel.py",
    "seccomp_policy.py": HERE / "seccomp_policy.py",
    "plain.py": FRAMEWORK / "plain.py",
    "execution.py": FRAMEWORK / "execution.py",
}
THREAD_ENV = {
    "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1", "VECLIB_MAXIMUM_THREADS": "1", "BLIS_NUM_THREADS": "1",
}
START_TIMEOUT = 20.0
SANDBOX_UID = 65534
MIRROR_ROOT = Path("/var/cache/nngrade")
#: Parts of the standard library a submission never needs (and tests, which are large).
STDLIB_SKIP = {"site-packages", "dist-packages", "test", "idlelib", "tkinter", "turtledemo", "ensurepip",
               "lib2to3", "__pycache__"}


class SandboxStartError(RunnerUnavailable):
    """The sandbox could not be started (the pool says so instead of hanging)."""


def _site_paths() -> dict[str, Path]:
    numpy_dir = Path(numpy.__file__).resolve().parent
    paths = {"numpy": numpy_dir}
    libs = numpy_dir.parent / "numpy.libs"
    if libs.is_dir():
        paths["numpy.libs"] = libs
    try:
        import pyseccomp

        paths["pyseccomp.py"] = Path(pyseccomp.__file__).resolve()
    except Exception:  # libseccomp missing: the layer is reported absent
        pass
    return paths


def python_runtime() -> tuple[Path, Path]:
    """(base prefix, interpreter path relative to it) of the running Python."""
    base = Path(sys.base_prefix).resolve()
    exe = Path(os.path.realpath(sys.executable))
    try:
        rel = exe.relative_to(base)
    except ValueError:
        rel = Path("bin") / f"python{sys.version_info.major}.{sys.version_info.minor}"
    return base, rel


def _link_tree(src: Path, dst: Path, skip: set[str] = frozenset()) -> None:
    """Mirror ``src`` at ``dst`` with hard links (copies where linking fails): instant, no extra disk."""
    if src.is_file():
        dst.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)
        return
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames[:] = [d for d in dirnames if d not in skip]
        rel = Path(dirpath).relative_to(src)
        target = dst / rel
        target.mkdir(parents=True, exist_ok=True)
        os.chmod(target, 0o755)
        for name in filenames:
            s_path, d_path = Path(dirpath) / name, target / name
            if os.path.islink(s_path):
                os.symlink(os.readlink(s_path), d_path)
                continue
            try:
                os.link(s_path, d_path)
            except OSError:
                shutil.copy2(s_path, d_path)


def cache_root() -> Path:
    """Where the runtime mirrors live: root-owned ``/var/cache/nngrade`` for root, else the user's cache."""
    if os.geteuid() == 0:
        return MIRROR_ROOT
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base).resolve() / "nngrade"


def masked_by(path: Path) -> str | None:
    """The private mount of every sandbox that hides ``path`` from it (``/tmp``, ``/dev/shm``), if any."""
    resolved = Path(os.path.realpath(path))
    for mount in PRIVATE_MOUNTS:
        if resolved == Path(mount) or Path(mount) in resolved.parents:
            return mount
    return None


class Runtime:
    """What a sandbox needs, gathered in one directory that the sandbox can always read.

    The runner files must sit together (``child.py`` imports the others from its own
    directory) and NumPy in a directory of its own (``sys.path`` shows the sandbox nothing
    else of site-packages), so both are mirrored into ``runtime-KEY/nngrade`` and
    ``runtime-KEY/site``, once per version of them, and reused.  The mirror is never under
    ``/tmp`` or ``/dev/shm``: each sandbox covers those with a private tmpfs after the zygote
    forked it, and NumPy imports submodules (``numpy.random``, ``numpy.linalg``) lazily, so
    everything the zygote imports from must stay visible there.

    When the service runs as root, the sandbox must not: a process whose host uid is 0
    is exempt from RLIMIT_NPROC (a fork bomb is not stopped) and owns every root file
    should it ever escape its mount namespace.  So the zygote runs as uid 65534, and the
    Python runtime (often under an unreadable ``/root``) is mirrored as well, by hard links
    under root-owned ``/var/cache/nngrade``.  Otherwise the mirror is in the user's cache
    and the interpreter is used where it is (unless it is under ``/tmp`` too).
    """

    def __init__(self) -> None:
        self.base, self.rel = python_runtime()
        self.site = _site_paths()
        self.runner = dict(RUNNER_FILES)
        self.uid: int | None = SANDBOX_UID if os.geteuid() == 0 else None
        self.mirror_python = os.geteuid() == 0 or masked_by(self.base) is not None
        self.dir = str(self._ensure_mirror())
        self._use_mirror(Path(self.dir))

    @property
    def code_dir(self) -> Path:
        """The directory of the runner files (``child.py`` and what it imports)."""
        return Path(self.dir) / "nngrade"

    @property
    def site_dir(self) -> Path:
        """The only site directory on the sandbox's ``sys.path``: NumPy (and pyseccomp)."""
        return Path(self.dir) / "site"

    def _key(self) -> str:
        """Changes whenever anything mirrored changes (interpreter, NumPy, runner files)."""
        h = hashlib.sha256()
        h.update(f"{self.base}|{self.rel}|{sys.version}|{self.mirror_python}".encode())
        for name, path in sorted(self.site.items()):
            st = path.stat()
            h.update(f"{name}|{path}|{st.st_mtime_ns}|{st.st_ino}".encode())
        for name, path in sorted(RUNNER_FILES.items()):
            h.update(name.encode() + path.read_bytes())
        return h.hexdigest()[:16]

    def _ensure_mirror(self) -> Path:
        """The mirror for this key, made once per machine (atomically) and then reused.

        It lives in a directory owned by this user that no one else can write (never /tmp,
        where another user could plant one, and which every sandbox covers anyway).
        """
        root = cache_root()
        hidden = masked_by(root)
        if hidden:
            raise SandboxStartError(f"the sandbox's runtime cache {root} is under {hidden}, which every sandbox "
                                    f"covers with a private tmpfs: set XDG_CACHE_HOME to a directory elsewhere")
        root.mkdir(parents=True, exist_ok=True)
        os.chmod(root, 0o755)
        st = root.stat()
        if st.st_uid != os.geteuid() or st.st_mode & 0o022:
            raise SandboxStartError(f"{root} is not owned by uid {os.geteuid()} alone; refusing to use it")
        final = root / f"runtime-{self._key()}"
        if (final / "ready").is_file() and final.stat().st_uid == os.geteuid():
            return final
        building = Path(tempfile.mkdtemp(prefix="building-", dir=root))
        try:
            self._build(building)
            (building / "ready").write_text("")
            for dirpath, _, _ in os.walk(building):
                os.chmod(dirpath, 0o755)
            try:
                os.rename(building, final)
            except OSError:  # another process won the race, or a stale incomplete one is there
                if not (final / "ready").is_file():
                    shutil.rmtree(final, ignore_errors=True)
                    os.rename(building, final)
        finally:
            shutil.rmtree(building, ignore_errors=True)
        return final

    def _build(self, root: Path) -> None:
        if self.mirror_python:
            py = root / "python"
            _link_tree(self.base / self.rel, py / self.rel)
            lib = self.base / "lib"
            for entry in lib.iterdir() if lib.is_dir() else []:
                if entry.name.startswith("libpython"):
                    _link_tree(entry, py / "lib" / entry.name)
            ver = f"python{sys.version_info.major}.{sys.version_info.minor}"
            _link_tree(lib / ver, py / "lib" / ver, STDLIB_SKIP)
        for name, path in self.site.items():
            _link_tree(path, root / "site" / name, {"tests", "__pycache__"})
        for name, path in RUNNER_FILES.items():
            _link_tree(path, root / "nngrade" / name)
            os.chmod(root / "nngrade" / name, 0o644)

    def _use_mirror(self, root: Path) -> None:
        if self.mirror_python:
            self.base = root / "python"
        self.site = {name: root / "site" / name for name in self.site}
        self.runner = {name: root / "nngrade" / name for name in RUNNER_FILES}

    def cleanup(self) -> None:
        """Nothing to release: the mirror is shared and reused (it costs inodes, not data)."""


def clean_stale_workdirs(tmp: str = "/tmp") -> list[str]:
    """Remove the working directories that keepers without a mount namespace left behind.

    A live keeper holds an flock on its directory, so only those of keepers that were killed
    (a service killed with everything it started) are unlocked.  Returns what was removed.
    """
    import fcntl

    removed = []
    for entry in os.scandir(tmp):
        if not entry.name.startswith(WORKDIR_PREFIX) or not entry.is_dir(follow_symlinks=False):
            continue
        try:
            fd = os.open(entry.path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a live keeper's
        finally:
            os.close(fd)
        shutil.rmtree(entry.path, ignore_errors=True)  # fd-based: does not follow planted symlinks
        removed.append(entry.path)
    return removed


def bwrap_available() -> bool:
    return shutil.which("bwrap") is not None


def bwrap_command(runtime: Runtime, ctl_fd: int, disabled: str, tmpfs_mb: int) -> list[str]:
    base, rel = runtime.base, runtime.rel
    cmd = [
        "bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
        "--uid", "65534", "--gid", "65534", "--hostname", "sandbox", "--clearenv",
        "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", "/tmp", "--setenv", "LANG", "C.UTF-8",
        "--setenv", "LD_LIBRARY_PATH", "/opt/python/lib",
        "--ro-bind", "/usr", "/usr",
    ]
    for name, value in THREAD_ENV.items():
        cmd += ["--setenv", name, value]
    for top in ("/lib", "/lib64", "/lib32", "/bin", "/sbin"):
        if os.path.islink(top):
            cmd += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            cmd += ["--ro-bind", top, top]
    cmd += ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache", "--ro-bind", str(base), "/opt/python"]
    for name, path in runtime.site.items():
        cmd += ["--ro-bind", str(path), f"/opt/site/{name}"]
    for name, path in runtime.runner.items():
        cmd += ["--ro-bind", str(path), f"/opt/nngrade/{name}"]
    cmd += [
        "--proc", "/proc", "--dev", "/dev", "--size", str(64 * 1024 * 1024), "--tmpfs", "/tmp",
        "--dir", "/dev/shm", "--chdir", "/tmp",
        # bubblewrap builds / and /dev as writable tmpfs shared by every submission of this zygote:
        # read-only, or one submission could leave files (e.g. /opt/nngrade/random.py) for the next.
        "--remount-ro", "/dev", "--remount-ro", "/",
        "--", f"/opt/python/{rel}", "-I", "-S", "/opt/nngrade/child.py", str(ctl_fd), disabled or "-",
        str(tmpfs_mb), "/opt/site",
    ]
    return cmd


@dataclass
class Zygote:
    """One running zygote and its control socket."""

    use_bwrap: bool
    disabled: frozenset[str]
    runtime: Runtime
    tmpfs_mb: int = 64
    process: subprocess.Popen | None = None
    ctl: socket.socket | None = None
    seccomp_available: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def outer_layers(self) -> list[str]:
        return ["process", "empty-env"] + (["bwrap"] if self.use_bwrap else [])

    def start(self) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        disabled = ",".join(sorted(self.disabled))
        try:
            if self.use_bwrap:
                cmd = bwrap_command(self.runtime, child.fileno(), disabled, self.tmpfs_mb)
                env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
                cwd = "/"
            else:
                cmd, env, cwd = self._degraded_command(child.fileno(), disabled)
            uid = self.runtime.uid
            drop = {"user": uid, "group": uid, "extra_groups": []} if uid is not None else {}
            self.process = subprocess.Popen(cmd, pass_fds=(child.fileno(),), env=env, cwd=cwd, **drop,
                                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.PIPE, start_new_session=True)
        except OSError as exc:
            parent.close()
            child.close()
            raise SandboxStartError(f"could not start the sandbox: {exc}") from None
        child.close()
        parent.settimeout(START_TIMEOUT)
        try:
            hello = parent.recv(256)
        except (socket.timeout, OSError):
            hello = b""
        if not hello.startswith(b"ready"):
            err = b""
            self.process.kill()
            try:
                _, err = self.process.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            parent.close()
            raise SandboxStartError("the sandbox did not start: " + (err or b"no answer").decode(errors="replace")[-2000:])
        off = set(hello[6:].decode().split(",")) - {""}
        self.seccomp_available = "seccomp" not in off
        parent.settimeout(None)
        self.ctl = parent
        # the zygote writes nothing more to stderr unless it breaks; do not let a full pipe block it
        threading.Thread(target=self._drain, args=(self.process,), daemon=True).start()

    @staticmethod
    def _drain(process: subprocess.Popen) -> None:
        try:
            assert process.stderr is not None
            while process.stderr.read(65536):
                pass
        except (OSError, ValueError):
            pass

    def _degraded_command(self, ctl_fd: int, disabled: str) -> tuple[list[str], dict[str, str], str]:
        """The zygote without bubblewrap: the same mirrored runner files and NumPy, an empty environment."""
        env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8",
               "LD_LIBRARY_PATH": str(self.runtime.base / "lib"), **THREAD_ENV}
        python = str(self.runtime.base / self.runtime.rel)
        cmd = [python, "-I", "-S", str(self.runtime.code_dir / "child.py"), str(ctl_fd), disabled or "-",
               str(self.tmpfs_mb), str(self.runtime.site_dir)]
        return cmd, env, "/"

    def spawn(self) -> tuple[socket.socket, int, socket.socket]:
        """Ask for one sandbox: returns (rpc socket, output pipe read end, keeper socket)."""
        if self.ctl is None:
            raise SandboxStartError("the zygote is not running")
        rpc_parent, rpc_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        keep_parent, keep_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        keep_parent.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)  # the keeper's pid, from the kernel
        out_r, out_w = os.pipe()
        try:
            with self._lock:
                socket.send_fds(self.ctl, [b"spawn"], [rpc_child.fileno(), out_w, keep_child.fileno()])
        except OSError as exc:
            rpc_parent.close()
            keep_parent.close()
            os.close(out_r)
            raise SandboxStartError(f"the zygote stopped answering: {exc}") from None
        finally:
            rpc_child.close()
            keep_child.close()
            os.close(out_w)
        return rpc_parent, out_r, keep_parent

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.ctl is not None:
            self.ctl.close()
            self.ctl = None
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
