# Times equal within floating-point rounding (R's timefix / survival:::aeqSurv), for tests/test_timefix.py.
# Regenerate (from the repository root):  Rscript tests/r/timefix_reference.R
# Writes tests/r/timefix_data.csv and timefix_counting_data.csv (times with %.17g, so 0.1 + 0.2 stays
# 0.30000000000000004 and 0.3 stays 0.29999999999999999) and R's answers:
#   timefix_km.csv          summary(survfit(Surv(time, status == 1) ~ group, conf.type = "log-log"), censored = TRUE)
#   timefix_weighted_km.csv summary(survfit(Surv(time, status == 1) ~ group, weights = w), censored = TRUE)$surv
#   timefix_counting_km.csv summary(survfit(Surv(start, stop, event) ~ 1), censored = TRUE) (Simon-Makuch)
#   timefix_fit.csv         survdiff chi-square; coxph(Surv(time, status == 1) ~ x + group) loglik and
#                           concordance; coxph(Surv(start, stop, event) ~ x) loglik
#   timefix_coef.csv        coef and se of both Cox models
#   timefix_cif.csv         cmprsk::cuminc on the merged times (cmprsk does not merge; survfit's
#                           Aalen-Johansen estimate on the raw times is checked equal here)
#   timefix_gray.csv        cuminc(...)$Tests on the merged times
#   timefix_finegray.csv    cmprsk::crr(merged time, status, x) coef and se, both causes
suppressMessages({library(survival); library(cmprsk)})
out_dir <- "tests/r"
f17 <- function(v) sprintf("%.17g", v)

# pairs of times that print alike but differ by rounding, and ordinary times
rounded <- c(0.1 + 0.2, 0.3, 0.1 * 3, 0.7 + 0.1, 0.8, 1.1, 0.3 + 0.6 + 0.2, 0.2 + 0.7, 0.9, 1.2 - 0.1,
             2.2, 1.1 * 2, 1.4 + 0.1, 1.5)
plain <- c(0.5, 0.6, 1.3, 1.7, 1.9, 2.5, 2.8, 3.1, 3.3, 3.6, 4.0, 4.2, 0.3, 0.9, 2.2, 1.1)
d <- data.frame(
  time = c(rounded, plain),
  status = c(1, 0, 1, 2, 1, 1, 0, 1, 2, 1, 1, 0, 2, 1,
             1, 0, 2, 1, 0, 1, 1, 2, 0, 1, 0, 1, 1, 1, 0, 2),
  group = rep(c("a", "b"), 15),
  x = c(0.3, -1.2, 0.8, 0.1, -0.5, 1.4, 0.0, -0.9, 0.6, 1.1, -0.2, 0.4, -1.5, 0.9, 0.2,
        -0.7, 1.3, -0.1, 0.5, -1.1, 0.7, 0.05, -0.3, 1.0, -0.6, 0.35, -0.8, 1.2, -0.4, 0.15),
  w = c(1.3, 0.7, 2.1, 0.9, 1.6, 0.4, 1.2, 0.8, 1.9, 1.1, 0.6, 1.4, 2.3, 0.5, 1.0,
        1.7, 0.45, 1.25, 0.95, 1.5, 0.65, 1.8, 1.15, 0.85, 2.0, 0.55, 1.35, 0.75, 1.05, 1.45))
write.csv(transform(d, time = f17(time)), file.path(out_dir, "timefix_data.csv"), row.names = FALSE, quote = FALSE)
fixed <- aeqSurv(Surv(d$time, d$status == 1))[, 1]
stopifnot(length(unique(fixed)) < length(unique(d$time)))

# counting-process rows: patients split at a time computed with rounding error
cp <- data.frame(
  id = c(1, 1, 2, 3, 3, 4, 5, 6, 6, 7, 8, 9, 10, 10, 11, 12, 13),
  start = c(0, 0.1 + 0.2, 0, 0, 0.7 + 0.1, 0, 0, 0, 1.2 - 0.1, 0, 0, 0, 0, 0.3 + 0.6, 0, 0, 0),
  stop = c(0.1 + 0.2, 1.5, 0.3, 0.7 + 0.1, 2.2, 0.8, 1.1, 1.2 - 0.1, 3.0, 0.9, 1.4 + 0.1, 2.5, 0.3 + 0.6, 1.9,
           1.1 * 2, 0.8, 0.7 + 0.1),
  event = c(0, 1, 1, 0, 1, 1, 0, 0, 1, 1, 0, 1, 0, 1, 1, 0, 0),
  x = c(0.3, 0.3, -1.2, 0.8, 0.8, 0.1, -0.5, 1.4, 1.4, 0.0, -0.9, 0.6, 1.1, 1.1, -0.2, 0.4, 2.0))
