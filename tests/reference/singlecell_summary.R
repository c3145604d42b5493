# Per cell type of the Wu et al. 2021 CID4465 sample (../shared/data/singlecell/wu2021_CID4465.RData,
# read by R itself): for the five self-seeding genes, the number of cells, mean log1p(CP10k)
# (counts / cell total * 1e4 over all genes, then log1p), fraction of cells with a count > 0 and
# summed UMIs; and the median UMIs per cell of each type. Only R and the Matrix package: the
# SingleCellExperiment's slots are read as attributes, without Bioconductor.
# Run from the project root: Rscript tests/reference/singlecell_summary.R
# (writes tests/reference/singlecell_summary.tsv, which tests/test_singlecell.py compares with).
suppressPackageStartupMessages(library(Matrix))

env <- new.env()
load("../shared/data/singlecell/wu2021_CID4465.RData", envir = env)
sce <- get(ls(env)[1], envir = env)
counts <- attr(attr(attr(sce, "assays"), "data"), "listData")$counts  # genes x cells dgCMatrix
rownames(counts) <- attr(attr(attr(sce, "rowRanges"), "partitioning"), "NAMES")
labels <- attr(attr(sce, "colData"), "listData")

totals <- colSums(counts)
genes <- c("IL6", "CXCL8", "MMP1", "FSCN1", "CXCL1")
picked <- as.matrix(counts[genes, , drop = FALSE])
normalised <- log1p(sweep(picked, 2, totals / 1e4, "/"))

rows <- list()
for (level in c("celltype_major", "celltype_minor")) {
  for (type in sort(unique(labels[[level]]))) {
    cells <- labels[[level]] == type
    for (gene in genes) {
      rows[[length(rows) + 1]] <- data.frame(
        level = level, cell_type = type, gene = gene, n_cells = sum(cells),
        mean_log1p_cp10k = mean(normalised[gene, cells]),
        fraction_expressing = mean(picked[gene, cells] > 0),
        umis = sum(picked[gene, cells]),
        median_umis = median(totals[cells])
      )
    }
  }
}
table <- do.call(rbind, rows)
for (column in c("mean_log1p_cp10k", "fraction_expressing", "median_umis")) {
  table[[column]] <- sprintf("%.17g", table[[column]])
}
write.table(table, "tests/reference/singlecell_summary.tsv", sep = "\t", quote = FALSE,
            row.names = FALSE)
