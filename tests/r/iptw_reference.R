# Reference values for analyses/weighting.py (propensity models, IPTW, balance, weighted KM and Cox).
# Run from the repository root: Rscript tests/r/iptw_reference.R   (needs survival and nnet)
suppressPackageStartupMessages({library(survival); library(nnet)})
out <- function(df, name) {
  for (col in names(df)) if (is.numeric(df[[col]])) df[[col]] <- sprintf("%.17g", df[[col]])
  write.csv(df, file.path("tests/r", name), row.names = FALSE, quote = FALSE)
}

# 600 relapsed patients; salvage chosen by indication (age, lineage, early relapse); integer days.
set.seed(20240611)
n <- 600
age <- round(runif(n, 15, 40), 1)
lineage <- sample(c("B", "T"), n, replace = TRUE, prob = c(0.8, 0.2))
early <- sample(c("EARLY", "LATE"), n, replace = TRUE)
lp_ino <- -0.5 + 0.03 * (age - 25) + 0.6 * (early == "EARLY") - 0.8 * (lineage == "T")
lp_chemo <- 0.3 - 0.04 * (age - 25) + 1.2 * (lineage == "T")
pr <- cbind(1, exp(lp_ino), exp(lp_chemo)); pr <- pr / rowSums(pr)
trt <- apply(pr, 1, function(p) sample(c("BLINATUMOMAB", "INOTUZUMAB", "SALVAGE_CHEMO"), 1, prob = p))
h <- 1 / 400 * exp(0.02 * (age - 25) + 0.5 * (early == "EARLY") + 0.4 * (trt == "SALVAGE_CHEMO"))
t_ev <- rexp(n, h); cens <- runif(n, 100, 1500)
time <- pmax(1, ceiling(pmin(t_ev, cens))); status <- as.integer(t_ev <= cens)
d <- data.frame(time, status, age, lineage, early, trt)
out(d, "iptw_data.csv")

# binary: BLINATUMOMAB (reference) vs INOTUZUMAB
b <- d[d$trt != "SALVAGE_CHEMO", ]
g <- glm(I(trt == "INOTUZUMAB") ~ age + lineage + early, family = binomial, data = b)
out(data.frame(level = "INOTUZUMAB", term = c("(Intercept)", "age", "lineage=T", "early=LATE"),
               coef = unname(coef(g)), se = unname(sqrt(diag(vcov(g))))), "iptw_glm_coef.csv")
ps <- fitted(g)
w_ate <- ifelse(b$trt == "INOTUZUMAB", 1 / ps, 1 / (1 - ps))
share <- ifelse(b$trt == "INOTUZUMAB", mean(b$trt == "INOTUZUMAB"), mean(b$trt != "INOTUZUMAB"))
w_att <- ifelse(b$trt == "INOTUZUMAB", 1, ps / (1 - ps))  # target: INOTUZUMAB
out(data.frame(ps = ps, w_ate = w_ate, w_ate_stab = w_ate * share, w_att = w_att), "iptw_glm_weights.csv")

# multinomial: nnet::multinom, converged tightly; SE from the Hessian
m <- multinom(trt ~ age + lineage + early, data = d, Hess = TRUE, reltol = 1e-14, abstol = 1e-20,
              maxit = 10000, trace = FALSE)
cf <- coef(m); se <- matrix(sqrt(diag(solve(m$Hessian))), nrow = nrow(cf), byrow = TRUE)
out(data.frame(level = rep(rownames(cf), each = ncol(cf)),
               term = rep(c("(Intercept)", "age", "lineage=T", "early=LATE"), nrow(cf)),
               coef = as.vector(t(cf)), se = as.vector(t(se))), "iptw_multinom_coef.csv")
P <- fitted(m)
own <- P[cbind(seq_len(n), match(d$trt, colnames(P)))]
share <- as.vector(table(d$trt)[d$trt]) / n
d$w <- share / own  # stabilized ATE
out(data.frame(p_blin = P[, 1], p_ino = P[, 2], p_chemo = P[, 3], w = d$w), "iptw_multinom_weights.csv")

# weighted KM: point estimates (survfit with case weights)
sf <- survfit(Surv(time, status) ~ trt, data = d, weights = w)
s <- summary(sf, censored = TRUE)
out(data.frame(group = sub("trt=", "", as.character(s$strata)), time = s$time, n_risk_w = s$n.risk,
               n_event_w = s$n.event, surv = s$surv), "iptw_km.csv")

# weighted Cox with robust SE
cx <- coxph(Surv(time, status) ~ trt, data = d, weights = w, robust = TRUE)
out(data.frame(term = sub("^trt", "trt=", names(coef(cx))), coef = unname(coef(cx)),
               se = sqrt(diag(cx$naive.var)), robust_se = sqrt(diag(cx$var))), "iptw_cox.csv")

# balance by hand: weighted means, unweighted pooled SD of each pair, max |SMD| over pairs
levs <- sort(unique(d$trt))
cols <- list(age = d$age, "lineage=B" = as.numeric(d$lineage == "B"), "lineage=T" = as.numeric(d$lineage == "T"),
             "early=EARLY" = as.numeric(d$early == "EARLY"), "early=LATE" = as.numeric(d$early == "LATE"))
rows <- lapply(names(cols), function(nm) {
  x <- cols[[nm]]; bin <- nm != "age"
  sdg <- sapply(levs, function(l) { v <- x[d$trt == l]; if (bin) sqrt(mean(v) * (1 - mean(v))) else sd(v) })
  mu <- sapply(levs, function(l) mean(x[d$trt == l]))
  wmu <- sapply(levs, function(l) weighted.mean(x[d$trt == l], d$w[d$trt == l]))
  pr <- combn(seq_along(levs), 2)
  raw <- apply(pr, 2, function(ij) abs(mu[ij[2]] - mu[ij[1]]) / sqrt(mean(sdg[ij]^2)))
  wtd <- apply(pr, 2, function(ij) abs(wmu[ij[2]] - wmu[ij[1]]) / sqrt(mean(sdg[ij]^2)))
  data.frame(name = nm, smd_unweighted = max(raw), smd_weighted = max(wtd))
})
out(do.call(rbind, rows), "iptw_balance.csv")
