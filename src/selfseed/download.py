"""Download public files (GEO, TCGA, cBioPortal) into a cache directory, intact or not at all.

A file is fetched to ``<dest>.part`` beside its final place, resumed with HTTP Range after a
dropped connection, retried with exponential backoff on transient errors, checked (length,
complete gzip, not an HTML page, optional sha256) and only then moved to ``dest`` with
``os.replace``. A manifest ``<dest>.manifest.json`` records url, size, sha256 and date; a file with
a valid manifest is used without any network call. A file placed at ``dest`` by hand is checked
and given a manifest.
"""

import json
import logging
import os
import re
import tarfile
import time
import zlib
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import requests

from selfseed import __version__
from selfseed.errors import ConfigError, DownloadError, environment_errno, environment_failure
from selfseed.files import replaced, sha256
from selfseed.inflate import InflationError, Limits, check_archive, is_gzip, open_inflated

GEO_BASE_URL = "https://ftp.ncbi.nlm.nih.gov/geo"
MAX_BACKOFF_SECONDS = 60.0
_CHUNK_BYTES = 1 << 13  # urllib3 loses the chunk being read when a connection drops
_HEADERS = {"User-Agent": f"selfseed/{__version__}", "Accept-Encoding": "identity"}

log = logging.getLogger(__name__)


class _Failed(Exception):
    """One failed attempt: `retry` whether another attempt may help, `resume` whether the .part
    file is good to continue from."""

    def __init__(self, problem, *, found=None, expected=None, retry=True, resume=False, fix=None):
        super().__init__(problem)
        self.problem, self.found, self.expected, self.fix = problem, found, expected, fix
        self.retry, self.resume = retry, resume


def fetch(
    url,
    dest,
    *,
    timeout=60.0,
    retries=5,
    backoff=2.0,
    expected_sha256=None,
    session=None,
    limits=None,
):
    """Download `url` to `dest` and return `dest` as a Path; use the cached copy when its manifest
    is valid and records this URL. `timeout` is seconds without data before an attempt fails; up
    to `retries` further attempts follow after `backoff`, 2 x `backoff`, 4 x `backoff`... seconds
    (at most 60); an attempt that added bytes to the partial file resets this count. A gzip file
    or archive must inflate within `limits` (selfseed.inflate.Limits; default: its defaults).
    A full disk or a permission problem removes the partial file and raises EnvironmentFailure."""
    dest = Path(dest)
    limits = limits or Limits()
    part = dest.with_name(dest.name + ".part")
    try:
        return _fetch(url, dest, part, timeout, retries, backoff, expected_sha256, session, limits)
    except (OSError, MemoryError) as error:
        failure = environment_failure(error, dest)
        if failure is None:
            raise
        part.unlink(missing_ok=True)
        raise failure from None


def _fetch(url, dest, part, timeout, retries, backoff, expected_sha256, session, limits):
    if dest.exists() and _use_existing(url, dest, expected_sha256, limits):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    own_session = session is None
    session = session or requests.Session()
    try:
        failures = 0
        while True:
            kept = part.stat().st_size if part.exists() else 0
            try:
                _download_part(session, url, part, timeout)
                size, sha256, inflated = _verify(part, dest.name, expected_sha256, limits)
                break
            except _Failed as failed:
                if not failed.resume:
                    part.unlink(missing_ok=True)
                if not failed.retry:
                    raise _download_error(url, dest, failed) from None
                grew = part.exists() and part.stat().st_size > kept
                failures = 1 if grew else failures + 1
                if failures > retries:
                    failed.problem = (
                        f"gave up after {failures} failed attempts in a row: {failed.problem}"
                    )
                    raise _download_error(url, dest, failed) from None
                delay = min(backoff * 2 ** (failures - 1), MAX_BACKOFF_SECONDS)
                log.warning("%s: %s; retrying in %.1f s", url, failed.problem, delay)
                time.sleep(delay)
    finally:
        if own_session:
            session.close()
    _manifest_path(dest).unlink(missing_ok=True)
    os.replace(part, dest)
    _write_manifest(dest, url, size, sha256, inflated, source="downloaded")
    return dest


