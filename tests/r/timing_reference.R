# Reference values for analyses/timing.py (Simon-Makuch, Mantel-Byar, time-varying Cox).
# Run from the repository root: Rscript tests/r/timing_reference.R
# Writes tests/r/timing_data_<case>.csv (counting-process rows) and timing_<case>_*.csv outputs.
suppressPackageStartupMessages(library(survival))
`%||%` <- function(a, b) if (is.null(a)) b else a
out <- function(df, name) {
  for (col in names(df)) if (is.numeric(df[[col]])) df[[col]] <- sprintf("%.17g", df[[col]])
  write.csv(df, file.path("tests/r", name), row.names = FALSE, quote = FALSE)
}

# case "sim": 400 patients, integer days (ties), exposure (e.g. transplant) in the first year for ~40%,
# exposure lowers the hazard; covariates age (numeric) and risk (text, 3 levels).
make_sim <- function(n, seed) {
  set.seed(seed)
  age <- round(runif(n, 15, 40), 1)
  risk <- sample(c("HIGH", "LOW", "STD"), n, replace = TRUE)
  expo <- ifelse(runif(n) < 0.45, ceiling(runif(n, 1, 365)), NA)
  h0 <- 1 / 700 * exp(0.02 * (age - 25) + ifelse(risk == "HIGH", 0.5, ifelse(risk == "LOW", -0.4, 0)))
  t_pre <- rexp(n, h0)
  t_post <- rexp(n, h0 * 0.6)
  t_event <- ifelse(!is.na(expo) & t_pre > expo, expo + t_post, t_pre)
  cens <- runif(n, 200, 2000)
  time <- pmax(1, ceiling(pmin(t_event, cens)))
  status <- as.integer(t_event <= cens)
  expo[!is.na(expo) & expo >= time] <- NA  # exposure at or after the end = never
  data.frame(id = seq_len(n) - 1, time = time, status = status, age = age, risk = risk, expo = expo)
}

split_cp <- function(d) {  # the same split as start_stop_frame
  pre <- data.frame(d, start = 0, stop = ifelse(is.na(d$expo), d$time, d$expo),
                    event = ifelse(is.na(d$expo), d$status, 0L), exposed = 0L)
  dd <- d[!is.na(d$expo), ]
  post <- data.frame(dd, start = dd$expo, stop = dd$time, event = dd$status, exposed = 1L)
  cp <- rbind(pre, post)
  cp[order(cp$id, cp$start), ]
}

for (case in c("sim", "small")) {
  d <- if (case == "sim") make_sim(400, 20240607) else make_sim(40, 7)
  out(d, sprintf("timing_patients_%s.csv", case))
  cp <- split_cp(d)
  out(cp, sprintf("timing_data_%s.csv", case))

  # Simon-Makuch curves
  sf <- survfit(Surv(start, stop, event) ~ exposed, data = cp, conf.type = "log-log")
  s <- summary(sf, censored = TRUE)
  grp <- ifelse(sub("exposed=", "", as.character(s$strata)) == "1", "exposed", "unexposed")
  out(data.frame(group = grp, time = s$time, n_risk = s$n.risk, n_event = s$n.event,
                 n_censor = s$n.censor, surv = s$surv, std_err = s$std.err,
                 lower = s$lower, upper = s$upper), sprintf("timing_%s_simon_makuch.csv", case))

  # Mantel-Byar: score test of the Breslow Cox model; log-rank form (survdiff variance) for reference
  mb <- coxph(Surv(start, stop, event) ~ exposed, data = cp, ties = "breslow")
  out(data.frame(statistic = mb$score, df = 1, p = pchisq(mb$score, 1, lower.tail = FALSE)),
      sprintf("timing_%s_mantel_byar.csv", case))

  # time-varying Cox, Efron and Breslow; robust with cluster = id
  fits <- list(
    efron = coxph(Surv(start, stop, event) ~ exposed + age + risk, data = cp, ties = "efron"),
    breslow = coxph(Surv(start, stop, event) ~ exposed + age + risk, data = cp, ties = "breslow"),
    robust = coxph(Surv(start, stop, event) ~ exposed + age + risk, data = cp, ties = "efron",
                   cluster = id)
  )
  rows <- do.call(rbind, lapply(names(fits), function(m) {
    f <- fits[[m]]
    data.frame(model = m, term = sub("^risk", "risk=", names(coef(f))), coef = unname(coef(f)),
               se = sqrt(diag(f$naive.var %||% f$var)), robust_se = if (is.null(f$naive.var)) NA else
               sqrt(diag(f$var)), loglik = f$loglik[2], loglik_null = f$loglik[1], score = f$score)
  }))
  out(rows, sprintf("timing_%s_cox.csv", case))
}
