# Cox model reference values for tests/test_cox.py.
# Regenerate (from the repository root):  Rscript tests/r/cox_reference.R
# Writes tests/r/cox_data_<case>.csv (the data Python reads) and
#   cox_terms.csv   per (case, term): coef, se(coef), robust se, z, p   (coxph, ties as stated)
#   cox_fit.csv     per case: n, events, loglik (final), concordance (fit$concordance)
#   cox_zph.csv     per (case, term incl. GLOBAL): cox.zph(fit, transform = "km", terms = FALSE)$table
suppressMessages(library(survival))
options(digits = 15)
dir <- "tests/r"
terms_out <- list(); fit_out <- list(); zph_out <- list()

record <- function(case, fit, data) {
  s <- summary(fit)$coefficients
  robust <- if ("robust se" %in% colnames(s)) s[, "robust se"] else NA
  terms_out[[length(terms_out) + 1]] <<- data.frame(
    case = case, term = rownames(s), coef = s[, "coef"], se = s[, "se(coef)"], robust_se = robust,
    z = s[, "z"], p = s[, ncol(s)])
  fit_out[[length(fit_out) + 1]] <<- data.frame(
    case = case, n = fit$n, events = fit$nevent, loglik = fit$loglik[2],
    concordance = unname(fit$concordance["concordance"]), method = fit$method)
  z <- cox.zph(fit, transform = "km", terms = FALSE)$table
  zph_out[[length(zph_out) + 1]] <<- data.frame(case = case, term = rownames(z), chisq = z[, "chisq"],
                                                df = z[, "df"], p = z[, "p"])
  write.csv(data, file.path(dir, paste0("cox_data_", case, ".csv")), row.names = FALSE)
}

lung2 <- na.omit(lung[, c("time", "status", "age", "sex", "ph.ecog", "inst", "wt.loss")])
lung2$status <- lung2$status - 1
lung2$sex <- ifelse(lung2$sex == 1, "M", "F")
lung2$ecog <- paste0("ecog", pmin(lung2$ph.ecog, 2))  # ecog 3 (one patient) merged into 2
lung2$w <- 0.5 + (seq_len(nrow(lung2)) %% 4) / 3        # non-integer case weights

record("lung_efron", coxph(Surv(time, status) ~ age + sex + ecog + wt.loss, data = lung2), lung2)
record("lung_breslow", coxph(Surv(time, status) ~ age + sex + ecog + wt.loss, data = lung2,
                             ties = "breslow"), lung2)
record("lung_robust", coxph(Surv(time, status) ~ age + sex + ecog, data = lung2, robust = TRUE), lung2)
record("lung_cluster", coxph(Surv(time, status) ~ age + sex + ecog, data = lung2, cluster = inst), lung2)
record("lung_weights", coxph(Surv(time, status) ~ age + sex + ecog, data = lung2, weights = w,
                             robust = TRUE), lung2)
lung3 <- lung2; lung3$sex <- relevel(factor(lung3$sex), ref = "M")
record("lung_ref_m", coxph(Surv(time, status) ~ age + sex, data = lung3), lung2)

vet <- veteran; vet$celltype <- as.character(vet$celltype); vet$trt <- paste0("arm", vet$trt)
record("veteran_strata", coxph(Surv(time, status) ~ trt + karno + age + strata(celltype), data = vet), vet)
record("veteran_celltype", coxph(Surv(time, status) ~ trt + celltype + karno, data = vet), vet)

# heavy ties: integer times 1..30 for 400 rows, two categorical and two numeric covariates
set.seed(20261121)
n <- 400
tied <- data.frame(arm = sample(c("A", "B", "C"), n, TRUE), risk = sample(c("hi", "lo"), n, TRUE),
                   x1 = round(rnorm(n), 2), x2 = sample(15:39, n, TRUE))
lp <- 0.4 * (tied$arm == "B") - 0.3 * (tied$arm == "C") + 0.5 * (tied$risk == "hi") + 0.3 * tied$x1
tied$time <- pmin(ceiling(rexp(n, 0.05 * exp(lp))), 30)
tied$status <- as.integer(tied$time < 30 & runif(n) < 0.85)
tied$w <- round(runif(n, 0.2, 3), 3)
record("ties_efron", coxph(Surv(time, status) ~ arm + risk + x1 + x2, data = tied), tied)
record("ties_weights_robust", coxph(Surv(time, status) ~ arm + risk + x1 + x2, data = tied, weights = w,
                                    robust = TRUE), tied)
tied$cl <- rep(1:40, each = 10)
record("ties_strata_cluster", coxph(Surv(time, status) ~ arm + x1 + x2 + strata(risk), data = tied,
                                    cluster = cl), tied)

write.csv(do.call(rbind, terms_out), file.path(dir, "cox_terms.csv"), row.names = FALSE)
write.csv(do.call(rbind, fit_out), file.path(dir, "cox_fit.csv"), row.names = FALSE)
write.csv(do.call(rbind, zph_out), file.path(dir, "cox_zph.csv"), row.names = FALSE)
