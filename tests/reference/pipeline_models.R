# Reference values for selfseed.survival and selfseed.analysis on the real gse1992 cohort
# (input: coxdiag_gse1992.tsv, written by coxdiag_inputs.py: RFS months, event, self-seeding zmean score).
# Run: Rscript tests/reference/pipeline_models.R  -> tests/reference/pipeline_models.tsv
library(survival)
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
d <- read.delim(file.path(here, "coxdiag_gse1992.tsv"))
d$score_sd <- (d$score - mean(d$score)) / sd(d$score)
out <- list()
add <- function(name, value) out[[name]] <<- value
uni <- coxph(Surv(time, event) ~ score_sd, data = d, ties = "efron")
s <- summary(uni)$coefficients
add("cox_univariable_coef", s[1, "coef"]); add("cox_univariable_se", s[1, "se(coef)"])
add("cox_univariable_p", s[1, "Pr(>|z|)"])
cc <- d[complete.cases(d[, c("er_positive", "grade")]), ]
cc$score_sd <- (cc$score - mean(cc$score)) / sd(cc$score)
adj <- coxph(Surv(time, event) ~ score_sd + factor(er_positive) + grade, data = cc, ties = "efron")
s <- summary(adj)$coefficients
add("cox_adjusted_n", nrow(cc)); add("cox_adjusted_coef", s[1, "coef"])
add("cox_adjusted_se", s[1, "se(coef)"]); add("cox_adjusted_p", s[1, "Pr(>|z|)"])
median_group <- ifelse(d$score > median(d$score), "high", "low")
add("logrank_median_chisq", survdiff(Surv(time, event) ~ median_group, data = d)$chisq)
tertile <- cut(d$score, quantile(d$score, c(0, 1/3, 2/3, 1)), include.lowest = TRUE,
               labels = c("low", "mid", "high"))
add("logrank_tertile_chisq", survdiff(Surv(time, event) ~ tertile, data = d)$chisq)
zph <- cox.zph(uni)
add("cox_zph_p", zph$table["score_sd", "p"])
write.table(data.frame(name = names(out), value = sprintf("%.15g", unlist(out))),
            file.path(here, "pipeline_models.tsv"), sep = "\t", row.names = FALSE, quote = FALSE)
