# Reference values for study planning (selfseed.stats.power), from powerSurvEpi 0.1.5 (CRAN; GPL >= 2;
# not a Debian package: install it into a private library and run with R_LIBS=that library).
# Cases: the pooled cause-specific HR per SD and Fine-Gray sHR per SD of the shipped cohorts and their
# lower 95% bounds (lr_cohorts_r.tsv: metafor on coxph and crr) with the pooled cumulative incidence of LR at
# 60 months (cmprsk::cuminc on lr_cohorts.tsv), and a grid of HRs, event probabilities, powers and levels.
# Per case: events (ssizeEpiCont.default with sigma2 = 1, psi = 1, rho2 = 0: the patients needed when every
# patient has the event) and patients (psi = the event probability), both rounded up by powerSurvEpi; the
# same unrounded, written out as the closed form; the power at the rounded patient number
# (powerEpiCont.default); and the minimum detectable HR per SD for a number of events, the root of
# powerEpiCont.default(n = events, psi = 1) = power (uniroot).
# Run: R_LIBS=/path/to/library Rscript tests/reference/power.R  -> tests/reference/power_r.tsv
library(powerSurvEpi)
library(cmprsk)
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
d <- read.delim(file.path(here, "lr_cohorts.tsv"))
pooled <- read.delim(file.path(here, "lr_cohorts_r.tsv"))
value <- function(name) as.numeric(pooled$value[pooled$cohort == "pooled" & pooled$name == name])
cif <- timepoints(cuminc(d$time_months, d$event, cencode = 0), 60)$est
cif_lr <- cif["1 1", 1]
cif_competing <- cif["1 2", 1]
shipped <- expand.grid(hr_name = c("cox_rma_hr", "cox_rma_ci_low", "crr_rma_hr", "crr_rma_ci_low"),
                       power = c(0.8, 0.9), alpha = 0.05, stringsAsFactors = FALSE)
shipped$hr <- sapply(shipped$hr_name, value)
shipped$p_event <- cif_lr
grid <- expand.grid(hr_name = "grid", power = c(0.8, 0.9), alpha = c(0.05, 0.01),
                    hr = c(0.5, 0.8, 1.2, 2.5), p_event = c(0.05, 0.3, 1), stringsAsFactors = FALSE)
cases <- rbind(shipped, grid[, names(shipped)])
z <- function(alpha, power) qnorm(1 - alpha / 2) + qnorm(power)
cases$events <- mapply(function(power, hr, alpha) ssizeEpiCont.default(power, hr, 1, 1, 0, alpha),
                       cases$power, cases$hr, cases$alpha)
cases$patients <- mapply(function(power, hr, p, alpha) ssizeEpiCont.default(power, hr, 1, p, 0, alpha),
                         cases$power, cases$hr, cases$p_event, cases$alpha)
cases$events_exact <- z(cases$alpha, cases$power)^2 / log(cases$hr)^2
cases$patients_exact <- cases$events_exact / cases$p_event
cases$power_at_patients <- mapply(function(n, hr, p, alpha) powerEpiCont.default(n, hr, 1, p, 0, alpha),
                                  cases$patients, cases$hr, cases$p_event, cases$alpha)
detectable <- expand.grid(events = c(9, 12, 14, 35, 100, 1000), power = c(0.8, 0.9), alpha = c(0.05, 0.01))
detectable$hr <- mapply(function(events, power, alpha) uniroot(
  function(theta) powerEpiCont.default(events, theta, 1, 1, 0, alpha) - power,
  c(1 + 1e-9, 100), tol = 1e-14)$root, detectable$events, detectable$power, detectable$alpha)
format15 <- function(frame) {
  for (column in names(frame)) if (is.double(frame[[column]])) frame[[column]] <- sprintf("%.15g", frame[[column]])
  frame
}
out <- list(cases = format15(cases), detectable = format15(detectable),
            incidence = format15(data.frame(cif_lr = cif_lr, cif_competing = cif_competing)))
for (name in names(out)) {
  write.table(out[[name]], file.path(here, paste0("power_r_", name, ".tsv")), sep = "\t",
              row.names = FALSE, quote = FALSE)
}
