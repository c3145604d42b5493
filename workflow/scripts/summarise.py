from selfseed.logs import logged
from selfseed.pipeline import MODEL_TABLES, summarise

with logged(snakemake.log[0]):
    summarise(
        {name: snakemake.input[name] for name in MODEL_TABLES},
        snakemake.input.scores,
        snakemake.params.sources,
        snakemake.params.statistics,
        snakemake.params.primary,
        tables={name: path for name, path in snakemake.output.items() if name != "forest"},
        plots={"forest": snakemake.output.forest},
    )
