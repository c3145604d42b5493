from selfseed.logs import logged
from selfseed.pipeline import summarise

with logged(snakemake.log[0]):
    outputs = dict(snakemake.output.items())
    summarise(
        snakemake.input.cox,
        snakemake.input.km,
        snakemake.input.scores,
        snakemake.params.sources,
        forest_plot=outputs.pop("forest"),
        tables={"versions": outputs.pop("versions"), **outputs},
    )
