"""Simulation study of the competing-risk and cutpoint statistics (CI coverage and type I error).

Run from the repo root:

    .venv/bin/python simulations/competing_risks.py --replicates 1000 --seed 2026 \\
        --out simulations/results/summary.tsv

Replicate r of scenario s is drawn with `numpy.random.default_rng([seed, s, r])` (s = the scenario's
position in SCENARIOS), so any replicate can be rerun alone:

    .venv/bin/python simulations/competing_risks.py --seed 2026 --scenario cs_hr1.5 --replicate 17

Every replicate is one cohort of n patients with a standardised score x ~ N(0, 1), time in months,
event 0 = censored, 1 = local recurrence, 2 = competing event (distant metastasis or death), and
censoring at min(120 months, U(0, 240 months)): administrative end of follow-up plus uniform loss
to follow-up. Two data-generating models:

- `cause_specific`: independent latent times, a Weibull (shape 0.8) cause-1 hazard and an
  exponential cause-2 hazard, each proportional in x, so the cause-specific hazard ratios per
  unit (= per SD) of x are exactly exp(beta1) and exp(beta2).
- `subdistribution`: Fine & Gray (1999), section 5: P(cause 1 | x) = 1 - (1 - p)^exp(x beta1),
  cause-1 CDF 1 - [1 - p(1 - e^-t)]^exp(x beta1) (so the subdistribution hazard ratio per unit of
  x is exactly exp(beta1)), cause 2 given cause 2 exponential with rate exp(x beta2).
"""

import argparse
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from selfseed.errors import InputDataError
from selfseed.stats.competing import cause_specific_cox, fine_gray, gray_test
from selfseed.stats.cutpoint import optimal_cutpoint
from selfseed.survival import cox_per_sd, km_median_split, median_split

ADMIN_MONTHS = 120.0  # administrative end of follow-up
DROPOUT_MONTHS = 240.0  # loss to follow-up uniform on (0, 240) months
LOG_HR = float(np.log(1.5))
ALPHA = 0.05
MINPROP = 0.1
N_PERM = 999
TARGETS = {"coverage": (0.93, 0.97), "type I error": (0.04, 0.06)}

# name: (model, parameters, replicates as a multiple of --replicates); beta1 acts on local
# recurrence (cause 1), beta2 on the competing event. The two full nulls get twice the replicates so
# that the Monte Carlo SE of a 5% rejection rate (0.49%) is half the width of the 4-6% target band.
SCENARIOS = {
    "cs_hr1.5": ("cause_specific", {"beta1": LOG_HR, "beta2": float(np.log(1.3))}, 1),
    "fg_hr1.5": ("subdistribution", {"beta1": LOG_HR, "beta2": float(np.log(1.3))}, 1),
    "null_cs": ("cause_specific", {"beta1": 0.0, "beta2": 0.0}, 2),
    "null_fg": ("subdistribution", {"beta1": 0.0, "beta2": 0.0}, 2),
    "null_cs_competing_hr1.5": ("cause_specific", {"beta1": 0.0, "beta2": LOG_HR}, 1),
}
DESCRIPTIONS = {
    "cs_hr1.5": "cause-specific HR 1.5 (cause 1), 1.3 (cause 2)",
    "fg_hr1.5": "subdistribution HR 1.5 (cause 1); cause-2 rate HR 1.3",
    "null_cs": "null: x unrelated to either cause (cause-specific model)",
    "null_fg": "null: x unrelated to either cause (Fine-Gray model)",
    "null_cs_competing_hr1.5": "cause-1 cause-specific HR 1, cause-2 HR 1.5",
}


def censor(rng, latent, cause, dropout=DROPOUT_MONTHS):
    """Observed time and event after administrative censoring and uniform random censoring on
    (0, dropout) months (none when dropout is None)."""
    censor_time = np.full(len(latent), ADMIN_MONTHS)
    if dropout is not None:
        censor_time = np.minimum(censor_time, rng.uniform(0, dropout, len(latent)))
    seen = latent <= censor_time
    return np.where(seen, latent, censor_time), np.where(seen, cause, 0)


