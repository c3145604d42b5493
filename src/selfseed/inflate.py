"""Bounds on what compressed files and archives may inflate to (decompression bombs).

A gzip file is read as a stream that stops with InflationError once it has given more than
`Limits.allowed(compressed size)` bytes: `max_inflation_ratio` times the compressed size (but at
least FLOOR_BYTES), and never more than `max_inflated_mb`. Archives are extracted member by member
under tar's `data` filter (nothing outside the folder, no device files), with at most `max_members`
members and `max_inflated_mb` in all. The limits come from the config's `download:` keys; `limited` sets them
for the readers of one job.
"""

import contextlib
import gzip
import io
import os
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from selfseed.errors import InputDataError, environment_failure

GZIP_MAGIC = b"\x1f\x8b"
FLOOR_BYTES = 100 * 10**6  # any compressed file may inflate to 100 MB, whatever its ratio
MAX_ARCHIVE_MEMBERS = 10_000


@dataclass(frozen=True)
class Limits:
    """How far compressed files and archives may inflate; the defaults are the config schema's."""

    max_inflated_mb: float = 10_000
    max_inflation_ratio: float = 50
    max_members: int = MAX_ARCHIVE_MEMBERS

    @classmethod
    def from_config(cls, download):
        """The limits of the config's `download:` section (schema defaults where a key is absent)."""
        keys = ("max_inflated_mb", "max_inflation_ratio")
        return cls(**{key: download[key] for key in keys if key in (download or {})})

    @property
    def max_bytes(self):
        return int(self.max_inflated_mb * 10**6)

    def allowed(self, compressed_size):
        """Bytes a compressed file of `compressed_size` bytes may inflate to."""
        by_ratio = max(FLOOR_BYTES, self.max_inflation_ratio * compressed_size)
        return int(min(self.max_bytes, by_ratio))


LIMITS = Limits()


@contextlib.contextmanager
def limited(limits):
    """Use `limits` (a Limits, or the config's `download:` dict) for the readers in this block."""
    global LIMITS
    previous = LIMITS
    LIMITS = limits if isinstance(limits, Limits) else Limits.from_config(limits)
    try:
        yield LIMITS
    finally:
        LIMITS = previous


class InflationError(InputDataError):
    """A compressed file or archive inflates beyond the limits."""


def too_large(path, what, allowed, limits, *, ratio=True):
    size = Path(path).stat().st_size
    return InflationError(
        f"the {what} inflates to more than the limit: a decompression bomb, or a genuine "
        "file larger than the limits allow",
        file=path,
        found=f"more than {allowed:,} bytes from {size:,} compressed bytes",
        expected=f"at most {limits.max_inflation_ratio:g} times the compressed size (at least "
        f"{FLOOR_BYTES // 10**6} MB) and at most {limits.max_inflated_mb:g} MB"
        if ratio
        else f"at most {limits.max_inflated_mb:g} MB in all",
        fix="if you trust the file, raise download.max_inflation_ratio and/or "
        "download.max_inflated_mb in the config",
    )


class _Bounded(io.RawIOBase):
    """A binary stream that raises InflationError after giving more than `allowed` bytes; with
    `quietly`, it ends there instead (for pyarrow's threaded readers, which must not see an
    exception from Python) and `check_inflated` raises the error afterwards."""

    def __init__(self, inner, path, allowed, limits, quietly):
        self.inner, self.path, self.allowed, self.limits = inner, path, allowed, limits
        self.quietly, self.given = quietly, 0

    def readable(self):
        return True

    def readinto(self, buffer):
        if self.given > self.allowed:
            return 0
        count = self.inner.readinto(buffer)
        self.given += count
        if self.given > self.allowed and not self.quietly:
            raise self.error()
        return count

    def error(self):
        return too_large(self.path, "compressed file", self.allowed, self.limits)

    def close(self):
        self.inner.close()
        super().close()


def is_gzip(path):
    with open(path, "rb") as handle:
        return handle.read(2) == GZIP_MAGIC


def open_inflated(path, limits=None, *, quietly=False):
    """The content of `path` as a binary stream: gzip inflated (within the limits), else as is.
    Past the limits the stream raises InflationError, or with `quietly` ends (then call
    `check_inflated` once the reader is done)."""
    limits = limits or LIMITS
    if not is_gzip(path):
        return open(path, "rb")
    allowed = limits.allowed(os.path.getsize(path))
    inner = gzip.GzipFile(path, "rb")
    bounded = _Bounded(inner, path, allowed, limits, quietly)
    return io.BufferedReader(bounded, buffer_size=1 << 20)


def check_inflated(stream):
    """Raise the InflationError of a stream from `open_inflated(..., quietly=True)` that reached
    its limit (what was read from it is cut short)."""
    raw = getattr(stream, "raw", None)
    if isinstance(raw, _Bounded) and raw.given > raw.allowed:
        raise raw.error()


def _unsafe(path, member, reason):
    return InputDataError(
        "the archive holds a member that would be written outside its folder, or is not a "
        "plain file or folder",
        file=path,
        found=f"member {member!r}: {reason}",
        expected="plain files and folders inside the archive's own folder",
        fix="use the study archive as published (cBioPortal datahub), or unpack it yourself "
        "and give the folder as `study`",
    )


def members(archive, path, limits):
    """The members of an open tar archive, checked as they are read: at most `max_members`, at most
    `max_inflated_mb` in all."""
    count, total = 0, 0
    for member in archive:
        count += 1
        total += member.size
        if count > limits.max_members:
            raise InflationError(
                "the archive has more members than the limit: a tar bomb, or not a study archive",
                file=path,
                found=f"more than {limits.max_members:,} members",
                expected=f"at most {limits.max_members:,} (a cBioPortal study has a few dozen)",
                fix="check that the file is the study archive (a .tar.gz of one study folder)",
            )
        if total > limits.max_bytes:
            raise too_large(path, "archive", limits.max_bytes, limits, ratio=False)
        yield member


def check_archive(path, limits=None):
    """Read a tar archive to its end without extracting it: InflationError past the limits."""
    limits = limits or LIMITS
    with open_inflated(path, limits) as stream, tarfile.open(fileobj=stream, mode="r|*") as tar:
        for _ in members(tar, path, limits):
            pass
        while stream.read(1 << 20):  # padding after the last member
            pass


def extract_archive(path, folder, limits=None):
    """Extract a tar archive into `folder`, member by member within the limits, under tar's `data`
    filter (no absolute paths, no '..', no links leaving the folder, no device files): an unsafe
    member is an InputDataError naming it."""
    limits = limits or LIMITS
    try:
        with open_inflated(path, limits) as stream, tarfile.open(fileobj=stream, mode="r|*") as tar:
            for member in members(tar, path, limits):
                try:
                    tar.extract(member, folder, filter="data")
                except tarfile.FilterError as error:
                    raise _unsafe(path, member.name, error) from None
    except (tarfile.TarError, EOFError, OSError, zlib.error) as error:
        failure = environment_failure(error, folder)
        if failure is not None:
            raise failure from None
        raise InputDataError(
            f"cannot read the archive ({type(error).__name__}: {error})",
            file=path,
            expected="a complete .tar.gz archive",
            fix="download it again: the archive is damaged or cut short",
        ) from error
