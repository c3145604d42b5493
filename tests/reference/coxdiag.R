# Reference values for selfseed.stats.coxdiag, .cutpoint and .discrimination.
# Reads the inputs exported by coxdiag_inputs.py (coxdiag_gse1992.tsv, coxdiag_gse3143.tsv)
# and writes coxdiag_reference.json next to this script.
# Needs: survival (>= 3.0), maxstat, rms + Hmisc (Debian: r-cran-rms r-cran-hmisc), jsonlite.
# Run from the repository root: Rscript tests/reference/coxdiag.R
suppressPackageStartupMessages({
  library(survival)
  library(maxstat)
  library(rms)
  library(jsonlite)
})

here <- "tests/reference"
read_cohort <- function(name) {
  read.delim(file.path(here, paste0("coxdiag_", name, ".tsv")), stringsAsFactors = FALSE)
}
g1992 <- read_cohort("gse1992")
g3143 <- read_cohort("gse3143")
cc1992 <- g1992[complete.cases(g1992), ]
cc1992$grade3 <- as.numeric(cc1992$grade == 3)  # no events among the 12 grade-1 tumours
er1992 <- g1992[!is.na(g1992$er_positive) & g1992$er_positive == 1, ]

table_rows <- function(tbl) {
  data.frame(term = rownames(tbl), chisq = tbl[, "chisq"], df = tbl[, "df"], p = tbl[, "p"],
             row.names = NULL)
}

# ---- 1. Proportional hazards: cox.zph (Efron ties) ----
zph <- list()
fit <- coxph(Surv(time, event) ~ score, data = g1992, ties = "efron")
for (tr in c("km", "rank", "identity", "log")) {
  zph[[paste0("gse1992_score_", tr)]] <- table_rows(cox.zph(fit, transform = tr)$table)
}
fit <- coxph(Surv(time, event) ~ score + age + node_positive + er_positive + grade3,
             data = cc1992, ties = "efron")
zph$gse1992_adjusted_km <- table_rows(cox.zph(fit, transform = "km")$table)
fit <- coxph(Surv(time, event) ~ score + er_level, data = g3143, ties = "efron")
zph$gse3143_km <- table_rows(cox.zph(fit, transform = "km")$table)
# a multi-df term: ER level (0-3) as a factor, three dummies tested jointly
fit <- coxph(Surv(time, event) ~ score + factor(er_level), data = g3143, ties = "efron")
zph$gse3143_er_factor_km <- table_rows(cox.zph(fit, transform = "km")$table)

# ---- 2. Restricted cubic spline: LRT of non-linearity and curve relative to the median ----
spline_case <- function(data, knots, covariates = character(0)) {
  rhs_lin <- paste(c("score", covariates), collapse = " + ")
  rhs_rcs <- paste(c(sprintf("rcs(score, %d)", knots), covariates), collapse = " + ")
  lin <- coxph(as.formula(paste("Surv(time, event) ~", rhs_lin)), data = data, ties = "efron")
  spl <- coxph(as.formula(paste("Surv(time, event) ~", rhs_rcs)), data = data, ties = "efron")
  knot_values <- attr(rcs(data$score, knots), "parms")
  lr <- 2 * (spl$loglik[2] - lin$loglik[2])
  # log HR relative to the median score, 95% Wald limits, on an equally spaced grid
  grid <- seq(min(data$score), max(data$score), length.out = 50)
  med <- median(data$score)
  basis <- function(x) rcspline.eval(x, knots = knot_values, inclx = TRUE)
  contrast <- sweep(basis(grid), 2, basis(med))
  k <- ncol(contrast)
  est <- drop(contrast %*% coef(spl)[1:k])
  se <- sqrt(rowSums((contrast %*% vcov(spl)[1:k, 1:k]) * contrast))
  list(lr_stat = lr, df = knots - 2, p = pchisq(lr, knots - 2, lower.tail = FALSE),
       knots = unname(knot_values), median_score = med,
       curve = data.frame(score = grid, log_hr = est, ci_low = est - qnorm(0.975) * se,
                          ci_high = est + qnorm(0.975) * se))
}
# the same curve from rms itself (cph + Predict, reference = median), as an independent check
rms_curve <- function(data, knots) {
  dd <<- datadist(data)
  options(datadist = "dd")
  f <- cph(Surv(time, event) ~ rcs(score, knots), data = data, ties = "efron", eps = 1e-8)
  grid <- seq(min(data$score), max(data$score), length.out = 50)
  pr <- Predict(f, score = grid, ref.zero = TRUE)
  data.frame(score = pr$score, log_hr = pr$yhat, ci_low = pr$lower, ci_high = pr$upper)
}
spline <- list(
  gse1992_k4 = spline_case(g1992, 4),
  gse1992_adjusted_k4 = spline_case(cc1992, 4, c("age", "node_positive")),
  gse1992_er_positive_k4 = spline_case(er1992, 4),
  gse3143_k3 = spline_case(g3143, 3),
  gse3143_k5 = spline_case(g3143, 5)
)
spline$gse1992_k4$rms_curve <- rms_curve(g1992, 4)

