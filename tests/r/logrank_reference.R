# Log-rank family reference values for tests/test_logrank.py.
# Regenerate (from the repository root):  Rscript tests/r/logrank_reference.R
# Reads the KM case data (tests/r/km_data_<case>.csv, written by km_reference.R) and writes
#   logrank_tests.csv     one row per (case, test): statistic, df, p
#   logrank_groups.csv    per (case, test, group): obs, exp, var diagonal from survdiff
#   logrank_pairwise.csv  pairwise survdiff on each pair's subset, p.adjust(method = "holm")
#                         (what survminer::pairwise_survdiff does); a pair without events gets NA
#   logrank_data_pairs_without_events.csv  the hand-made data of that case
suppressMessages(library(survival))
options(digits = 15)
dir <- "tests/r"
rd <- function(case) read.csv(file.path(dir, paste0("km_data_", case, ".csv")))
tests <- list(); groups <- list(); pairs <- list()
add <- function(case, test, stat, df, p, sd = NULL) {
  tests[[length(tests) + 1]] <<- data.frame(case = case, test = test, statistic = stat, df = df, p = p)
  if (!is.null(sd)) {
    gname <- sub("group=", "", names(sd$n))
    groups[[length(groups) + 1]] <<- data.frame(case = case, test = test, group = gname,
                                                obs = if (is.matrix(sd$obs)) rowSums(sd$obs) else sd$obs,
                                                exp = if (is.matrix(sd$exp)) rowSums(sd$exp) else sd$exp,
                                                var = diag(sd$var))
  }
}
sd_p <- function(sd) pchisq(sd$chisq, length(sd$n) - 1, lower.tail = FALSE)

# Fleming-Harrington G(rho, gamma) from first principles: weight w(t) = S(t-)^rho * (1 - S(t-))^gamma,
# S the pooled Kaplan-Meier within stratum; O - E and the hypergeometric variance at each event time.
fh <- function(time, status, group, rho, gamma) {
  lev <- sort(unique(group)); k <- length(lev)
  ut <- sort(unique(time[status == 1]))
  s_prev <- 1; oe <- rep(0, k); V <- matrix(0, k, k)
  for (t in ut) {
    atrisk <- time >= t
    n <- sum(atrisk); d <- sum(time == t & status == 1)
    ng <- sapply(lev, function(g) sum(atrisk & group == g))
    dg <- sapply(lev, function(g) sum(time == t & status == 1 & group == g))
    w <- s_prev^rho * (1 - s_prev)^gamma
    oe <- oe + w * (dg - d * ng / n)
    if (n > 1) V <- V + w^2 * d * (n - d) / (n - 1) * (diag(ng / n, k) - outer(ng, ng) / n^2)
    s_prev <- s_prev * (1 - d / n)
  }
  stat <- drop(t(oe[-1]) %*% solve(V[-1, -1, drop = FALSE], oe[-1]))
  c(stat = stat, df = k - 1, p = pchisq(stat, k - 1, lower.tail = FALSE))
}

for (case in c("lung_sex", "lung_ecog", "veteran_celltype", "ties", "group_of_one", "flat_half")) {
  d <- rd(case)
  sd <- survdiff(Surv(time, status) ~ group, data = d)
  add(case, "logrank", sd$chisq, length(sd$n) - 1, sd_p(sd), sd)
  sd1 <- survdiff(Surv(time, status) ~ group, data = d, rho = 1)
  add(case, "rho1", sd1$chisq, length(sd1$n) - 1, sd_p(sd1), sd1)
  for (g in list(c(0, 1), c(1, 1), c(0.5, 2))) {
    r <- tryCatch(fh(d$time, d$status, d$group, g[1], g[2]), error = function(e) NULL)
    if (!is.null(r)) add(case, sprintf("fh_%g_%g", g[1], g[2]), r[["stat"]], r[["df"]], r[["p"]])
  }
  # trend test, scores 1..k in sorted level order, from survdiff's obs/exp/var
  k <- length(sd$n)
  if (k > 2) {
    sc <- seq_len(k)
    u <- sum(sc * (sd$obs - sd$exp)); v <- drop(t(sc) %*% sd$var %*% sc)
    add(case, "trend", u^2 / v, 1, pchisq(u^2 / v, 1, lower.tail = FALSE))
  }
  # pairwise with Holm
  lev <- sort(unique(d$group))
  if (length(lev) > 2) {
    cmb <- combn(lev, 2)
    ps <- apply(cmb, 2, function(pr) {
      sub <- d[d$group %in% pr, ]
      s <- survdiff(Surv(time, status) ~ group, data = sub)
      c(s$chisq, pchisq(s$chisq, 1, lower.tail = FALSE))
    })
    pairs[[length(pairs) + 1]] <- data.frame(case = case, group1 = cmb[1, ], group2 = cmb[2, ],
                                             statistic = ps[1, ], p = ps[2, ],
                                             p_adjusted = p.adjust(ps[2, ], method = "holm"))
  }
}
# pairwise when some pairs have no event: c and d are all censored, so survdiff has nothing to test for
# the pair (c, d) (chisq 0 on -1 df, p NA); Holm adjusts the five p-values there are (p.adjust skips NA)
nev <- data.frame(time = c(2, 4, 5, 7, 9, 3, 6, 6, 8, 11, 1, 5, 10, 12, 4, 9, 13),
                  status = c(1, 1, 0, 1, 0, 1, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0),
                  group = rep(c("a", "b", "c", "d"), c(5, 5, 4, 3)))
write.csv(nev, file.path(dir, "logrank_data_pairs_without_events.csv"), row.names = FALSE)
cmb <- combn(sort(unique(nev$group)), 2)
ps <- apply(cmb, 2, function(pr) {
  sub <- nev[nev$group %in% pr, ]
  if (sum(sub$status) == 0) return(c(NA, NA))
  s <- survdiff(Surv(time, status) ~ group, data = sub)
  c(s$chisq, pchisq(s$chisq, 1, lower.tail = FALSE))
})
pairs[[length(pairs) + 1]] <- data.frame(case = "pairs_without_events", group1 = cmb[1, ], group2 = cmb[2, ],
                                         statistic = ps[1, ], p = ps[2, ], p_adjusted = p.adjust(ps[2, ], method = "holm"))
# stratified: veteran, trt within strata(celltype); lung sex within strata(ph.ecog)
vet <- veteran
sd <- survdiff(Surv(time, status) ~ trt + strata(celltype), data = vet)
add("veteran_trt_by_celltype", "stratified", sd$chisq, 1, sd_p(sd), sd)
sd <- survdiff(Surv(time, status) ~ trt + strata(celltype), data = vet, rho = 1)
add("veteran_trt_by_celltype", "stratified_rho1", sd$chisq, 1, sd_p(sd), sd)
write.csv(data.frame(time = vet$time, status = vet$status, group = paste0("trt", vet$trt),
                     stratum = as.character(vet$celltype)),
          file.path(dir, "logrank_data_veteran_trt_by_celltype.csv"), row.names = FALSE)
write.csv(do.call(rbind, tests), file.path(dir, "logrank_tests.csv"), row.names = FALSE)
write.csv(do.call(rbind, groups), file.path(dir, "logrank_groups.csv"), row.names = FALSE)
write.csv(do.call(rbind, pairs), file.path(dir, "logrank_pairwise.csv"), row.names = FALSE)
