"""The downloader against a local HTTP server that misbehaves in the ways real servers do."""

import gzip
import hashlib
import io
import json
import random
import socket
import tarfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from snakemake.utils import validate

from conftest import REPO, gzip_bomb, run_measured
from selfseed.config import public_downloads
from selfseed.download import (
    cache_name,
    cache_path,
    check_cached,
    fetch,
    geo_platform_annot_url,
    geo_platform_full_url,
    geo_series_matrix_url,
)
from selfseed.errors import ConfigError, DownloadError
from selfseed.inflate import Limits

# 200 kB of incompressible bytes, gzipped: the "data file" every route serves.
PAYLOAD = gzip.compress(random.Random(1).randbytes(200_000), mtime=0)
HALF = len(PAYLOAD) // 2
SLOW_PREFIX = 1000
TABLE = "".join(f"probe{i}\t{i / 7:.4f}\n" for i in range(10_000)).encode()
HTML = b"<!DOCTYPE html>\n<html><head><title>Maintenance</title></head><body>Down</body></html>\n"
# Two Xena matrices whose URLs end in the same file name, with different content.
BRCA = gzip.compress(b"sample\tTCGA-A1-0001-01\nIL6\t1.5\n", mtime=0)
HNSC = gzip.compress(b"sample\tTCGA-BA-0001-01\nIL6\t7.25\n", mtime=0)
GZIP_BOMB = gzip_bomb()  # 1 GB of table lines in 1.5 MB


