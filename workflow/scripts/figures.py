from selfseed.logs import logged
from selfseed.report import build

outputs = dict(snakemake.output.items())


def by_prefix(prefix):
    return {
        key.removeprefix(prefix): path for key, path in outputs.items() if key.startswith(prefix)
    }


with logged(snakemake.log[0]):
    build(
        {name: path for name, path in snakemake.input.items() if name != "scores"},
        snakemake.input.scores,
        config=snakemake.params.config,
        configfiles=snakemake.params.configfiles,
        descriptions=snakemake.params.descriptions,
        outputs={
            **{key: outputs[key] for key in ("summary", "provenance", "provenance_html")},
            **{key: outputs[key] for key in ("coverage", "correlation")},
            "tables": by_prefix("table_"),
            "forest": by_prefix("forest_"),
        },
    )
