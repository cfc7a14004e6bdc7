# Reference values for analyses/finegray.py (Fine–Gray, cmprsk::crr) and the cause-specific Cox model
# in analyses/competing.py (survival::coxph on Surv(time, status == cause)).
#
# Regenerate from the repository root, after cif_reference.R (it reads that script's data files):
#   Rscript tests/r/finegray_reference.R
# Needs R >= 4.2 with cmprsk (validated with cmprsk 2.2-11) and survival (3.5-3).
# Writes finegray_data_example.csv, finegray_<name>_coef.csv and finegray_<name>_fit.csv, and
# causecox_<name>_coef.csv, beside this script, numbers with 17 significant digits.
suppressPackageStartupMessages({library(cmprsk); library(survival)})

out_dir <- local({
  args <- commandArgs(trailingOnly = FALSE)
  f <- sub("^--file=", "", args[grep("^--file=", args)])
  if (length(f)) dirname(normalizePath(f)) else "tests/r"
})

write_full <- function(d, name) {
  for (col in names(d)) if (is.double(d[[col]])) d[[col]] <- sprintf("%.17g", d[[col]])
  write.csv(d, file.path(out_dir, name), row.names = FALSE, quote = FALSE, na = "NA")
}

# crr's own example (?crr): continuous times, three numeric covariates.
set.seed(10)
ftime <- rexp(200)
fstatus <- sample(0:2, 200, replace = TRUE)
cov <- matrix(runif(600), nrow = 200)
example <- data.frame(time = ftime, status = fstatus, x1 = cov[, 1], x2 = cov[, 2], x3 = cov[, 3])
write_full(example, "finegray_data_example.csv")

ties <- read.csv(file.path(out_dir, "cif_data_ties.csv"), stringsAsFactors = FALSE)
ties$score <- c(seq(0.5, 10, by = 0.5), seq(1, 20, by = 1)) %% 7  # a numeric covariate
write_full(ties, "finegray_data_ties.csv")
large <- read.csv(file.path(out_dir, "cif_data_large.csv"), stringsAsFactors = FALSE)

models <- list(
  example = list(data = example, formula = ~ x1 + x2 + x3),
  ties = list(data = ties, formula = ~ group + score),
  large = list(data = large, formula = ~ group + age + sex)
)

# model.matrix's "groupARM_B" becomes "group=ARM_B", the project's term naming (cli.md).
term_names <- function(mm, d) {
  nm <- colnames(mm)
  for (v in names(d)) if (is.character(d[[v]])) nm <- sub(paste0("^", v), paste0(v, "="), nm)
  nm
}

for (name in names(models)) {
  d <- models[[name]]$data
  mm <- model.matrix(models[[name]]$formula, d)[, -1, drop = FALSE]
  for (cause in 1:2) {
    fit <- crr(d$time, d$status, mm, failcode = cause, cencode = 0)
    write_full(data.frame(term = term_names(mm, d), coef = unname(fit$coef),
                          se = sqrt(diag(fit$var))),
               sprintf("finegray_%s_cause%d_coef.csv", name, cause))
    write_full(data.frame(loglik = fit$loglik, loglik_null = fit$loglik.null,
                          converged = fit$converged, n = fit$n),
               sprintf("finegray_%s_cause%d_fit.csv", name, cause))
    cox <- coxph(update(models[[name]]$formula, Surv(time, status == cause) ~ .), data = d,
                 ties = "efron")
    write_full(data.frame(term = term_names(mm, d), coef = unname(coef(cox)),
                          se = unname(sqrt(diag(vcov(cox))))),
               sprintf("causecox_%s_cause%d_coef.csv", name, cause))
  }
}
