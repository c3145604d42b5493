"""Cross-checks of a schema-valid config against the data, before any job runs."""

from pathlib import Path

from selfseed.endpoints import check_event_codes
from selfseed.errors import ConfigError


def clinical_table(entry, cohort):
    """The cohort's clinical table (indexed by row, not yet matched to expression)."""
    if entry["source"] == "survset":
        from SurvSet.data import SurvLoader

        loader = SurvLoader()
        if entry["dataset"] not in set(loader.df_ds["ds"]):
            raise ConfigError(
                "unknown SurvSet dataset",
                cohort=cohort,
                key=f"cohorts.{cohort}.dataset",
                found=entry["dataset"],
                expected="a dataset listed by SurvSet.data.SurvLoader().df_ds, e.g. gse1992",
            )
        frame = loader.load_dataset(ds_name=entry["dataset"])["df"]
        return frame, f"SurvSet dataset {entry['dataset']}"
    from selfseed.sources.table import read_frame

    for key in ("expression", "clinical"):
        if not Path(entry[key]).is_file():
            raise ConfigError(
                f"{key} file not found",
                cohort=cohort,
                file=entry[key],
                key=f"cohorts.{cohort}.{key}",
                expected="an existing file (paths are relative to the directory snakemake runs in)",
            )
    key = f"cohorts.{cohort}.clinical"
    return read_frame(entry["clinical"], cohort=cohort, key=key, text_dtype=str), entry["clinical"]


class Downloads(dict):
    """File name in the download cache -> URL, and which files each cohort needs."""

    def __init__(self):
        super().__init__()
        self.by_cohort = {}

    def cohort_files(self, cohort):
        return self.by_cohort[cohort]


def is_url(text):
    return str(text).startswith(("http://", "https://"))


def public_downloads(config):
    """The files each cohort needs from the network: GEO series matrix and platform annotation,
    and any Xena matrix or cBioPortal archive given as a URL. Keys are paths in the cache."""
    from selfseed.download import geo_platform_annot_url, geo_series_matrix_url

    base = config["download"]["geo_base_url"]
    downloads = Downloads()
    for cohort, entry in config["cohorts"].items():
        urls = {}
        if entry["source"] == "geo":
            gpl = entry["platform"]
            series = entry["accession"]
            urls["matrix"] = geo_series_matrix_url(
                series, gpl if entry["multi_platform"] else None, base_url=base
            )
            urls["annotation"] = geo_platform_annot_url(gpl, base_url=base)
        elif entry["source"] == "xena":
            urls = {k: entry[k] for k in ("expression", "phenotype") if is_url(entry[k])}
        elif entry["source"] == "cbioportal" and "url" in entry:
            urls["study"] = entry["url"]
        files = {kind: f"{entry['source']}/{url.rsplit('/', 1)[1]}" for kind, url in urls.items()}
        downloads.update({files[kind]: url for kind, url in urls.items()})
        downloads.by_cohort[cohort] = files
    return downloads


def check_local_files(entry, cohort):
    """Files of public-data cohorts that are given as local paths exist (columns are checked at
    ingest, once downloaded data can be read)."""
    keys = {"cbioportal": ["study"], "xena": ["expression", "phenotype"], "h5ad": ["path"]}
    named = [(key, entry[key]) for key in keys.get(entry["source"], []) if key in entry]
    if "table" in entry["endpoint"]:
        named.append(("endpoint.table", entry["endpoint"]["table"]))
    for key, path in named:
        if not is_url(path) and not Path(path).exists():
            raise ConfigError(
                "file not found", cohort=cohort, file=path, key=f"cohorts.{cohort}.{key}",
                expected="an existing file or folder (relative to the directory snakemake runs in)",
            )  # fmt: skip


def check_cohort(entry, cohort):
    """Named columns exist and the event codes occur in the data (geo: checked at ingest, after
    the download)."""
    if entry["source"] not in ("survset", "table"):
        check_local_files(entry, cohort)
        return
    frame, file = clinical_table(entry, cohort)
    named = [("sample_column", entry["sample_column"])]
    named += [(f"endpoint.{k}", entry["endpoint"][k]) for k in ("time_column", "event_column")]
    named += [(f"covariates[{i}].column", c["column"]) for i, c in enumerate(entry["covariates"])]
    if "treatment" in entry:
        named.append(("treatment.column", entry["treatment"]["column"]))
    for key, column in named:
        if column not in frame.columns:
            raise ConfigError(
                "column not found in the clinical data",
                cohort=cohort,
                file=file,
                column=column,
                key=f"cohorts.{cohort}.{key}",
                found=f"columns {list(frame.columns[:15])}",
                expected="the exact name of a clinical column",
            )
    check_event_codes(frame[entry["endpoint"]["event_column"]], entry["endpoint"], cohort=cohort,
                      file=file)  # fmt: skip


def check_schema(config, schema_path):
    """Raise a ConfigError naming the config key when the config does not match the JSON schema."""
    import jsonschema
    import yaml

    schema = yaml.safe_load(Path(schema_path).read_text())
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(config))
    if error is None:
        return
    key = ".".join(str(part) for part in error.absolute_path) or "(top level)"
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        raise ConfigError(
            "unknown keys in the config",
            key=key,
            found=f"unknown keys: {', '.join(unknown)}",
            expected=f"keys among: {', '.join(allowed)}",
            fix="see config/README.md for every key",
        )
    raise ConfigError(
        "config value does not match the schema",
        key=key,
        found=error.message,
        expected=error.schema.get("description", f"{error.validator}: {error.validator_value}"),
        fix="see config/README.md for every key",
    )


def check_config(config):
    """Raise ConfigError on the first problem the schema cannot see."""
    gmt = config.get("signatures_gmt")
    if gmt and not Path(gmt).is_file():
        raise ConfigError("signature .gmt file not found", file=gmt, key="signatures_gmt")
    for cohort, entry in config["cohorts"].items():
        check_cohort(entry, cohort)
