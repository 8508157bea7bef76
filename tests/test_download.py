"""Atomic, checksummed downloads against a local HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import http.server
import socket
import threading
import urllib.request

import pytest

from conn2rnn.datasets import _download as dl
from conn2rnn.datasets.registry import RemoteFile

PAYLOAD = bytes(range(256)) * 64  # 16 KiB
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()
RELPATH = "demo/payload.bin"


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves ``server.routes``: path -> (body, mode); mode "ok" or "truncate"."""

    def do_GET(self):  # noqa: N802 (http.server API)
        self.server.requests.append(self.path)
        if self.path not in self.server.routes:
            self.send_error(404)
            return
        body, mode = self.server.routes[self.path]
        self.send_response(200)
        announced = len(body) * 4 if mode == "truncate" else len(body)
        self.send_header("Content-Length", str(announced))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.routes = {}
    httpd.requests = []
    httpd.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture
def refused_url():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens on this port any more
    return f"http://127.0.0.1:{port}"


def _entry(sha256=PAYLOAD_SHA, size=len(PAYLOAD), url=None):
    return RemoteFile(relpath=RELPATH, url=url, sha256=sha256, size=size, dataset="demo")


def _no_network(*args, **kwargs):
    raise AssertionError("network access attempted")


def test_get_data_dir_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv(dl.DATA_ENV, raising=False)
    assert dl.get_data_dir() == tmp_path / "home" / "conn2rnn_data"
    monkeypatch.setenv(dl.DATA_ENV, str(tmp_path / "env"))
    assert dl.get_data_dir() == tmp_path / "env"
    assert dl.get_data_dir(tmp_path / "arg") == tmp_path / "arg"
    with pytest.raises(TypeError, match="data_dir must be"):
        dl.get_data_dir(3)


def test_resolve_url_precedence(monkeypatch):
    monkeypatch.delenv(dl.URL_ENV, raising=False)
    assert dl.resolve_url("a/b.csv", "https://pinned/b.csv") == "https://pinned/b.csv"
    monkeypatch.setenv(dl.URL_ENV, "http://mirror/")
    assert dl.resolve_url("a/b.csv", "https://pinned/b.csv") == "http://mirror/a/b.csv"
    assert dl.resolve_url("a/b.csv", None, "http://other") == "http://other/a/b.csv"


def test_good_file_cached_and_reused(server, tmp_path, monkeypatch):
    server.routes[f"/{RELPATH}"] = (PAYLOAD, "ok")
    path = dl.fetch_file(_entry(), tmp_path, base_url=server.base_url)
    assert path == tmp_path / RELPATH
    assert path.read_bytes() == PAYLOAD
    assert dl.sha256sum(path) == PAYLOAD_SHA
    assert server.requests == [f"/{RELPATH}"]
    assert sorted(p.name for p in path.parent.iterdir()) == ["payload.bin"]
    monkeypatch.setattr(urllib.request, "urlopen", _no_network)
    assert dl.fetch_file(_entry(), tmp_path, base_url=server.base_url) == path
    assert len(server.requests) == 1


def test_env_mirror_is_used(server, tmp_path, monkeypatch):
    server.routes[f"/{RELPATH}"] = (PAYLOAD, "ok")
    monkeypatch.setenv(dl.URL_ENV, server.base_url)
    monkeypatch.setenv(dl.DATA_ENV, str(tmp_path))
    path = dl.fetch_file(_entry(url="http://127.0.0.1:9/never"))
    assert path.read_bytes() == PAYLOAD


def test_checksum_mismatch_leaves_nothing(server, tmp_path):
    tampered = bytes(reversed(PAYLOAD))  # same size, other bytes
    server.routes[f"/{RELPATH}"] = (tampered, "ok")
    with pytest.raises(dl.DataIntegrityError, match=f"expected {PAYLOAD_SHA}"):
        dl.fetch_file(_entry(), tmp_path, base_url=server.base_url)
    assert not (tmp_path / RELPATH).exists()
    assert list((tmp_path / "demo").iterdir()) == []


