"""Cross-checks of a schema-valid config against the data, before any job runs."""

from pathlib import Path

from selfseed.errors import ConfigError, InputDataError


class Downloads(dict):
    """Path in the download cache -> URL, and which files each cohort needs."""

    def __init__(self):
        super().__init__()
        self.by_cohort = {}

    def cohort_files(self, cohort):
        return self.by_cohort[cohort]

    def cohort_urls(self, cohort):
        """Kind of file (matrix, annotation, expression, phenotype, study) -> URL."""
        return {kind: self[name] for kind, name in self.by_cohort[cohort].items()}


def public_downloads(config):
    """The files each cohort needs from the network: GEO series matrix and platform annotation,
    and any Xena matrix or cBioPortal archive given as a URL. Keys are paths in the cache:
    <host>/<path of the URL> (selfseed.download.cache_name), one per URL."""
    from selfseed.download import cache_name
    from selfseed.sources import source

    downloads, claimed = Downloads(), {}
    for cohort, entry in config["cohorts"].items():
        origin = source(entry["source"])
        urls = origin.downloads(entry, config)
        files = {}
        for kind, url in urls.items():
            key = origin.download_key(kind)
            key = key if "." in key else f"cohorts.{cohort}.{key}"
            try:
                name = cache_name(url)
            except ConfigError as error:
                error.cohort, error.key = cohort, key
                raise
            if name in downloads and downloads[name] != url:
                raise ConfigError(
                    "two URLs would share one file in the download cache",
                    cohort=cohort,
                    key=key,
                    found=f"{url} and {downloads[name]} (cohort '{claimed[name]}') -> {name}",
                    expected="URLs that differ in host or path, not only in the query string",
                )
            downloads[name] = url
            claimed.setdefault(name, cohort)
            files[kind] = name
        downloads.by_cohort[cohort] = files
    return downloads


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
    from selfseed.sources import source

    endpoint = entry["endpoint"]
    if "preset" not in endpoint:
        return
    shipped = source(entry["source"]).endpoint_defaults(entry)
    if endpoint.get("cancer_type", shipped.get("cancer_type")) != shipped.get(
        "cancer_type", endpoint.get("cancer_type")
    ):
        raise ConfigError(
            "the endpoint's cancer type differs from the shipped cohort's",
            cohort=cohort,
            key=f"cohorts.{cohort}.endpoint.cancer_type",
            found=endpoint["cancer_type"],
            expected=f"{shipped['cancer_type']} (cohorts.{cohort}.cancer_type), or leave it out",
        )
    if "table" not in {**shipped, **endpoint}:
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


def check_cohort(entry, cohort):
    """Names are consistent, files exist, named columns exist, the event codes occur in the data and
    some samples have a usable endpoint (geo, cbioportal, xena: checked at ingest, once the data
    are downloaded and read)."""
    from selfseed.cohort import covariate_frame
    from selfseed.endpoints import code_endpoint, no_usable_endpoint
    from selfseed.sources import source
    from selfseed.sources.common import check_files_exist

    check_names(entry, cohort)
    check_preset(entry, cohort)
    origin = source(entry["source"])
    named = [(key, entry[key]) for key in origin.file_keys if key in entry]
    named += [
        (f"endpoint.{k}", entry["endpoint"][k])
        for k in ("table", "events")
        if k in entry["endpoint"]
    ]
    check_files_exist(named, cohort)
    table = origin.clinical(entry, cohort)
    if table is None:
        return
    frame, file = table
    if len(frame) == 1:
        raise InputDataError(
            "the clinical table has one data row",
            cohort=cohort,
            file=file,
            key=f"cohorts.{cohort}.{origin.clinical_key}",
            found="1 row below the header",
            expected="one row per sample (a survival model needs many patients)",
            fix="check that the file holds the whole cohort, one row per sample, with a line "
            "break after each row",
        )
    endpoint = entry["endpoint"]
    named = [("sample_column", entry["sample_column"])] if origin.sample_column else []
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
    frame = origin.check_clinical(entry, cohort, frame, file)
    frame = frame.astype(object).where(~frame.isin(entry["missing_values"]))
    if "preset" not in endpoint:
        coded, dropped = code_endpoint(frame, endpoint, cohort=cohort, file=file)
        if coded.empty:
            raise no_usable_endpoint(ConfigError, dropped, len(frame), cohort=cohort, file=file)
    treatment = [{**entry["treatment"], "type": "categorical"}] if "treatment" in entry else []
    covariate_frame(frame, entry["covariates"] + treatment, cohort=cohort, file=file)


