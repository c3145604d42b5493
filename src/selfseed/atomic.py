"""Every file selfseed writes appears whole or not at all: written under a temporary name beside its
place, renamed when complete, removed when anything fails."""

import contextlib
import os
from pathlib import Path

from selfseed.errors import environment_failure


@contextlib.contextmanager
def replaced(path, *, suffix=".part"):
    """Yield a temporary path beside `path` (`.{name}{suffix}`) to write to; `path` is replaced by
    it once the block ends. On any failure the temporary file is removed, and a disk-full, quota,
    permission, read-only or out-of-memory error becomes an EnvironmentFailure naming `path`."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}{suffix}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        yield tmp
        os.replace(tmp, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        failure = environment_failure(error, path)
        if failure is not None:
            raise failure from None
        raise
