"""Attacks over the network: the host's loopback services, raw and unix sockets, DNS.

The sandbox has its own empty network namespace and seccomp refuses new sockets, so every
attempt fails with EPERM before any packet exists.  The host's listening sockets opened by
the test (a TCP port standing for the service's own, a unix socket by path and by abstract
name) must have received no connection (``attack.host_untouched``).
"""

from __future__ import annotations

import errno

import pytest

from sandbox_kit import exfil
from sandbox_kit import attack, host, sandbox  # noqa: F401  (fixtures)

pytestmark = pytest.mark.attack


@pytest.mark.parametrize("service", ["postgresql", "redis", "rabbitmq", "own-port"])
def test_local_tcp_services_are_unreachable(attack, service):
    port = {"postgresql": 5432, "redis": 6379, "rabbitmq": 5672, "own-port": attack.host.tcp.address[1]}[service]
    report = attack("connect_tcp", replace={"__TARGET_PORT__": str(port)})
    attack.first_case_only(report, "exception")
    found = exfil(report)
    assert len(found) == 6 and not any("connected" in str(v) for v in found.values()), found
    assert found["127.0.0.1"] == f"errno {errno.EPERM}"
    attack.host_untouched(report)


def test_no_socket_of_any_family_can_be_opened(attack):
    report = attack("raw_sockets")
    attack.first_case_only(report, "exception")
    found = exfil(report)
    dns = found.pop("dns")
    assert found and set(found.values()) == {errno.EPERM}, found
    assert str(dns).startswith("error"), dns
    attack.host_untouched(report)


def test_unix_sockets_of_the_host_are_unreachable(attack):
    report = attack("unix_sockets")
    attack.first_case_only(report, "exception")
    found = exfil(report)
    assert len(found) == 5 and set(found.values()) == {errno.EPERM}, found
    attack.host_untouched(report)