def simulate_cause_specific(
    rng,
    n=300,
    beta1=LOG_HR,
    beta2=0.0,
    shape1=0.8,
    scale1=550.0,
    scale2=250.0,
    dropout=DROPOUT_MONTHS,
):
    """Cause-specific hazards h1 = (shape1/scale1)(t/scale1)^(shape1-1) exp(beta1 x) (Weibull) and
    h2 = exp(beta2 x) / scale2 (exponential), from independent latent times (months). With the
    defaults about 18% local recurrences, 26% competing events and 56% censored."""
    x = rng.standard_normal(n)
    t1 = scale1 * (rng.exponential(size=n) * np.exp(-beta1 * x)) ** (1 / shape1)
    t2 = scale2 * rng.exponential(size=n) * np.exp(-beta2 * x)
    time_, event = censor(rng, np.minimum(t1, t2), np.where(t1 <= t2, 1, 2), dropout)
    return pd.DataFrame({"time_months": time_, "event": event, "score": x})


def simulate_subdistribution(
    rng, n=300, beta1=LOG_HR, beta2=0.0, p=0.2, scale1=24.0, scale2=150.0, dropout=DROPOUT_MONTHS
):
    """Fine & Gray (1999, section 5): cause 1 with probability 1 - (1 - p)^exp(beta1 x) and then
    time from F1(t | x) / F1(inf | x), F1 = 1 - [1 - p(1 - e^-t)]^exp(beta1 x); cause 2 exponential
    with rate exp(beta2 x). Time units of scale1 and scale2 months. With the defaults about 19%
    local recurrences, 34% competing events and 47% censored."""
    x = rng.standard_normal(n)
    risk = np.exp(beta1 * x)
    p1 = 1 - (1 - p) ** risk
    cause = np.where(rng.uniform(size=n) < p1, 1, 2)
    # invert F1(t) = u p1: 1 - e^-t = (1 - (1 - u p1)^(1/risk)) / p
    u = rng.uniform(size=n)
    share = -np.expm1(np.log1p(-u * p1) / risk) / p
    t1 = -np.log1p(-np.minimum(share, 1 - 1e-15))
    t2 = rng.exponential(size=n) * np.exp(-beta2 * x)
    latent = np.where(cause == 1, scale1 * t1, scale2 * t2)
    time_, event = censor(rng, latent, cause, dropout)
    return pd.DataFrame({"time_months": time_, "event": event, "score": x})


GENERATORS = {
    "cause_specific": simulate_cause_specific,
    "subdistribution": simulate_subdistribution,
}


def simulate(scenario, seed, replicate, n=300):
    """The cohort of one replicate of one scenario."""
    model, params, _ = SCENARIOS[scenario]
    return GENERATORS[model](
        np.random.default_rng(replicate_seed(scenario, seed, replicate)), n=n, **params
    )


def replicate_seed(scenario, seed, replicate):
    """The seed of one replicate: [study seed, scenario position, replicate number]."""
    return [seed, list(SCENARIOS).index(scenario), replicate]


def analyse(data, wanted, perm_seed=None):
    """The `wanted` statistics of the study on one cohort (NaN where a fit fails): 'cs', 'sd', 'fg'
    (coef, se, Wald p), 'logrank', 'gray', 'cut' (p corrected by Lausen-Schumacher, Altman et al.,
    permutation with `perm_seed`, and the uncorrected minimum p)."""
    t, e, x = (data[c].to_numpy() for c in ("time_months", "event", "score"))
    row = {f"events{k}": int((e == k).sum()) for k in (0, 1, 2)}
    fits = {"cs": cause_specific_cox, "fg": fine_gray}
    for name in ("cs", "fg"):
        if name in wanted:
            try:
                fit = fits[name](t, e, x).iloc[0]
                row.update(
                    {f"{name}_coef": fit["coef"], f"{name}_se": fit["se"], f"{name}_p": fit["p"]}
                )
            except (InputDataError, np.linalg.LinAlgError, ValueError):
                row.update(dict.fromkeys([f"{name}_coef", f"{name}_se", f"{name}_p"], np.nan))
    if "sd" in wanted:
        per_sd = cox_per_sd(data)
        row.update(sd_coef=per_sd["coef"], sd_se=per_sd["se"], sd_p=per_sd["p"])
    if "logrank" in wanted:
        row["logrank_p"] = km_median_split(median_split(data))[0]["p"]
    if "gray" in wanted:
        row["gray_p"] = gray_test(t, e, np.where(x > np.median(x), "high", "low")).p
    if "cut" in wanted:
        status = (e == 1).astype(int)
        cut = optimal_cutpoint(t, status, x, minprop=MINPROP, method="lausen_schumacher")
        row["cut_p"] = cut["p_corrected"]
        altman = optimal_cutpoint(t, status, x, minprop=MINPROP, method="altman")
        row["cut_altman_p"] = altman["p_corrected"]
        permutation = optimal_cutpoint(
            t, status, x, minprop=MINPROP, method="permutation", n_perm=N_PERM, seed=perm_seed
        )
        row["cut_perm_p"] = permutation["p_corrected"]
        row["cut_min_p"] = float(2 * stats.norm.sf(cut["max_stat"]))
    return row