def check_yaml_file(path):
    """Read a config file as Snakemake will (YAML, PyYAML's FullLoader as in yte): a YAML error is
    a ConfigError naming the line and what is wrong (Snakemake's own message blames tab
    indentation, whatever the problem)."""
    import yaml

    try:
        with open(path, encoding="utf-8") as handle:
            yaml.load(handle, Loader=yaml.FullLoader)
    except FileNotFoundError:
        return  # Snakemake says so
    except UnicodeDecodeError as error:
        raise ConfigError(
            "the config file is not UTF-8 text",
            file=path,
            found=str(error),
            expected="a YAML file saved as UTF-8",
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        line = mark.line + 1 if mark else None
        if isinstance(error, yaml.constructor.ConstructorError) and "tag" in problem:
            raise ConfigError(
                "the config uses a YAML tag that would build a Python object",
                file=path,
                line=line,
                found=problem,
                expected="plain YAML data: text, numbers, true/false, lists and mappings",
                fix="remove the tag (!!python/...) and write the value itself",
            ) from None
        tab = "'\\t'" in problem
        raise ConfigError(
            "the config file is not valid YAML",
            file=path,
            line=line,
            found=f"{problem} (column {mark.column + 1})" if mark else problem,
            expected="YAML: keys and values as in config/config.yaml, indented with spaces",
            fix="indent with spaces, not tabs"
            if tab
            else "check that line: quote values holding ': ', ' #' or starting with a special "
            "character such as '*', '&', '!', '%' or '@'",
        ) from None


def cohort_settings(config, cohort, signatures=None):
    """What a cohort job needs of the config besides the cohort's entry: the run-wide scoring and
    statistics settings and signatures (`signatures`: as `load_signatures` returns them, read from
    the config when not given), the cohort's covariates and treatment (None without one), and for
    ingest the URLs of its downloaded files (kind -> URL: only that URL's cached file is read) and
    the inflation limits of compressed files."""
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
        "downloads": public_downloads(config).cohort_urls(cohort),
        "limits": inflate_limits(config),
        "genes": gene_settings(config),
    }


def gene_settings(config):
    """The config's `genes` keys, with the signatures to decompose resolved (none listed: the
    primary signature)."""
    genes = config["genes"]
    return {**genes, "decompose": genes["decompose"] or [config["primary"]["signature"]]}