def test_size_mismatch_leaves_nothing(server, tmp_path):
    server.routes[f"/{RELPATH}"] = (PAYLOAD[:-1], "ok")
    with pytest.raises(dl.DataIntegrityError, match=f"expected {len(PAYLOAD)}"):
        dl.fetch_file(_entry(), tmp_path, base_url=server.base_url)
    assert list((tmp_path / "demo").iterdir()) == []


def test_interrupted_transfer_leaves_no_corrupt_cache(server, tmp_path):
    server.routes[f"/{RELPATH}"] = (PAYLOAD, "truncate")
    with pytest.raises(dl.DataNotFoundError, match="interrupted: received 16384 of 65536"):
        dl.fetch_file(_entry(), tmp_path, base_url=server.base_url)
    assert list((tmp_path / "demo").iterdir()) == []
    # without any expected checksum the announced length still guards the cache
    with pytest.raises(dl.DataNotFoundError, match="interrupted"):
        dl.download(f"{server.base_url}/{RELPATH}", tmp_path / "x.bin")
    assert not (tmp_path / "x.bin").exists()


def test_offline_error_names_file_and_fix(refused_url, tmp_path):
    with pytest.raises(dl.DataNotFoundError) as info:
        dl.fetch_file(_entry(), tmp_path, base_url=refused_url)
    msg = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert "payload.bin" in msg
    assert f"{refused_url}/{RELPATH}" in msg
    assert str(tmp_path / RELPATH) in msg
    assert "data_dir=" in msg and dl.DATA_ENV in msg and PAYLOAD_SHA in msg
    assert list((tmp_path / "demo").iterdir()) == []


def test_http_error_is_reported(server, tmp_path):
    with pytest.raises(dl.DataNotFoundError, match="404"):
        dl.fetch_file(_entry(), tmp_path, base_url=server.base_url)
    assert list((tmp_path / "demo").iterdir()) == []


def test_no_url_no_mirror(tmp_path, monkeypatch):
    monkeypatch.delenv(dl.URL_ENV, raising=False)
    with pytest.raises(dl.DataNotFoundError, match="has no download URL"):
        dl.fetch_file(_entry(), tmp_path)


def test_corrupt_cache_is_detected_and_refetched(server, tmp_path):
    server.routes[f"/{RELPATH}"] = (PAYLOAD, "ok")
    dest = tmp_path / RELPATH
    dest.parent.mkdir()
    dest.write_bytes(b"corrupt")
    with pytest.warns(RuntimeWarning, match="corrupt or modified"):
        path = dl.fetch_file(_entry(), tmp_path, base_url=server.base_url)
    assert path.read_bytes() == PAYLOAD
    assert len(server.requests) == 1


def test_corrupt_cache_offline_is_reported(refused_url, tmp_path):
    dest = tmp_path / RELPATH
    dest.parent.mkdir()
    dest.write_bytes(b"corrupt")
    with pytest.warns(RuntimeWarning, match="corrupt"), pytest.raises(
        dl.DataNotFoundError, match="payload.bin"
    ):
        dl.fetch_file(_entry(), tmp_path, base_url=refused_url)
    assert dest.read_bytes() == b"corrupt"  # untouched, and still rejected next time


def test_unwritable_data_dir(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(dl.DataNotFoundError, match="writable data folder"):
        dl.download("http://127.0.0.1:9/x", blocker / "sub" / "x.bin")


def test_write_bytes_atomic(tmp_path):
    path = dl.write_bytes_atomic(tmp_path / "a" / "b.txt", b"hello")
    assert path.read_bytes() == b"hello"
    dl.write_bytes_atomic(path, b"bye")
    assert path.read_bytes() == b"bye"
    assert [p.name for p in path.parent.iterdir()] == ["b.txt"]
    assert (path.stat().st_mode & 0o777) == 0o644
