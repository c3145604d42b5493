"""Which cells express the signature genes: single-cell references read in chunks, with scanpy's
estimators.

A reference is an h5ad whose `X` or a layer holds raw counts (cells x genes, CSR or dense) and
whose obs holds cell-type labels (`open_reference` checks all of that and maps the genes to current
symbols). Every summary reads it in row chunks, so that a 1,000,000-cell file needs memory for one
chunk and a few cell- and gene-length vectors (benchmarks/single_cell.py).

Normalisation, everywhere: scanpy's `normalize_total(target_sum=1e4)` then `log1p`, in float64,
i.e. log1p(counts / (cell total / 10,000)) with the cell total over every gene of the file; it
depends on one cell's row only, so it is computed chunk by chunk. The per-type means, the per-cell
`score_genes` scores and the marker test all use these log1p(CP10k) values.

`score_genes`: `scanpy.tl.score_genes` needs the whole matrix in memory (it refuses backed AnnData)
and copies it while averaging. Its estimator has two steps: (1) control genes drawn, per expression
bin of the signature genes, from genes binned by their mean over all cells; (2) per cell, the mean of
the signature genes minus the mean of the control genes. Here step (1) runs scanpy's own
bin-and-draw code on gene means accumulated over row chunks, with the random state reset as
score_genes resets it, and step (2) is one sparse product per chunk. tests/test_singlecell.py checks
the results equal scanpy in memory.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from selfseed.errors import ConfigError, InputDataError

TARGET_SUM = 1e4  # CP10k
MIN_CELLS = 20  # labelled cells a reference needs
FEW_CELLS = 20  # a cell type with fewer cells is marked "few cells" in tables and figures
MAX_CELL_TYPES = 200  # more distinct labels than this is not a cell-type column
MAX_TOTALS_CV = 0.05  # cell totals varying less than this are normalised, not raw counts
CHECK_CELLS = 10_000  # cells whose counts `open_reference` checks (the summary checks every cell)
MIN_MAPPED = 0.5  # share of gene ids that must map to a current symbol
MARKERS = {
    "method": "t-test",  # scanpy's Welch t-test, one cell type against all other tested cells
    "max_pval_adj": 0.05,  # Benjamini-Hochberg
    "min_logfoldchange": 1.0,  # log2, i.e. at least 2-fold (scanpy's filter_rank_genes_groups)
    "min_in_group_fraction": 0.25,  # as scanpy's filter_rank_genes_groups
    "max_out_group_fraction": 0.5,  # as scanpy's filter_rank_genes_groups
    "set_size": 20,
    "cells_per_type": 1000,  # larger cell types are sampled to this many cells (seeded)
    "min_cells": 10,  # smaller cell types get no marker set
    "seed": 0,
    "excluded_pattern": r"MT-|RP[LS]\d",  # mitochondrial and ribosomal protein genes
}


# --- score_genes, chunk by chunk -------------------------------------------------------------


def gene_means(matrix, n_cells, chunk_cells):
    """Mean of every gene over all cells, summed chunk by chunk in float64 (as scanpy does)."""
    total = np.zeros(matrix.shape[1])
    for start in range(0, n_cells, chunk_cells):
        chunk = matrix[start : start + chunk_cells]
        values = chunk.data if sp.issparse(chunk) else chunk
        if not np.isfinite(values).all():
            raise ValueError("missing or infinite values: score_genes_chunked needs finite data")
        total += np.asarray(chunk.sum(axis=0, dtype=np.float64)).ravel()
    return total / n_cells


def control_genes(means, var_names, genes, *, ctrl_size, n_bins, random_state):
    """scanpy's control genes for `genes`: its own binning and draw (`_score_genes_bins`), fed the
    gene means of the whole matrix."""
    from scanpy.tools._score_genes import _score_genes_bins

    row = means[None, :]
    np.random.seed(random_state)  # as score_genes does before drawing
    pool = pd.Index(var_names, dtype="string")
    chosen = pd.Index([], dtype="string")
    for drawn in _score_genes_bins(
        pd.Index(genes),
        pool,
        ctrl_as_ref=True,
        ctrl_size=ctrl_size,
        n_bins=n_bins,
        get_subset=lambda subset: row[:, pool.get_indexer(subset)],
    ):
        chosen = chosen.union(drawn)
    return list(chosen)


def signature_design(means, var_names, signatures, *, ctrl_size, n_bins, random_state, file=None):
    """genes x signatures matrix W such that (cells x genes) @ W is score_genes of each signature:
    +1/k on its k genes present in var_names, -1/m on its m control genes. Also returns
    {signature: (genes, controls)}."""
    var_names = pd.Index(var_names)
    columns, weights, names, used = [], [], [], {}
    for k, (name, genes) in enumerate(signatures.items()):
        present = [g for g in dict.fromkeys(genes) if g in var_names]
        if not present:
            raise InputDataError(
                "no gene of the signature is in the data",
                file=file,
                column=name,
                found=f"{list(genes)[:5]}",
                expected="gene symbols present in var_names",
            )
        control = control_genes(
            means,
            var_names,
            present,
            ctrl_size=ctrl_size,
            n_bins=n_bins,
            random_state=random_state,
        )
        used[name] = (present, control)
        for sign, members in ((1.0, present), (-1.0, control)):
            idx = var_names.get_indexer(members)
            columns.append(idx)
            weights.append(np.full(len(idx), sign / len(idx)))
            names.append(np.full(len(idx), k))
    design = sp.csr_matrix(
        (np.concatenate(weights), (np.concatenate(columns), np.concatenate(names))),
        shape=(len(var_names), len(signatures)),
    )
    return design, used


def score_genes_chunked(
    path, signatures, *, ctrl_size=50, n_bins=25, random_state=0, chunk_cells=100_000
):
    """score_genes of each signature for every cell of the h5ad at `path`, its X read backed as it
    is (already normalised; `cell_type_summary` scores raw counts of a reference).

    signatures: {name: [gene symbols]} (genes absent from var_names are left out, as score_genes
    does). Returns a DataFrame cells x signatures (float64) indexed by obs_names.
    """
    import anndata as ad

    adata = ad.read_h5ad(path, backed="r")
    try:
        n_cells = adata.n_obs
        means = gene_means(adata.X, n_cells, chunk_cells)
        design, _ = signature_design(
            means,
            adata.var_names,
            signatures,
            ctrl_size=ctrl_size,
            n_bins=n_bins,
            random_state=random_state,
            file=path,
        )
        scores = np.empty((n_cells, len(signatures)))
        for start in range(0, n_cells, chunk_cells):
            chunk = adata.X[start : start + chunk_cells]
            product = chunk @ design
            product = product.toarray() if sp.issparse(product) else product
            scores[start : start + chunk.shape[0]] = product
        return pd.DataFrame(scores, index=pd.Index(adata.obs_names), columns=list(signatures))
    finally:
        adata.file.close()


# --- references: reading and checking --------------------------------------------------------


@dataclass
class Reference:
    """A checked single-cell reference.

    labels: obs_names x cell-type columns (categorical, missing where a cell has no label);
    genes: one row per gene used (column = its position in the file, id as in the file, name =
    current symbol or, when unmapped, the id; symbol missing when unmapped); dropped: what was left
    out (what, id, reason)."""

    name: str
    path: Path
    counts: str
    labels: pd.DataFrame
    n_genes: int
    genes: pd.DataFrame
    dropped: pd.DataFrame

    @property
    def levels(self):
        return list(self.labels.columns)


def open_reference(path, cell_type_columns, *, counts="X", gene_column=None, name=None):
    """Read and check the reference at `path`: the cell-type columns (obs), the counts (`X` or
    the layer named `counts`) and the gene ids (var_names, or the var column `gene_column`).

    Raises InputDataError for: a file that is not h5ad; a missing layer or cell-type column
    (naming those there); counts that are not non-negative whole numbers, or look normalised
    (`check_totals`); gene ids of which fewer than half map to a current
    symbol; fewer than MIN_CELLS labelled cells or fewer than two cell types.
    Cells without a label, blank labels and labels without cells are listed in `dropped`."""
    import h5py

    path = Path(path)
    columns = [cell_type_columns] if isinstance(cell_type_columns, str) else list(cell_type_columns)
    try:
        handle = h5py.File(path, "r")
    except OSError as error:
        raise InputDataError(
            "the single-cell reference is not a readable h5ad file",
            file=path,
            found=str(error),
            expected="an AnnData .h5ad file (HDF5)",
        ) from None
    with handle as f:
        matrix = counts_matrix(f, counts, path)
        labels, dropped = read_labels(f, columns, path)
        ids, var_columns = read_gene_ids(f, gene_column, path)
        genes, dropped_genes = map_genes(ids, path, var_columns, name)
        if tuple(matrix.shape) != (len(labels), len(ids)):
            raise InputDataError(
                "the counts do not match obs and var",
                file=path,
                key="counts",
                found=f"{counts}: {matrix.shape[0]} x {matrix.shape[1]}",
                expected=f"{len(labels)} cells x {len(ids)} genes",
            )
        first = read_rows(matrix, slice(0, CHECK_CELLS))
        check_counts(first, path, counts, layer_names(f), rows=(0, first.shape[0]))
        check_totals(first, path, counts, layer_names(f))
    return Reference(
        name=name or path.stem,
        path=path,
        counts=counts,
        labels=labels,
        n_genes=len(ids),
        genes=genes,
        dropped=pd.concat([dropped, dropped_genes], ignore_index=True),
    )


def layer_names(f):
    return sorted(f["layers"]) if "layers" in f else []


def counts_matrix(f, counts, path):
    """The counts of an open h5ad (`X` or a layer), sliceable by rows: backed CSR or dense."""
    import anndata as ad
    import h5py

    node = f.get("X") if counts == "X" else f["layers"].get(counts) if "layers" in f else None
    if node is None:
        raise InputDataError(
            f"the counts '{counts}' are not in the reference",
            file=path,
            key="counts",
            found=f"layers: {', '.join(layer_names(f)) or 'none'}",
            expected="X or the name of a layer holding raw counts",
        )
    kind = node.attrs.get("encoding-type", "array")
    if kind == "csr_matrix":
        return ad.io.sparse_dataset(node)
    if isinstance(node, h5py.Dataset) and node.ndim == 2:
        return node
    raise InputDataError(
        "the counts are not stored row by row",
        file=path,
        key="counts",
        found=kind,
        expected="a CSR sparse matrix or a dense array (cells x genes)",
        fix="rewrite the file with CSR counts: adata.X = scipy.sparse.csr_matrix(adata.X); "
        "adata.write_h5ad(path)",
    )


def read_rows(matrix, rows):
    """Rows of the counts (a slice or sorted positions) as a CSR matrix in the file's dtype."""
    chunk = matrix[rows]
    return chunk.tocsr() if sp.issparse(chunk) else sp.csr_matrix(chunk)


