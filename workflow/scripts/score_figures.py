from selfseed.logs import job_log
from selfseed.pipeline import score_figures

with job_log(snakemake):
    score_figures(
        snakemake.input.scores,
        coverage_plot=snakemake.output.coverage,
        correlation_plot=snakemake.output.correlation,
        distribution_plots={
            key.removeprefix("scores_"): path
            for key, path in snakemake.output.items()
            if key.startswith("scores_")
        },
    )