def inflate_limits(config):
    """How far compressed files may inflate (selfseed.inflate), from the config's download keys."""
    return {key: config["download"][key] for key in ("max_inflated_mb", "max_inflation_ratio")}


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
    from selfseed.provenance import file_stat

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

    # libyaml's loader where PyYAML has it: PyYAML's own takes ~50 ms of each Snakemake start here
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    schema = yaml.load(Path(schema_path).read_text(), Loader=loader)
    validator = jsonschema.Draft202012Validator(schema)
    errors, unknown_keys = [], {}
    for error in validator.iter_errors(config):
        if error.validator in ("additionalProperties", "unevaluatedProperties"):
            allowed = allowed_keys(validator, error.schema, error.instance)
            if allowed is None or not set(error.instance) - allowed:
                continue  # no source matched, or a source's keys failed: other errors say why
            unknown_keys[id(error)] = allowed
        errors.append(error)
    # an unknown key first: a misspelt key also makes the key it was meant to be missing
    error = jsonschema.exceptions.best_match([e for e in errors if id(e) in unknown_keys] or errors)
    if error is None:
        return
    key = ".".join(str(part) for part in error.absolute_path) or "(top level)"
    if id(error) in unknown_keys:
        allowed = sorted(unknown_keys[id(error)])
        source = error.instance.get("source") if "allOf" in error.schema else None
        raise ConfigError(
            "unknown keys in the config",
            key=key,
            found=f"unknown keys: {', '.join(sorted(set(error.instance) - set(allowed)))}",
            expected=f"keys of a {source} cohort: {', '.join(allowed)}"
            if source
            else f"keys among: {', '.join(allowed)}",
            fix="see config/README.md for every key",
        )
    if error.validator == "type" and isinstance(error.instance, bool):
        raise ConfigError(
            "YAML read an unquoted word as true/false, not as text",
            key=key,
            found=f"{error.instance} (YAML reads unquoted yes/no, true/false, on/off as booleans)",
            expected="text (or a number), as the values are written in the data",
            fix='quote it, e.g. event_values: ["TRUE"] or ["yes"]',
        )
    if error.validator == "pattern" and error.instance != error.instance.strip():
        raise ConfigError(
            "a name starts or ends with a line break or a space",
            key=key,
            found=repr(error.instance),
            expected=f"{error.schema.get('description', 'a name')} (pattern {error.validator_value})",
            fix="remove it (a YAML block scalar '|' keeps the line break: write the name on the "
            "key's line)",
        )
    raise ConfigError(
        "config value does not match the schema",
        key=key,
        found=error.message,
        expected=error.schema.get("description", f"{error.validator}: {error.validator_value}"),
        fix="see config/README.md for every key",
    )


def allowed_keys(validator, schema, instance):
    """The keys `schema` evaluates in `instance`: its properties and, for a cohort, those of the
    source branches (allOf: if/then) that apply; None when the schema has branches and none applies
    (a missing or unknown source)."""
    keys = set(schema.get("properties", {}))
    branches = [item for item in schema.get("allOf", []) if "if" in item]
    applies = [b for b in branches if validator.evolve(schema=b["if"]).is_valid(instance)]
    if branches and not applies:
        return None
    for branch in applies:
        keys |= set(branch.get("then", {}).get("properties", {}))
    return keys


def endpoint_name(entry):
    """A cohort's endpoint name (a preset endpoint is called LR)."""
    return entry["endpoint"].get("name", "LR")


def check_primary(config, signatures):
    """The declared primary analysis can be estimated: its signature exists and has min_genes
    genes, its method is scored, its pool has two cohorts and, for the adjusted model, covariates."""
    from selfseed.signatures import signature_genes

    primary, cohorts = config["primary"], config["cohorts"]
    if primary["signature"] not in signatures:
        raise ConfigError(
            "the primary analysis names an unknown signature",
            key="primary.signature",
            found=primary["signature"],
            expected=f"one of {sorted(signatures)}",
        )
    genes = [gene for gene in signatures[primary["signature"]] if str(gene).strip()]
    symbols = sorted(set(signature_genes({primary["signature"]: genes})["symbol"]))
    if len(symbols) < config["min_genes"]:
        raise ConfigError(
            "the primary signature has fewer genes than min_genes, so it is never scored",
            key="primary.signature",
            found=f"{primary['signature']}: {len(symbols)} gene(s) {symbols}; min_genes "
            f"{config['min_genes']}",
            expected=f"a signature of at least {config['min_genes']} genes",
            fix="choose another primary.signature, or lower min_genes",
        )
    if primary["method"] not in config["scoring"]["methods"]:
        raise ConfigError(
            "the primary analysis names a scoring method that is not run",
            key="primary.method",
            found=primary["method"],
            expected=f"one of scoring.methods {config['scoring']['methods']}",
            fix=f"add {primary['method']} to scoring.methods, or choose one of them",
        )
    endpoints = sorted({endpoint_name(entry) for entry in cohorts.values()})
    if primary["pool"] not in {"all", *endpoints}:
        raise ConfigError(
            "the primary analysis pools an endpoint no cohort has",
            key="primary.pool",
            found=primary["pool"],
            expected=f"all, or one of the cohorts' endpoints {endpoints}",
        )
    pooled = [
        name for name, entry in cohorts.items() if primary["pool"] in ("all", endpoint_name(entry))
    ]
    if primary["pool"] != "all" and len(pooled) < 2:
        raise ConfigError(
            "the primary analysis pools an endpoint of one cohort only",
            key="primary.pool",
            found=f"{primary['pool']}: cohort {pooled[0]}",
            expected="two cohorts or more with that endpoint (an endpoint pool needs two)",
            fix="set primary.pool: all, or add a cohort with that endpoint",
        )
    if primary["model"] == "adjusted" and not any(cohorts[c]["covariates"] for c in pooled):
        raise ConfigError(
            "the primary analysis is the adjusted model, but no cohort it pools has covariates",
            key="primary.model",
            found=f"adjusted; cohorts pooled: {', '.join(pooled)}",
            expected="covariates in a cohort of the pool, or model: univariable",
        )


