"""Write the competing-risk reference cohorts that `competing.R` reads.

Run from the repo root: `/work/main/.venv/bin/python tests/reference/simulate_competing.py`.
Seeded, so it rewrites the same files:

- competing_sim_fg.tsv: n = 300, a standardised score with a planted subdistribution hazard
  ratio exp(0.6) for cause 1 (Fine & Gray 1999, section 5 design), a binary covariate,
  administrative (120 months) and exponential random censoring, times rounded to 0.1 month.
- competing_sim_cs.tsv: n = 300, exponential cause-specific hazards (score HR exp(0.5) for
  cause 1, exp(-0.3) for cause 2), times rounded up to whole months (many ties, also between
  events and censorings).
- competing_gse1992.tsv: the real SurvSet cohort gse1992 (time in months, event 0/1, five
  self-seeding genes); it has no competing events.
"""

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
GENES = ["num_HS_IL6", "num_HS_IL8", "num_HS_MMP1", "num_HS_FSCN1", "num_HS_CXCL1"]


def censor(rng, latent_time, cause, rate, admin=120.0):
    """Apply administrative and exponential random censoring to latent event times."""
    censor_time = np.minimum(rng.exponential(1 / rate, len(latent_time)), admin)
    observed = latent_time <= censor_time
    return np.where(observed, latent_time, censor_time), np.where(observed, cause, 0)


def score_tertile(score):
    return pd.qcut(score, 3, labels=["low", "mid", "high"]).astype(str)


def simulate_subdistribution(seed=20240601, n=300, beta1=0.6, beta2=-0.3, p=0.45):
    """Fine & Gray (1999) design: P(cause 1 | z) = 1 - (1 - p)^exp(z beta1)."""
    rng = np.random.default_rng(seed)
    score = rng.standard_normal(n)
    nodal = rng.binomial(1, 0.4, n)
    lin1 = np.exp(beta1 * score + 0.3 * nodal)
    p_cause1 = 1 - (1 - p) ** lin1
    cause = np.where(rng.uniform(size=n) < p_cause1, 1, 2)
    # Cause 1: invert the conditional subdistribution CDF; cause 2: exponential.
    u = rng.uniform(size=n)
    inner = (1 - (1 - u * p_cause1) ** (1 / lin1)) / p
    t1 = -np.log1p(-np.minimum(inner, 1 - 1e-12))
    t2 = rng.exponential(1 / np.exp(beta2 * score))
    latent = 40.0 * np.where(cause == 1, t1, t2)
    time, event = censor(rng, latent, cause, rate=1 / 50)
    time = np.maximum(np.round(time, 1), 0.1)
    return pd.DataFrame(
        {
            "sample": [f"fg{i:03d}" for i in range(n)],
            "time": time,
            "event": event,
            "score": np.round(score, 4),
            "nodal": nodal,
            "group": score_tertile(score),
        }
    )


def simulate_cause_specific(seed=20240602, n=300):
    """Exponential cause-specific hazards per month, times rounded up to whole months."""
    rng = np.random.default_rng(seed)
    score = rng.standard_normal(n)
    nodal = rng.binomial(1, 0.5, n)
    hazard1 = 0.010 * np.exp(0.5 * score + 0.4 * nodal)
    hazard2 = 0.010 * np.exp(-0.3 * score)
    latent = rng.exponential(1 / (hazard1 + hazard2))
    cause = np.where(rng.uniform(size=n) < hazard1 / (hazard1 + hazard2), 1, 2)
    time, event = censor(rng, latent, cause, rate=1 / 50)
    return pd.DataFrame(
        {
            "sample": [f"cs{i:03d}" for i in range(n)],
            "time": np.ceil(time),
            "event": event,
            "score": np.round(score, 4),
            "nodal": nodal,
            "group": np.where(nodal == 1, "node_pos", "node_neg"),
        }
    )


def gse1992_extract():
    """The SurvSet gse1992 columns the tests use (loading SurvSet takes ~15 s)."""
    from SurvSet.data import SurvLoader

    df = SurvLoader().load_dataset(ds_name="gse1992")["df"]
    return df[["pid", "time", "event", *GENES]].rename(columns={"pid": "sample"})


def main():
    for name, frame in [
        ("competing_sim_fg.tsv", simulate_subdistribution()),
        ("competing_sim_cs.tsv", simulate_cause_specific()),
        ("competing_gse1992.tsv", gse1992_extract()),
    ]:
        frame.to_csv(HERE / name, sep="\t", index=False)
        counts = frame["event"].value_counts(normalize=True).sort_index().round(3).to_dict()
        ties = int(frame["time"].duplicated().sum())
        print(f"{name}: n={len(frame)} event shares {counts} tied times {ties}")


if __name__ == "__main__":
    main()
