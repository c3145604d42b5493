# Reference values for tests/test_meta.py (selfseed.stats.meta).
# Run from the repo root:  Rscript tests/reference/meta.R
# Reads  tests/reference/meta_studies.tsv   (hand-made per-cohort log HRs and SEs)
#        tests/reference/meta_pooled_cohorts.tsv  (SurvSet gse1992 + gse3143 patients; written by
#        `python tests/test_meta.py`)
# Writes tests/reference/meta_reference.json
#
# Random effects: metafor::rma(yi, sei=, method=) with test "z" and "knha". tau2 is iterated to
# convergence (control threshold/tol 1e-12): metafor's defaults stop REML at a tau2 change of
# 1e-5 and PM at uniroot tol 1.2e-4, which leaves ~1e-5 of stopping noise in tau2. The default-
# control fits are stored too ("default_control") to bound that difference.
suppressMessages({
  library(metafor)
  library(survival)
  library(jsonlite)
})

here <- "tests/reference"
studies <- read.delim(file.path(here, "meta_studies.tsv"))
tight <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000)

summarise_rma <- function(fit) {
  list(
    estimate = fit$b[1], se = fit$se, ci_low = fit$ci.lb, ci_high = fit$ci.ub, p = fit$pval,
    tau2 = fit$tau2, i2 = fit$I2, h2 = fit$H2, q = fit$QE, q_p = fit$QEp, k = fit$k,
    weights = unname(weights(fit))
  )
}

meta <- list()
for (set in unique(studies$set)) {
  x <- studies[studies$set == set, ]
  fits <- list(FE = summarise_rma(rma(x$log_hr, sei = x$se, method = "FE")))
  for (method in c("REML", "DL", "PM")) {
    for (test in c("z", "knha")) {
      name <- paste0(method, if (test == "knha") "_knha" else "")
      fits[[name]] <- summarise_rma(rma(x$log_hr, sei = x$se, method = method, test = test,
                                        control = tight))
      fits[[paste0(name, "_default_control")]] <-
        summarise_rma(rma(x$log_hr, sei = x$se, method = method, test = test))
    }
  }
  meta[[set]] <- fits
}

pooled <- read.delim(file.path(here, "meta_pooled_cohorts.tsv"))
cox <- coxph(Surv(time_months, event == 1) ~ score + strata(cohort), data = pooled,
             ties = "efron", control = coxph.control(eps = 1e-10, iter.max = 100))
s <- summary(cox)
stratified <- list(
  coef = unname(coef(cox)), se = unname(sqrt(diag(vcov(cox)))),
  hr = unname(s$conf.int[1, "exp(coef)"]), ci_low = unname(s$conf.int[1, "lower .95"]),
  ci_high = unname(s$conf.int[1, "upper .95"]), p = unname(s$coefficients[1, "Pr(>|z|)"]),
  n = cox$n, events = cox$nevent
)

write_json(
  list(
    generated_by = "tests/reference/meta.R",
    r_version = R.version.string,
    metafor_version = as.character(packageVersion("metafor")),
    survival_version = as.character(packageVersion("survival")),
    meta = meta,
    stratified_cox = stratified
  ),
  file.path(here, "meta_reference.json"),
  digits = NA, auto_unbox = TRUE, pretty = TRUE
)
