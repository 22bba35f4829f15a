"""Connections that misbehave (issue 11 section 2): slow headers and slow bodies are cut off while
the service keeps answering others, a client that hangs up mid-upload costs one log line, and
/metrics answers loopback clients, or others with its token.  Raw sockets against a live server."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest

from service.api.errors import ApiError
from service.api.routers.health import metrics_allowed

HEADER_TIMEOUT = 1.0
BODY_TIMEOUT = 2.0
DRIBBLE = 0.25  # seconds between two bytes of a slow client
CUT_OFF_WITHIN = 30.0  # a generous bound, only so that a server that never cuts off fails the test


def connect(port: int, host: str = "127.0.0.1") -> socket.socket:
    return socket.create_connection((host, port), timeout=5)


def dribble_until_closed(sock: socket.socket, chunks: list[bytes]) -> bytes:
    """Send ``chunks`` one by one, DRIBBLE apart (then keep sending harmless bytes), until the
    server closes the connection; returns whatever it answered."""
    answer = b""
    deadline = time.monotonic() + CUT_OFF_WITHIN
    sock.settimeout(DRIBBLE)
    i = 0
    while time.monotonic() < deadline:
        try:
            sock.sendall(chunks[i] if i < len(chunks) else b"a")
        except (BrokenPipeError, ConnectionResetError):
            return answer
        i += 1
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return answer
        if not data:
            return answer
        answer += data
    raise AssertionError(f"the server held a slow connection for {CUT_OFF_WITHIN} s; it answered {answer!r}")


def header_chunks() -> list[bytes]:
    return [bytes([b]) for b in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "] + [b"a"] * 1000


@pytest.mark.parametrize("backend", ["sqlite"])
def test_slow_headers_and_slow_bodies_are_cut_off_while_others_are_served(start_service):
    svc = start_service(grade_in_process=False, header_timeout=HEADER_TIMEOUT, body_timeout=BODY_TIMEOUT,
                        log_level="info")
    token = svc.token("student", "ada")
    idle = [connect(svc.port) for _ in range(20)]  # connect and send nothing
    answers: dict[str, bytes] = {}

    def slow_headers(i: int) -> None:
        with connect(svc.port) as sock:
            answers[f"headers{i}"] = dribble_until_closed(sock, header_chunks())

    def slow_body(i: int) -> None:
        head = (f"POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
                f"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n").encode()
        with connect(svc.port) as sock:
            sock.sendall(head)
            answers[f"body{i}"] = dribble_until_closed(sock, [b'{"exercise": "dense", "source": "'])

    slow = [threading.Thread(target=slow_headers, args=(i,)) for i in range(20)]
    slow += [threading.Thread(target=slow_body, args=(i,)) for i in range(5)]
    for t in slow:
        t.start()
    others = httpx.Client(base_url=svc.base, timeout=10)
    served = 0
    while any(t.is_alive() for t in slow):
        assert others.get("/healthz").status_code == 200
        assert others.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        served += 1
    for t in slow:
        t.join()
    others.close()
    assert served > 0 and len(answers) == 25
    assert all(answers[f"headers{i}"] == b"" for i in range(20))  # closed without an answer
    for i in range(5):
        assert answers[f"body{i}"].startswith(b"HTTP/1.1 408 ") and b'"request-timeout"' in answers[f"body{i}"]
    for sock in idle:
        sock.settimeout(CUT_OFF_WITHIN)
        assert sock.recv(1) == b""  # idle connections are closed too
        sock.close()
    assert "no complete request headers within 1 s" in svc.log
    assert "Traceback" not in svc.log


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("content_type, start", [
    ("application/json", b'{"exercise": "dense", "filename": "dense.py", "source": "'),
    ("multipart/form-data; boundary=xyz",
     b'--xyz\r\nContent-Disposition: form-data; name="exercise"\r\n\r\ndense\r\n'
     b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="dense.py"\r\n\r\nimport numpy\n'),
], ids=["json", "multipart"])
def test_a_client_hanging_up_mid_upload_is_one_log_line(start_service, content_type, start):
    svc = start_service(grade_in_process=False, log_level="info")
    token = svc.token("student", "ada")
    head = (f"POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: 500000\r\n\r\n").encode()
    with connect(svc.port) as sock:
        sock.sendall(head + start + b"x" * 20000)
        time.sleep(0.5)  # let the route start reading the body
    deadline = time.monotonic() + CUT_OFF_WITHIN
    while "went away" not in svc.log:
        assert time.monotonic() < deadline, svc.log[-3000:]
        time.sleep(0.1)
    assert httpx.get(svc.base + "/healthz").status_code == 200  # and the server still serves
    lines = svc.log.splitlines()
    assert len([line for line in lines if "went away" in line]) == 1, svc.log
    assert "Traceback" not in svc.log and "ERROR" not in svc.log, svc.log


# ------------------------------------------------------------------ /metrics


def test_metrics_access_is_decided_by_the_client_address_and_the_token():
    for loopback in ("127.0.0.1", "127.8.9.1", "::1"):
        metrics_allowed(client_host=loopback, authorization="", token=None)
        metrics_allowed(client_host=loopback, authorization="Bearer wrong", token="s3cret")
    for outside in ("192.0.2.7", "10.0.0.1", "::ffff:192.0.2.7", "", "testclient"):
        with pytest.raises(ApiError) as refused:
            metrics_allowed(client_host=outside, authorization="Bearer anything", token=None)
        assert refused.value.status == 403 and refused.value.code == "metrics-loopback-only"
        for wrong in ("", "Bearer wrong", "Basic s3cret", "Bearer s3cre", "s3cret"):
            with pytest.raises(ApiError) as refused:
                metrics_allowed(client_host=outside, authorization=wrong, token="s3cret")
            assert refused.value.status == 401 and refused.value.code == "invalid-metrics-token"
        metrics_allowed(client_host=outside, authorization="Bearer s3cret", token="s3cret")
        metrics_allowed(client_host=outside, authorization="bearer  s3cret ", token="s3cret")


def outside_address() -> str:
    """This machine's address on its default route (not loopback), or skip if it has none."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the source address
        except OSError as exc:
            pytest.skip(f"no non-loopback IPv4 address on this machine: {exc}")
        address = probe.getsockname()[0]
    if address.startswith("127."):
        pytest.skip("no non-loopback IPv4 address on this machine")
    return address