def read_labels(f, columns, path):
    """obs_names x cell-type columns as categoricals, and the dropped-cell rows."""
    import anndata as ad

    obs = f["obs"]
    present = [str(c) for c in obs.attrs.get("column-order", [])]
    for column in columns:
        if column not in present:
            raise InputDataError(
                "the cell-type column is not in the reference's obs",
                file=path,
                column=column,
                found=f"obs columns: {', '.join(present) or 'none'}",
                expected="an obs column holding cell-type labels",
                fix="set cell_type_columns to obs columns of the file",
            )
    index = pd.Index(np.asarray(ad.io.read_elem(obs[obs.attrs["_index"]])).astype(str))
    labels, dropped = {}, []
    for column in columns:
        values = ad.io.read_elem(obs[column])
        cat = values if isinstance(values, pd.Categorical) else pd.Categorical(values)
        cat = cat.rename_categories(cat.categories.astype(str))
        cat = cat.remove_categories(cat.categories[cat.categories.str.strip() == ""])
        if len(cat.categories) > MAX_CELL_TYPES:
            raise InputDataError(
                "the cell-type column has too many distinct values to be cell-type labels",
                file=path,
                column=column,
                found=f"{len(cat.categories)} distinct values",
                expected=f"at most {MAX_CELL_TYPES} cell types",
            )
        sizes = pd.Series(cat).value_counts()
        for empty in [c for c in cat.categories if sizes.get(c, 0) == 0]:
            dropped.append(
                {
                    "what": "cell type",
                    "id": f"{column}: {empty}",
                    "reason": "a category without cells",
                }
            )
        cat = cat.remove_unused_categories()
        unlabelled = int(cat.isna().sum())
        if unlabelled:
            dropped.append(
                {
                    "what": "cells",
                    "id": f"{unlabelled} cells",
                    "reason": f"no label in {column} (missing or blank)",
                }
            )
        if len(cat) - unlabelled < MIN_CELLS or len(cat.categories) < 2:
            raise InputDataError(
                "too few labelled cells or cell types in the reference",
                file=path,
                column=column,
                found=f"{len(cat) - unlabelled} labelled cells in {len(cat.categories)} cell types",
                expected=f"at least {MIN_CELLS} labelled cells in at least 2 cell types",
            )
        labels[column] = cat
    return pd.DataFrame(labels, index=index), pd.DataFrame(
        dropped, columns=["what", "id", "reason"]
    )


