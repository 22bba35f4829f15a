"""Attacks on the kernel's surface: ptrace, privileges, namespaces and mounts, io_uring, the
32-bit system-call ABI and the other calls the seccomp filter denies."""

from __future__ import annotations

import errno

import pytest

from sandbox_kit import SANDBOX_GID, SANDBOX_UID, exfil
from sandbox_kit import attack, host, sandbox  # noqa: F401  (fixtures)

pytestmark = pytest.mark.attack


@pytest.mark.parametrize("name, calls", [
    ("ptrace_parent", 8),  # attach and seize the parent, pid 1, the grader's pid; traceme; process_vm_readv
    ("unshare_mount", 11),  # four namespaces, setns, two mounts, umount, pivot_root, open_tree, fsopen
    ("io_uring_setup", 3),
])
def test_every_attempt_is_denied_with_eperm(attack, name, calls):
    report = attack(name)
    attack.first_case_only(report, "exception")
    found = exfil(report)
    assert len(found) == calls and set(found.values()) == {errno.EPERM}, found
    attack.host_untouched(report)


def test_setuid_and_chroot_are_denied(attack):
    report = attack("setuid_chroot")
    attack.first_case_only(report, "exception")
    found = exfil(report)
    assert found.pop("uid") == found.pop("euid") == found.pop("uid after") == SANDBOX_UID
    assert found.pop("gid") == SANDBOX_GID
    assert set(found.values()) == {errno.EPERM}, found
    attack.host_untouched(report)


def test_a_32_bit_syscall_kills_the_sandbox_with_sigsys(attack):
    report = attack("int80")
    attack.first_case_only(report, "crashed")
    assert "SIGSYS" in report.tests[0].message
    attack.host_untouched(report)


def test_the_rest_of_the_denied_calls(attack):
    report = attack("denied_syscalls")
    attack.first_case_only(report, "exception")
    found = exfil(report)
    assert found.pop("clone3") == errno.ENOSYS  # so that the C library falls back to clone, whose flags are checked
    assert len(found) == 26 and set(found.values()) == {errno.EPERM}, found
    attack.host_untouched(report)
