# Reference values for analyses/response.py (Wilson intervals) and analyses/baseline.py (Table 1 tests).
# Run from the repository root: Rscript tests/r/response_reference.R   (base R stats only)
out <- function(df, name) {
  for (col in names(df)) if (is.numeric(df[[col]])) df[[col]] <- sprintf("%.17g", df[[col]])
  write.csv(df, file.path("tests/r", name), row.names = FALSE, quote = FALSE)
}
# Wilson score intervals, including the edges x = 0 and x = n and n = 1
cases <- data.frame(x = c(0, 1, 5, 10, 49, 1, 0, 1, 300), n = c(10, 10, 10, 10, 158, 1, 1, 3, 812))
ci <- t(mapply(function(x, n) prop.test(x, n, correct = FALSE)$conf.int, cases$x, cases$n))
ci90 <- t(mapply(function(x, n) prop.test(x, n, correct = FALSE, conf.level = 0.9)$conf.int, cases$x, cases$n))
out(data.frame(cases, lower = ci[, 1], upper = ci[, 2], lower90 = ci90[, 1], upper90 = ci90[, 2]),
    "response_wilson.csv")

# Table 1 tests on a simulated baseline table (3 arms; a 2-arm subset)
set.seed(20240612)
n <- 240
arm <- sample(c("A", "B", "C"), n, replace = TRUE, prob = c(0.5, 0.3, 0.2))
age <- round(rnorm(n, 25 + 2 * (arm == "B"), 6), 0)  # rounded: ties
wbc <- round(rlnorm(n, 2 + 0.3 * (arm == "C"), 1), 2)
lineage <- ifelse(runif(n) < 0.2 + 0.1 * (arm == "C"), "T", "B")
cns <- sample(c("CNS1", "CNS2", "CNS3"), n, replace = TRUE, prob = c(0.8, 0.15, 0.05))
rare <- ifelse(runif(n) < 0.04, "YES", "NO")
d <- data.frame(arm, age, wbc, lineage, cns, rare)
d$age[c(3, 50)] <- NA
out(d, "response_table1_data.csv")
small <- d[1:30, ]  # for the exact Wilcoxon: untied values
small$score <- sample(1:1000, 30)
out(small, "response_table1_small.csv")

ab <- d[d$arm != "C", ]
res <- rbind(
  data.frame(case = "kruskal_age", statistic = kruskal.test(age ~ arm, d)$statistic, df = 2,
             p = kruskal.test(age ~ arm, d)$p.value),
  data.frame(case = "kruskal_wbc", statistic = kruskal.test(wbc ~ arm, d)$statistic, df = 2,
             p = kruskal.test(wbc ~ arm, d)$p.value),
  data.frame(case = "wilcox_age", statistic = wilcox.test(age ~ arm, ab)$statistic, df = NA,
             p = wilcox.test(age ~ arm, ab)$p.value),
  data.frame(case = "wilcox_small_exact", statistic = wilcox.test(score ~ arm, small[small$arm != "C", ])$statistic,
             df = NA, p = wilcox.test(score ~ arm, small[small$arm != "C", ])$p.value),
  data.frame(case = "chisq_cns", statistic = chisq.test(table(d$cns, d$arm))$statistic, df = 4,
             p = chisq.test(table(d$cns, d$arm))$p.value),
  data.frame(case = "chisq_lineage_2x2", statistic = chisq.test(table(ab$lineage, ab$arm))$statistic, df = 1,
             p = chisq.test(table(ab$lineage, ab$arm))$p.value),
  data.frame(case = "fisher_rare_2x2", statistic = fisher.test(table(ab$rare, ab$arm))$estimate, df = NA,
             p = fisher.test(table(ab$rare, ab$arm))$p.value)
)
out(res, "response_table1_tests.csv")
