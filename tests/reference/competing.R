# Reference competing-risk results for tests/test_competing.py.
# Run from the repo root: Rscript tests/reference/competing.R
# Reads the cohorts written by tests/reference/simulate_competing.py and writes
# tests/reference/competing_r_{cuminc,gray,crr,finegray_coxph,coxph}.tsv.
# Made with R 4.2, cmprsk 2.2.11, survival 3.5.3.
suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
})

ref <- "tests/reference"
read_cohort <- function(name) {
  read.delim(file.path(ref, paste0("competing_", name, ".tsv")), stringsAsFactors = FALSE)
}
genes <- c("num_HS_IL6", "num_HS_IL8", "num_HS_MMP1", "num_HS_FSCN1", "num_HS_CXCL1")
gse <- read_cohort("gse1992")
gse$il6_group <- ifelse(gse$num_HS_IL6 > median(gse$num_HS_IL6), "high", "low")

# sim_fg_events: sim_fg without censored patients (G = 1).
# cohort, grouping column (NA = one curve), Fine-Gray / Cox models (covariate sets)
cohorts <- list(
  sim_fg = list(data = read_cohort("sim_fg"), groupings = c(NA, "group", "nodal"),
                models = list(score = "score", score_nodal = c("score", "nodal"))),
  sim_fg_events = list(data = subset(read_cohort("sim_fg"), event > 0), groupings = c(NA, "group"),
                       models = list(score = "score")),
  sim_cs = list(data = read_cohort("sim_cs"), groupings = c(NA, "group"),
                models = list(score = "score", score_nodal = c("score", "nodal"))),
  gse1992 = list(data = gse, groupings = c(NA, "il6_group"),
                 models = list(il6 = "num_HS_IL6", genes = genes))
)

cuminc_rows <- list()
gray_rows <- list()
crr_rows <- list()
fg_rows <- list()
cox_rows <- list()

for (cohort in names(cohorts)) {
  spec <- cohorts[[cohort]]
  d <- spec$data
  causes <- sort(unique(d$event[d$event > 0]))
  times <- sort(unique(d$time))
  for (grouping in spec$groupings) {
    group <- if (is.na(grouping)) rep("all", nrow(d)) else as.character(d[[grouping]])
    fit <- cuminc(d$time, d$event, group = group, cencode = 0)
    tp <- timepoints(fit, times)
    for (curve in rownames(tp$est)) {
      parts <- strsplit(curve, " ")[[1]]
      keep <- !is.na(tp$est[curve, ])
      cuminc_rows[[length(cuminc_rows) + 1]] <- data.frame(
        cohort = cohort, grouping = ifelse(is.na(grouping), "none", grouping),
        group = parts[1], cause = as.integer(parts[2]), time = times[keep],
        est = tp$est[curve, keep], var = tp$var[curve, keep])
    }
    if (!is.na(grouping)) {
      tests <- fit$Tests
      gray_rows[[length(gray_rows) + 1]] <- data.frame(
        cohort = cohort, grouping = grouping, cause = as.integer(rownames(tests)),
        stat = tests[, "stat"], pv = tests[, "pv"], df = tests[, "df"])
    }
  }
  for (model in names(spec$models)) {
    terms <- spec$models[[model]]
    x <- as.matrix(d[, terms, drop = FALSE])
    for (cause in causes) {
      fit <- crr(d$time, d$event, cov1 = x, failcode = cause, cencode = 0)
      se <- sqrt(diag(fit$var))
      crr_rows[[length(crr_rows) + 1]] <- data.frame(
        cohort = cohort, model = model, cause = cause, term = terms, coef = fit$coef,
        se = se, p = 2 * pnorm(-abs(fit$coef / se)), converged = fit$converged)

      d$status <- factor(d$event, levels = c(0, causes))
      d$id <- seq_len(nrow(d))
      fg <- finegray(as.formula(paste("Surv(time, status) ~", paste(c(terms, "id"),
                                                                      collapse = "+"))),
                     data = d, etype = as.character(cause))
      fgfit <- coxph(as.formula(paste("Surv(fgstart, fgstop, fgstatus) ~",
                                      paste(terms, collapse = "+"))),
                     data = fg, weights = fgwt, ties = "breslow", cluster = id)
      fg_rows[[length(fg_rows) + 1]] <- data.frame(
        cohort = cohort, model = model, cause = cause, term = terms, coef = coef(fgfit),
        se_robust = sqrt(diag(fgfit$var)), se_naive = sqrt(diag(fgfit$naive.var)))

      cox <- coxph(as.formula(paste("Surv(time, event ==", cause, ") ~",
                                    paste(terms, collapse = "+"))), data = d, ties = "efron")
      s <- summary(cox)$coefficients
      cox_rows[[length(cox_rows) + 1]] <- data.frame(
        cohort = cohort, model = model, cause = cause, term = terms, coef = s[, "coef"],
        se = s[, "se(coef)"], p = s[, "Pr(>|z|)"])
    }
  }
}

write_ref <- function(rows, name) {
  out <- do.call(rbind, rows)
  write.table(out, file.path(ref, paste0("competing_r_", name, ".tsv")),
              sep = "\t", quote = FALSE, row.names = FALSE)
}
write_ref(cuminc_rows, "cuminc")
write_ref(gray_rows, "gray")
write_ref(crr_rows, "crr")
write_ref(fg_rows, "finegray_coxph")
write_ref(cox_rows, "coxph")
