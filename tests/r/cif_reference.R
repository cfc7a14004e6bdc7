# Reference values for analyses/cif.py and analyses/gray.py (cumulative incidence, Gray's test).
#
# Regenerate from the repository root:   Rscript tests/r/cif_reference.R
# Needs R >= 4.2 with cmprsk (validated with cmprsk 2.2-11, survival 3.5-3).
# Writes, beside this script, the input data (cif_data_<name>.csv) and cmprsk's answers
# (cif_<name>_curve.csv, cif_<name>_tests.csv, cif_large_timepoints.csv). Numbers are written with 17
# significant digits so that the Python tests can compare at 1e-6 and tighter.
suppressPackageStartupMessages(library(cmprsk))

out_dir <- local({
  args <- commandArgs(trailingOnly = FALSE)
  f <- sub("^--file=", "", args[grep("^--file=", args)])
  if (length(f)) dirname(normalizePath(f)) else "tests/r"
})

write_full <- function(d, name) {
  for (col in names(d)) if (is.double(d[[col]])) d[[col]] <- sprintf("%.17g", d[[col]])
  write.csv(d, file.path(out_dir, name), row.names = FALSE, quote = FALSE, na = "NA")
}

datasets <- list()

# 1. cmprsk's own example (?cuminc), continuous times.
set.seed(2)
ss <- rexp(100)
gg <- factor(sample(1:3, 100, replace = TRUE), 1:3, c("a", "b", "c"))
cc <- sample(0:2, 100, replace = TRUE)
strt <- sample(1:2, 100, replace = TRUE)
datasets$example <- data.frame(time = ss, status = cc, group = as.character(gg),
                               stratum = paste0("s", strt))

# 2. Hand-made: integer days, events of both causes and censorings tied at the same day, a time 0.
datasets$ties <- data.frame(
  time   = c(0, 0, 3, 3, 3, 3, 5, 5, 5, 8, 8, 8, 8, 10, 12, 12, 12, 15, 15, 20,
             2, 3, 3, 5, 5, 7, 8, 8, 8, 9, 12, 12, 14, 15, 15, 18, 20, 20, 22, 25),
  status = c(1, 0, 1, 2, 0, 1, 2, 2, 0, 1, 1, 2, 0, 0, 1, 2, 0, 2, 1, 0,
             2, 1, 0, 1, 1, 2, 0, 1, 2, 1, 0, 0, 2, 1, 0, 1, 2, 0, 1, 0),
  group  = rep(c("A", "B"), each = 20),
  stratum = rep(c("x", "y", "x", "y"), times = 10))

# 3. Hand-made: every group's last time is a tie of failures (no one left: the all-cause KM reaches 0),
#    the case cmprsk's cinc treats specially (its "changed 3-18-91" comment).
datasets$terminal <- data.frame(
  time   = c(1, 2, 2, 4, 5, 6, 6, 6, 1, 3, 3, 4, 7, 7, 9, 9),
  status = c(1, 2, 0, 1, 0, 1, 1, 2, 2, 1, 1, 0, 2, 1, 1, 1),
  group  = rep(c("A", "B"), each = 8),
  stratum = rep(c("x", "y"), times = 8))

# 4. Larger registry-like set: 2,000 patients, 3 arms, 2 strata, integer days, administrative censoring.
set.seed(20261121)
n <- 2000
arm <- sample(c("ARM_A", "ARM_B", "ARM_C"), n, TRUE, prob = c(0.4, 0.35, 0.25))
stratum <- sample(c("S1", "S2"), n, TRUE)
age <- round(runif(n, 15, 39), 1)
sex <- sample(c("F", "M"), n, TRUE)
lp1 <- 0.3 * (arm == "ARM_B") - 0.4 * (arm == "ARM_C") + 0.02 * (age - 25) + 0.2 * (sex == "M") +
  0.3 * (stratum == "S2")
t1 <- rexp(n, exp(lp1) / 1500)
t2 <- rexp(n, exp(0.03 * (age - 25)) / 4000)
cens <- pmin(runif(n, 100, 5000), 3652)
tmin <- pmin(t1, t2, cens)
datasets$large <- data.frame(time = floor(tmin),
                             status = ifelse(tmin == t1, 1, ifelse(tmin == t2, 2, 0)),
                             group = arm, stratum = stratum, age = age, sex = sex)

for (name in names(datasets)) {
  d <- datasets[[name]]
  write_full(d, paste0("cif_data_", name, ".csv"))
  fit <- cuminc(d$time, d$status, d$group)
  # cmprsk's estimate and variance at every distinct time of each group (right-continuous, as
  # timepoints() reads the step function; NA beyond the group's last follow-up time).
  rows <- list()
  for (g in sort(unique(d$group))) {
    tp <- sort(unique(c(0, d$time[d$group == g])))
    for (cause in 1:2) {
      key <- paste(g, cause)
      tpo <- timepoints(fit[key], tp)
      rows[[length(rows) + 1]] <- data.frame(group = g, cause = cause, time = tp,
                                             est = as.numeric(tpo$est), var = as.numeric(tpo$var))
    }
  }
  write_full(do.call(rbind, rows), paste0("cif_", name, "_curve.csv"))
  # Gray's test, unstratified and stratified, with rho = 0 (the default) and rho = 1.
  tests <- NULL
  for (rho in c(0, 1)) for (stratified in c(FALSE, TRUE)) {
    ft <- if (stratified) cuminc(d$time, d$status, d$group, d$stratum, rho = rho)
          else cuminc(d$time, d$status, d$group, rho = rho)
    tests <- rbind(tests, data.frame(strata = stratified, rho = rho, cause = 1:2, stat = ft$Tests[, "stat"],
                                     p = ft$Tests[, "pv"], df = ft$Tests[, "df"]))
  }
  write_full(tests, paste0("cif_", name, "_tests.csv"))
}

# Values at 1, 2, 3, 5 years (365.25-day multiples): timepoints(cuminc(...), times).
d <- datasets$large
fit <- cuminc(d$time, d$status, d$group)
years <- c(1, 2, 3, 5) * 365.25
tpo <- timepoints(fit, years)
rows <- list()
for (key in rownames(tpo$est)) {
  parts <- strsplit(key, " ")[[1]]
  rows[[length(rows) + 1]] <- data.frame(group = parts[1], cause = as.integer(parts[2]), time = years,
                                         est = as.numeric(tpo$est[key, ]),
                                         var = as.numeric(tpo$var[key, ]))
}
write_full(do.call(rbind, rows), "cif_large_timepoints.csv")
