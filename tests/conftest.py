from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data():
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real public test files not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def gse1992():
    """The real SurvSet cohort gse1992 (Hu et al. 2006): RFS in months and Agilent log ratios."""
    from SurvSet.data import SurvLoader

    return SurvLoader().load_dataset(ds_name="gse1992")["df"]


def small_disk_available():
    """True where `unshare -rm` can mount a private tmpfs (a user and mount namespace)."""
    import shutil
    import subprocess

    if not shutil.which("unshare"):
        return False
    return subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode == 0


def run_on_small_disk(code, folder, *, size="64k", options=""):
    """Run Python `code` with a new tmpfs of `size` mounted at `folder`, seen only by that process
    (`unshare -rm`): writes there fill a real disk (ENOSPC), or hit a read-only file system with
    options="ro". The folder is empty again afterwards, so `code` reports what it left."""
    import subprocess
    import sys

    mount = f"mount -t tmpfs -o size={size}{',' + options if options else ''} none \"$1\""
    return subprocess.run(
        ["unshare", "-rm", "sh", "-c", f'{mount} && shift && exec "$@"', "sh", str(folder),
         sys.executable, "-c", code],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