def tar_bytes(members):
    """An uncompressed tar archive of (name, bytes) members."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def tar_bomb(size=10**9):
    """A .tar.gz of a study folder whose data file inflates to `size` bytes (1,000 times its size)."""
    info = tarfile.TarInfo("study/data_mrna.txt")
    info.size = size
    header = tar_bytes([("study/meta_study.txt", b"cancer_study_identifier: bomb\n")])[:-1024]
    return gzip_bomb(b"\0" * 512, size, head=header + info.tobuf(), tail=b"\0" * 1024)


MANY_MEMBERS = gzip.compress(tar_bytes([(f"study/f{i}.txt", b"") for i in range(300)]), mtime=0)


def send(handler, body, *, status=200, content_type="application/octet-stream", length=None):
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body) if length is None else length))
    handler.end_headers()
    handler.wfile.write(body)


def send_ranged(handler, body):
    """Answer a Range request like a well-behaved server (206, or 416 past the end)."""
    wanted = handler.headers.get("Range")
    if not wanted:
        return send(handler, body)
    start = int(wanted.removeprefix("bytes=").removesuffix("-"))
    if start >= len(body):
        handler.send_response(416)
        handler.send_header("Content-Range", f"bytes */{len(body)}")
        handler.send_header("Content-Length", "0")
        return handler.end_headers()
    handler.send_response(206)
    handler.send_header("Content-Type", "application/octet-stream")
    handler.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
    handler.send_header("Content-Length", str(len(body) - start))
    handler.end_headers()
    handler.wfile.write(body[start:])


def send_piece(handler, body, size):
    """Like a server that gives at most `size` bytes per request: a full-length 200 dropped after
    `size` bytes, or a 206 for a piece of the range asked for."""
    wanted = handler.headers.get("Range")
    if not wanted:
        return send(handler, body[:size], length=len(body))
    start = int(wanted.removeprefix("bytes=").removesuffix("-"))
    end = min(start + size, len(body))
    handler.send_response(206)
    handler.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(body)}")
    handler.send_header("Content-Length", str(end - start))
    handler.end_headers()
    handler.wfile.write(body[start:end])


def drop_midway(handler):
    """Announce the full length, send half, close the connection."""
    send(handler, PAYLOAD[:HALF], length=len(PAYLOAD))


def stall(handler):
    """Announce the full length, send a little, then go silent until the test ends."""
    send(handler, PAYLOAD[:SLOW_PREFIX], length=len(PAYLOAD))
    handler.server.stop.wait(10)


def redirect(handler):
    handler.send_response(302)
    handler.send_header("Location", "/data.gz")
    handler.send_header("Content-Length", "0")
    handler.end_headers()


# path -> handler(request handler, how many times this path was requested so far, this one included)
ROUTES = {
    "/data.gz": lambda h, n: send_ranged(h, PAYLOAD),
    "/redirect.gz": lambda h, n: redirect(h),
    "/missing.gz": lambda h, n: send(h, b"not found", status=404, content_type="text/plain"),
    "/forbidden.gz": lambda h, n: send(h, b"forbidden", status=403, content_type="text/plain"),
    "/flaky.gz": lambda h, n: send(h, b"oops", status=500) if n == 1 else send(h, PAYLOAD),
    "/busy.gz": lambda h, n: send(h, b"slow down", status=429) if n == 1 else send(h, PAYLOAD),
    "/drop.gz": lambda h, n: drop_midway(h) if n == 1 else send_ranged(h, PAYLOAD),
    "/norange.gz": lambda h, n: drop_midway(h) if n == 1 else send(h, PAYLOAD),
    "/truncated.gz": lambda h, n: send(h, PAYLOAD[:-100]),
    "/html.gz": lambda h, n: send(h, HTML, content_type="text/html; charset=utf-8"),
    "/sniffed.gz": lambda h, n: send(h, HTML),
    "/slow.gz": lambda h, n: stall(h),
    "/silent.gz": lambda h, n: h.server.stop.wait(10),
    "/pieces.txt": lambda h, n: send_piece(h, TABLE, 30_000),
    "/table.txt": lambda h, n: send(h, b"gene\tvalue\nIL6\t1.5\n", content_type="text/plain"),
    "/download/TCGA.BRCA.sampleMap/HiSeqV2.gz": lambda h, n: send(h, BRCA),
    "/download/TCGA.HNSC.sampleMap/HiSeqV2.gz": lambda h, n: send(h, HNSC),
    "/bomb.txt.gz": lambda h, n: send(h, GZIP_BOMB),
    "/bomb.tar.gz": lambda h, n: send(h, tar_bomb()),
    "/many.tar.gz": lambda h, n: send(h, MANY_MEMBERS),
}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        with self.server.lock:
            self.server.requests.append((self.path, self.headers.get("Range")))
            count = sum(path == self.path for path, _ in self.server.requests)
        ROUTES[self.path](self, count)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.requests, httpd.lock, httpd.stop = [], threading.Lock(), threading.Event()
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    httpd.url = lambda path: f"http://127.0.0.1:{httpd.server_port}{path}"
    yield httpd
    httpd.stop.set()
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def closed_port_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/GSE1992_series_matrix.txt.gz"


def quick_fetch(url, dest, **options):
    return fetch(url, dest, **{"timeout": 2.0, "retries": 2, "backoff": 0.01, **options})


def manifest_of(dest):
    return json.loads(dest.with_name(dest.name + ".manifest.json").read_text())


def assert_cached(dest, body, url):
    assert dest.read_bytes() == body
    manifest = manifest_of(dest)
    assert manifest["sha256"] == hashlib.sha256(body).hexdigest()
    assert manifest["size"] == len(body)
    assert manifest["url"] == url
    assert not dest.with_name(dest.name + ".part").exists()


def assert_resumed_from_part(requests, path):
    """Two requests, the second asking for the bytes after those kept (the last network chunk
    before the drop may be lost, so at most HALF)."""
    assert [(p, bool(r)) for p, r in requests] == [(path, False), (path, True)]
    start = int(requests[1][1].removeprefix("bytes=").removesuffix("-"))
    assert 0 < start <= HALF


def assert_nothing_cached(dest):
    assert not dest.exists()
    assert not dest.with_name(dest.name + ".manifest.json").exists()


def test_downloads_file_and_records_manifest(server, tmp_path):
    url = server.url("/data.gz")
    dest = quick_fetch(url, tmp_path / "cache" / "data.gz")
    assert dest == tmp_path / "cache" / "data.gz"
    assert_cached(dest, PAYLOAD, url)
    assert manifest_of(dest)["source"] == "downloaded"


def test_follows_redirect(server, tmp_path):
    url = server.url("/redirect.gz")
    dest = quick_fetch(url, tmp_path / "data.gz")
    assert_cached(dest, PAYLOAD, url)
    assert [path for path, _ in server.requests] == ["/redirect.gz", "/data.gz"]


def test_plain_text_file(server, tmp_path):
    url = server.url("/table.txt")
    dest = quick_fetch(url, tmp_path / "table.txt")
    assert_cached(dest, b"gene\tvalue\nIL6\t1.5\n", url)


def test_cached_file_makes_no_request(server, tmp_path):
    url = server.url("/data.gz")
    quick_fetch(url, tmp_path / "data.gz")
    before = manifest_of(tmp_path / "data.gz")
    for _ in range(3):
        quick_fetch(url, tmp_path / "data.gz")
    assert len(server.requests) == 1
    assert manifest_of(tmp_path / "data.gz") == before


@pytest.mark.parametrize(("path", "status"), [("/missing.gz", 404), ("/forbidden.gz", 403)])
def test_client_errors_fail_at_once(server, tmp_path, path, status):
    url = server.url(path)
    dest = tmp_path / "x.gz"
    with pytest.raises(DownloadError, match=f"HTTP {status}") as raised:
        quick_fetch(url, dest)
    assert url in str(raised.value)
    assert len(server.requests) == 1
    assert_nothing_cached(dest)
    assert not dest.with_name("x.gz.part").exists()


@pytest.mark.parametrize("path", ["/flaky.gz", "/busy.gz"])
def test_server_errors_and_429_are_retried(server, tmp_path, path):
    url = server.url(path)
    dest = quick_fetch(url, tmp_path / "x.gz")
    assert_cached(dest, PAYLOAD, url)
    assert len(server.requests) == 2


def test_dropped_connection_is_resumed_with_range(server, tmp_path):
    url = server.url("/drop.gz")
    dest = quick_fetch(url, tmp_path / "x.gz")
    assert_cached(dest, PAYLOAD, url)
    assert_resumed_from_part(server.requests, "/drop.gz")


def test_server_ignoring_range_restarts_from_zero(server, tmp_path):
    url = server.url("/norange.gz")
    dest = quick_fetch(url, tmp_path / "x.gz")
    assert_cached(dest, PAYLOAD, url)
    assert_resumed_from_part(server.requests, "/norange.gz")


def test_partial_ranges_are_joined_until_complete(server, tmp_path):
    """A plain-text file has no gzip check: only Content-Range/Content-Length show it is short.
    Attempts that add bytes do not count against `retries`."""
    url = server.url("/pieces.txt")
    dest = quick_fetch(url, tmp_path / "table.txt", retries=1)
    assert_cached(dest, TABLE, url)
    starts = [int(r.removeprefix("bytes=").removesuffix("-")) for _, r in server.requests[1:]]
    assert server.requests[0] == ("/pieces.txt", None)
    assert len(starts) >= 3
    assert starts == sorted(set(starts))


def test_complete_part_file_answered_416_is_used(server, tmp_path):
    url = server.url("/data.gz")
    (tmp_path / "x.gz.part").write_bytes(PAYLOAD)
    dest = quick_fetch(url, tmp_path / "x.gz")
    assert_cached(dest, PAYLOAD, url)
    assert server.requests == [("/data.gz", f"bytes={len(PAYLOAD)}-")]


def test_stale_part_file_longer_than_remote_restarts(server, tmp_path):
    url = server.url("/data.gz")
    (tmp_path / "x.gz.part").write_bytes(PAYLOAD + b"stale tail")
    dest = quick_fetch(url, tmp_path / "x.gz")
    assert_cached(dest, PAYLOAD, url)
    assert server.requests[-1] == ("/data.gz", None)


def test_truncated_gzip_is_retried_then_an_error(server, tmp_path):
    url = server.url("/truncated.gz")
    dest = tmp_path / "x.gz"
    with pytest.raises(DownloadError, match="gzip file is truncated") as raised:
        quick_fetch(url, dest)
    assert url in str(raised.value)
    assert len(server.requests) == 3
    assert_nothing_cached(dest)
    assert not dest.with_name("x.gz.part").exists()


@pytest.mark.parametrize("path", ["/html.gz", "/sniffed.gz"])
def test_html_page_instead_of_data_is_an_error(server, tmp_path, path):
    url = server.url(path)
    dest = tmp_path / "x.gz"
    with pytest.raises(DownloadError, match="HTML page") as raised:
        quick_fetch(url, dest)
    assert url in str(raised.value)
    assert len(server.requests) == 1
    assert_nothing_cached(dest)
    assert not dest.with_name("x.gz.part").exists()


@pytest.mark.parametrize("path", ["/slow.gz", "/silent.gz"])
def test_stalled_server_times_out(server, tmp_path, path):
    url = server.url(path)
    dest = tmp_path / "x.gz"
    started = time.monotonic()
    with pytest.raises(DownloadError, match="gave up after 2 failed attempts in a row") as raised:
        quick_fetch(url, dest, timeout=0.5, retries=1)
    assert time.monotonic() - started < 4
    assert url in str(raised.value)
    assert_nothing_cached(dest)


def test_expected_sha256_is_checked(server, tmp_path):
    url = server.url("/data.gz")
    good = hashlib.sha256(PAYLOAD).hexdigest()
    assert_cached(quick_fetch(url, tmp_path / "a.gz", expected_sha256=good.upper()), PAYLOAD, url)
    with pytest.raises(DownloadError, match="sha256 differs") as raised:
        quick_fetch(url, tmp_path / "b.gz", expected_sha256="0" * 64)
    assert good in str(raised.value)
    assert len(server.requests) == 2  # a wrong checksum is not worth another download
    assert_nothing_cached(tmp_path / "b.gz")


def test_cached_file_with_other_expected_sha256_is_downloaded_again(server, tmp_path):
    url = server.url("/data.gz")
    dest = tmp_path / "x.gz"
    dest.write_bytes(b"an older version")
    dest.with_name("x.gz.manifest.json").write_text(
        json.dumps({"url": url, "size": 16, "sha256": "1" * 64, "source": "downloaded"})
    )
    quick_fetch(url, dest, expected_sha256=hashlib.sha256(PAYLOAD).hexdigest())
    assert_cached(dest, PAYLOAD, url)
    assert len(server.requests) == 1


def test_offline_error_names_url_and_manual_path(closed_port_url, tmp_path):
    dest = tmp_path / "geo" / "GSE1992_series_matrix.txt.gz"
    with pytest.raises(DownloadError) as raised:
        quick_fetch(closed_port_url, dest)
    message = str(raised.value)
    assert closed_port_url in message
    assert f"save it as {dest}" in message
    assert "ConnectionError" in message
    assert_nothing_cached(dest)


def test_file_placed_by_hand_is_checked_and_gets_manifest(closed_port_url, tmp_path):
    dest = tmp_path / "GSE1992_series_matrix.txt.gz"
    dest.write_bytes(PAYLOAD)
    assert quick_fetch(closed_port_url, dest) == dest
    assert_cached(dest, PAYLOAD, closed_port_url)
    assert manifest_of(dest)["source"] == "placed by hand"


def test_truncated_file_placed_by_hand_is_refused_and_kept(closed_port_url, tmp_path):
    dest = tmp_path / "GSE1992_series_matrix.txt.gz"
    dest.write_bytes(PAYLOAD[:-100])
    with pytest.raises(DownloadError, match="gzip file is truncated") as raised:
        quick_fetch(closed_port_url, dest)
    assert f"placed at {dest}" in str(raised.value)
    assert dest.read_bytes() == PAYLOAD[:-100]
    assert not dest.with_name(dest.name + ".manifest.json").exists()


def test_cached_file_damaged_after_download_is_downloaded_again(server, tmp_path):
    url = server.url("/data.gz")
    dest = quick_fetch(url, tmp_path / "x.gz")
    dest.write_bytes(PAYLOAD[:-100])
    quick_fetch(url, dest)
    assert_cached(dest, PAYLOAD, url)
    assert len(server.requests) == 2


def test_geo_series_matrix_url():
    base = "https://ftp.ncbi.nlm.nih.gov/geo/series"
    assert (
        geo_series_matrix_url("GSE1992")
        == f"{base}/GSE1nnn/GSE1992/matrix/GSE1992_series_matrix.txt.gz"
    )
    assert (
        geo_series_matrix_url("GSE14520", "GPL571")
        == f"{base}/GSE14nnn/GSE14520/matrix/GSE14520-GPL571_series_matrix.txt.gz"
    )
    assert (
        geo_series_matrix_url("gse123")
        == f"{base}/GSEnnn/GSE123/matrix/GSE123_series_matrix.txt.gz"
    )
    assert (
        geo_series_matrix_url("GSE26471", base_url="http://127.0.0.1:8000/geo/")
        == "http://127.0.0.1:8000/geo/series/GSE26nnn/GSE26471/matrix/GSE26471_series_matrix.txt.gz"
    )


def test_geo_platform_urls():
    base = "https://ftp.ncbi.nlm.nih.gov/geo/platforms"
    assert geo_platform_annot_url("GPL570") == f"{base}/GPLnnn/GPL570/annot/GPL570.annot.gz"
    assert geo_platform_annot_url("GPL6244") == f"{base}/GPL6nnn/GPL6244/annot/GPL6244.annot.gz"
    assert (
        geo_platform_full_url("GPL10558")
        == f"{base}/GPL10nnn/GPL10558/soft/GPL10558_family.soft.gz"
    )
    assert (
        geo_platform_full_url("GPL97", base_url="http://localhost/geo")
        == "http://localhost/geo/platforms/GPLnnn/GPL97/soft/GPL97_family.soft.gz"
    )


@pytest.mark.parametrize("bad", ["GSE", "GPL570", "GSE14520x", "14520", ""])
def test_geo_url_rejects_bad_series_accession(bad):
    with pytest.raises(ConfigError, match="GEO GSE accession"):
        geo_series_matrix_url(bad)


def test_cache_path(tmp_path):
    relative = "geo/series/GSE1nnn/GSE1992/matrix/GSE1992_series_matrix.txt.gz"
    url = f"https://ftp.ncbi.nlm.nih.gov/{relative}?tool=selfseed"
    assert cache_path(url, tmp_path) == tmp_path / "ftp.ncbi.nlm.nih.gov" / relative
    with pytest.raises(ConfigError, match="cache file"):
        cache_path("https://example.org/", tmp_path)


@pytest.mark.parametrize(
    "url",
    [
        "https://host/TCGA.BRCA.sampleMap/",  # a folder, not a file
        "https://host/TCGA.BRCA.sampleMap/..",
        "https://host/a/./HiSeqV2.gz",
        "https://host//HiSeqV2.gz",
        "https://host",
        "ftp://host/HiSeqV2.gz",
    ],
)
def test_url_without_a_file_name_is_a_config_error(url):
    with pytest.raises(ConfigError, match="cannot name a cache file") as raised:
        cache_name(url)
    assert repr(url) in str(raised.value)


def xena_config(expression_urls, phenotype="data/phenotype.tsv"):
    """A config of Xena cohorts (one per URL), with the schema defaults filled in."""
    endpoint = {"preset": "tcga_cdr", "table": "cdr.xlsx", "cancer_type": "BRCA"}
    cohorts = {
        f"c{i}": {"source": "xena", "expression": url, "phenotype": phenotype, "endpoint": endpoint}
        for i, url in enumerate(expression_urls)
    }
    config = {"cohorts": cohorts}
    validate(config, str(REPO / "workflow" / "schemas" / "config.schema.yaml"))
    return config


def test_url_ending_in_a_folder_stops_before_any_job_naming_the_cohort():
    with pytest.raises(ConfigError) as raised:
        public_downloads(xena_config(["https://tcga-xena-hub.s3.amazonaws.com/download/"]))
    assert "cohort 'c0'" in str(raised.value)
    assert "cohorts.c0.expression" in str(raised.value)


def test_urls_differing_only_in_the_query_cannot_share_a_cache_file():
    config = xena_config(["https://host/a/HiSeqV2.gz?v=1", "https://host/a/HiSeqV2.gz?v=2"])
    with pytest.raises(ConfigError, match="share one file in the download cache") as raised:
        public_downloads(config)
    assert "cohort 'c0'" in str(raised.value)


def test_two_urls_ending_in_the_same_name_get_their_own_cache_files(server, tmp_path):
    """Xena's BRCA and HNSC matrices are both called HiSeqV2.gz: each cohort gets its own data."""
    urls = [server.url(f"/download/TCGA.{c}.sampleMap/HiSeqV2.gz") for c in ("BRCA", "HNSC")]
    downloads = public_downloads(xena_config(urls))
    names = [downloads.cohort_files(cohort)["expression"] for cohort in ("c0", "c1")]
    assert len(set(names)) == 2
    assert all(name.endswith("/HiSeqV2.gz") for name in names)
    cache = tmp_path / "cache"
    for name, url, body in zip(names, urls, (BRCA, HNSC), strict=True):
        assert downloads[name] == url
        assert_cached(quick_fetch(url, cache / name), body, url)
    assert (cache / names[0]).read_bytes() != (cache / names[1]).read_bytes()