write.csv(transform(cp, start = f17(start), stop = f17(stop)), file.path(out_dir, "timefix_counting_data.csv"),
          row.names = FALSE, quote = FALSE)

km <- summary(survfit(Surv(time, status == 1) ~ group, data = d, conf.type = "log-log"), censored = TRUE)
write.csv(data.frame(group = sub("group=", "", as.character(km$strata)), time = f17(km$time), n.risk = km$n.risk,
                     n.event = km$n.event, n.censor = km$n.censor, surv = f17(km$surv), std.err = f17(km$std.err),
                     lower = f17(km$lower), upper = f17(km$upper)),
          file.path(out_dir, "timefix_km.csv"), row.names = FALSE, quote = FALSE)
wkm <- summary(survfit(Surv(time, status == 1) ~ group, data = d, weights = w), censored = TRUE)
write.csv(data.frame(group = sub("group=", "", as.character(wkm$strata)), time = f17(wkm$time),
                     surv = f17(wkm$surv)),
          file.path(out_dir, "timefix_weighted_km.csv"), row.names = FALSE, quote = FALSE)

ckm <- summary(survfit(Surv(start, stop, event) ~ 1, data = cp), censored = TRUE)
write.csv(data.frame(time = f17(ckm$time), n.risk = ckm$n.risk, n.event = ckm$n.event, surv = f17(ckm$surv),
                     std.err = f17(ckm$std.err)),
          file.path(out_dir, "timefix_counting_km.csv"), row.names = FALSE, quote = FALSE)

sd <- survdiff(Surv(time, status == 1) ~ group, data = d)
cx <- coxph(Surv(time, status == 1) ~ x + group, data = d)
cc <- coxph(Surv(start, stop, event) ~ x, data = cp)
write.csv(data.frame(quantity = c("logrank_chisq", "cox_loglik", "cox_concordance", "counting_loglik"),
                     value = f17(c(sd$chisq, cx$loglik[2], cx$concordance["concordance"], cc$loglik[2]))),
          file.path(out_dir, "timefix_fit.csv"), row.names = FALSE, quote = FALSE)
write.csv(data.frame(model = c("cox", "cox", "counting"), term = c("x", "group=b", "x"),
                     coef = f17(c(coef(cx), coef(cc))), se = f17(c(sqrt(diag(vcov(cx))), sqrt(diag(vcov(cc)))))),
          file.path(out_dir, "timefix_coef.csv"), row.names = FALSE, quote = FALSE)

ci <- cuminc(fixed, d$status, d$group)
aj <- survfit(Surv(time, factor(status)) ~ group, data = d)  # multi-state: merges itself
rows <- list()
for (g in c("a", "b")) {
  ut <- sort(unique(fixed[d$group == g]))
  tp <- timepoints(ci[paste(g, c(1, 2))], ut)
  s <- summary(aj[match(g, c("a", "b")), ], times = ut)
  stopifnot(max(abs(s$pstate[, 2:3] - t(tp$est))) < 1e-12)
  rows[[g]] <- data.frame(group = g, time = f17(ut), cif1 = f17(tp$est[1, ]), var1 = f17(tp$var[1, ]),
                          cif2 = f17(tp$est[2, ]), var2 = f17(tp$var[2, ]))
}
write.csv(do.call(rbind, rows), file.path(out_dir, "timefix_cif.csv"), row.names = FALSE, quote = FALSE)
write.csv(data.frame(cause = c(1, 2), stat = f17(ci$Tests[, "stat"]), pv = f17(ci$Tests[, "pv"])),
          file.path(out_dir, "timefix_gray.csv"), row.names = FALSE, quote = FALSE)
fg <- lapply(1:2, function(k) crr(fixed, d$status, cov1 = cbind(x = d$x), failcode = k, cencode = 0))
write.csv(data.frame(cause = 1:2, coef = f17(sapply(fg, function(f) f$coef)),
                     se = f17(sapply(fg, function(f) sqrt(f$var[1, 1])))),
          file.path(out_dir, "timefix_finegray.csv"), row.names = FALSE, quote = FALSE)