@pytest.mark.parametrize("backend", ["sqlite"])
def test_metrics_from_another_address_needs_the_token(start_service):
    address = outside_address()
    svc = start_service(grade_in_process=False, host="0.0.0.0", metrics_token="s3cret-metrics")
    outside = f"http://{address}:{svc.port}/metrics"
    assert httpx.get(svc.base + "/metrics").status_code == 200  # loopback: open
    refused = httpx.get(outside)
    assert refused.status_code == 401 and refused.json()["code"] == "invalid-metrics-token"
    assert httpx.get(outside, headers={"Authorization": "Bearer wrong"}).status_code == 401
    allowed = httpx.get(outside, headers={"Authorization": "Bearer s3cret-metrics"})
    assert allowed.status_code == 200 and "nngrade_queue_depth" in allowed.text
    svc.stop()
    svc.env.pop("NNGRADE_METRICS_TOKEN")
    svc.start()
    refused = httpx.get(outside, headers={"Authorization": "Bearer s3cret-metrics"})
    assert refused.status_code == 403 and refused.json()["code"] == "metrics-loopback-only"
    assert httpx.get(f"http://{address}:{svc.port}/healthz").status_code == 200  # only /metrics is closed


# ------------------------------------------------------------------ the listening socket


def test_the_served_socket_sends_without_delay():
    """``nngrade serve``'s socket is one asyncio knows for TCP, so its connections get TCP_NODELAY:
    without it each keep-alive response waited for the client's delayed ACK (about 40 ms)."""
    import asyncio

    from service.cli.server import listen

    listening = listen("127.0.0.1", 0)
    port = listening.getsockname()[1]
    nodelay: list[int] = []

    class Probe(asyncio.Protocol):
        def connection_made(self, transport) -> None:
            sock = transport.get_extra_info("socket")
            nodelay.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    async def one_connection() -> None:
        server = await asyncio.get_running_loop().create_server(Probe, sock=listening)
        async with server:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            while not nodelay:
                await asyncio.sleep(0.01)
            writer.close()

    # In a thread of its own: an earlier test's library (Playwright's sync API) may leave this
    # thread's event loop running, and asyncio.run refuses to nest.
    failed: list[BaseException] = []

    def probe() -> None:
        try:
            asyncio.run(asyncio.wait_for(one_connection(), CUT_OFF_WITHIN))
        except BaseException as exc:  # handed to the test's thread
            failed.append(exc)

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join()
    if failed:
        raise failed[0]
    assert nodelay and nodelay[0] != 0