def test_cached_file_of_another_url_is_never_served(server, tmp_path):
    """A shared cache_dir: the file at this place was downloaded from another URL."""
    brca, hnsc = (server.url(f"/download/TCGA.{c}.sampleMap/HiSeqV2.gz") for c in ("BRCA", "HNSC"))
    dest = tmp_path / "HiSeqV2.gz"
    quick_fetch(brca, dest)
    with pytest.raises(DownloadError, match="downloaded from another URL") as raised:
        check_cached(hnsc, dest)  # what ingest does before reading a downloaded file
    assert brca in str(raised.value)
    assert hnsc in str(raised.value)
    assert_cached(quick_fetch(hnsc, dest), HNSC, hnsc)  # downloaded again, not served
    assert [path for path, _ in server.requests] == [
        "/download/TCGA.BRCA.sampleMap/HiSeqV2.gz",
        "/download/TCGA.HNSC.sampleMap/HiSeqV2.gz",
    ]
    check_cached(hnsc, dest)


def test_manifest_records_the_inflated_size_and_is_checked_again_without_it(server, tmp_path):
    url = server.url("/data.gz")
    dest = quick_fetch(url, tmp_path / "x.gz")
    assert manifest_of(dest)["inflated_size"] == 200_000
    old = {k: v for k, v in manifest_of(dest).items() if k != "inflated_size"}
    dest.with_name("x.gz.manifest.json").write_text(json.dumps(old))  # from before the bounds
    quick_fetch(url, dest)
    assert manifest_of(dest)["inflated_size"] == 200_000
    assert len(server.requests) == 1


