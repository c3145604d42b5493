"""selfseed.logs.job_log, the context of every rule script, run in a fresh interpreter as a job is;
and the workflow's end, which cancels Snakemake's scheduler wake-ups and freezes its heap."""

import inspect
import json
import subprocess
import sys
import textwrap
import threading

from selfseed.logs import JOB_GC_THRESHOLD, cancel_scheduler_wakeups

SCRIPT = textwrap.dedent(
    """
    import gc, json, sys, tempfile
    from pathlib import Path
    from types import SimpleNamespace

    import pandas as pd

    from selfseed.logs import job_log

    out = Path(sys.argv[1])
    snakemake = SimpleNamespace(
        log=[str(out / "job.log")], rule="summarise", wildcards={}, resources={"attempt": 1}
    )
    scratch = tempfile.TemporaryDirectory(dir=out)  # removed at exit by its weakref finalizer
    with job_log(snakemake) as log:
        cycle = [pd.DataFrame({"a": range(1000)})]
        cycle.append(cycle)  # garbage that only the collector could free
        log.info("table written")
        inside = gc.get_threshold()
        pd.DataFrame({"a": [1, 2]}).to_csv(out / "table.tsv", sep="\\t", index=False)
        if sys.argv[2] == "fail":
            raise ValueError("a bug")
    (out / "state.json").write_text(
        json.dumps(
            {
                "frozen": gc.get_freeze_count(),
                "scratch": scratch.name,
                "threshold": {"inside": inside, "after": gc.get_threshold()},
            }
        )
    )
    """
)


def run_job(tmp_path, how):
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    return subprocess.run(
        [sys.executable, str(script), str(tmp_path), how], capture_output=True, text=True
    )


def test_a_job_collects_less_often_then_freezes_its_heap_and_still_writes_and_cleans_up(tmp_path):
    result = run_job(tmp_path, "ok")
    assert result.returncode == 0, result.stderr
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["frozen"] > 10_000  # the imports' objects are out of the exit's collections
    assert (tmp_path / "table.tsv").read_text() == "a\n1\n2\n"
    assert (tmp_path / "job.log").read_text() == "INFO table written\n"
    assert not (tmp_path / state["scratch"]).exists()  # finalizers still ran at exit
    # the young generation is collected less often while the job works, as before afterwards
    assert state["threshold"]["inside"] == [JOB_GC_THRESHOLD, 10, 10]
    assert state["threshold"]["after"] == [700, 10, 10]


def test_a_failed_job_exits_1_and_logs_its_traceback_as_a_bug(tmp_path):
    result = run_job(tmp_path, "fail")
    assert result.returncode == 1
    assert not (tmp_path / "state.json").exists()
    text = (tmp_path / "job.log").read_text()
    assert "unexpected failure (ValueError: a bug)" in text
    assert "Traceback" in text


class JobScheduler:
    """Stands in for Snakemake's scheduler: its wake-up timer calls a lambda of this method."""

    def _schedule_reevalutation(self, delay):
        timer = threading.Timer(delay, lambda: None)
        timer.start()
        return timer


def test_only_the_scheduler_wakeups_are_cancelled():
    wakeup = JobScheduler()._schedule_reevalutation(60)
    other = threading.Timer(60, lambda: None)
    other.start()
    cancel_scheduler_wakeups()
    wakeup.join(10)
    assert not wakeup.is_alive()
    assert other.is_alive()
    other.cancel()


def test_snakemake_wakes_its_scheduler_with_that_timer():
    """Were it renamed, cancel_scheduler_wakeups would find nothing and a run's exit would wait
    about 1 s for the timer again."""
    from snakemake.scheduling.job_scheduler import JobScheduler as Scheduler

    source = inspect.getsource(Scheduler._schedule_reevalutation)
    assert "threading.Timer(" in source
    assert "lambda" in source


def test_the_end_of_a_run_freezes_the_heap_of_snakemakes_process():
    """end_of_run runs in Snakemake's process (onsuccess, onerror): here in a fresh interpreter."""
    code = (
        "import gc, json; import pandas; from selfseed.logs import end_of_run; "
        "before = len(gc.get_objects()); end_of_run(); "
        "print(json.dumps([before, gc.get_freeze_count(), len(gc.get_objects())]))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    before, frozen, left = json.loads(result.stdout)
    assert before > 50_000  # pandas' objects
    assert frozen >= before  # all out of the exit's collections
    assert left < 100
