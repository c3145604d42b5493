"""Rule logs: everything a stage says, and any failure's message, goes to the rule's log file."""

import contextlib
import gc
import logging
import sys
from pathlib import Path

from selfseed.errors import EnvironmentFailure, SelfseedError, environment_failure

log = logging.getLogger("selfseed")


@contextlib.contextmanager
def logged(path, *, job=None, cohort=None, attempt=1):
    """Send log records and warnings to `path`.

    An expected failure (SelfseedError) writes its message to the log and stderr and exits with
    status 1, without a traceback; so does a failure of the environment (disk full, quota,
    permission, read-only file system, out of memory: EnvironmentFailure). The message names `job`
    (the rule) and `cohort` when the error does not. Anything else is a bug: logged with its
    traceback and re-raised.

    Retries (`attempt` > 1, on the cluster profile) are for jobs killed for memory or time: a job
    whose attempt 1 failed on its input (kept beside the log, `input_error_path`) ends at once
    with that message instead of running again on the same input."""
    logging.basicConfig(
        filename=path, level=logging.INFO, format="%(levelname)s %(message)s", force=True
    )
    logging.captureWarnings(True)
    first = input_error_path(path)
    if attempt > 1 and first.is_file():
        message = first.read_text().rstrip("\n") + (
            f"\n  retry:    attempt {attempt} not run: attempt 1 failed on its input, which more "
            "memory or time does not change"
        )
        log.error("%s", message)
        print(message, file=sys.stderr)
        raise SystemExit(1)
    first.unlink(missing_ok=True)
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
        if not isinstance(
            error, EnvironmentFailure
        ):  # memory and disk space may be there next time
            first.write_text(f"{error}\n")
        raise SystemExit(1) from None
    except Exception as error:
        unexpected(error)
        raise


# a job's young-generation collection threshold, in allocations (CPython's default: 700)
JOB_GC_THRESHOLD = 100_000


@contextlib.contextmanager
def job_log(snakemake):
    """`logged` for a rule script: its log, rule, cohort wildcard and attempt (the `attempt`
    resource of the rule, see workflow/rules/common.smk).

    While the work runs, the garbage collector's young generation is collected every
    JOB_GC_THRESHOLD allocations instead of every 700: the job's imports and tables make millions
    of objects, and with the default each collection that reaches the older generations walks
    them again (one cohort job's CPU: median 6.9 s -> 6.4 s; benchmarks/README.md). When the work is
    done, its objects are frozen out of the collector (`gc.freeze`): the interpreter's exit would
    otherwise walk every object that the imports made, about 0.5 s of each job, between one job
    and the next. atexit handlers and weakref finalizers still run; the outputs are closed by
    then. SciPy keeps its docstrings as they are (`selfseed.imports`), which makes it lighter to
    import."""
    from selfseed.imports import keep_scipy_docstrings

    keep_scipy_docstrings()
    threshold = gc.get_threshold()
    gc.set_threshold(JOB_GC_THRESHOLD, *threshold[1:])
    try:
        with logged(
            snakemake.log[0],
            job=snakemake.rule,
            cohort=snakemake.wildcards.get("cohort"),
            attempt=snakemake.resources.get("attempt", 1),
        ) as job:
            yield job
    finally:
        gc.set_threshold(*threshold)
    gc.freeze()


def input_error_path(log_path):
    """Where a job that failed on its input keeps the message, for its retry: beside its log."""
    log_path = Path(log_path)
    return log_path.with_name(f"{log_path.name}.input_error")


def unexpected(error):
    message = (
        f"unexpected failure ({type(error).__name__}: {error}). This is a bug in selfseed, "
        "not a known problem with the input: please report it with this log"
    )
    log.exception("%s", message)
    print(message, file=sys.stderr)


# the qualified name of the function that Snakemake's scheduler wake-up timers call
SCHEDULER_WAKEUP = "JobScheduler._schedule_reevalutation.<locals>"


def end_of_run():
    """What the workflow's onsuccess and onerror handlers do, so that Snakemake's process exits
    when its scheduler has returned: cancel its pending scheduler wake-ups
    (`cancel_scheduler_wakeups`), then freeze the process's objects out of the garbage collector
    (`gc.freeze`, as `job_log` does at a job's end): the interpreter's exit would otherwise walk
    every object of the run (imports, DAG, jobs), about 0.45 s after the last job."""
    cancel_scheduler_wakeups()
    gc.freeze()


def cancel_scheduler_wakeups():
    """Cancel Snakemake's pending scheduler wake-ups, once its scheduler has returned (the
    workflow's onsuccess and onerror handlers).

    Each scheduling pass starts a non-daemon 1 s `threading.Timer`
    (`JobScheduler._schedule_reevalutation`, the job-rate window of --max-jobs-per-timespan) that
    only wakes the scheduler; the interpreter's exit waits for the last one, about 1 s after the
    last job. Other threads are left alone."""
    import threading

    for thread in threading.enumerate():
        wakes = getattr(getattr(thread, "function", None), "__qualname__", "")
        if isinstance(thread, threading.Timer) and wakes.startswith(SCHEDULER_WAKEUP):
            thread.cancel()


def failed_job_messages(snakemake_log):
    """The error messages of the jobs that failed in a run, read from their rule logs.

    `snakemake_log` is the run's main log, or a list of them (Snakemake's `onerror` handler gets
    that as `log`); each failed job's entry names its log as `log: PATH (check log file(s) ...`."""
    import re

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