def check_genes(config, signatures):
    """The decomposed signatures exist, the gene-set collection can be read and names no set as a
    signature, and prerank's size bounds can be met (issue 16's keys)."""
    from selfseed.pathways import collection

    for name in config["genes"]["decompose"]:
        if name not in signatures:
            raise ConfigError(
                "genes.decompose names an unknown signature",
                key="genes.decompose",
                found=name,
                expected=f"one of {sorted(signatures)}",
            )
    pathways = config["pathways"]
    gmt = pathways["collection"]
    if gmt and not Path(gmt).is_file():
        raise ConfigError("gene-set collection not found", file=gmt, key="pathways.collection")
    if pathways["min_size"] > pathways["max_size"]:
        raise ConfigError(
            "pathways.min_size is larger than pathways.max_size: no set could be tested",
            key="pathways.min_size",
            found=f"min_size {pathways['min_size']}, max_size {pathways['max_size']}",
            expected="min_size <= max_size",
        )
    collection(signatures, gmt)  # a signature named as a set of the collection is a ConfigError


def check_singlecell(config):
    """The single-cell references: `adjust_with` names one of them, and each passes
    `cells.check_reference` (its file, counts, cell-type columns, gene ids and compartments)."""
    from selfseed.cells import check_reference

    section = config["singlecell"]
    references, adjust = section["references"], section["adjust_with"]
    if adjust is not None and adjust not in references:
        raise ConfigError(
            "the reference that adjusts the bulk models is not configured",
            key="singlecell.adjust_with",
            found=repr(adjust),
            expected=f"one of singlecell.references ({', '.join(references) or 'none'}) or null",
        )
    for name, entry in references.items():
        check_reference(entry, name)


def check_config(config):
    """Raise ConfigError on the first problem the schema cannot see, in a config that
    snakemake.utils.validate has checked and filled with the schema's defaults."""
    from selfseed.inflate import Limits, limited
    from selfseed.signatures import load_signatures

    gmt = config["signatures_gmt"]
    if gmt and not Path(gmt).is_file():
        raise ConfigError("signature .gmt file not found", file=gmt, key="signatures_gmt")
    signatures = load_signatures(config["signatures"], gmt)
    for name, genes in signatures.items():
        if not [gene for gene in genes if str(gene).strip()]:
            raise ConfigError(
                "signature without genes",
                file=gmt if name not in config["signatures"] else None,
                key=f"signatures.{name}",
                found=genes,
                expected="one gene or more",
            )
    check_primary(config, signatures)
    check_genes(config, signatures)
    check_singlecell(config)
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
    with limited(Limits.from_config(config["download"])):
        for cohort, entry in config["cohorts"].items():
            check_cohort(entry, cohort)
