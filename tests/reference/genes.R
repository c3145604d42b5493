# Reference values for the gene-level decomposition and the genome-wide score test (inputs written by
# genes_inputs.py from the shipped TCGA cohorts).
# genes_cohorts.tsv, per cohort: for each self-seeding gene, coxph (cause-specific, Efron) and cmprsk::crr
# (Fine-Gray) of the gene per SD of its expression among the patients with a primary coding; the zmean
# signature (mean of z-scores over all of the cohort's samples) of all five genes and of the four left when
# each is left out, per SD, in coxph.
# genes_genomewide_ucs.tsv: for 200 random genes of tcga_ucs, the coxph score test at beta = 0
# (summary(fit)$sctest, signed by the fitted coefficient) and the Wald z, Efron and Breslow ties, with the
# follow-up time as it is and in whole quarters (ceiling(time / 3): tied event times).
# Run: Rscript tests/reference/genes.R  -> tests/reference/genes_r.tsv, genes_genomewide_ucs_r.tsv
library(survival)
library(cmprsk)
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
genes <- c("IL6", "CXCL8", "MMP1", "FSCN1", "CXCL1")
per_sd <- function(x) (x - mean(x)) / sd(x)
d <- read.delim(file.path(here, "genes_cohorts.tsv"))
rows <- list()
add <- function(cohort, gene, name, value) rows[[length(rows) + 1]] <<- data.frame(cohort = cohort, gene = gene, name = name, value = value)
cox <- function(x, score) summary(coxph(Surv(time_months, event == 1) ~ per_sd(score), data = x, ties = "efron"))$coefficients
for (cohort in sort(unique(d$cohort))) {
  all <- d[d$cohort == cohort, ]
  z <- scale(as.matrix(all[, genes]))  # within-cohort z-scores over all samples, as zmean
  coded <- !is.na(all$event)
  x <- all[coded, ]
  full <- cox(x, rowMeans(z[coded, ]))
  add(cohort, "", "signature_coef", full[1, "coef"])
  add(cohort, "", "signature_se", full[1, "se(coef)"])
  for (gene in genes) {
    fit <- cox(x, x[[gene]])
    add(cohort, gene, "coef", fit[1, "coef"])
    add(cohort, gene, "se", fit[1, "se(coef)"])
    add(cohort, gene, "p", fit[1, "Pr(>|z|)"])
    fg <- crr(x$time_months, x$event, cov1 = matrix(per_sd(x[[gene]]), ncol = 1), failcode = 1,
              cencode = 0, gtol = 1e-12, maxiter = 100)
    add(cohort, gene, "shr_coef", fg$coef[1])
    add(cohort, gene, "shr_se", sqrt(fg$var[1, 1]))
    loo <- cox(x, rowMeans(z[coded, setdiff(genes, gene)]))
    add(cohort, gene, "loo_coef", loo[1, "coef"])
    add(cohort, gene, "loo_se", loo[1, "se(coef)"])
  }
}
out <- do.call(rbind, rows)
out$value <- sprintf("%.15g", out$value)
write.table(out, file.path(here, "genes_r.tsv"), sep = "\t", row.names = FALSE, quote = FALSE)

g <- read.delim(file.path(here, "genes_genomewide_ucs.tsv"), check.names = FALSE)
random_genes <- setdiff(colnames(g), c("sample_id", "time_months", "event"))
rows <- list()
for (times in c("as_is", "quarters")) {
  time <- if (times == "as_is") g$time_months else ceiling(g$time_months / 3)
  for (ties in c("efron", "breslow")) {
    for (gene in random_genes) {
      fit <- suppressWarnings(coxph(Surv(time, g$event == 1) ~ g[[gene]], ties = ties))
      s <- summary(fit)
      rows[[length(rows) + 1]] <- data.frame(
        gene = gene, times = times, ties = ties,
        score_z = sprintf("%.15g", sign(coef(fit)) * sqrt(s$sctest[["test"]])),
        wald_z = sprintf("%.15g", s$coefficients[1, "z"]))
    }
  }
}
write.table(do.call(rbind, rows), file.path(here, "genes_genomewide_ucs_r.tsv"), sep = "\t",
            row.names = FALSE, quote = FALSE)
