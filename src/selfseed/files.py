"""Every file selfseed writes appears whole or not at all (written under a temporary name beside its
place, renamed when complete, removed when anything fails), and the one way each kind is written,
read back and fingerprinted."""

import contextlib
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

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


def write_tsv(frame, path):
    """Write a table atomically, with stable float formatting (byte-identical reruns)."""
    with replaced(path) as tmp:
        frame.to_csv(tmp, sep="\t", index=False, float_format="%.10g", na_rep="NA")


def read_table(path):
    """A table as `write_tsv` writes it ("NA" = missing); a table without columns is empty."""
    try:
        return pd.read_csv(path, sep="\t", keep_default_na=False, na_values=["NA"])
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def write_h5ad(adata, path):
    with replaced(path, suffix=".part.h5ad") as tmp:  # anndata wants the .h5ad suffix
        adata.write_h5ad(tmp)


def write_text(text, path):
    """Write a text file atomically."""
    with replaced(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def plain(value):
    """JSON-ready copy of numpy/pandas values in nested dicts and lists."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray | pd.Series):
        return [plain(v) for v in list(value)]
    if isinstance(value, pd.DataFrame):
        return plain(value.to_dict(orient="records"))
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def write_json(data, path):
    write_text(json.dumps(plain(data), indent=2, sort_keys=False) + "\n", path)


def sha256(path):
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
