# Time-varying Cox models with strata, non-integer weights and global tests, for tests/test_cox_counting.py.
# Regenerate (from the repository root, after timing_reference.R):  Rscript tests/r/cox_counting_reference.R
# Reads tests/r/timing_data_sim.csv (400 patients split at exposure) and writes
#   cox_counting_terms.csv  per (model, term): coef, se(coef), robust se of
#     strata_efron    coxph(Surv(start, stop, event) ~ exposed + age + strata(risk))
#     strata_breslow  the same, ties = "breslow"
#     strata_cluster  the same, cluster = id
#     weights         coxph(Surv(start, stop, event) ~ exposed + age + risk, weights = w), w = 0.5 + (id %% 7) / 4
#                     (not whole numbers, so coxph's variance is robust, each interval its own cluster)
#   cox_counting_tests.csv  per (model, test): summary(fit)'s logtest, waldtest, sctest, robscore, unrounded
suppressMessages(library(survival))
dir <- "tests/r"
f17 <- function(v) sprintf("%.17g", v)
cp <- read.csv(file.path(dir, "timing_data_sim.csv"))
cp$w <- 0.5 + (cp$id %% 7) / 4
fits <- list(
  strata_efron = coxph(Surv(start, stop, event) ~ exposed + age + strata(risk), data = cp),
  strata_breslow = coxph(Surv(start, stop, event) ~ exposed + age + strata(risk), data = cp, ties = "breslow"),
  strata_cluster = coxph(Surv(start, stop, event) ~ exposed + age + strata(risk), data = cp, cluster = id),
  weights = coxph(Surv(start, stop, event) ~ exposed + age + risk, data = cp, weights = w)
)
terms <- list(); tests <- list()
for (model in names(fits)) {
  fit <- fits[[model]]
  s <- summary(fit)$coefficients
  robust <- if ("robust se" %in% colnames(s)) s[, "robust se"] else NA
  terms[[model]] <- data.frame(model = model, term = sub("^risk", "risk=", rownames(s)), coef = f17(s[, "coef"]),
                               se = f17(s[, "se(coef)"]), robust_se = f17(robust))
  parts <- c("likelihood ratio" = -2 * (fit$loglik[1] - fit$loglik[2]), "Wald" = fit$wald.test, "score" = fit$score)
  if (!is.null(fit$rscore)) parts["robust score"] <- fit$rscore
  dfs <- length(coef(fit))
  tests[[model]] <- data.frame(model = model, test = names(parts), statistic = f17(parts), df = dfs,
                               p = f17(pchisq(parts, dfs, lower.tail = FALSE)))
}
write.csv(do.call(rbind, terms), file.path(dir, "cox_counting_terms.csv"), row.names = FALSE)
write.csv(do.call(rbind, tests), file.path(dir, "cox_counting_tests.csv"), row.names = FALSE)