def cache_name(url):
    """The place of `url` in the download cache, relative to it: <host>/<path of the URL>, so two
    URLs ending in the same file name (Xena's TCGA.BRCA.sampleMap/HiSeqV2.gz and
    TCGA.HNSC.sampleMap/HiSeqV2.gz) get two files. The query string is not part of it."""
    parts = urlsplit(url)
    segments = parts.path.split("/")[1:]
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or not segments
        or any(segment in ("", ".", "..") for segment in segments)
    ):
        raise ConfigError(
            "cannot name a cache file for this URL",
            found=repr(url),
            expected="an http(s) URL ending in a file name, without '.', '..' or empty path "
            "segments, e.g. https://host/dir/file.txt.gz",
            fix="give the URL of the file itself (not of a folder)",
        )
    return f"{parts.netloc}/{'/'.join(segments)}"


def cache_path(url, cache_dir):
    """The place of `url` in `cache_dir`: <cache_dir>/<host>/<path of the URL>."""
    return Path(cache_dir) / cache_name(url)


def cached_url(dest):
    """The URL the manifest beside `dest` records, or None."""
    manifest = _read_manifest(Path(dest))
    return manifest.get("url") if manifest else None


def check_cached(url, dest, limits=None):
    """Before a cached file is read: it is `url`'s (its manifest records that URL) and passes the
    checks; a file placed by hand without a manifest is checked and given one. No network."""
    dest = Path(dest)
    recorded = cached_url(dest)
    if recorded is not None and recorded == fallback_url(url):
        url = recorded
    if recorded is not None and recorded != url:
        raise DownloadError(
            "the cached file was downloaded from another URL",
            file=dest,
            found=f"its manifest records {recorded}",
            expected=url,
            fix=f"delete {dest} and {_manifest_path(dest).name}, then run again to download it",
        )
    if not _use_existing(url, dest, None, limits or Limits()):  # damaged since: removed
        raise DownloadError(
            "the cached file changed after it was downloaded (it no longer matches its manifest) "
            "and was removed",
            file=dest,
            expected=f"the file as downloaded from {url}",
            fix="run again: it is downloaded again",
        )


def fallback_url(url):
    """What is downloaded in place of `url` when the server has no such file: a GEO platform's full
    SOFT table for its .annot.gz (GEO has no .annot file for some platforms), else None."""
    if url.endswith(".annot.gz") and "/annot/" in url:
        return url.replace("/annot/", "/soft/").replace(".annot.gz", "_family.soft.gz")
    return None


def geo_series_matrix_url(gse, gpl=None, *, base_url=GEO_BASE_URL):
    """URL of a GEO series matrix; `gpl` for a multi-platform series (<GSE>-<GPL>_series_...)."""
    gse = _geo_accession(gse, "GSE")
    name = f"{gse}-{_geo_accession(gpl, 'GPL')}" if gpl else gse
    return (
        f"{base_url.rstrip('/')}/series/{_geo_folder(gse)}/{gse}/matrix/{name}_series_matrix.txt.gz"
    )


def geo_platform_annot_url(gpl, *, base_url=GEO_BASE_URL):
    """URL of a GEO platform annotation file (<GPL>.annot.gz, has a 'Gene symbol' column)."""
    gpl = _geo_accession(gpl, "GPL")
    return f"{base_url.rstrip('/')}/platforms/{_geo_folder(gpl)}/{gpl}/annot/{gpl}.annot.gz"


def geo_platform_full_url(gpl, *, base_url=GEO_BASE_URL):
    """URL of the full GEO platform SOFT table (<GPL>_family.soft.gz), the fallback to .annot."""
    gpl = _geo_accession(gpl, "GPL")
    return f"{base_url.rstrip('/')}/platforms/{_geo_folder(gpl)}/{gpl}/soft/{gpl}_family.soft.gz"


def _geo_accession(accession, kind):
    text = str(accession).strip().upper()
    if not re.fullmatch(rf"{kind}\d+", text):
        raise ConfigError(
            f"not a GEO {kind} accession",
            found=repr(accession),
            expected=f"{kind} followed by digits, e.g. {kind}{14520 if kind == 'GSE' else 570}",
        )
    return text


