"""Cross-checks of a schema-valid config against the data, before any job runs."""

from pathlib import Path

from selfseed.errors import ConfigError


def clinical_table(entry, cohort):
    """The cohort's clinical table (indexed by row, not yet matched to expression) and its file."""
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
    if entry["source"] == "h5ad":
        import anndata as ad

        from selfseed.errors import InputDataError

        try:
            obs = ad.read_h5ad(entry["path"], backed="r").obs  # clinical only: X stays on disk
        except (OSError, KeyError, ValueError) as error:
            raise InputDataError(
                f"cannot read the AnnData file: {error}", cohort=cohort, file=entry["path"],
                key=f"cohorts.{cohort}.path", expected="an .h5ad file written by anndata",
            ) from error  # fmt: skip
        return obs, entry["path"]
    from selfseed.sources.table import existing, read_clinical

    for key in ("expression", "clinical"):
        existing(entry[key], cohort=cohort, key=f"cohorts.{cohort}.{key}")
    key = f"cohorts.{cohort}.clinical"
    return read_clinical(entry["clinical"], cohort=cohort, key=key), entry["clinical"]


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
    named += [(f"endpoint.{k}", entry["endpoint"][k]) for k in ("table", "events")
              if k in entry["endpoint"]]  # fmt: skip
    for key, path in named:
        if not is_url(path) and not Path(path).exists():
            raise ConfigError(
                "file not found", cohort=cohort, file=path, key=f"cohorts.{cohort}.{key}",
                expected="an existing file or folder (relative to the directory snakemake runs in)",
            )  # fmt: skip


RESERVED_NAMES = ("time_months", "event", "sample_id", "score", "score_sd")  # used by the models


def check_names(entry, cohort):
    """Covariate and treatment names are unique and not taken by the endpoint columns; no event
    code is in two of event_values, competing_values and censored_values."""
    from selfseed.endpoints import code_key

    terms = [(f"covariates[{i}].name", c["name"]) for i, c in enumerate(entry["covariates"])]
    if "treatment" in entry:
        terms.append(("treatment.name", entry["treatment"]["name"]))
    seen = set()
    for key, name in terms:
        if name in seen or name in RESERVED_NAMES:
            raise ConfigError(
                "covariate name used twice" if name in seen else "covariate name is reserved",
                cohort=cohort,
                key=f"cohorts.{cohort}.{key}",
                found=name,
                expected=f"a name not used by another covariate or the treatment, nor one of "
                f"{', '.join(RESERVED_NAMES)}",
            )
        seen.add(name)
    endpoint = entry["endpoint"]
    lists = ("event_values", "competing_values", "censored_values")
    for i, first in enumerate(lists):
        for second in lists[i + 1 :]:
            keys = {code_key(v) for v in endpoint.get(first, [])}
            both = [str(v) for v in endpoint.get(second, []) if code_key(v) in keys]
            if both:
                raise ConfigError(
                    f"event codes listed in both {first} and {second} (codes are compared "
                    "regardless of case)",
                    cohort=cohort,
                    key=f"cohorts.{cohort}.endpoint.{second}",
                    found=sorted(both),
                    expected="each code in one list only",
                )


