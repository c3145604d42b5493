"""An AnnData file a user already has: X samples x genes, var_names gene ids, obs clinical columns."""

from selfseed.errors import InputDataError
from selfseed.files import sha256
from selfseed.sources.common import LoadedCohort, Source


class H5ad(Source):
    """An AnnData file (`path`): X samples x genes, var_names gene ids, obs the clinical columns."""

    file_keys = ("path",)
    logs_unlogged = False
    clinical_key = "path"
    sample_column = False

    def clinical(self, entry, cohort):
        return read_h5ad(entry["path"], cohort=cohort, backed="r").obs, entry["path"]

    def load(self, entry, files, *, cohort):
        path = files.get("path") or entry["path"]
        adata = read_h5ad(path, cohort=cohort)
        expression = adata.to_df().T
        expression.columns = expression.columns.astype(str)
        clinical = adata.obs.copy()
        clinical.index = clinical.index.astype(str)
        provenance = {
            "source": "h5ad",
            "files": [f"{path} sha256:{sha256(path)}"],
            "clinical_file": str(path),
        }
        return LoadedCohort(expression, clinical, provenance)


def read_h5ad(path, *, cohort, backed=None):
    """The AnnData file (obs only in memory with backed="r"); unreadable: a named error."""
    import anndata as ad

    try:
        return ad.read_h5ad(path, backed=backed)
    except (OSError, KeyError, ValueError) as error:
        raise InputDataError(
            f"cannot read the AnnData file: {error}",
            cohort=cohort,
            file=path,
            key=f"cohorts.{cohort}.path",
            expected="an .h5ad file written by anndata",
        ) from error


SOURCE = H5ad()