def _geo_folder(accession):
    """GEO's folder for an accession: last three digits replaced by 'nnn' (GSE14520 -> GSE14nnn)."""
    letters, digits = accession[:3], accession[3:]
    return f"{letters}{digits[:-3]}nnn"


def _use_existing(url, dest, expected_sha256, limits):
    """True if the file at `dest` can be used; a file without a valid manifest is checked first
    (and gets a manifest). A file whose manifest records another URL is not this URL's: False. A
    bad file we downloaded is removed; a bad file placed by hand raises."""
    manifest = _read_manifest(dest)
    if manifest is not None and manifest.get("url") != url:
        log.warning(
            "%s was downloaded from %s, not %s; downloading %s",
            dest,
            manifest.get("url"),
            url,
            url,
        )
        return False
    if manifest is not None and _manifest_fits(manifest, dest, expected_sha256, limits):
        return True
    try:
        size, sha256, inflated = _verify(dest, dest.name, expected_sha256, limits)
    except _Failed as failed:
        if manifest is None:
            raise DownloadError(
                f"the file placed at {dest} is not a good copy of {url}: {failed.problem}",
                file=dest,
                found=failed.found,
                expected=failed.expected,
                fix=f"replace it with a complete copy of {url}, or delete it to download it again",
            ) from None
        log.warning(
            "%s no longer matches its manifest (%s); downloading again", dest, failed.problem
        )
        dest.unlink()
        _manifest_path(dest).unlink(missing_ok=True)
        return False
    _write_manifest(dest, url, size, sha256, inflated, source=manifest_source(manifest))
    return True


def manifest_source(manifest):
    """How the file came into the cache, as its manifest said (a file without one was placed by hand)."""
    return manifest.get("source", "downloaded") if manifest else "placed by hand"


def _download_part(session, url, part, timeout):
    """One attempt: request `url` (resuming from the .part file with Range) and write to `part`."""
    offset = part.stat().st_size if part.exists() else 0
    headers = dict(_HEADERS, Range=f"bytes={offset}-") if offset else _HEADERS
    try:
        with session.get(url, headers=headers, stream=True, timeout=timeout) as response:
            start, total = _byte_range(response, offset)
            if response.status_code == 416:
                return  # the .part file is already complete
            with part.open("ab" if start else "wb") as out:
                for chunk in response.iter_content(_CHUNK_BYTES):
                    out.write(chunk)
    except (
        requests.ConnectionError,
        requests.Timeout,
        requests.exceptions.ChunkedEncodingError,
    ) as err:
        raise _Failed(f"{type(err).__name__}: {err}", resume=True) from None
    except requests.RequestException as err:
        raise _Failed(f"{type(err).__name__}: {err}", retry=False) from None
    received = part.stat().st_size
    if total is not None and received != total:
        raise _Failed(
            f"received {received} of {total} bytes",
            found=f"{received} bytes",
            expected=f"{total} bytes (Content-Length)",
            resume=received < total,
        )


def _byte_range(response, offset):
    """(first byte this response carries, total file size or None) after checking its status."""
    status, reason = response.status_code, response.reason
    if status == 416:
        total = _content_range(response)[1]
        if total == offset:
            return offset, total
        raise _Failed("the server cannot resume this download; starting again from zero")
    if status in (408, 429) or status >= 500:
        raise _Failed(f"HTTP {status} {reason}")
    if status not in (200, 206):
        raise _Failed(f"HTTP {status} {reason}", found=f"HTTP {status}", retry=False)
    if "text/html" in response.headers.get("Content-Type", ""):
        raise _Failed(
            "the server sent an HTML page, not the data file",
            found=f"Content-Type {response.headers['Content-Type']}",
            retry=False,
        )
    if status == 206:
        start, total = _content_range(response)
        if start != offset:
            raise _Failed(f"the server resumed at byte {start}, not {offset}; starting again")
        return start, total
    if response.headers.get("Content-Encoding", "identity") != "identity":
        return 0, None
    length = response.headers.get("Content-Length")
    return 0, int(length) if length and length.isdigit() else None


def _content_range(response):
    """(first byte, total size or None) from a Content-Range header like 'bytes 100-199/200'."""
    match = re.fullmatch(
        r"bytes (?:(\d+)-\d+|\*)/(\d+|\*)", response.headers.get("Content-Range", "").strip()
    )
    if not match:
        return None, None
    first, total = match.groups()
    return (int(first) if first else None), (int(total) if total != "*" else None)


