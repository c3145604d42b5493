"""The competing-risk simulation study (simulations/competing_risks.py).

Fast tests check the data-generating models (event shares, the planted effects on large samples,
one replicate reruns alone). The full study is `slow`: run it with `pytest -m slow` (about 5 min on
2 cores); it checks that the committed summary is reproduced and meets the targets.
"""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from selfseed.stats.competing import cause_specific_cox, fine_gray

REPO = Path(__file__).resolve().parents[1]
SUMMARY = REPO / "simulations" / "results" / "summary.tsv"


def _load_study():
    spec = importlib.util.spec_from_file_location(
        "competing_risks", REPO / "simulations" / "competing_risks.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # multiprocessing pickles run_replicate by module name
    spec.loader.exec_module(module)
    return module


sim = _load_study()


def shares(data):
    return np.bincount(data["event"], minlength=3) / len(data)


@pytest.mark.parametrize(
    ("model", "low", "high"),
    [
        # (censored, local recurrence, competing): intended about 56/18/26% and 47/19/34%
        ("cause_specific", (0.52, 0.15, 0.23), (0.60, 0.21, 0.29)),
        ("subdistribution", (0.43, 0.16, 0.31), (0.51, 0.22, 0.37)),
    ],
)
def test_generators_give_intended_event_shares(model, low, high):
    rng = np.random.default_rng(1)
    data = pd.concat([sim.GENERATORS[model](rng, n=300) for _ in range(10)])
    assert len(data) == 3000
    assert (data["time_months"] > 0).all()
    assert (data["time_months"] <= sim.ADMIN_MONTHS).all()
    assert np.all(shares(data) >= low), shares(data)
    assert np.all(shares(data) <= high), shares(data)


def within(fit, truth):
    """The estimate is within 0.1 and within 3 standard errors of the truth."""
    coef, se = fit["coef"].iloc[0], fit["se"].iloc[0]
    return abs(coef - truth) < min(0.1, 3 * se)


def test_cause_specific_generator_recovers_both_planted_hazard_ratios():
    rng = np.random.default_rng(5000)
    data = sim.simulate_cause_specific(rng, n=10000, beta1=np.log(1.5), beta2=np.log(1.3))
    t, e, x = data["time_months"], data["event"], data["score"]
    assert within(cause_specific_cox(t, e, x, cause=1), np.log(1.5))
    assert within(cause_specific_cox(t, e, x, cause=2), np.log(1.3))


def test_subdistribution_generator_recovers_planted_subdistribution_hazard_ratio():
    # administrative censoring only: fine_gray's censoring term is slow with thousands of
    # distinct censoring times (the study's coverage runs check the random censoring)
    rng = np.random.default_rng(5001)
    data = sim.simulate_subdistribution(rng, n=5000, beta1=np.log(1.5), beta2=0.5, dropout=None)
    assert within(fine_gray(data["time_months"], data["event"], data["score"]), np.log(1.5))


def test_subdistribution_generator_follows_fine_gray_design_exactly():
    """Without random censoring (all followed to 120 months) the share of patients in a score
    stratum with cause k by month t is the stratum mean of the design's F_k(t | x) (Fine & Gray
    1999, section 5): F1 = 1 - [1 - p(1 - e^(-t/24))]^exp(b1 x) and
    F2 = (1 - p)^exp(b1 x) (1 - e^(-t exp(b2 x)/150))."""
    b1, b2, p = np.log(1.5), np.log(1.3), 0.2
    rng = np.random.default_rng(5002)
    data = sim.simulate_subdistribution(rng, n=200_000, beta1=b1, beta2=b2, p=p, dropout=None)
    t, e, x = data["time_months"].to_numpy(), data["event"].to_numpy(), data["score"].to_numpy()
    assert (e[t < sim.ADMIN_MONTHS] > 0).all()
    for stratum in (x < -1, np.abs(x) <= 1, x > 1):
        ts, es, xs = t[stratum], e[stratum], x[stratum]
        for month in (6, 24, 119):
            f1 = 1 - (1 - p * (1 - np.exp(-month / 24))) ** np.exp(b1 * xs)
            f2 = (1 - p) ** np.exp(b1 * xs) * (1 - np.exp(-month * np.exp(b2 * xs) / 150))
            assert np.mean((es == 1) & (ts <= month)) == pytest.approx(f1.mean(), abs=0.01)
            assert np.mean((es == 2) & (ts <= month)) == pytest.approx(f2.mean(), abs=0.01)


def test_no_effect_is_planted_under_the_null():
    rng = np.random.default_rng(5003)
    data = sim.simulate_cause_specific(rng, n=5000, beta1=0.0, beta2=0.0)
    assert within(cause_specific_cox(data["time_months"], data["event"], data["score"]), 0.0)


def test_a_replicate_reruns_alone_and_replicates_differ():
    first = sim.simulate("null_cs", 2026, 17)
    pd.testing.assert_frame_equal(first, sim.simulate("null_cs", 2026, 17))
    assert not first.equals(sim.simulate("null_cs", 2026, 18))
    assert not first.equals(sim.simulate("null_fg", 2026, 17))
    study = sim.run_study(1, 2026, workers=1, scenarios=["null_cs"])  # null: replicates 0 and 1
    assert study["replicate"].tolist() == [0, 1]
    alone = pd.Series(sim.run_replicate(("null_cs", 2026, 1, 300)))
    in_study = study.iloc[1]
    for column in alone.index.drop(["scenario", "replicate", "cpu_s"]):
        assert in_study[column] == alone[column], column


def test_pipeline_cox_per_sd_has_the_same_wald_p_as_the_cause_specific_cox():
    row = sim.run_replicate(("cs_hr1.5", 2026, 0, 300))
    assert row["sd_p"] == pytest.approx(row["cs_p"], rel=1e-6)
    assert row["sd_coef"] != pytest.approx(row["cs_coef"])  # per sample SD, not per unit


def test_proportion_row_gives_monte_carlo_se_and_exact_interval():
    row = sim.proportion_row(np.r_[np.ones(50), np.zeros(950), np.nan])
    assert row["replicates"] == 1000
    assert row["estimate"] == 0.05
    assert row["mc_se"] == pytest.approx(np.sqrt(0.05 * 0.95 / 1000))
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((0.0373, 0.0653), abs=5e-4)


def test_cli_writes_summary_with_a_row_per_check(tmp_path):
    out = tmp_path / "summary.tsv"
    assert sim.main(["--replicates", "2", "--workers", "1", "--n", "150", "--out", str(out)]) == 0
    summary = pd.read_csv(out, sep="\t")
    assert list(summary.columns) == sim.COLUMNS
    expected = sum(len(names) for checks in sim.CHECKS.values() for names in checks.values())
    assert len(summary) == expected
    assert set(summary.loc[summary["check"] == "coverage", "replicates"]) == {2}
    assert set(summary.loc[summary["scenario"] == "null_cs", "replicates"]) == {4}
    warning = summary[summary["check"] == sim.WARNING]
    assert len(warning) == 3
    assert warning["target_low"].isna().all()
    assert warning["met"].isna().all()


def test_committed_summary_labels_are_the_script_s():
    """The slow test compares the whole table; this checks its labels without rerunning it."""
    committed = pd.read_csv(SUMMARY, sep="\t")
    labels = {**sim.TESTS, **{k: label for k, (label, _) in sim.STATISTICS.items()}}
    expected = {
        labels[name]
        for checks in sim.CHECKS.values()
        for names in checks.values()
        for name in names
    }
    assert set(committed["statistic"]) == expected


def _slow_selected(config):
    return "slow" in (config.getoption("markexpr") or "")


@pytest.mark.slow
def test_full_study_reproduces_the_committed_summary_and_meets_targets(tmp_path, request):
    if not _slow_selected(request.config):
        pytest.skip("the full simulation study runs only with `pytest -m slow`")
    out = tmp_path / "summary.tsv"
    assert sim.main(["--replicates", "1000", "--seed", "2026", "--out", str(out)]) == 0
    fresh, committed = pd.read_csv(out, sep="\t"), pd.read_csv(SUMMARY, sep="\t")
    pd.testing.assert_frame_equal(fresh, committed, rtol=1e-5)
    assert (fresh["failed_fits"] == 0).all()

    coverage = fresh[fresh["check"] == "coverage"]
    assert len(coverage) == 3
    assert (coverage["met"] == "yes").all()

    type1 = fresh[fresh["check"] == "type I error"].set_index(["scenario", "statistic"])
    method = type1.index.get_level_values("statistic")
    lausen = method.str.contains("Lausen-Schumacher")
    altman = method.str.contains("Altman")
    noisy = np.array(
        [key == ("null_cs_competing_hr1.5", sim.TESTS["logrank_p"]) for key in type1.index]
    )
    # the Wald, log-rank, Gray and permutation tests are at their nominal level
    assert (type1.loc[~(lausen | altman | noisy), "met"] == "yes").all()
    # KNOWN: 3.9% with 1000 replicates (MC SE 0.6%), 95% interval 2.8-5.3% contains 5%
    assert type1.loc[noisy, "estimate"].item() == pytest.approx(0.039)
    assert type1.loc[noisy, "ci_high"].item() > 0.05
    # KNOWN DEVIATION from the 4-6% target: the Lausen-Schumacher bound (once the pipeline's
    # default correction, now permutation) is valid but conservative for a continuous score with hundreds of candidate
    # cuts (1.7-2.5%), and so, less, is the Altman et al. formula (3.2-3.9%); the permutation p of
    # the same maximal statistic is at level, so the simulated statistic is right
    assert type1.loc[lausen, "ci_high"].lt(0.04).all()
    assert type1.loc[lausen, "hits"].gt(0).all()
    assert type1.loc[altman, "estimate"].between(0.03, 0.05).all()
    # the uncorrected minimum p, what the correction is for, rejects a true null ~40% of the time
    assert fresh.loc[fresh["check"] == sim.WARNING, "estimate"].gt(0.4).all()
