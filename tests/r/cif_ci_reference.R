# Cumulative incidence at chosen times with 95% intervals, for tests/test_competing.py.
# Regenerate (from the repository root, after cif_reference.R):  Rscript tests/r/cif_ci_reference.R
# Reads tests/r/cif_data_<name>.csv; writes cif_timepoints_ci.csv: per (data, group, cause, time)
# cmprsk::timepoints(cuminc(time, status, group), times) estimate and variance, and the log(-log)
# interval computed from them here, est ^ exp(±z sqrt(var) / (est log est)) (the transformation
# tidycmprsk uses; cmprsk gives no interval): [est, est] where est is 0 or 1 or var is 0, NA where
# timepoints is NA (after the group's last follow-up).
suppressMessages(library(cmprsk))
dir <- "tests/r"
f17 <- function(v) sprintf("%.17g", v)
z <- qnorm(0.975)
times <- list(large = c(1, 2, 3, 5) * 365.25, ties = c(0, 2, 4, 6, 20), terminal = c(1, 3, 4, 5))
rows <- list()
for (name in names(times)) {
  d <- read.csv(file.path(dir, paste0("cif_data_", name, ".csv")))
  fit <- cuminc(d$time, d$status, d$group)
  tp <- timepoints(fit, times[[name]])
  for (key in rownames(tp$est)) {
    est <- tp$est[key, ]; v <- tp$var[key, ]
    ok <- !is.na(est) & est > 0 & est < 1 & v > 0
    a <- ifelse(ok, z * sqrt(v) / (est * log(est)), 0)
    lower <- ifelse(ok, est^exp(-a), est); upper <- ifelse(ok, est^exp(a), est)
    parts <- strsplit(key, " ")[[1]]
    rows[[paste(name, key)]] <- data.frame(data = name, group = parts[1], cause = as.integer(parts[2]), time = times[[name]],
                              est = f17(est), var = f17(v), lower = f17(lower), upper = f17(upper))
  }
}
write.csv(do.call(rbind, rows), file.path(dir, "cif_timepoints_ci.csv"), row.names = FALSE)
