"""An AnnData file a user already has: X samples x genes, var_names gene ids, obs clinical columns."""

import pandas as pd

from selfseed.errors import InputDataError


def load_h5ad(entry, files, *, cohort):
    """(genes x samples, clinical = obs, provenance, dropped) from an .h5ad file."""
    import anndata as ad

    from selfseed.sources.table import sha256

    path = files.get("path") or entry["path"]
    try:
        adata = ad.read_h5ad(path)
    except (OSError, KeyError, ValueError) as error:
        raise InputDataError(
            f"cannot read the AnnData file: {error}", cohort=cohort, file=path,
            key=f"cohorts.{cohort}.path", expected="an .h5ad file written by anndata",
        ) from error  # fmt: skip
    expression = adata.to_df().T
    clinical = adata.obs.copy()
    clinical.index = clinical.index.astype(str)
    expression.columns = expression.columns.astype(str)
    provenance = {"source": "h5ad", "files": [f"{path} sha256:{sha256(path)}"],
                  "clinical_file": str(path)}  # fmt: skip
    return (
        expression,
        clinical,
        provenance,
        pd.DataFrame(columns=["kind", "id", "reason", "detail"]),
    )