def wanted_statistics(scenario):
    """The analyses a scenario's checks need (see CHECKS)."""
    names = [name for names in CHECKS[scenario].values() for name in names]
    return {name.split("_")[0] for name in names}


def run_replicate(task):
    scenario, seed, replicate, n = task
    start = time.process_time()
    data = simulate(scenario, seed, replicate, n)
    perm_seed = [*replicate_seed(scenario, seed, replicate), 1]
    row = analyse(data, wanted_statistics(scenario), perm_seed)
    return {
        "scenario": scenario,
        "replicate": replicate,
        **row,
        "cpu_s": time.process_time() - start,
    }


# statistic: (label, estimate column, p column); coverage is judged on the coefficient's 95% Wald CI
STATISTICS = {
    "cs": ("cause-specific Cox (competing.cause_specific_cox), HR per unit x", "cs"),
    "sd": ("pipeline Cox per SD (survival.cox_per_sd), HR per sample SD of x", "sd"),
    "fg": ("Fine-Gray (competing.fine_gray), subdistribution HR per unit x", "fg"),
}
TESTS = {
    "cs_p": "cause-specific Cox Wald test",
    "fg_p": "Fine-Gray Wald test",
    "logrank_p": "median-split log-rank test (survival.km_median_split)",
    "gray_p": "median-split Gray test (competing.gray_test)",
    "cut_p": f"optimal cutpoint, Lausen-Schumacher corrected p (minprop {MINPROP})",
    "cut_altman_p": "optimal cutpoint, Altman et al. 1994 corrected p",
    "cut_perm_p": f"optimal cutpoint, permutation p ({N_PERM} permutations; pipeline default)",
    "cut_min_p": "optimal cutpoint, UNCORRECTED minimum p",
}
WARNING = "WARNING: uncorrected, never use"
# what each scenario checks: coverage of estimators with a known true log-HR, and which tests are
# under their null hypothesis (type I error) or not (power / rejection rate, no target)
CHECKS = {
    "cs_hr1.5": {"coverage": ["cs", "sd"], "power": ["cs_p", "logrank_p", "cut_p"]},
    "fg_hr1.5": {"coverage": ["fg"], "power": ["fg_p", "gray_p"]},
    "null_cs": {"type I error": list(TESTS)[:-1], WARNING: ["cut_min_p"]},
    "null_fg": {"type I error": list(TESTS)[:-1], WARNING: ["cut_min_p"]},
    "null_cs_competing_hr1.5": {
        "type I error": ["cs_p", "logrank_p", "cut_p", "cut_altman_p", "cut_perm_p"],
        WARNING: ["cut_min_p"],
        "rejection, not a null for Fine-Gray": ["fg_p", "gray_p"],
    },
}


def proportion_row(hits):
    """Share of True among the finite entries, its Monte Carlo SE and Clopper-Pearson 95% CI."""
    hits = hits[~np.isnan(hits)]
    k, r = int(hits.sum()), len(hits)
    share = k / r
    ci = stats.binomtest(k, r).proportion_ci(confidence_level=0.95, method="exact")
    return {
        "replicates": r,
        "hits": k,
        "estimate": share,
        "mc_se": np.sqrt(share * (1 - share) / r),
        "ci_low": ci.low,
        "ci_high": ci.high,
    }


