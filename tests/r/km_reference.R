# Kaplan-Meier reference values for tests/test_km.py.
# Regenerate (from the repository root):  Rscript tests/r/km_reference.R
# Writes tests/r/km_data_<case>.csv (the data Python reads) and, per case,
#   km_curve_<case>.csv      summary(survfit(Surv(time, status) ~ group, conf.type = "log-log"), censored = TRUE)
#   km_summary_<case>.csv    print(fit, rmean = horizon) table (n, events, median + CI, rmean + se)
#   km_milestone_<case>.csv  summary(fit, times = milestones)
suppressMessages(library(survival))
options(digits = 15)
out_dir <- "tests/r"

cases <- list()
lung2 <- lung
cases$lung_sex <- data.frame(time = lung2$time, status = lung2$status - 1,
                             group = ifelse(lung2$sex == 1, "male", "female"))
ecog <- lung2[!is.na(lung2$ph.ecog), ]
cases$lung_ecog <- data.frame(time = ecog$time, status = ecog$status - 1,
                              group = paste0("ecog", ecog$ph.ecog))  # ecog3 is a group of one
cases$veteran_celltype <- data.frame(time = veteran$time, status = veteran$status,
                                     group = as.character(veteran$celltype))
cases$ties <- data.frame(
  time   = c(1, 1, 1, 2, 2, 2, 3, 4, 4, 4, 5, 6, 6, 7, 8, 9, 10, 10, 12, 12),
  status = c(1, 0, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0),
  group  = rep(c("a", "b"), 10))
cases$all_censored <- data.frame(time = c(3, 5, 5, 8, 13, 21), status = 0, group = "all")
cases$time_zero_events <- data.frame(time = c(0, 0, 0, 2, 4, 4, 6, 9, 11, 15),
                                     status = c(1, 1, 0, 1, 1, 0, 1, 0, 1, 0), group = "all")
cases$flat_half <- data.frame(time = c(1, 2, 3, 4, 5, 6, 7, 8), status = c(1, 1, 1, 1, 1, 1, 1, 1),
                              group = rep(c("x", "y"), each = 4))
cases$group_of_one <- data.frame(time = c(5, 8, 12, 20, 3), status = c(1, 0, 1, 1, 1),
                                 group = c("big", "big", "big", "big", "solo"))

settings <- list(
  lung_sex = list(h = 500, t = c(180, 365, 730)),
  lung_ecog = list(h = 365, t = c(30, 90)),
  veteran_celltype = list(h = 200, t = c(30, 90, 180)),
  ties = list(h = 9, t = c(2, 4, 6.5)),
  all_censored = list(h = 10, t = c(5, 20)),
  time_zero_events = list(h = 10, t = c(0, 4, 10)),
  flat_half = list(h = 4, t = c(2, 3.5)),
  group_of_one = list(h = 10, t = c(1, 3))
)

for (nm in names(cases)) {
  d <- cases[[nm]]
  write.csv(d, file.path(out_dir, paste0("km_data_", nm, ".csv")), row.names = FALSE)
  fit <- survfit(Surv(time, status) ~ group, data = d, conf.type = "log-log")
  s <- summary(fit, censored = TRUE)
  grp <- if (is.null(s$strata)) rep(d$group[1], length(s$time)) else sub("group=", "", as.character(s$strata))
  curve <- data.frame(group = grp, time = s$time, n.risk = s$n.risk, n.event = s$n.event,
                      n.censor = s$n.censor, surv = s$surv, std.err = s$std.err,
                      lower = s$lower, upper = s$upper)
  write.csv(curve, file.path(out_dir, paste0("km_curve_", nm, ".csv")), row.names = FALSE)
  tab <- summary(fit, rmean = settings[[nm]]$h)$table
  if (is.null(dim(tab))) tab <- t(as.matrix(tab))
  groups <- if (is.null(fit$strata)) d$group[1] else sub("group=", "", names(fit$strata))
  summ <- data.frame(group = groups, n = tab[, "records"], events = tab[, "events"],
                     median = tab[, "median"], lcl = tab[, "0.95LCL"], ucl = tab[, "0.95UCL"],
                     rmean = tab[, "rmean"], se_rmean = tab[, "se(rmean)"], horizon = settings[[nm]]$h)
  write.csv(summ, file.path(out_dir, paste0("km_summary_", nm, ".csv")), row.names = FALSE)
  m <- summary(fit, times = settings[[nm]]$t)
  mgrp <- if (is.null(m$strata)) rep(d$group[1], length(m$time)) else sub("group=", "", as.character(m$strata))
  ms <- data.frame(group = mgrp, time = m$time, n.risk = m$n.risk, n.event = m$n.event,
                   surv = m$surv, std.err = m$std.err, lower = m$lower, upper = m$upper)
  write.csv(ms, file.path(out_dir, paste0("km_milestone_", nm, ".csv")), row.names = FALSE)
}