def read_gene_ids(f, gene_column, path):
    """The gene ids (var_names, or the var column `gene_column`) and the var column names."""
    import anndata as ad

    var = f["var"]
    present = [str(c) for c in var.attrs.get("column-order", [])]
    key = var.attrs["_index"] if gene_column is None else gene_column
    if gene_column is not None and gene_column not in present:
        raise InputDataError(
            "the gene column is not in the reference's var",
            file=path,
            column=gene_column,
            found=f"var columns: {', '.join(present) or 'none'}",
            expected="a var column holding gene symbols or ids",
        )
    return np.asarray(ad.io.read_elem(var[key])).astype(str), present


def map_genes(ids, path, var_columns, name=None):
    """Current symbols for the gene ids (selfseed.genes.lookup_symbols): a table of the genes used
    and the dropped ones. An unmapped id stays as it is (it counts for the cell totals and as a
    control gene, never as a marker); of several ids with one symbol the official symbol, then
    the first, is kept."""
    from selfseed.genes import KIND_PRIORITY, log_mapping, lookup_symbols

    mapping = lookup_symbols(ids)
    log_mapping(mapping, name)
    mapped = mapping["symbol"].notna()
    if mapped.mean() < MIN_MAPPED:
        examples = ", ".join(mapping.loc[~mapped, "identifier"].head(5))
        raise InputDataError(
            "most gene ids of the reference are not known human gene identifiers",
            file=path,
            found=f"{int(mapped.sum())} of {len(ids)} map to a current symbol; unmapped e.g. "
            f"{examples}",
            expected="human gene symbols, Ensembl, Entrez or RefSeq gene ids",
            fix=f"set gene_column to the var column with gene symbols (var columns: "
            f"{', '.join(var_columns) or 'none'})",
        )
    priority = mapping["kind"].map({k: i for i, k in enumerate(KIND_PRIORITY)})
    genes = pd.DataFrame(
        {
            "column": np.arange(len(ids)),
            "id": ids,
            "name": mapping["symbol"].fillna(mapping["identifier"]).to_numpy(),
            "symbol": mapping["symbol"].to_numpy(),
            "kind": mapping["kind"].to_numpy(),
            "priority": priority.fillna(len(KIND_PRIORITY)).to_numpy(),
        }
    )
    order = genes.sort_values(["name", "priority", "column"], kind="stable")
    first = ~order["name"].duplicated()
    kept_id = order[first].set_index("name")["id"]
    lost = order[~first]
    dropped = pd.DataFrame(
        {
            "what": "gene",
            "id": lost["id"],
            "reason": [f"same symbol ({n}) as {kept_id[n]}, which is kept" for n in lost["name"]],
        }
    )
    return genes[first.sort_index()].drop(columns="priority").reset_index(drop=True), dropped