def check_preset(entry, cohort):
    """A preset endpoint names its table, unless the source ships one (tcga_firehose), whose cancer
    type it then keeps."""
    endpoint = entry["endpoint"]
    if "preset" not in endpoint:
        return
    if entry["source"] == "tcga_firehose":
        if endpoint.get("cancer_type", entry["cancer_type"]) != entry["cancer_type"]:
            raise ConfigError(
                "the endpoint's cancer type differs from the shipped cohort's",
                cohort=cohort,
                key=f"cohorts.{cohort}.endpoint.cancer_type",
                found=endpoint["cancer_type"],
                expected=f"{entry['cancer_type']} (cohorts.{cohort}.cancer_type), or leave it out",
            )
        return
    if "table" not in endpoint:
        raise ConfigError(
            f"the {endpoint['preset']} preset needs its table",
            cohort=cohort,
            key=f"cohorts.{cohort}.endpoint.table",
            expected="TCGA-CDR-SupplementalTableS1.xlsx (tcga_cdr) or Rueda et al.'s clinical "
            "table (metabric_rueda); only tcga_firehose cohorts ship theirs",
        )
    if "events" in endpoint and endpoint["preset"] != "tcga_cdr":
        raise ConfigError(
            "a new-tumour-event history is read by the tcga_cdr preset only",
            cohort=cohort,
            key=f"cohorts.{cohort}.endpoint.events",
            expected="no events key for the metabric_rueda preset (its table has LR at any time)",
        )


def check_expression_header(entry, cohort, sample_ids):
    """A table cohort's expression file: readable, delimiter as its name says, and (reading only
    its header) orientation consistent with the clinical sample ids."""
    from selfseed.genes import lookup_symbols
    from selfseed.sources.table import read_header

    path = entry["expression"]
    names = read_header(path, cohort=cohort, key=f"cohorts.{cohort}.expression")
    header = [name.strip() for name in names]
    shared = set(header) & set(sample_ids)
    found = f"header {header[:4]}...; clinical sample ids {list(sample_ids[:4])}..."
    if entry["orientation"] == "genes_by_samples" and not shared:
        symbols = lookup_symbols(header[1:200])["symbol"]
        genes = symbols.notna().mean() >= 0.5
        raise ConfigError(
            "the expression header names no sample of the clinical table",
            cohort=cohort,
            file=path,
            line=1,
            key=f"cohorts.{cohort}.{'orientation' if genes else 'sample_column'}",
            found=found,
            expected="orientation genes_by_samples: a header of sample ids, as in the clinical "
            "sample column",
            fix="the header holds gene ids: set orientation: samples_by_genes"
            if genes
            else "check sample_column and that both files use the same sample ids",
        )
    if entry["orientation"] == "samples_by_genes" and len(shared) > (len(header) - 1) / 2:
        raise ConfigError(
            "the expression header holds sample ids, not gene ids",
            cohort=cohort,
            file=path,
            line=1,
            key=f"cohorts.{cohort}.orientation",
            found=found,
            expected="orientation samples_by_genes: a header of gene ids",
            fix="set orientation: genes_by_samples",
        )


def check_cohort(entry, cohort):
    """Names are consistent, files exist, named columns exist, the event codes occur in the data and
    some samples have a usable endpoint (geo, cbioportal, xena: checked at ingest, once the data
    are downloaded and read)."""
    from selfseed.cohort import covariate_frame, unique_sample_ids
    from selfseed.endpoints import code_endpoint, no_usable_endpoint

    check_names(entry, cohort)
    check_preset(entry, cohort)
    if entry["source"] not in ("survset", "table", "h5ad"):
        check_local_files(entry, cohort)
        return
    check_local_files(entry, cohort)
    frame, file = clinical_table(entry, cohort)
    endpoint = entry["endpoint"]
    named = [] if entry["source"] == "h5ad" else [("sample_column", entry["sample_column"])]
    if "preset" not in endpoint:
        named += [(f"endpoint.{k}", endpoint[k]) for k in ("time_column", "event_column")]
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
    if entry["source"] == "table":
        from selfseed.sources.table import sample_ids

        frame = sample_ids(
            frame, entry["sample_column"], cohort=cohort, file=file,
            key=f"cohorts.{cohort}.sample_column",
        )  # fmt: skip
        unique_sample_ids(frame.index, "clinical table", cohort=cohort, file=file)
        check_expression_header(entry, cohort, list(frame.index))
    frame = frame.astype(object).where(~frame.isin(entry["missing_values"]))
    if "preset" not in endpoint:
        coded, dropped = code_endpoint(frame, endpoint, cohort=cohort, file=file)
        if coded.empty:
            raise no_usable_endpoint(ConfigError, dropped, len(frame), cohort=cohort, file=file)
    treatment = [{**entry["treatment"], "type": "categorical"}] if "treatment" in entry else []
    covariate_frame(frame, entry["covariates"] + treatment, cohort=cohort, file=file)


