# GSVA::gsva(method = "ssgsea", ssgsea.norm = FALSE) raw enrichment scores (GSVA 1.46, Debian
# r-bioc-gsva) on the real matrices written by ssgsea_inputs.py, as values and as tie-free ranks.
# Run: .venv/bin/python tests/reference/ssgsea_inputs.py DIR && Rscript tests/reference/ssgsea.R DIR
suppressMessages(library(GSVA))
args <- commandArgs(TRUE)
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
rows <- list()
for (cohort in c("gse1992", "gse3143", "vdv")) for (input in c("values", "ranks")) {
  x <- as.matrix(read.delim(file.path(args[1], paste0(cohort, ".", input, ".tsv")), row.names = 1,
                            check.names = FALSE))
  sets <- read.delim(file.path(args[1], paste0(cohort, ".sets.tsv")))
  sets <- split(sets$gene, factor(sets$set, levels = unique(sets$set)))
  es <- gsva(x, sets, method = "ssgsea", ssgsea.norm = FALSE, tau = 0.25, min.sz = 1,
             verbose = FALSE)
  for (name in rownames(es)) {
    rows[[length(rows) + 1]] <- data.frame(cohort = cohort, input = input, sample = colnames(es), set = name,
                                           es = sprintf("%.15g", es[name, ]))
  }
}
write.table(do.call(rbind, rows), file.path(here, "ssgsea_gsva.tsv"), sep = "\t",
            row.names = FALSE, quote = FALSE)
