"""Build src/selfseed/data/singlecell/, the shipped single-cell reference (Wu et al. 2021, CID4465).

Source (byte copy in ../shared/data, see its README.md):
  singlecell/wu2021_CID4465.RData   GitHub omnideconv/spacedeconv @ 3c3317a5, data/single_cell_data_2.RData:
                                    one Bioconductor SingleCellExperiment, raw UMI counts (dgCMatrix,
                                    genes x cells) and the authors' cell-type labels at three levels

Outputs (byte-identical on re-run with the same package versions):
  wu2021_CID4465.h5ad   cells x genes, X = the raw UMI counts as int32 CSR; obs = celltype_major,
                        celltype_minor, celltype_subset (categorical, as the authors label them);
                        var_names = the source's gene symbols; HDF5 gzip level 9 with byte shuffle
  manifest.json         input (sha256, source, licence), output (sha256, shape), versions, counts,
                        the labels `open_reference` found when it checked the output
  README.md

    python tools/build_singlecell_data.py [--shared ../shared/data] [--out src/selfseed/data/singlecell]
"""

import argparse
import json
import re
import warnings
from importlib.metadata import version
from pathlib import Path

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import rdata
import scipy.sparse as sp

from selfseed.errors import InputDataError
from selfseed.files import replaced, sha256
from selfseed.singlecell import open_reference

REPO = Path(__file__).resolve().parents[1]
SOURCE = "singlecell/wu2021_CID4465.RData"
DESCRIPTION = "singlecell/DESCRIPTION.spacedeconv"
SOURCE_REPOSITORY = {
    "repository": "omnideconv/spacedeconv",
    "commit": "3c3317a5",
    "path": "data/single_cell_data_2.RData",
}
OUTPUT = "wu2021_CID4465.h5ad"
LABELS = ["celltype_major", "celltype_minor", "celltype_subset"]
# gzip is the one compression every HDF5 reader has; the shuffle filter (standard HDF5) makes the
# integer counts and gene indices about 15% smaller
DATASET_OPTIONS = {"compression": "gzip", "compression_opts": 9, "shuffle": True}
PUBLICATION = (
    "Wu SZ, Al-Eryani G, Roden DL, et al. A single-cell and spatially resolved atlas of human "
    "breast cancers. Nat Genet 2021;53(9):1334-1347. doi:10.1038/s41588-021-00911-1, PMID 34493872"
)
LICENCE = (
    "GEO GSE176078 (processed data; NCBI places no restrictions on the use of GEO data, submitters "
    "may claim rights) and Broad Single Cell Portal SCP1039; no data licence stated in what could be "
    "checked; nature.com lists the paper as subscription content; the spacedeconv package that distributes this subset "
    "is GPL-3"
)


def read_experiment(path):
    """The SingleCellExperiment of the .RData: (counts CSR cells x genes, cell ids, genes, labels)."""
    with warnings.catch_warnings():  # rdata has no constructors for Bioconductor's S4 classes
        warnings.simplefilter("ignore", UserWarning)
        objects = rdata.read_rda(path)
    (experiment,) = objects.values()
    counts = experiment.assays.data.listData["counts"]
    kinds = (str(experiment.__dict__["class"][0]), str(counts.__dict__["class"][0]))
    if kinds != ("SingleCellExperiment", "dgCMatrix"):
        raise InputDataError(
            "not the expected single-cell object",
            file=path,
            found=kinds,
            expected="a SingleCellExperiment whose counts assay is a dgCMatrix",
        )
    n_genes, n_cells = (int(n) for n in counts.Dim)
    if not np.array_equal(counts.x, np.round(counts.x)) or counts.x.min() < 0:
        raise InputDataError("counts are not non-negative integers", file=path)
    # a genes x cells CSC matrix is, read as is, the cells x genes CSR matrix
    x = sp.csr_matrix(
        (counts.x.astype(np.int32), counts.i.astype(np.int32), counts.p.astype(np.int32)),
        shape=(n_cells, n_genes),
    )
    genes = pd.Index(experiment.rowRanges.partitioning.NAMES.astype(str))
    columns = experiment.colData.listData
    cells = pd.Index(experiment.colData.rownames.astype(str))
    labels = pd.DataFrame(
        {label: pd.Categorical(columns[label].astype(str)) for label in LABELS}, index=cells
    )
    return x, genes, labels


def description(path):
    """Package, Version and License of an R DESCRIPTION file."""
    fields = dict(re.findall(r"^(\w+): *(.*)$", Path(path).read_text(), flags=re.M))
    return {
        "package": fields["Package"],
        "version": fields["Version"],
        "licence": fields["License"],
    }


