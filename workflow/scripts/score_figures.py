from selfseed.logs import logged
from selfseed.pipeline import score_figures

with logged(snakemake.log[0], job=snakemake.rule, cohort=snakemake.wildcards.get("cohort")):
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
