# Reference values on the shipped TCGA local-recurrence cohorts (input lr_cohorts.tsv, written by
# lr_cohorts_inputs.py: per patient the time in months, event 0/1/2 for LR as first event, the
# distant-metastasis-first event (event_dm, 1 = distant metastasis first) and the self-seeding zmean score).
# Per cohort: coxph (cause-specific, Efron), cmprsk::crr (Fine-Gray), the Lunn-McNeil stacked coxph with a
# score x cause interaction; across cohorts: metafor::rma (REML) and predict() (prediction interval).
# Run: Rscript tests/reference/lr_cohorts.R  -> tests/reference/lr_cohorts_r.tsv
library(survival)
library(cmprsk)
library(metafor)
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
d <- read.delim(file.path(here, "lr_cohorts.tsv"))
rows <- list()
add <- function(cohort, name, value) rows[[length(rows) + 1]] <<- data.frame(cohort = cohort, name = name, value = value)
per_cohort <- list()
for (cohort in sort(unique(d$cohort))) {
  x <- d[d$cohort == cohort, ]
  x$score_sd <- (x$score - mean(x$score)) / sd(x$score)
  cs <- summary(coxph(Surv(time_months, event == 1) ~ score_sd, data = x, ties = "efron"))
  add(cohort, "cox_coef", cs$coefficients[1, "coef"])
  add(cohort, "cox_se", cs$coefficients[1, "se(coef)"])
  add(cohort, "cox_p", cs$coefficients[1, "Pr(>|z|)"])
  add(cohort, "cox_ci_low", cs$conf.int[1, "lower .95"])
  add(cohort, "cox_ci_high", cs$conf.int[1, "upper .95"])
  dm <- summary(coxph(Surv(time_months, event_dm == 1) ~ score_sd, data = x, ties = "efron"))
  add(cohort, "cox_dm_coef", dm$coefficients[1, "coef"])
  add(cohort, "cox_dm_se", dm$coefficients[1, "se(coef)"])
  fg <- crr(x$time_months, x$event, cov1 = matrix(x$score_sd, ncol = 1), failcode = 1, cencode = 0)
  add(cohort, "crr_coef", fg$coef[1])
  add(cohort, "crr_se", sqrt(fg$var[1, 1]))
  cause <- ifelse(x$event == 1, 1, ifelse(x$event_dm == 1, 2, 0))
  stacked <- rbind(
    data.frame(time = x$time_months, status = as.integer(cause == 1), score = x$score_sd, cause = "LR"),
    data.frame(time = x$time_months, status = as.integer(cause == 2), score = x$score_sd, cause = "DM"))
  stacked$cause <- factor(stacked$cause, levels = c("LR", "DM"))
  lm <- summary(coxph(Surv(time, status) ~ score + score:cause + strata(cause), data = stacked, ties = "efron"))
  add(cohort, "lunn_mcneil_lr_coef", lm$coefficients["score", "coef"])
  add(cohort, "lunn_mcneil_diff_coef", lm$coefficients["score:causeDM", "coef"])
  add(cohort, "lunn_mcneil_diff_se", lm$coefficients["score:causeDM", "se(coef)"])
  add(cohort, "lunn_mcneil_diff_p", lm$coefficients["score:causeDM", "Pr(>|z|)"])
  per_cohort[[cohort]] <- c(cs$coefficients[1, "coef"], cs$coefficients[1, "se(coef)"], fg$coef[1],
                            sqrt(fg$var[1, 1]), dm$coefficients[1, "coef"], dm$coefficients[1, "se(coef)"])
}
pooled <- do.call(rbind, per_cohort)
control <- list(threshold = 1e-12, tol = 1e-12, maxiter = 1000)
for (what in c("cox", "crr", "cox_dm")) {
  cols <- list(cox = 1:2, crr = 3:4, cox_dm = 5:6)[[what]]
  fit <- rma(yi = pooled[, cols[1]], sei = pooled[, cols[2]], method = "REML", control = control)
  p <- predict(fit, transf = exp)
  add("pooled", paste0(what, "_rma_hr"), p$pred)
  add("pooled", paste0(what, "_rma_ci_low"), p$ci.lb)
  add("pooled", paste0(what, "_rma_ci_high"), p$ci.ub)
  add("pooled", paste0(what, "_rma_pi_low"), p$pi.lb)
  add("pooled", paste0(what, "_rma_pi_high"), p$pi.ub)
  add("pooled", paste0(what, "_rma_tau2"), fit$tau2)
  add("pooled", paste0(what, "_rma_p"), fit$pval)
}
out <- do.call(rbind, rows)
out$value <- sprintf("%.15g", out$value)
write.table(out, file.path(here, "lr_cohorts_r.tsv"), sep = "\t", row.names = FALSE, quote = FALSE)
