# Reference values for the models adjusted for composition (selfseed.composition) on the shipped
# TCGA-UCS cohort (input composition_ucs.tsv, written by composition_inputs.py: per patient the time in
# months, event 0/1/2 for LR as first event, the self-seeding zmean score and the stromal, immune and
# malignant marker scores). The score enters per SD (sample SD); the marker scores as they are.
# Per model: coxph (cause-specific, Efron ties) and cmprsk::crr (Fine-Gray), coefficient of the score.
# Run: Rscript tests/reference/composition.R  -> tests/reference/composition_r.tsv
library(survival)
library(cmprsk)
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
d <- read.delim(file.path(here, "composition_ucs.tsv"))
d$score_sd <- (d$score - mean(d$score)) / sd(d$score)
models <- list(unadjusted = character(0), stroma_immune = c("stromal", "immune"), purity = "malignant")
rows <- list()
for (model in names(models)) {
  terms <- c("score_sd", models[[model]])
  formula <- as.formula(paste("Surv(time_months, event == 1) ~", paste(terms, collapse = " + ")))
  cs <- summary(coxph(formula, data = d, ties = "efron"))$coefficients
  fg <- crr(d$time_months, d$event, cov1 = as.matrix(d[, terms, drop = FALSE]), failcode = 1, cencode = 0)
  fg_se <- sqrt(diag(fg$var))[1]
  rows[[length(rows) + 1]] <- data.frame(
    model = model, hazard = "cause_specific", coef = cs[1, "coef"], se = cs[1, "se(coef)"],
    p = cs[1, "Pr(>|z|)"]
  )
  rows[[length(rows) + 1]] <- data.frame(
    model = model, hazard = "subdistribution", coef = fg$coef[1], se = fg_se,
    p = 2 * pnorm(-abs(fg$coef[1] / fg_se))
  )
}
out <- do.call(rbind, rows)
write.table(format(out, digits = 15), file.path(here, "composition_r.tsv"), sep = "\t", quote = FALSE,
            row.names = FALSE)
