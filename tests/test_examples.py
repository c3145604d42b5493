"""The example configs of real public cohorts are valid and name their downloads (no network here)."""

import pytest
import yaml
from snakemake.utils import validate

from conftest import REPO
from selfseed.config import check_schema, public_downloads

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
EXAMPLES = sorted((REPO / "config" / "examples").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_config_is_valid_and_lists_downloads(path):
    config = yaml.safe_load(path.read_text())
    check_schema(config, SCHEMA)
    validate(config, str(SCHEMA))
    downloads = public_downloads(config)
    assert all(url.startswith("https://") for url in downloads.values())
    offline = {entry["source"] for entry in config["cohorts"].values()} <= {"survset"}
    assert bool(downloads) != offline  # public cohorts download, shipped ones do not
    for entry in config["cohorts"].values():
        assert entry["endpoint"].get("name") != "LR" or "preset" in entry["endpoint"]


def test_geo_urls_follow_ncbi_layout():
    config = yaml.safe_load((REPO / "config" / "examples" / "geo_gse7390.yaml").read_text())
    validate(config, str(SCHEMA))
    urls = set(public_downloads(config).values())
    assert (
        "https://ftp.ncbi.nlm.nih.gov/geo/series/GSE7nnn/GSE7390/matrix/GSE7390_series_matrix.txt.gz"
        in urls
    )
    assert "https://ftp.ncbi.nlm.nih.gov/geo/platforms/GPLnnn/GPL96/annot/GPL96.annot.gz" in urls