def summarise(results):
    """One row per scenario x check x statistic."""
    rows = []
    for scenario, checks in CHECKS.items():
        if scenario not in set(results["scenario"]):
            continue
        model, params, _ = SCENARIOS[scenario]
        res = results[results["scenario"] == scenario]
        n = res[["events0", "events1", "events2"]].sum(axis=1).mean()
        common = {
            "scenario": scenario,
            "model": model,
            "description": DESCRIPTIONS[scenario],
            "n": int(round(n)),
            "share_cause1": res["events1"].mean() / n,
            "share_cause2": res["events2"].mean() / n,
            "share_censored": res["events0"].mean() / n,
        }
        for check, names in checks.items():
            for name in names:
                if check == "coverage":
                    label, prefix = STATISTICS[name]
                    coef, se = res[f"{prefix}_coef"], res[f"{prefix}_se"]
                    truth = params["beta1"]
                    z = stats.norm.ppf(0.975)
                    hits = ((coef - z * se <= truth) & (truth <= coef + z * se)).astype(float)
                    hits[coef.isna() | se.isna()] = np.nan
                    extra = {
                        "true_hr": np.exp(truth),
                        "mean_log_hr": coef.mean(),
                        "bias_log_hr": coef.mean() - truth,
                        "empirical_sd": coef.std(ddof=1),
                        "mean_se": se.mean(),
                    }
                else:
                    label = TESTS[name]
                    hits = (res[name] < ALPHA).astype(float)
                    hits[res[name].isna()] = np.nan
                    extra = {}
                low, high = TARGETS.get(check, (np.nan, np.nan))
                row = {
                    **common,
                    "check": check,
                    "statistic": label,
                    **proportion_row(hits.to_numpy()),
                }
                row["failed_fits"] = len(res) - row["replicates"]
                row.update(target_low=low, target_high=high, **extra)
                if check in TARGETS:
                    row["met"] = "yes" if low <= row["estimate"] <= high else "NO"
                else:
                    row["met"] = ""
                rows.append(row)
    return pd.DataFrame(rows)


COLUMNS = [
    "scenario",
    "model",
    "description",
    "check",
    "statistic",
    "n",
    "replicates",
    "failed_fits",
    "hits",
    "estimate",
    "mc_se",
    "ci_low",
    "ci_high",
    "target_low",
    "target_high",
    "met",
    "true_hr",
    "mean_log_hr",
    "bias_log_hr",
    "empirical_sd",
    "mean_se",
    "share_cause1",
    "share_cause2",
    "share_censored",
]


def run_study(replicates, seed, n=300, workers=2, scenarios=None):
    """All replicates of the chosen scenarios (in `workers` processes); per-replicate results."""
    tasks = [
        (scenario, seed, r, n)
        for scenario in (scenarios or list(SCENARIOS))
        for r in range(replicates * SCENARIOS[scenario][2])
    ]
    if workers > 1:
        with Pool(workers) as pool:
            rows = pool.map(run_replicate, tasks, chunksize=20)
    else:
        rows = [run_replicate(task) for task in tasks]
    return pd.DataFrame(rows)


def markdown(summary):
    """The summary as a markdown table (percentages) for the README."""
    lines = [
        "| scenario | check | statistic | R | estimate % (MC SE) | 95% CI % | target % | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in summary.itertuples(index=False):
        target = (
            ""
            if np.isnan(row.target_low)
            else f"{100 * row.target_low:.0f}–{100 * row.target_high:.0f}"
        )
        lines.append(
            f"| {row.scenario} | {row.check} | {row.statistic} | {row.replicates} | "
            f"{100 * row.estimate:.1f} ({100 * row.mc_se:.1f}) | "
            f"{100 * row.ci_low:.1f}–{100 * row.ci_high:.1f} | {target} | {row.met} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--n", type=int, default=300, help="patients per replicate")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("simulations/results/summary.tsv"))
    parser.add_argument(
        "--scenarios", nargs="+", choices=list(SCENARIOS), help="run only these (default: all)"
    )
    parser.add_argument("--scenario", choices=list(SCENARIOS), help="rerun one replicate of this")
    parser.add_argument("--replicate", type=int, help="the replicate to rerun (with --scenario)")
    args = parser.parse_args(argv)

    if args.scenario is not None or args.replicate is not None:
        if args.scenario is None or args.replicate is None:
            parser.error("--scenario and --replicate go together")
        row = run_replicate((args.scenario, args.seed, args.replicate, args.n))
        print(pd.Series(row).to_string())
        return 0

    start = time.perf_counter()
    results = run_study(args.replicates, args.seed, args.n, args.workers, args.scenarios)
    summary = summarise(results)[COLUMNS]
    wall = time.perf_counter() - start
    args.out.parent.mkdir(parents=True, exist_ok=True)
    summary.to_csv(args.out, sep="\t", index=False, float_format="%.6g")
    print(markdown(summary))
    print(
        f"\n{len(results)} replicates (--replicates {args.replicates}, n = {args.n}, "
        f"seed {args.seed}): wall {wall:.0f} s with {args.workers} workers, "
        f"CPU {results['cpu_s'].sum():.0f} s; wrote {args.out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
