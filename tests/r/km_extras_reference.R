# Kaplan-Meier extras for tests/test_km_extras.py: interval types, Nelson-Aalen, median follow-up by
# reverse Kaplan-Meier, conditional survival.
# Regenerate (from the repository root, after km_reference.R):  Rscript tests/r/km_extras_reference.R
# Reads tests/r/km_data_<case>.csv and writes
#   km_conftype_curve.csv    summary(survfit(..., conf.type = "log" / "plain"), censored = TRUE)
#   km_conftype_summary.csv  the median and its limits, print(fit) (survival:::survmean), per type
#   km_cumhaz.csv            summary(survfit(...), censored = TRUE)$cumhaz and $std.chaz (Nelson-Aalen)
#   followup_summary.csv     median follow-up: print(survfit(Surv(time, 1 - status) ~ group, conf.type))
#   conditional_survival.csv summary(survfit(Surv(time - t0, status) ~ group, subset = time > t0,
#                            conf.type = "log-log"), times = t); the script checks S(t0 + t) / S(t0) equal
suppressMessages(library(survival))
dir <- "tests/r"
f17 <- function(v) sprintf("%.17g", v)
rd <- function(case) read.csv(file.path(dir, paste0("km_data_", case, ".csv")))
cases <- c("lung_sex", "lung_ecog", "veteran_celltype", "ties", "all_censored", "time_zero_events", "flat_half",
           "group_of_one")
strata_names <- function(x, d) if (is.null(x)) rep(d$group[1], length(x)) else sub("group=", "", as.character(x))
table_of <- function(fit) {
  tab <- summary(fit)$table
  if (is.null(dim(tab))) tab <- t(as.matrix(tab))
  tab
}
group_names <- function(fit, d) if (is.null(fit$strata)) d$group[1] else sub("group=", "", names(fit$strata))

curves <- list(); medians <- list(); hazards <- list(); follow <- list(); conditional <- list()
for (case in cases) {
  d <- rd(case)
  for (type in c("log", "plain")) {
    fit <- survfit(Surv(time, status) ~ group, data = d, conf.type = type)
    s <- summary(fit, censored = TRUE)
    grp <- if (is.null(s$strata)) rep(d$group[1], length(s$time)) else sub("group=", "", as.character(s$strata))
    curves[[paste(case, type)]] <- data.frame(case = case, conf_type = type, group = grp, time = s$time,
                                              surv = f17(s$surv), std.err = f17(s$std.err),
                                              lower = f17(s$lower), upper = f17(s$upper))
    tab <- table_of(fit)
    medians[[paste(case, type)]] <- data.frame(case = case, conf_type = type, group = group_names(fit, d),
                                               median = tab[, "median"], lcl = tab[, "0.95LCL"],
                                               ucl = tab[, "0.95UCL"])
  }
  s <- summary(survfit(Surv(time, status) ~ group, data = d), censored = TRUE)
  grp <- if (is.null(s$strata)) rep(d$group[1], length(s$time)) else sub("group=", "", as.character(s$strata))
  hazards[[case]] <- data.frame(case = case, group = grp, time = s$time, n.risk = s$n.risk, n.event = s$n.event,
                                cumhaz = f17(s$cumhaz), std.chaz = f17(s$std.chaz))
  for (type in c("log-log", "log")) {
    rev <- survfit(Surv(time, 1 - status) ~ group, data = d, conf.type = type)
    tab <- table_of(rev)
    follow[[paste(case, type)]] <- data.frame(case = case, conf_type = type, group = group_names(rev, d),
                                              n = tab[, "records"], median = tab[, "median"],
                                              lcl = tab[, "0.95LCL"], ucl = tab[, "0.95UCL"])
  }
}

given <- list(lung_sex = list(t0 = 180, t = c(180, 365)), veteran_celltype = list(t0 = 30, t = c(30, 90)),
              ties = list(t0 = 2, t = c(2, 4)), time_zero_events = list(t0 = 0, t = c(4, 10)),
              flat_half = list(t0 = 2, t = c(1, 2)))
for (case in names(given)) {
  d <- rd(case); t0 <- given[[case]]$t0; tt <- given[[case]]$t
  full <- survfit(Surv(time, status) ~ group, data = d)
  sub <- survfit(Surv(time - t0, status) ~ group, data = d, subset = time > t0, conf.type = "log-log")
  s <- summary(sub, times = tt, extend = TRUE)
  grp <- if (is.null(s$strata)) rep(d$group[1], length(s$time)) else sub("group=", "", as.character(s$strata))
  # the subset's estimate is S(t0 + t) / S(t0) of the whole cohort
  for (g in unique(grp)) {
    one <- if (is.null(full$strata)) full else full[paste0("group=", g)]
    at <- summary(one, times = c(t0, t0 + tt), extend = TRUE)$surv
    stopifnot(max(abs(at[-1] / at[1] - s$surv[grp == g]), na.rm = TRUE) < 1e-12)
  }
  conditional[[case]] <- data.frame(case = case, t0 = t0, group = grp, time = s$time, n.risk = s$n.risk,
                                    surv = f17(s$surv), std.err = f17(s$std.err), lower = f17(s$lower),
                                    upper = f17(s$upper))
}

out <- function(x, name) write.csv(do.call(rbind, x), file.path(dir, name), row.names = FALSE)
out(curves, "km_conftype_curve.csv")
out(medians, "km_conftype_summary.csv")
out(hazards, "km_cumhaz.csv")
out(follow, "followup_summary.csv")
out(conditional, "conditional_survival.csv")