def readme(manifest):
    counts = manifest["cells_per_celltype_major"]
    shape = manifest["output"]["shape"]
    lines = [
        "# Shipped single-cell reference: Wu et al. 2021, breast tumour CID4465",
        "",
        "Written by `tools/build_singlecell_data.py` (do not edit by hand); `manifest.json` records the",
        "input with its sha256, source and licence, the output with its sha256 and shape, the package",
        "versions and the cells per cell type.",
        "",
        f"`{OUTPUT}`: {shape[0]:,} cells x {shape[1]:,} genes. `X` holds the raw UMI counts (int32, CSR)",
        "exactly as in the source; `obs` holds the authors' cell-type labels `celltype_major`,",
        "`celltype_minor` and `celltype_subset`; `var_names` are the source's gene symbols",
        "(e.g. `CXCL8`, `RP11-34P13.7`); obs_names are the cell barcodes.",
        "",
        "| celltype_major | cells |",
        "|---|---|",
        *(f"| {name} | {n} |" for name, n in counts.items()),
        "",
        f"Source: {PUBLICATION}; GEO GSE176078. This subset of one tumour (triple-negative) is",
        "`data/single_cell_data_2.RData` of the R package spacedeconv (GitHub "
        f"{SOURCE_REPOSITORY['repository']} @ {SOURCE_REPOSITORY['commit']}).",
        f"Licence: {LICENCE}. Cite Wu et al. 2021 when you use it.",
        "",
        "Rebuild from the byte copy in `../shared/data`:",
        "",
        "    python tools/build_singlecell_data.py [--shared ../shared/data] [--out DIR]",
        "",
    ]
    return "\n".join(lines)


def checked(path):
    """What `singlecell.open_reference` found when it checked the built file (counts X, gene ids
    var_names): each cell-type column's labels. A config entry that reads the shipped file so is
    checked against these before a run, without opening the file (`cells.check_reference`)."""
    reference = open_reference(path, LABELS)
    return {
        "counts": "X",
        "gene_column": None,
        "labels": {
            column: [str(label) for label in reference.labels[column].cat.categories]
            for column in LABELS
        },
    }


def build(shared, out):
    x, genes, labels = read_experiment(shared / SOURCE)
    adata = ad.AnnData(x, obs=labels, var=pd.DataFrame(index=genes))
    path = out / OUTPUT
    with replaced(path) as part, h5py.File(part, "w") as f:
        ad.io.write_elem(f, "/", adata, dataset_kwargs=DATASET_OPTIONS)
    package = description(shared / DESCRIPTION)
    manifest = {
        "build_command": "python tools/build_singlecell_data.py --shared ../shared/data",
        "versions": {
            **{p: version(p) for p in ("rdata", "anndata", "h5py", "numpy", "scipy", "pandas")},
            "hdf5": h5py.version.hdf5_version,
        },
        "input": {
            "path": SOURCE,
            "what": "Bioconductor SingleCellExperiment: raw UMI counts and the authors' cell-type "
            "labels of breast tumour CID4465",
            "source": {**SOURCE_REPOSITORY, **package},
            "publication": PUBLICATION,
            "geo": "GSE176078",
            "licence": LICENCE,
            "size": (shared / SOURCE).stat().st_size,
            "sha256": sha256(shared / SOURCE),
        },
        "output": {
            "name": OUTPUT,
            "sha256": sha256(path),
            "size": path.stat().st_size,
            "shape": list(adata.shape),
            "X": "raw UMI counts, int32 CSR",
            "obs": LABELS,
            "hdf5_options": DATASET_OPTIONS,
        },
        "cells_per_celltype_major": labels["celltype_major"].value_counts().to_dict(),
        "label_levels": {label: len(labels[label].cat.categories) for label in LABELS},
        "checked": checked(path),
    }
    text = json.dumps(manifest, indent=2) + "\n"
    with replaced(out / "manifest.json") as part:
        part.write_text(text)
    with replaced(out / "README.md") as part:
        part.write_text(readme(manifest))
    return manifest


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument(
        "--out", type=Path, default=REPO / "src" / "selfseed" / "data" / "singlecell"
    )
    args = parser.parse_args()
    manifest = build(args.shared, args.out)
    shape, size = manifest["output"]["shape"], manifest["output"]["size"]
    print(f"{OUTPUT}: {shape[0]} cells x {shape[1]} genes, {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