def check_counts(chunk, path, counts, layers, rows):
    """Raw counts are finite, non-negative whole numbers; else a clear error."""
    data = chunk.data
    whole = data.dtype.kind != "f" or not (np.floor(data) != data).any()  # NaN is not whole
    if not data.size or (whole and data.min() >= 0 and np.isfinite(data.max())):
        return
    where = f"cells {rows[0] + 1}-{rows[1]}"
    fix = (
        f"set counts to the layer with raw counts (layers: {', '.join(layers)})"
        if layers
        else "give the raw counts (e.g. from adata.raw or adata.layers) in X or a layer, "
        "and set counts to it"
    )
    problem = None
    if not np.isfinite(data).all():
        problem, found = "the counts have missing or infinite values", "NaN or inf"
    elif (data < 0).any():
        problem = "the counts have negative values: they look scaled (z-scores), not raw counts"
        found = f"smallest {data.min():.4g}"
    elif data.dtype.kind == "f" and (fraction := data != np.floor(data)).any():
        problem = "the counts are not whole numbers: they look log-transformed or normalised"
        found = (
            f"e.g. {', '.join(f'{v:.4g}' for v in data[fraction][:3])}; largest {data.max():.4g}"
        )
    if problem:
        raise InputDataError(
            problem,
            file=path,
            key="counts",
            column=where,
            found=found,
            expected=f"raw UMI or read counts (non-negative integers) in {counts}",
            fix=fix,
        )


def check_totals(chunk, path, counts, layers):
    """Whole numbers whose cell totals hardly vary (coefficient of variation below
    MAX_TOTALS_CV) and in which most cells have no gene with a count of 1 are normalised counts
    (e.g. CP10k rounded): raw totals vary with each cell's depth, and nearly every cell has genes
    seen once, also after downsampling to equal depth."""
    totals = np.asarray(chunk.sum(axis=1, dtype=np.float64)).ravel()
    ones = np.bincount(
        np.repeat(np.arange(chunk.shape[0]), np.diff(chunk.indptr)),
        weights=chunk.data == 1,
        minlength=chunk.shape[0],
    )
    seen = totals > 0
    totals, ones = totals[seen], ones[seen]
    if (
        len(totals) >= 10
        and totals.std() <= MAX_TOTALS_CV * totals.mean()
        and (ones > 0).mean() < 0.5
    ):
        raise InputDataError(
            "every cell has about the same total count and few cells have genes counted once: "
            "the counts look normalised, not raw",
            file=path,
            key="counts",
            found=f"cell totals {totals.min():.6g}-{totals.max():.6g}; "
            f"{(ones > 0).mean():.0%} of cells with a count of 1",
            expected=f"raw counts in {counts} (cell totals vary with sequencing depth)",
            fix=f"set counts to the layer with raw counts (layers: {', '.join(layers) or 'none'})",
        )


# --- per cell type: expression and scores ----------------------------------------------------


@dataclass
class Summary:
    """What `cell_type_summary` returns (one row per level, i.e. cell-type column, where a table
    has a `level` column)."""

    reference: str
    cell_types: pd.DataFrame  # level, cell_type, n_cells, median_umis, median_genes, few_cells
    expression: pd.DataFrame  # level, cell_type, gene, n_cells, mean_log1p_cp10k, fraction, umis
    highest: pd.DataFrame  # level, gene: the cell type with the highest mean, its cells
    scores: pd.DataFrame  # cells x signatures (score_genes), plus the label columns
    distribution: pd.DataFrame  # level, signature, cell_type, n, mean, q25, median, q75
    coverage: pd.DataFrame  # signature, gene, in_reference, control genes used
    dropped: pd.DataFrame


def normalised(chunk, totals, keep=None):
    """log1p(CP10k) of a CSR counts chunk given its cell totals (scanpy's normalize_total with
    target_sum 1e4, then log1p; cells with no counts stay 0), in float64; with `keep` (boolean per
    gene), only those genes' entries."""
    scale = np.where(totals > 0, totals / TARGET_SUM, 1.0)
    indices, indptr = chunk.indices, chunk.indptr
    if keep is None:
        values = chunk.data / np.repeat(scale, np.diff(indptr))
    else:
        kept = np.flatnonzero(keep[indices])
        values = chunk.data[kept] / scale[row_of(indptr, kept)]
        indices, indptr = indices[kept], np.searchsorted(kept, indptr)
    np.log1p(values, out=values)
    return sp.csr_matrix((values, indices, indptr), shape=chunk.shape)


def row_of(indptr, positions):
    """The row of each stored entry at `positions` of a CSR matrix."""
    return np.searchsorted(indptr, positions, side="right") - 1


