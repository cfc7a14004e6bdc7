# Comparing response rates between groups, for tests/test_response_compare.py.
# Regenerate (from the repository root):  Rscript tests/r/response_compare_reference.R
# Writes response_compare.csv: per hand-made case (responders and patients per group, ';'-separated),
# chisq.test(tab, correct = FALSE) statistic, df, p and smallest expected count; fisher.test(tab) p;
# and the test the rule picks (fisher when an expected count is below 5, i.e. when chisq.test warns).
dir <- "tests/r"
f17 <- function(v) sprintf("%.17g", v)
cases <- list(
  three_arms = list(x = c(45, 30, 52), n = c(80, 75, 90)),
  two_arms_large = list(x = c(61, 44), n = c(100, 98)),
  two_arms_small = list(x = c(7, 2), n = c(10, 9)),
  small_arm = list(x = c(40, 35, 3, 28), n = c(60, 55, 4, 50)),
  rare_response = list(x = c(1, 0, 3), n = c(40, 35, 30)),
  symmetric = list(x = c(1, 3), n = c(4, 4)),
  five_groups = list(x = c(12, 9, 14, 2, 6), n = c(20, 18, 21, 5, 9)),
  group_of_one = list(x = c(1, 14, 20), n = c(1, 25, 30)),
  everyone_responded = list(x = c(5, 7), n = c(5, 7))
)
rows <- list()
for (name in names(cases)) {
  x <- cases[[name]]$x; n <- cases[[name]]$n
  tab <- cbind(x, n - x)
  chi <- suppressWarnings(chisq.test(tab, correct = FALSE))
  fisher <- fisher.test(tab)$p.value
  rows[[name]] <- data.frame(case = name, responders = paste(x, collapse = ";"), n = paste(n, collapse = ";"),
                             chisq = f17(chi$statistic), df = chi$parameter, chisq_p = f17(chi$p.value),
                             min_expected = f17(min(chi$expected)), fisher_p = f17(fisher),
                             rule = if (any(chi$expected < 5)) "fisher" else "chisq")
}
write.csv(do.call(rbind, rows), file.path(dir, "response_compare.csv"), row.names = FALSE)
