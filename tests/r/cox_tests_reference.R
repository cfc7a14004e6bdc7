# Cox model: global tests, concordance with linear predictors tied within rounding, the default variance
# with non-integer weights. For tests/test_cox_tests.py.
# Regenerate (from the repository root, after cox_reference.R):  Rscript tests/r/cox_tests_reference.R
# Reads the cox_data_<case>.csv files of cox_reference.R and writes
#   cox_data_colon.csv      survival's colon, deaths (etype 2) with nodes known, extent as text, and
#                           non-integer weights w (set.seed(20240613))
#   cox_global_tests.csv    per (case, test): summary(fit)$logtest / $waldtest / $sctest / $robscore, unrounded
#                           (-2 diff(fit$loglik), fit$wald.test, fit$score, fit$rscore; p = pchisq(upper))
#   cox_colon_terms.csv     per (case, term): coef, se, robust se, z of the colon fits
#   cox_colon_fit.csv       per case: concordance, the variance coxph used
suppressMessages(library(survival))
dir <- "tests/r"
f17 <- function(v) sprintf("%.17g", v)
rd <- function(case) read.csv(file.path(dir, paste0("cox_data_", case, ".csv")))

lung2 <- rd("lung_efron"); vet <- rd("veteran_strata"); tied <- rd("ties_strata_cluster")
lung3 <- lung2; lung3$sex <- relevel(factor(lung3$sex), ref = "M")

colon2 <- colon[colon$etype == 2 & !is.na(colon$nodes), c("time", "status", "rx", "sex", "age", "nodes", "extent")]
colon2$rx <- as.character(colon2$rx)
colon2$extent <- c("submucosa", "muscle", "serosa", "contiguous")[colon2$extent]
set.seed(20240613)
colon2$w <- round(runif(nrow(colon2), 0.25, 4), 4)
write.csv(colon2, file.path(dir, "cox_data_colon.csv"), row.names = FALSE)
colon3 <- colon2; colon3$rx <- relevel(factor(colon3$rx), ref = "Obs")  # R's own reference level
colon_formula <- Surv(time, status) ~ rx + sex + age + nodes + extent

fits <- list(
  lung_efron = coxph(Surv(time, status) ~ age + sex + ecog + wt.loss, data = lung2),
  lung_breslow = coxph(Surv(time, status) ~ age + sex + ecog + wt.loss, data = lung2, ties = "breslow"),
  lung_robust = coxph(Surv(time, status) ~ age + sex + ecog, data = lung2, robust = TRUE),
  lung_cluster = coxph(Surv(time, status) ~ age + sex + ecog, data = lung2, cluster = inst),
  lung_weights = coxph(Surv(time, status) ~ age + sex + ecog, data = lung2, weights = w, robust = TRUE),
  lung_ref_m = coxph(Surv(time, status) ~ age + sex, data = lung3),
  veteran_strata = coxph(Surv(time, status) ~ trt + karno + age + strata(celltype), data = vet),
  veteran_celltype = coxph(Surv(time, status) ~ trt + celltype + karno, data = vet),
  ties_efron = coxph(Surv(time, status) ~ arm + risk + x1 + x2, data = tied),
  ties_weights_robust = coxph(Surv(time, status) ~ arm + risk + x1 + x2, data = tied, weights = w, robust = TRUE),
  ties_strata_cluster = coxph(Surv(time, status) ~ arm + x1 + x2 + strata(risk), data = tied, cluster = cl),
  colon = coxph(colon_formula, data = colon3),
  colon_weights = coxph(colon_formula, data = colon3, weights = w),  # robust by default: w not integer
  colon_weights_model = coxph(colon_formula, data = colon3, weights = w, robust = FALSE)
)

tests <- list(); terms <- list(); fit_rows <- list()
for (case in names(fits)) {
  fit <- fits[[case]]
  s <- summary(fit)
  # summary.coxph's logtest, waldtest, sctest and robscore, unrounded (summary rounds the Wald statistic)
  parts <- c("likelihood ratio" = -2 * (fit$loglik[1] - fit$loglik[2]), "Wald" = fit$wald.test, "score" = fit$score)
  if (!is.null(fit$rscore)) parts["robust score"] <- fit$rscore
  stopifnot(abs(parts[["likelihood ratio"]] - s$logtest[["test"]]) < 1e-8, abs(parts[["Wald"]] - s$waldtest[["test"]]) < 0.01)
  dfs <- s$logtest[["df"]]
  tests[[case]] <- data.frame(case = case, test = names(parts), statistic = f17(parts), df = dfs,
                              p = f17(pchisq(parts, dfs, lower.tail = FALSE)))
  if (startsWith(case, "colon")) {
    co <- s$coefficients
    robust <- if ("robust se" %in% colnames(co)) co[, "robust se"] else NA
    terms[[case]] <- data.frame(case = case, term = rownames(co), coef = f17(co[, "coef"]),
                                se = f17(co[, "se(coef)"]), robust_se = f17(robust), z = f17(co[, "z"]))
    fit_rows[[case]] <- data.frame(case = case, concordance = f17(fits[[case]]$concordance["concordance"]),
                                   variance = if (is.null(fits[[case]]$naive.var)) "model-based" else "robust")
  }
}
write.csv(do.call(rbind, tests), file.path(dir, "cox_global_tests.csv"), row.names = FALSE)
write.csv(do.call(rbind, terms), file.path(dir, "cox_colon_terms.csv"), row.names = FALSE)
write.csv(do.call(rbind, fit_rows), file.path(dir, "cox_colon_fit.csv"), row.names = FALSE)