def cell_type_summary(reference, signatures, *, ctrl_size, n_bins, random_state, chunk_cells=5_000):
    """Per cell type (every level) and signature gene: cells, mean log1p(CP10k), fraction of
    cells with a count > 0 and summed UMIs; each cell type's median UMIs and detected genes per
    cell; the cell type where each gene is highest; every signature scored per cell with
    score_genes on log1p(CP10k) of the genes used (control genes drawn from them), and the scores'
    distribution per cell type. Two passes over the counts, `chunk_cells` rows at a time.

    signatures: {name: [current gene symbols]}."""
    import h5py

    genes = reference.genes
    wanted = list(dict.fromkeys(g for members in signatures.values() for g in members))
    by_name = pd.Series(genes["column"].to_numpy(), index=genes["name"])
    present = [g for g in wanted if g in by_name.index]
    for name, members in signatures.items():
        if not set(members) & set(present):
            raise InputDataError(
                "no gene of the signature is in the reference",
                file=reference.path,
                column=name,
                found=f"{list(members)[:5]}",
                expected="current gene symbols of the reference",
            )
    slot = np.full(reference.n_genes, -1)  # column -> position in `present`
    slot[by_name[present].to_numpy()] = np.arange(len(present))
    signature_gene = slot >= 0
    n_cells, k = len(reference.labels), len(present)
    # int64: the codes are int8 and code * k + gene overflows past 127 (many types or genes)
    codes = {
        lv: reference.labels[lv].cat.codes.to_numpy().astype(np.int64) for lv in reference.levels
    }
    sizes = {lv: len(reference.labels[lv].cat.categories) for lv in reference.levels}
    sums = {lv: np.zeros((3, sizes[lv] * k)) for lv in reference.levels}  # log1p, >0, UMIs
    gene_sum = np.zeros(reference.n_genes)
    totals, detected = np.empty(n_cells), np.empty(n_cells)
    with h5py.File(reference.path, "r") as f:
        matrix = counts_matrix(f, reference.counts, reference.path)
        layers = layer_names(f)
        for start in range(0, n_cells, chunk_cells):
            chunk = read_rows(matrix, slice(start, start + chunk_cells))
            stop = start + chunk.shape[0]
            check_counts(chunk, reference.path, reference.counts, layers, rows=(start, stop))
            totals[start:stop] = np.asarray(chunk.sum(axis=1, dtype=np.float64)).ravel()
            norm = normalised(chunk, totals[start:stop])
            gene_sum += np.bincount(norm.indices, weights=norm.data, minlength=reference.n_genes)
            stored_zeros = row_of(chunk.indptr, np.flatnonzero(chunk.data == 0))
            zeros_per_cell = np.bincount(stored_zeros, minlength=stop - start)
            detected[start:stop] = np.diff(chunk.indptr) - zeros_per_cell
            hit = np.flatnonzero(signature_gene[chunk.indices])
            cell, gene = row_of(chunk.indptr, hit) + start, slot[chunk.indices[hit]]
            values = (norm.data[hit], chunk.data[hit] > 0, chunk.data[hit])
            for level, level_codes in codes.items():
                code = level_codes[cell]
                ok = code >= 0
                flat, length = code[ok] * k + gene[ok], sizes[level] * k
                for i, value in enumerate(values):
                    sums[level][i] += np.bincount(flat, weights=value[ok], minlength=length)
        # score_genes over the genes used (one per symbol), with control genes drawn from them
        means = gene_sum[genes["column"].to_numpy()] / n_cells
        design, used = signature_design(
            means,
            genes["name"],
            signatures,
            ctrl_size=ctrl_size,
            n_bins=n_bins,
            random_state=random_state,
            file=reference.path,
        )
        to_file = sp.csr_matrix(
            (np.ones(len(genes)), (genes["column"].to_numpy(), np.arange(len(genes)))),
            shape=(reference.n_genes, len(genes)),
        )
        design = (to_file @ design).tocsr()
        keep = np.diff(design.indptr) > 0
        scores = np.empty((n_cells, len(signatures)))
        for start in range(0, n_cells, chunk_cells):
            chunk = read_rows(matrix, slice(start, start + chunk_cells))
            stop = start + chunk.shape[0]
            norm = normalised(chunk, totals[start:stop], keep)
            scores[start:stop] = (norm @ design).toarray()
    scores = pd.DataFrame(scores, index=reference.labels.index, columns=list(signatures))
    return Summary(
        reference=reference.name,
        cell_types=cell_type_table(reference, totals, detected),
        expression=(expression := expression_table(reference, present, sums)),
        highest=highest_table(expression),
        scores=pd.concat([scores, reference.labels], axis=1),
        distribution=distribution_table(scores, reference.labels),
        coverage=coverage_table(signatures, present, used),
        dropped=reference.dropped,
    )


def cell_type_table(reference, totals, detected):
    rows = []
    for level in reference.levels:
        cells = pd.DataFrame({"umis": totals, "genes": detected, "type": reference.labels[level]})
        grouped = cells.groupby("type", observed=True)
        rows.append(
            pd.DataFrame(
                {
                    "level": level,
                    "cell_type": grouped.size().index.astype(str),
                    "n_cells": grouped.size().to_numpy(),
                    "median_umis": grouped["umis"].median().to_numpy(),
                    "median_genes": grouped["genes"].median().to_numpy(),
                }
            )
        )
    table = pd.concat(rows, ignore_index=True)
    return table.assign(few_cells=table["n_cells"] < FEW_CELLS)