FETCH_IN_CHILD = """
import sys
from selfseed.download import fetch
from selfseed.inflate import Limits
try:
    fetch({url!r}, {dest!r}, timeout=5, retries=1, backoff=0.01, limits=Limits(max_members=100))
except Exception as error:
    print(type(error).__name__, error, file=sys.stderr)
    sys.exit(1)
"""


@pytest.mark.parametrize(
    ("path", "problem", "fix"),
    [
        ("/bomb.txt.gz", "compressed file inflates to more than the limit", "raise download."),
        ("/bomb.tar.gz", "compressed file inflates to more than the limit", "raise download."),
        ("/many.tar.gz", "more members than the limit: a tar bomb", "the study archive"),
    ],
)
def test_decompression_bomb_is_refused_and_not_cached(server, tmp_path, path, problem, fix):
    """A gzip bomb (1 GB of lines in 1.5 MB), a tar bomb (a 1 GB member) and a tar of 300 members
    (limit 100): refused at the download's check, in bounded memory, and nothing is cached."""
    url = server.url(path)
    dest = tmp_path / "cache" / Path(path).name
    child = run_measured(FETCH_IN_CHILD.format(url=url, dest=str(dest)))
    assert child["returncode"] == 1, child["stderr"]
    assert child["stderr"].startswith("DownloadError")
    assert problem in child["stderr"]
    assert url in child["stderr"]
    assert fix in child["stderr"]
    assert child["peak_mb"] < 250, child["peak_mb"]
    assert len(server.requests) == 1  # a bomb is not worth another attempt
    assert not list(dest.parent.iterdir())  # no file, no manifest, no .part


