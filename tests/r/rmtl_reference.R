# Restricted mean time lost to each cause (competing risks), for tests/test_rmtl.py.
# Regenerate (from the repository root, after cif_reference.R):  Rscript tests/r/rmtl_reference.R
# Reads tests/r/cif_data_<name>.csv and writes rmtl_summary.csv: per (data, horizon, group, cause) the
# restricted mean time in state 1 or 2 of survfit's Aalen-Johansen estimate (the integral of that cause's
# cumulative incidence to the horizon, summary(fit, rmean = horizon)$table), checked against the integral
# of cmprsk::cuminc's step function by hand, and its infinitesimal-jackknife standard error,
#   sqrt(sum_i (sum_j influence[i, j, state] * width_j)^2),
# from survfit(..., influence = TRUE)'s influence array, width_j the part of [0, horizon] the j-th step
# covers. The script checks that standard error against a numerical derivative with respect to each case
# weight on the three small data sets.
# Why not the se(rmean) of summary()'s table: in survival 3.5-3, survival:::survmean2 multiplies the
# influence array (a leading column for the starting time, then one per time) by the widths, one per
# time, so R recycles the widths out of step (R warns "longer object length is not a multiple of
# shorter object length") and the table's se(rmean) is wrong for some groups (e.g. cif_data_ties
# group A, and groups ARM_A and ARM_B of cif_data_large). The column se_table keeps it for the record.
suppressMessages({library(survival); library(cmprsk)})
dir <- "tests/r"
f17 <- function(v) sprintf("%.17g", v)
horizons <- list(example = c(1, 2), ties = c(3, 5), terminal = c(2, 6), large = c(365.25, 1095.75))
rmtl_weighted <- function(d, w, tau, k) {  # for the numerical check
  f <- survfit(Surv(time, factor(status, levels = 0:2)) ~ 1, data = d, weights = w, conf.type = "none")
  keep <- f$time < tau
  sum(diff(c(f$time[keep], tau)) * f$pstate[keep, k + 1])
}
rows <- list()
for (name in names(horizons)) {
  d <- read.csv(file.path(dir, paste0("cif_data_", name, ".csv")))
  fit <- survfit(Surv(time, factor(status)) ~ group, data = d, influence = TRUE)
  ci <- cuminc(d$time, d$status, d$group)
  groups <- sub("group=", "", names(fit$strata))
  stopifnot(identical(groups, sort(unique(d$group))))
  for (tau in horizons[[name]]) {
    tab <- suppressWarnings(summary(fit, rmean = tau)$table)
    for (gi in seq_along(groups)) {
      g <- groups[gi]
      here <- rep(seq_along(groups), fit$strata) == gi
      tt <- fit$time[here]
      width <- pmax(0, pmin(c(tt[-1], Inf), tau) - tt)
      for (k in 1:2) {
        row <- paste0("group=", g, ", ", k)
        rmtl <- sum(width * fit$pstate[here, k + 1])
        by_hand <- with(ci[[paste(g, k)]], {
          keep <- time < tau
          sum(diff(c(time[keep], tau)) * est[keep])
        })
        stopifnot(abs(by_hand - rmtl) < 1e-10, abs(tab[row, "rmean"] - rmtl) < 1e-10)
        se <- sqrt(sum((fit$influence[[gi]][, -1, k + 1] %*% width)^2))
        if (name != "large") {
          s <- d[d$group == g, ]
          h <- 1e-6
          deriv <- sapply(seq_len(nrow(s)), function(i) {
            up <- rep(1, nrow(s)); up[i] <- 1 + h
            down <- rep(1, nrow(s)); down[i] <- 1 - h
            (rmtl_weighted(s, up, tau, k) - rmtl_weighted(s, down, tau, k)) / (2 * h)
          })
          stopifnot(abs(sqrt(sum(deriv^2)) - se) < 1e-7)
        }
        rows[[length(rows) + 1]] <- data.frame(data = name, horizon = tau, group = g, cause = k, rmtl = f17(rmtl),
                                               se = f17(se), se_table = f17(tab[row, "se(rmean)"]))
      }
    }
  }
}
write.csv(do.call(rbind, rows), file.path(dir, "rmtl_summary.csv"), row.names = FALSE)
