"""Rule logs: everything a stage says, and any failure's message, goes to the rule's log file."""

import contextlib
import logging
import sys

from selfseed.errors import SelfseedError, environment_failure

log = logging.getLogger("selfseed")


@contextlib.contextmanager
def logged(path, *, job=None, cohort=None):
    """Send log records and warnings to `path`.

    An expected failure (SelfseedError) writes its message to the log and stderr and exits with
    status 1, without a traceback; so does a failure of the environment (disk full, quota,
    permission, read-only file system, out of memory: EnvironmentFailure). The message names `job`
    (the rule) and `cohort` when the error does not. Anything else is a bug: logged with its
    traceback and re-raised."""
    logging.basicConfig(
        filename=path, level=logging.INFO, format="%(levelname)s %(message)s", force=True
    )
    logging.captureWarnings(True)
    try:
        yield log
    except (SelfseedError, MemoryError, OSError) as caught:
        error = caught if isinstance(caught, SelfseedError) else environment_failure(caught)
        if error is None:
            unexpected(caught)
            raise
        error.job = error.job or job
        error.cohort = error.cohort or cohort
        log.error("%s", error)
        print(error, file=sys.stderr)
        raise SystemExit(1) from None
    except Exception as error:
        unexpected(error)
        raise


def unexpected(error):
    message = (
        f"unexpected failure ({type(error).__name__}: {error}). This is a bug in selfseed, "
        "not a known problem with the input: please report it with this log"
    )
    log.exception("%s", message)
    print(message, file=sys.stderr)


def failed_job_messages(snakemake_log):
    """The error messages of the jobs that failed in a run, read from their rule logs.

    `snakemake_log` is the run's main log, or a list of them (Snakemake's `onerror` handler gets
    that as `log`); each failed job's entry names its log as `log: PATH (check log file(s) ...`."""
    import re
    from pathlib import Path

    logs = [snakemake_log] if isinstance(snakemake_log, str | Path) else snakemake_log or []
    text = "".join(Path(p).read_text(errors="replace") for p in logs if Path(p).is_file())
    paths = dict.fromkeys(re.findall(r"log: (\S+) \(check log file", text))
    blocks = []
    for path in paths:
        lines = Path(path).read_text(errors="replace").splitlines() if Path(path).is_file() else []
        start = next((i for i, line in enumerate(lines) if line.startswith("ERROR ")), None)
        if start is not None:
            message = [lines[start][len("ERROR ") :]]
            message += [line for line in lines[start + 1 :] if line.startswith("  ")]
            blocks.append(f"{path}:\n  " + "\n  ".join(message))
    if not blocks:
        return ""
    return f"selfseed: {len(blocks)} job(s) failed:\n" + "\n".join(blocks)
