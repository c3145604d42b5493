import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
RUNNING = {"workflow": False}


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Note, before its fixtures start, whether the test is in the workflow tier."""
    RUNNING["workflow"] = item.get_closest_marker("workflow") is not None


def starting_snakemake():
    """Called by every helper that starts snakemake: only workflow-tier tests may (the fast tier,
    `pytest -m "not workflow and not slow"`, must not start it)."""
    if not RUNNING["workflow"]:
        pytest.fail(
            "this test starts snakemake but is not marked workflow: add @pytest.mark.workflow",
            pytrace=False,
        )


@pytest.fixture
def svg_copies_on():
    """Figures drawn in the test are also written as SVG (config `figures: {svg: true}`): the tests
    read the figures' text there."""
    from selfseed.contracts import svg_copies

    with svg_copies(True):
        yield


@pytest.fixture(scope="session")
def shared_data():
    """../shared/data, the real public test files (its README.md lists them); every test that reads
    them asks for this fixture. Without the folder the test is skipped, or fails where
    SELFSEED_REQUIRE_SHARED_DATA=1 (CI, which has the folder beside the clone)."""
    if not SHARED_DATA.is_dir():
        reason = f"real public test files not found at {SHARED_DATA}"
        if os.environ.get("SELFSEED_REQUIRE_SHARED_DATA") == "1":
            pytest.fail(f"{reason} (SELFSEED_REQUIRE_SHARED_DATA=1)", pytrace=False)
        pytest.skip(reason)
    return SHARED_DATA


@pytest.fixture(scope="session")
def gse1992():
    """The real SurvSet cohort gse1992 (Hu et al. 2006): RFS in months and Agilent log ratios."""
    from SurvSet.data import SurvLoader

    return SurvLoader().load_dataset(ds_name="gse1992")["df"]


@pytest.fixture(scope="session")
def rtcga(shared_data):
    """rtcga(name): the one data.frame of the RTCGA file ../shared/data/rtcga/`name`, parsed once per
    session (rdata parses in Python, about a second a file); callers do not change it."""
    import rdata

    frames = {}

    def frame(name):
        if name not in frames:
            (frames[name],) = rdata.read_rda(shared_data / "rtcga" / name).values()
        return frames[name]

    return frame


@pytest.fixture(scope="session")
def tcga_cdr_sheet(shared_data):
    """The TCGA-CDR supplementary sheet (11,160 patients), read once per session."""
    from selfseed.presets import read_tcga_cdr

    return read_tcga_cdr(shared_data / "tcga_cdr" / "TCGA-CDR-SupplementalTableS1.xlsx")


def load_tool(name):
    """The module tools/`name`.py (tools/ is not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, REPO / "tools" / f"{name}.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def gzip_bomb(line=b"IL6\t1\t1\n", size=10**9, *, head=b"", tail=b""):
    """A valid gzip file whose content is `head`, then `line` repeated to about `size` bytes, then
    `tail`: gzip members of 10 MB each, so about 1,000 times smaller than what it inflates to (the
    way decompression bombs are made)."""
    import gzip

    unit = gzip.compress(line * (10**7 // len(line)), mtime=0)
    members = [gzip.compress(head, mtime=0)] if head else []
    members += [unit] * max(1, size // 10**7)
    members += [gzip.compress(tail, mtime=0)] if tail else []
    return b"".join(members)


MEASURED = """
import json, resource, subprocess, sys
done = subprocess.run([sys.executable, "-c", sys.argv[1]], capture_output=True, text=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr,
                  "peak_mb": peak}))
"""


def run_measured(code, *, cwd=None, env=None):
    """Run Python `code` in a fresh child process: {returncode, stdout, stderr, peak_mb}, the peak
    resident memory (ru_maxrss) of that child alone, read by a wrapper that has no other child."""
    import json
    import subprocess
    import sys

    wrapper = subprocess.run(
        [sys.executable, "-c", MEASURED, code],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
    )
    assert wrapper.returncode == 0, wrapper.stderr
    return json.loads(wrapper.stdout)


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

    mount = f'mount -t tmpfs -o size={size}{"," + options if options else ""} none "$1"'
    return subprocess.run(
        [
            "unshare",
            "-rm",
            "sh",
            "-c",
            f'{mount} && shift && exec "$@"',
            "sh",
            str(folder),
            sys.executable,
            "-c",
            code,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
