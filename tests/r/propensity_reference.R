# Propensity models with a covariate far from 0 (diagnosis year) and with a strong but real effect,
# for tests/test_propensity.py.
# Regenerate (from the repository root):  Rscript tests/r/propensity_reference.R   (needs nnet)
# Writes
#   propensity_year_data.csv   900 simulated relapsed patients diagnosed 2008-2024 (set.seed(20240613)):
#                              salvage chosen by diagnosis year (inotuzumab +0.10 log-odds a year), age
#                              and CNS status
#   propensity_year_glm.csv    glm(trt == "INOTUZUMAB" ~ dx_year + age + cns, binomial), blinatumomab vs
#                              inotuzumab, on the raw year: coef, se
#   propensity_year_multinom.csv  nnet::multinom(trt ~ dx_year + age + cns) with the year centred at
#                              2016 and the intercepts moved back to the raw year by hand: coef, se
#                              from solve(Hessian). (multinom's BFGS on the raw year stops far from the
#                              maximum, the problem this guards against; the script prints by how much.)
#   propensity_strong_data.csv, propensity_strong_glm.csv  120 patients whose treatment depends on x (uniform on -4..4)
#                              with slope 5 (fitted probabilities below 1e-8 but no separation):
#                              glm coef, se
suppressPackageStartupMessages(library(nnet))
out <- function(df, name) {
  for (col in names(df)) if (is.numeric(df[[col]])) df[[col]] <- sprintf("%.17g", df[[col]])
  write.csv(df, file.path("tests/r", name), row.names = FALSE, quote = FALSE)
}
set.seed(20240613)
n <- 900
dx_year <- sample(2008:2024, n, replace = TRUE)
age <- round(runif(n, 15, 40), 1)
cns <- sample(c("CNS1", "CNS2", "CNS3"), n, replace = TRUE, prob = c(0.7, 0.2, 0.1))
lp_ino <- -0.4 + 0.10 * (dx_year - 2016) + 0.02 * (age - 25) + 0.5 * (cns == "CNS3")
lp_chemo <- 0.6 - 0.12 * (dx_year - 2016) - 0.03 * (age - 25)
pr <- cbind(1, exp(lp_ino), exp(lp_chemo)); pr <- pr / rowSums(pr)
trt <- apply(pr, 1, function(p) sample(c("BLINATUMOMAB", "INOTUZUMAB", "SALVAGE_CHEMO"), 1, prob = p))
d <- data.frame(dx_year, age, cns, trt)
out(d, "propensity_year_data.csv")
terms <- c("(Intercept)", "dx_year", "age", "cns=CNS2", "cns=CNS3")

b <- d[d$trt != "SALVAGE_CHEMO", ]
g <- glm(I(trt == "INOTUZUMAB") ~ dx_year + age + cns, family = binomial, data = b,
         control = glm.control(epsilon = 1e-14, maxit = 100))
out(data.frame(level = "INOTUZUMAB", term = terms, coef = unname(coef(g)), se = unname(sqrt(diag(vcov(g))))),
    "propensity_year_glm.csv")

dc <- transform(d, dx_year = dx_year - 2016)
m <- multinom(trt ~ dx_year + age + cns, data = dc, Hess = TRUE, reltol = 1e-14, abstol = 1e-20, maxit = 10000,
              trace = FALSE)
A <- diag(5); A[1, 2] <- -2016                      # raw coefficients = A %*% centred ones, per logit
cf <- coef(m) %*% t(A)
V <- solve(m$Hessian)
big <- kronecker(diag(2), A)                        # multinom orders the Hessian by logit, then term
se <- matrix(sqrt(diag(big %*% V %*% t(big))), nrow = 2, byrow = TRUE)
raw <- multinom(trt ~ dx_year + age + cns, data = d, reltol = 1e-14, abstol = 1e-20, maxit = 10000, trace = FALSE)
cat("multinom on the raw year, largest coefficient difference:", max(abs(coef(raw) - cf)), "\n")
out(data.frame(level = rep(rownames(coef(m)), each = 5), term = rep(terms, 2), coef = as.vector(t(cf)),
               se = as.vector(t(se))), "propensity_year_multinom.csv")

set.seed(7)
x <- round(runif(120, -4, 4), 3)
y <- rbinom(120, 1, plogis(5 * x))
s <- data.frame(x = x, trt = ifelse(y == 1, "B", "A"))
out(s, "propensity_strong_data.csv")
gs <- suppressWarnings(glm(I(trt == "B") ~ x, family = binomial, data = s,
                           control = glm.control(epsilon = 1e-14, maxit = 100)))
stopifnot(min(fitted(gs)) < 1e-8)
out(data.frame(level = "B", term = c("(Intercept)", "x"), coef = unname(coef(gs)), se = unname(sqrt(diag(vcov(gs))))),
    "propensity_strong_glm.csv")