def test_bomb_placed_by_hand_gets_no_manifest(closed_port_url, tmp_path):
    dest = tmp_path / "GSE1992_series_matrix.txt.gz"
    dest.write_bytes(GZIP_BOMB)
    with pytest.raises(DownloadError, match="inflates to more than the limit"):
        quick_fetch(closed_port_url, dest)
    assert not dest.with_name(dest.name + ".manifest.json").exists()


def test_genuine_file_within_raised_limits_is_accepted(server, tmp_path):
    url = server.url("/bomb.txt.gz")
    dest = quick_fetch(url, tmp_path / "big.txt.gz", limits=Limits(max_inflation_ratio=1000))
    assert manifest_of(dest)["inflated_size"] >= 10**9 - 10**7


def test_full_disk_stops_the_download_with_its_message_and_no_part_file(server, tmp_path):
    """A real full disk (a 64 kB tmpfs) under the cache: the normal message, not a traceback,
    and the partial file is removed (it would only keep the disk full)."""
    from conftest import run_on_small_disk, small_disk_available

    if not small_disk_available():
        pytest.skip("cannot mount a private tmpfs here (unshare -rm)")
    cache = tmp_path / "cache"
    cache.mkdir()
    code = (
        "import os, sys\nfrom selfseed.download import fetch\nfrom selfseed.errors import "
        "EnvironmentFailure\ntry:\n"
        f"    fetch({server.url('/data.gz')!r}, {str(cache / 'geo' / 'data.gz')!r}, retries=0)\n"
        "except EnvironmentFailure as error:\n    print(error, file=sys.stderr)\n"
        f"print(sorted(os.listdir({str(cache / 'geo')!r})))\n"
    )
    child = run_on_small_disk(code, cache)
    assert child.stderr.startswith("the disk is full\n  where:    file "), child.stderr
    assert str(cache / "geo" / "data.gz") in child.stderr
    assert "ENOSPC" in child.stderr
    assert child.stdout.strip() == "[]"  # no .part file, no manifest


def test_cached_file_damaged_after_download_is_not_read(server, tmp_path):
    url = server.url("/data.gz")
    dest = quick_fetch(url, tmp_path / "x.gz")
    check_cached(url, dest)
    dest.write_bytes(PAYLOAD[:-100])
    with pytest.raises(DownloadError, match="changed after it was downloaded"):
        check_cached(url, dest)
    assert_nothing_cached(dest)  # removed: the next run downloads it again