def _verify(path, name, expected_sha256, limits):
    """Check a complete file and return (size, sha256, inflated size or None): not empty, not
    HTML, a gzip file (named .gz or starting with the gzip magic bytes) decompresses to its end
    within `limits`, an archive has no more members and bytes than `limits` allow, sha256 matches.
    A sha256, HTML or limit failure is final; the others are worth another attempt."""
    size = path.stat().st_size
    if size == 0:
        raise _Failed("the file is empty", found="0 bytes")
    with path.open("rb") as fh:
        head = fh.read(512)
    if head.lstrip().lower().startswith((b"<!doctype html", b"<html")):
        raise _Failed(
            "the file is an HTML page, not the data file",
            found=repr(head[:80].decode("utf-8", "replace")),
            retry=False,
        )
    inflated = None
    if name.endswith(".gz") or head.startswith(b"\x1f\x8b"):
        inflated = _inflated_size(path, limits)
    if tarfile.is_tarfile(path):
        try:
            check_archive(path, limits)
        except InflationError as error:
            raise _beyond_limits(error) from None
        except (tarfile.TarError, OSError, EOFError, zlib.error) as err:
            if environment_errno(err) is not None:
                raise
            raise _Failed("the archive is truncated or damaged", found=str(err)) from None
    digest = sha256(path)
    if expected_sha256 and digest != expected_sha256.lower():
        raise _Failed(
            "sha256 differs from the expected one (the file changed at the source, or the "
            "expected checksum is wrong)",
            found=digest,
            expected=expected_sha256,
            retry=False,
        )
    return size, digest, inflated


def _inflated_size(path, limits):
    """Bytes a gzip file inflates to, read to its end within `limits`."""
    if not is_gzip(path):
        raise _Failed(
            "the gzip file is truncated or damaged",
            found="no gzip header",
            expected="a complete gzip file",
        )
    try:
        with open_inflated(path, limits) as stream:
            return sum(iter(lambda: len(stream.read(1 << 20)), 0))
    except InflationError as error:
        raise _beyond_limits(error) from None
    except (OSError, EOFError, zlib.error) as err:
        if environment_errno(err) is not None:
            raise
        raise _Failed(
            "the gzip file is truncated or damaged",
            found=str(err),
            expected="a complete gzip file",
        ) from None


def _beyond_limits(error):
    """A final failure from an InflationError: no other attempt, the fix is the limits."""
    return _Failed(
        error.problem, found=error.found, expected=error.expected, retry=False, fix=error.fix
    )


def _download_error(url, dest, failed):
    return DownloadError(
        f"could not download {url}: {failed.problem}",
        file=dest,
        found=failed.found,
        expected=failed.expected,
        fix=failed.fix
        or (
            f"check the URL and the network and run again (a partial download is resumed), or "
            f"download {url} by hand and save it as {dest}; it is checked and its manifest "
            f"({_manifest_path(dest).name}) written on next use"
        ),
    )


def _manifest_path(dest):
    return dest.with_name(dest.name + ".manifest.json")


def _read_manifest(dest):
    try:
        manifest = json.loads(_manifest_path(dest).read_text())
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def _manifest_fits(manifest, dest, expected_sha256, limits):
    """The manifest describes the file as it is and as it must be: size, expected sha256, and
    (for gzip files) an inflated size within today's limits (manifests written before the
    inflated size was recorded do not fit: the file is checked again)."""
    if manifest.get("size") != dest.stat().st_size:
        return False
    if expected_sha256 and manifest.get("sha256") != expected_sha256.lower():
        return False
    if "inflated_size" not in manifest:
        return False
    inflated = manifest["inflated_size"]
    return inflated is None or inflated <= limits.allowed(manifest["size"])


def _write_manifest(dest, url, size, sha256, inflated, *, source):
    manifest = {
        "url": url,
        "file": dest.name,
        "size": size,
        "sha256": sha256,
        "inflated_size": inflated,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": source,
    }
    with replaced(_manifest_path(dest)) as temporary:
        temporary.write_text(json.dumps(manifest, indent=2) + "\n")
