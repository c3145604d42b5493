"""The example configs of real public cohorts are valid and name their downloads (no network here)."""

import re
import shutil

import pytest
import yaml
from snakemake.utils import validate

from conftest import REPO
from selfseed.config import check_primary, check_schema, public_downloads
from selfseed.signatures import load_signatures

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
EXAMPLES = sorted((REPO / "config" / "examples").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_config_is_valid_and_lists_downloads(path):
    config = yaml.safe_load(path.read_text())
    check_schema(config, SCHEMA)
    validate(config, str(SCHEMA))
    check_primary(config, load_signatures(config["signatures"], config["signatures_gmt"]))
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


def dry_run(path, *args):
    from test_workflow import snakemake

    result = snakemake(path, "--dry-run", *args)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    return result.stdout + result.stderr


def planned_cohorts(output):
    return set(re.findall(r"wildcards: cohort=(\S+)", output))


@pytest.fixture
def run_dir(tmp_path):
    """The workflow with the default config/config.yaml and the example configs beside it."""
    from test_workflow import default_config, workdir

    path = workdir(tmp_path, default_config())
    shutil.copytree(REPO / "config" / "examples", path / "config" / "examples")
    return path


@pytest.mark.workflow
def test_example_config_runs_alone_not_merged_with_the_default(run_dir):
    """--configfile used to extend config/config.yaml, so an example also ran the three default
    cohorts. A dry run plans jobs without downloading anything."""
    assert planned_cohorts(dry_run(run_dir)) == {"tcga_acc", "tcga_chol", "tcga_ucs"}
    output = dry_run(run_dir, "--configfile", "config/examples/geo_gse7390.yaml")
    assert planned_cohorts(output) == {"gse7390_rfs", "gse7390_dmfs"}
    assert re.search(r"^download\s+2$", output, flags=re.MULTILINE), output
    assert not (run_dir / "resources").exists()  # nothing was downloaded


@pytest.mark.workflow
def test_own_config_file_runs_alone(run_dir):
    survset = yaml.safe_load((REPO / "config" / "examples" / "survset_breast.yaml").read_text())
    mine = {"cohorts": {"only_vdv": survset["cohorts"]["vdv"]}}
    (run_dir / "mine.yaml").write_text(yaml.safe_dump(mine))
    assert planned_cohorts(dry_run(run_dir, "--configfile", "mine.yaml")) == {"only_vdv"}
