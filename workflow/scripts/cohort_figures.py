from selfseed.contracts import FIGURE_DATA
from selfseed.logs import job_log
from selfseed.pipeline import draw_cohort_figures

with job_log(snakemake):
    draw_cohort_figures(
        {name: snakemake.input[name] for name in FIGURE_DATA},
        snakemake.input.record,
        plots=dict(snakemake.output.items()),
    )
