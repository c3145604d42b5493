"""Where cohorts come from: one module per source, named as the config's `source:` value (table,
geo, xena, cbioportal, h5ad, survset, tcga_firehose), each with a `SOURCE` (a
`selfseed.sources.common.Source`). Adding a source is one module here and one branch of the config
schema (workflow/schemas/config.schema.yaml); docs/architecture.md shows how."""

from importlib import import_module


def source(name):
    """The Source of a config's `source:` value."""
    return import_module(f"selfseed.sources.{name}").SOURCE