# ---- 3. Score x treatment interaction (ER status as the two-level "treatment") ----
interaction_case <- function(data, treatment, covariates = character(0)) {
  data$trt <- data[[treatment]]
  rhs <- paste(c("score", "trt", covariates), collapse = " + ")
  red <- coxph(as.formula(paste("Surv(time, event) ~", rhs)), data = data, ties = "efron")
  full <- coxph(as.formula(paste("Surv(time, event) ~", rhs, "+ score:trt")), data = data,
                ties = "efron")
  b <- coef(full)
  v <- vcov(full)
  se <- sqrt(v["score:trt", "score:trt"])
  lr <- 2 * (full$loglik[2] - red$loglik[2])
  by_trt <- lapply(list(c(score = 1), c(score = 1, `score:trt` = 1)), function(w) {
    cvec <- setNames(rep(0, length(b)), names(b))
    cvec[names(w)] <- w
    est <- sum(cvec * b)
    s <- sqrt(drop(t(cvec) %*% v %*% cvec))
    c(hr = exp(est), ci_low = exp(est - qnorm(0.975) * s), ci_high = exp(est + qnorm(0.975) * s),
      p = 2 * pnorm(-abs(est / s)))
  })
  list(interaction_hr = exp(b[["score:trt"]]),
       ci_low = exp(b[["score:trt"]] - qnorm(0.975) * se),
       ci_high = exp(b[["score:trt"]] + qnorm(0.975) * se),
       wald_p = 2 * pnorm(-abs(b[["score:trt"]] / se)),
       lr_stat = lr, lrt_p = pchisq(lr, 1, lower.tail = FALSE),
       score_hr_by_treatment = data.frame(treatment = c(0, 1), do.call(rbind, by_trt)))
}
g3143$er_high <- as.numeric(g3143$er_level >= 2)
interaction <- list(
  gse1992_er_adjusted = interaction_case(cc1992, "er_positive", c("age", "node_positive")),
  gse3143_er_high = interaction_case(g3143, "er_high")
)

# ---- 4. Maximally selected log-rank statistic (maxstat) ----
maxstat_case <- function(data) {
  lau94 <- maxstat.test(Surv(time, event) ~ score, data = data, smethod = "LogRank",
                        pmethod = "Lau94", minprop = 0.1, maxprop = 0.9)
  lau92 <- maxstat.test(Surv(time, event) ~ score, data = data, smethod = "LogRank",
                        pmethod = "Lau92", minprop = 0.1, maxprop = 0.9)
  set.seed(20240601)
  cond_mc <- maxstat.test(Surv(time, event) ~ score, data = data, smethod = "LogRank",
                          pmethod = "condMC", minprop = 0.1, maxprop = 0.9, B = 100000)
  list(statistic = unname(lau94$statistic), cutpoint = unname(lau94$estimate),
       p_lau94 = lau94$p.value, p_lau92 = lau92$p.value, p_condmc_b1e5 = cond_mc$p.value,
       cuts = lau94$cuts, stats = lau94$stats)
}
maxstat_ref <- list(gse1992 = maxstat_case(g1992), gse3143 = maxstat_case(g3143))

# ---- 5. Concordance: Harrell (timewt "n") and Uno (timewt "n/G2"), risk = higher is worse ----
conc <- function(data, risk, timewt = "n", ymax = NULL) {
  data$risk <- risk
  f <- if (is.null(ymax)) {
    concordance(Surv(time, event) ~ risk, data = data, reverse = TRUE, timewt = timewt)
  } else {
    concordance(Surv(time, event) ~ risk, data = data, reverse = TRUE, timewt = timewt,
                ymax = ymax)
  }
  list(concordance = unname(f$concordance), se = sqrt(unname(f$var)),
       count = as.list(f$count))
}
concordance_ref <- list()
for (name in c("gse1992", "gse3143")) {
  d <- get(paste0("g", sub("gse", "", name)))
  for (rounding in c("exact", "round1")) {
    risk <- if (rounding == "exact") d$score else d$score_round1
    key <- paste(name, rounding, sep = "_")
    concordance_ref[[paste0(key, "_harrell")]] <- conc(d, risk)
    concordance_ref[[paste0(key, "_uno")]] <- conc(d, risk, "n/G2")
    concordance_ref[[paste0(key, "_uno_tau36")]] <- conc(d, risk, "n/G2", 36)
  }
}

out <- list(
  versions = list(R = R.version.string, survival = as.character(packageVersion("survival")),
                  maxstat = as.character(packageVersion("maxstat")),
                  rms = as.character(packageVersion("rms")),
                  Hmisc = as.character(packageVersion("Hmisc"))),
  zph = zph, spline = spline, interaction = interaction, maxstat = maxstat_ref,
  concordance = concordance_ref
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           file.path(here, "coxdiag_reference.json"))