def cohort_settings(config, cohort, signatures=None):
    """What a cohort job needs of the config besides the cohort's entry: the run-wide scoring and
    statistics settings and signatures (`signatures`: as `load_signatures` returns them, read from
    the config when not given), the cohort's covariates and treatment (None without one)."""
    from selfseed.signatures import load_signatures

    entry = config["cohorts"][cohort]
    if signatures is None:
        signatures = load_signatures(config["signatures"], config["signatures_gmt"])
    return {
        "max_missing_fraction": config["max_missing_fraction"],
        "signatures": signatures,
        "min_genes": config["min_genes"],
        "scoring": config["scoring"],
        "statistics": config["statistics"],
        "covariates": entry["covariates"],
        "treatment": entry.get("treatment"),
    }


def cohort_sources(config):
    """Per cohort: source and description, for the cohorts table."""
    return {
        name: {"source": entry["source"], "description": entry["description"]}
        for name, entry in config["cohorts"].items()
    }


def input_stats(paths):
    """{path: [size, inode change time in ns]} of each existing file, and of every file in each
    existing folder (a cBioPortal study): any write changes the change time, also one that keeps the
    modification time (cp -p, rsync -a), which Snakemake's modification-time trigger misses."""
    from selfseed.report import file_stat

    stats = {}
    for path in map(Path, paths):
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        stats.update({str(file): file_stat(file) for file in files if file.is_file()})
    return stats


def digest(value):
    """sha256 of a JSON-able value (keys sorted): a rule parameter that changes whenever the value
    does (Snakemake's params rerun trigger) without carrying its text, which Snakemake's report
    would embed unescaped in a <script> element."""
    import hashlib
    import json

    text = json.dumps(value, sort_keys=True, default=str, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


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
    from selfseed.signatures import load_signatures

    gmt = config.get("signatures_gmt")
    if gmt and not Path(gmt).is_file():
        raise ConfigError("signature .gmt file not found", file=gmt, key="signatures_gmt")
    signatures = load_signatures(config.get("signatures", {}), gmt)
    for name, genes in signatures.items():
        if not [gene for gene in genes if str(gene).strip()]:
            raise ConfigError(
                "signature without genes", file=gmt if name not in config.get("signatures", {})
                else None, key=f"signatures.{name}", found=genes, expected="one gene or more",
            )  # fmt: skip
    primary = config.get("primary", {})
    if primary.get("signature", "self_seeding") not in signatures:
        raise ConfigError(
            "the primary analysis names an unknown signature",
            key="primary.signature",
            found=primary.get("signature", "self_seeding"),
            expected=f"one of {sorted(signatures)}",
        )
    endpoints = {e["endpoint"].get("name", "LR") for e in config["cohorts"].values()}
    if primary.get("pool", "all") not in {"all", *endpoints}:
        raise ConfigError(
            "the primary analysis pools an endpoint no cohort has",
            key="primary.pool",
            found=primary["pool"],
            expected=f"all, or one of the cohorts' endpoints {sorted(endpoints)}",
        )
    folded = {}
    for cohort in config["cohorts"]:
        if cohort.lower() in folded:
            raise ConfigError(
                "two cohort names differ only in case (their files would clash on macOS/Windows)",
                key=f"cohorts.{cohort}",
                found=f"{folded[cohort.lower()]} and {cohort}",
                expected="cohort names unique regardless of case",
            )
        folded[cohort.lower()] = cohort
    for cohort, entry in config["cohorts"].items():
        check_cohort(entry, cohort)