def expression_table(reference, present, sums):
    rows = []
    for level in reference.levels:
        types = reference.labels[level].cat.categories.astype(str)
        n = reference.labels[level].value_counts().reindex(types).to_numpy()
        mean, expressing, umis = (s.reshape(len(types), len(present)) for s in sums[level])
        rows.append(
            pd.DataFrame(
                {
                    "level": level,
                    "cell_type": np.repeat(types, len(present)),
                    "gene": np.tile(present, len(types)),
                    "n_cells": np.repeat(n, len(present)),
                    "mean_log1p_cp10k": (mean / n[:, None]).ravel(),
                    "fraction_expressing": (expressing / n[:, None]).ravel(),
                    "umis": umis.ravel(),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def highest_table(expression):
    """Per level and gene, the cell type with the highest mean log1p(CP10k) (first on ties)."""
    top = expression.loc[
        expression.groupby(["level", "gene"], sort=False)["mean_log1p_cp10k"].idxmax()
    ]
    return top[
        ["level", "gene", "cell_type", "n_cells", "mean_log1p_cp10k", "fraction_expressing"]
    ].reset_index(drop=True)


def distribution_table(scores, labels):
    rows = []
    for level in labels.columns:
        for signature in scores.columns:
            stats = scores[signature].groupby(labels[level], observed=True).describe()
            rows.append(
                pd.DataFrame(
                    {
                        "level": level,
                        "signature": signature,
                        "cell_type": stats.index.astype(str),
                        "n": stats["count"].astype(int).to_numpy(),
                        "mean": stats["mean"].to_numpy(),
                        "q25": stats["25%"].to_numpy(),
                        "median": stats["50%"].to_numpy(),
                        "q75": stats["75%"].to_numpy(),
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def coverage_table(signatures, present, used):
    rows = []
    for name, members in signatures.items():
        controls = " ".join(used[name][1])
        for gene in dict.fromkeys(members):
            rows.append(
                {
                    "signature": name,
                    "gene": gene,
                    "in_reference": gene in present,
                    "control_genes": controls,
                }
            )
    return pd.DataFrame(rows)


# --- which compartment dominates a signature -------------------------------------------------


def compartment_shares(summary, signatures, *, level=None):
    """Each cell type's share of each signature's pseudo-bulk expression in this reference.

    The share of gene g from cell type t is the UMIs of g in the cells of t over the UMIs of g in
    all labelled cells: what t adds to a bulk profile of this reference (summed raw molecules, so
    weighted by the type's cell count and its cells' depth). A signature's share is the mean over
    its genes with any UMIs (each gene weighs the same, as in the bulk scores). It holds for the
    cell proportions of this reference, which tissue dissociation distorts.
    Returns: signature, cell_type, share, n_cells, cell_fraction, genes (the genes averaged)."""
    expression = summary.expression
    level = level or expression["level"].iloc[0]
    table = expression[expression["level"] == level]
    umis = table.pivot(index="cell_type", columns="gene", values="umis")
    cells = table.drop_duplicates("cell_type").set_index("cell_type")["n_cells"]
    rows = []
    for name, members in signatures.items():
        genes = [g for g in dict.fromkeys(members) if g in umis and umis[g].sum() > 0]
        share = (
            (umis[genes] / umis[genes].sum()).mean(axis=1) if genes else umis.iloc[:, 0] * np.nan
        )
        rows.append(
            pd.DataFrame(
                {
                    "signature": name,
                    "cell_type": share.index,
                    "share": share.to_numpy(),
                    "n_cells": cells[share.index].to_numpy(),
                    "cell_fraction": (cells[share.index] / cells.sum()).to_numpy(),
                    "genes": " ".join(genes),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def percent(share):
    return f"{share:.1%}" if share < 0.1 else f"{share:.0%}"


def dominance_sentences(shares, *, reference, malignant=None):
    """One plain sentence per signature: the cell type with the largest share (the signature "is
    dominated by" it when that share is at least half, else it "has no dominant compartment"), the
    next one, and the malignant cell type's share next to its share of the cells."""
    sentences = {}
    for name, rows in shares.groupby("signature", sort=False):
        rows = rows.sort_values("share", ascending=False, kind="stable")
        if not rows["share"].notna().any():
            sentences[name] = f"In {reference}, no gene of the {name} signature has any counts."
            continue
        top, second = rows.iloc[0], rows.iloc[1]
        genes = top["genes"].split()
        lead = (
            f"is dominated by {top['cell_type']}"
            if top["share"] >= 0.5
            else f"has no dominant compartment; most comes from {top['cell_type']}"
        )
        text = (
            f"In {reference}, the {name} signature ({', '.join(genes)}) {lead}: "
            f"{percent(top['share'])} of its pseudo-bulk expression (UMIs, mean share over its "
            f"{len(genes)} genes), from {percent(top['cell_fraction'])} of the cells; next "
            f"{second['cell_type']} ({percent(second['share'])})."
        )
        if malignant is not None:
            if malignant not in set(rows["cell_type"]):
                raise ConfigError(
                    "the malignant cell type is not a label of the reference",
                    key="malignant",
                    found=repr(malignant),
                    expected=f"one of {', '.join(rows['cell_type'])}",
                )
            m = rows.set_index("cell_type").loc[malignant]
            text += (
                f" The malignant cells ({malignant}) are {m['n_cells']:,} of "
                f"{int(rows['n_cells'].sum()):,} cells ({percent(m['cell_fraction'])}) and "
                f"give {percent(m['share'])}."
            )
        sentences[name] = text
    return sentences


# --- marker genes per cell type --------------------------------------------------------------


def marker_sample(labels, *, cells_per_type, min_cells, seed):
    """Positions of the cells tested for markers: every cell of a type with at most
    `cells_per_type` cells, else `cells_per_type` drawn without replacement
    (numpy.random.default_rng(seed), types in category order); types with fewer than `min_cells`
    cells are left out. Returns (sorted positions, left-out types)."""
    rng = np.random.default_rng(seed)
    codes = labels.cat.codes.to_numpy()
    chosen, left_out = [], []
    for code, cell_type in enumerate(labels.cat.categories):
        members = np.flatnonzero(codes == code)
        if len(members) < min_cells:
            left_out.append(str(cell_type))
            continue
        if len(members) > cells_per_type:
            members = rng.choice(members, cells_per_type, replace=False)
        chosen.append(members)
    if len(chosen) < 2:
        raise InputDataError(
            "too few cell types with enough cells for marker genes",
            column=labels.name,
            found=f"{len(chosen)} cell types with at least {min_cells} cells",
            expected="at least 2",
        )
    return np.sort(np.concatenate(chosen)), left_out


def marker_rule(exclude=(), **rule):
    """The marker rule in one sentence, for the report (MARKERS with the overrides in `rule`)."""
    r = {**MARKERS, **rule}
    return (
        f"scanpy rank_genes_groups ({r['method']}) of each cell type against the other tested "
        f"cells on log1p(CP10k); at most {r['cells_per_type']:,} cells per type (drawn with seed "
        f"{r['seed']}), types with fewer than {r['min_cells']} cells left out; a marker has "
        f"Benjamini-Hochberg adjusted p < {r['max_pval_adj']}, log2 fold change >= "
        f"{r['min_logfoldchange']:g}, is detected in >= {r['min_in_group_fraction']:.0%} of the "
        f"type's cells and <= {r['max_out_group_fraction']:.0%} of the others, has a current "
        "symbol, is not a mitochondrial or ribosomal-protein gene (MT-, RPL, RPS)"
        + (f" and is not a signature gene ({', '.join(dict.fromkeys(exclude))})" if exclude else "")
        + f"; each set is the {r['set_size']} such genes with the largest t statistic."
    )


def marker_genes(reference, *, level=None, exclude=(), **rule):
    """Marker genes per cell type with `scanpy.tl.rank_genes_groups` on log1p(CP10k).

    The rule (MARKERS, each entry can be overridden): cell types sampled by `marker_sample`; each
    tested against all other sampled cells with scanpy's t-test; a marker has a current symbol, is
    not in `exclude` (the signature genes) nor a mitochondrial or ribosomal-protein gene, has
    Benjamini-Hochberg adjusted p < 0.05, log2 fold
    change >= 1, is detected in >= 25% of the type's cells and <= 50% of the other cells; the set
    is the `set_size` passing genes with the largest t statistic. Returns a DataFrame: cell_type,
    gene, rank, score, logfoldchange, pval_adj, pct_in, pct_out, n_cells (cells tested), and the
    cell types with too few cells."""
    import anndata as ad
    import h5py
    import scanpy as sc

    rule = {**MARKERS, **rule}
    level = level or reference.levels[0]
    labels = reference.labels[level]
    rows, left_out = marker_sample(
        labels.dropna(),
        cells_per_type=rule["cells_per_type"],
        min_cells=rule["min_cells"],
        seed=rule["seed"],
    )
    rows = np.flatnonzero(labels.notna())[rows]
    with h5py.File(reference.path, "r") as f:
        chunk = read_rows(counts_matrix(f, reference.counts, reference.path), rows)
        check_counts(chunk, reference.path, reference.counts, layer_names(f), rows=(0, len(labels)))
    totals = np.asarray(chunk.sum(axis=1, dtype=np.float64)).ravel()
    norm = normalised(chunk, totals)
    genes = reference.genes
    tested = ad.AnnData(
        norm[:, genes["column"].to_numpy()],
        obs=pd.DataFrame({"cell_type": labels.iloc[rows].cat.remove_unused_categories()}),
        var=pd.DataFrame(index=genes["name"].to_numpy()),
    )
    sc.tl.rank_genes_groups(
        tested,
        "cell_type",
        method=rule["method"],
        pts=True,
        use_raw=False,
        corr_method="benjamini-hochberg",
    )
    table = sc.get.rank_genes_groups_df(tested, group=None)
    symbols = set(genes["symbol"].dropna())
    passing = table[
        table["names"].isin(symbols)
        & ~table["names"].isin(set(exclude))
        & ~table["names"].str.match(rule["excluded_pattern"])
        & (table["pvals_adj"] < rule["max_pval_adj"])
        & (table["logfoldchanges"] >= rule["min_logfoldchange"])
        & (table["pct_nz_group"] >= rule["min_in_group_fraction"])
        & (table["pct_nz_reference"] <= rule["max_out_group_fraction"])
    ]
    passing = passing.sort_values(["group", "scores"], ascending=[True, False], kind="stable")
    markers = passing.groupby("group", observed=True, sort=False).head(rule["set_size"])
    tested_cells = tested.obs["cell_type"].value_counts()
    markers = pd.DataFrame(
        {
            "cell_type": markers["group"].astype(str).to_numpy(),
            "gene": markers["names"].to_numpy(),
            "rank": markers.groupby("group", observed=True).cumcount().to_numpy() + 1,
            "score": markers["scores"].to_numpy(),
            "logfoldchange": markers["logfoldchanges"].to_numpy(),
            "pval_adj": markers["pvals_adj"].to_numpy(),
            "pct_in": markers["pct_nz_group"].to_numpy(),
            "pct_out": markers["pct_nz_reference"].to_numpy(),
            "n_cells": tested_cells[markers["group"].astype(str)].to_numpy(),
        }
    )
    return markers, left_out


# --- figures ---------------------------------------------------------------------------------


def type_label(row, malignant):
    """A cell type's axis label with its cells and median UMIs per cell (low depth and few cells
    stay visible)."""
    text = f"{row['cell_type']}  n={row['n_cells']:,}, {row['median_umis']:,.0f} UMIs/cell"
    if row["few_cells"]:
        text += ", few cells"
    return text + ("  [malignant]" if row["cell_type"] == malignant else "")


def cell_type_figure(summary, level, malignant, columns, column_width, title, right):
    """A figure with one panel per column (`columns` of them) over the cell types of `level` as
    rows, labelled on the left (malignant in vermillion); returns (fig, axes, cell types)."""
    from selfseed.plots import OKABE_ITO, figure, text_inches

    types = summary.cell_types[summary.cell_types["level"] == level].reset_index(drop=True)
    labels = [type_label(row, malignant) for _, row in types.iterrows()]
    left, top, bottom = text_inches(labels, 7) + 0.1, 0.6, 0.6
    panels = 0.3 * len(types)
    width = left + columns * column_width + (columns - 1) * 0.2 + right
    height = top + panels + bottom
    fig = figure(figsize=(width, height))
    axes = []
    for i in range(columns):
        x = left + i * (column_width + 0.2)
        ax = fig.add_axes((x / width, bottom / height, column_width / width, panels / height))
        ax.set_ylim(len(types) - 0.5, -0.5)
        ax.set_yticks(range(len(types)), labels if i == 0 else [""] * len(types), parse_math=False)
        for tick, cell_type in zip(ax.get_yticklabels(), types["cell_type"], strict=True):
            tick.set_color(
                OKABE_ITO["vermillion"] if cell_type == malignant else OKABE_ITO["black"]
            )
        axes.append(ax)
    fig.text(
        0.1 / width, 1 - 0.12 / height, title, ha="left", va="top", fontsize=8.5, parse_math=False
    )
    return fig, axes, types


def expression_dotplot(summary, signatures, path, *, level=None, malignant=None):
    """scanpy.pl.dotplot-style figure: cell types (rows, with cells and median UMIs) x signature
    genes; colour = mean log1p(CP10k), dot area = fraction of cells with a count > 0."""
    import matplotlib.pyplot as plt

    from selfseed.plots import OKABE_ITO, STYLE, save

    level = level or summary.cell_types["level"].iloc[0]
    table = summary.expression[summary.expression["level"] == level]
    genes = [
        g for g in dict.fromkeys(sum(map(list, signatures.values()), [])) if g in set(table["gene"])
    ]
    with plt.rc_context(STYLE):
        title = f"{summary.reference}: signature genes by cell type ({level})"
        fig, (ax,), types = cell_type_figure(
            summary, level, malignant, 1, 0.45 * len(genes), title, 1.3
        )
        pivot = {
            value: table.pivot(index="cell_type", columns="gene", values=value)
            .loc[types["cell_type"], genes]
            .to_numpy()
            .ravel()
            for value in ("mean_log1p_cp10k", "fraction_expressing")
        }
        y, x = np.meshgrid(np.arange(len(types)), np.arange(len(genes)), indexing="ij")
        dots = ax.scatter(
            x.ravel(),
            y.ravel(),
            s=200 * pivot["fraction_expressing"],
            c=pivot["mean_log1p_cp10k"],
            cmap="viridis",
            vmin=0,
            edgecolors="none",
        )
        ax.set_xticks(
            range(len(genes)),
            genes,
            rotation=45,
            ha="right",
            rotation_mode="anchor",
            parse_math=False,
        )
        ax.set_xlim(-0.6, len(genes) - 0.4)
        ax.tick_params(length=0)
        box = ax.get_position()
        bar = fig.add_axes((box.x1 + 0.02, box.y0 + box.height * 0.55, 0.012, box.height * 0.45))
        fig.colorbar(dots, cax=bar, label="mean log1p(CP10k)")
        for share in (0.1, 0.5, 1.0):
            ax.scatter([], [], s=200 * share, color=OKABE_ITO["grey"], label=f"{share:.0%}")
        ax.legend(
            title="cells with\ncount > 0",
            loc="lower left",
            labelspacing=1.1,
            bbox_to_anchor=(1.04, 0),
            borderaxespad=0,
        )
    save(fig, path)


def score_violins(summary, path, *, level=None, malignant=None, points_per_type=2000, seed=0):
    """score_genes score by cell type, one panel per signature: violins (each drawn from at most
    `points_per_type` of the type's cells, seeded) with the median (dot) and quartiles (bar) of all
    its cells; the rows give each type's cells and median UMIs per cell."""
    import matplotlib.pyplot as plt

    from selfseed.plots import OKABE_ITO, STYLE, axes_title, axis_labels, save

    level = level or summary.cell_types["level"].iloc[0]
    distribution = summary.distribution[summary.distribution["level"] == level]
    signatures = list(dict.fromkeys(distribution["signature"]))
    rng = np.random.default_rng(seed)
    cell_types = summary.scores[level].astype(str).to_numpy()
    with plt.rc_context(STYLE):
        title = (
            f"{summary.reference}: score_genes score on log1p(CP10k) by cell type ({level}); "
            "dot median, bar quartiles"
        )
        fig, axes, types = cell_type_figure(
            summary, level, malignant, len(signatures), 2.0, title, 0.2
        )
        rows = np.arange(len(types))
        for ax, signature in zip(axes, signatures, strict=True):
            scores = summary.scores[signature].to_numpy()
            values = [
                rng.permutation(scores[cell_types == t])[:points_per_type]
                for t in types["cell_type"]
            ]
            shaped = [
                i for i, v in enumerate(values) if len(v) and np.ptp(v) > 0
            ]  # a KDE needs spread
            if shaped:
                parts = ax.violinplot(
                    [values[i] for i in shaped],
                    positions=shaped,
                    widths=0.85,
                    orientation="horizontal",
                    showextrema=False,
                )
                for body, i in zip(parts["bodies"], shaped, strict=True):
                    malignant_row = types["cell_type"][i] == malignant
                    body.set_facecolor(OKABE_ITO["vermillion" if malignant_row else "sky"])
                    body.set_edgecolor("none")
                    body.set_alpha(0.7)
            stats = distribution[distribution["signature"] == signature].set_index("cell_type")
            stats = stats.loc[types["cell_type"]]
            ax.hlines(rows, stats["q25"], stats["q75"], color=OKABE_ITO["black"], lw=1.6)
            ax.scatter(
                stats["median"], rows, color="white", edgecolors=OKABE_ITO["black"], s=12, zorder=3
            )
            ax.axvline(0, color=OKABE_ITO["grey"], lw=0.6, ls="--")
            ax.tick_params(axis="y", length=0)
            axes_title(ax, signature, parse_math=False)
            axis_labels(ax, "score", below=0.22)
    save(fig, path)
