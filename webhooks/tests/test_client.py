"""The pinned HTTP client against real loopback receivers that misbehave."""

import socket
import threading
import time
from contextlib import contextmanager

import pytest

from outbox.services import emit
from webhooks import client, delivery
from webhooks.models import Attempt
from webhooks.tests.factories import add_endpoint, approve_sandbox


@contextmanager
def raw_receiver(answer):
    """A TCP server on loopback; `answer(conn)` writes whatever bytes it likes."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    def handle(conn):
        with conn:
            conn.settimeout(1)
            try:
                conn.recv(65536)  # the request
                answer(conn, stop)
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/hooks"
    finally:
        stop.set()
        server.close()


def trickle(conn, stop):
    for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok":
        conn.sendall(bytes([byte]))
        if stop.wait(2):
            return


def hang(conn, stop):
    stop.wait(30)


def many_headers(conn, stop):
    conn.sendall(b"HTTP/1.1 200 OK\r\n" + b"X-A: b\r\n" * 101 + b"Content-Length: 0\r\n\r\n")


def huge_header(conn, stop):
    conn.sendall(b"HTTP/1.1 200 OK\r\nX-A: " + b"a" * 20000 + b"\r\n\r\n")


def chunked(conn, stop):
    conn.sendall(b"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n"
                 b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")


def not_http(conn, stop):
    conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")


@pytest.fixture
def loopback(settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True


@pytest.mark.django_db
def test_a_receiver_trickling_its_answer_is_recorded_as_a_timeout_within_the_deadline(
        loopback, settings, workspace, owner):
    # given a deadline of 4 s and a receiver sending one byte every 2 s, which no
    # per-read timeout would ever stop
    settings.WEBHOOK_ATTEMPT_DEADLINE = 4
    approve_sandbox(workspace)
    with raw_receiver(trickle) as url:
        add_endpoint(workspace, owner, url)
        event = emit(workspace=workspace, environment="sandbox", type="key.revoked", data={})
        # when the attempt is made
        delivery.attempt(delivery.dispatch(event.pk)[0])

    # then it is recorded as a timeout, and ended within the deadline plus one second
    attempt = Attempt.objects.get()
    assert (attempt.status_code, attempt.error) == (None, "Timed out after 4 s")
    assert 4000 <= attempt.latency_ms <= 5000


def test_a_receiver_that_never_answers_times_out_at_the_deadline(loopback):
    with raw_receiver(hang) as url:
        outcome = client.post(url, {}, b"{}", timeout=1)

    assert (outcome.status_code, outcome.error) == (None, "Timed out after 1 s")
    assert 1000 <= outcome.latency_ms <= 2000


@pytest.mark.parametrize(("answer", "error"), [
    (many_headers, "Unreadable response: it sent more than 100 headers"),
    (huge_header, "Unreadable response: its headers exceed 16 KB"),
    (not_http, "Unreadable response: its status line is not HTTP: 'SSH-2.0-OpenSSH_9.2'"),
])
def test_responses_past_the_header_caps_or_not_http_are_failures(loopback, answer, error):
    with raw_receiver(answer) as url:
        outcome = client.post(url, {}, b"{}", timeout=5)

    assert (outcome.status_code, outcome.error) == (None, error)
    assert not outcome.succeeded


def test_a_chunked_answer_is_excerpted_without_its_chunk_sizes(loopback):
    with raw_receiver(chunked) as url:
        outcome = client.post(url, {}, b"{}", timeout=5)

    assert (outcome.status_code, outcome.excerpt) == (202, "hello world")


def test_a_silent_resolver_counts_against_the_deadline(loopback, monkeypatch):
    # The name's resolution never answers (a boundary: the system resolver).
    monkeypatch.setattr("webhooks.client.socket.getaddrinfo",
                        lambda *a, **k: time.sleep(3) or [])

    outcome = client.post("http://hooks.example.com/", {}, b"{}", timeout=1)

    assert (outcome.status_code, outcome.error) == (None, "Timed out after 1 s")
    assert outcome.latency_ms < 2000
