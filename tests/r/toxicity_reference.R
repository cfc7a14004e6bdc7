# Reference values for analyses/toxicity.py and analyses/contingency.py (toxicity estimators).
#
# Regenerate from the repository root:
#   python tests/r/toxicity_data.py          # the derived data (toxicity_data.csv), from the project
#   Rscript tests/r/toxicity_reference.R     # R's answers on it
# Needs R >= 4.2 with cmprsk (validated with cmprsk 2.2-11). Reads toxicity_data.csv (one row per
# patient starting salvage x event x grade threshold: time_days, event_code 0/1/2, worst_grade) and
# writes beside this script, per event and threshold and per regimen:
#   toxicity_props.csv   x, n and prop.test(x, n, correct = FALSE)$conf.int (95%)
#   toxicity_tests.csv   between the four regimens ("all") and blinatumomab vs chemotherapy ("two"):
#                        fisher.test when an expected count is below 5, else chisq.test (Yates for 2 x 2)
#   toxicity_cif.csv     timepoints(cuminc(time, status, group)) at every distinct time, causes 1 and 2
#   toxicity_gray.csv    cuminc(...)$Tests, causes 1 and 2 (df, stat, p)
#   toxicity_onset.csv   quantile(time, c(0.25, 0.5, 0.75)) (type 7) among patients with the event
#   toxicity_worst.csv   table(regimen, worst_grade), one row per patient and event
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

d <- read.csv(file.path(out_dir, "toxicity_data.csv"), stringsAsFactors = FALSE)
keys <- unique(d[, c("event", "min_grade")])
keys <- keys[order(keys$event, keys$min_grade), ]

rule_test <- function(x, n) {
  tab <- cbind(x, n - x)
  expected <- outer(rowSums(tab), colSums(tab)) / sum(tab)
  if (min(expected) < 5) {
    ft <- fisher.test(tab, workspace = 2e8)
    data.frame(test = "Fisher's exact", statistic = NA_real_, df = NA_real_, p = ft$p.value,
               min_expected = min(expected))
  } else {
    ct <- suppressWarnings(chisq.test(tab))
    data.frame(test = if (nrow(tab) == 2) "Chi-square (Yates)" else "Chi-square",
               statistic = unname(ct$statistic), df = unname(ct$parameter), p = ct$p.value,
               min_expected = min(expected))
  }
}

props <- tests <- cifs <- grays <- onsets <- NULL
for (k in seq_len(nrow(keys))) {
  s <- d[d$event == keys$event[k] & d$min_grade == keys$min_grade[k], ]
  groups <- sort(unique(s$regimen))
  x <- sapply(groups, function(g) sum(s$event_code[s$regimen == g] == 1))
  n <- sapply(groups, function(g) sum(s$regimen == g))
  for (i in seq_along(groups)) {
    ci <- prop.test(x[i], n[i], correct = FALSE)$conf.int
    props <- rbind(props, data.frame(event = keys$event[k], min_grade = keys$min_grade[k], group = groups[i],
                                     n = n[i], events = x[i], lower = ci[1], upper = ci[2]))
  }
  two <- groups %in% c("BLINATUMOMAB", "SALVAGE_CHEMO")
  for (comparison in c("all", "two")) {
    keep <- if (comparison == "all") rep(TRUE, length(groups)) else two
    tests <- rbind(tests, data.frame(event = keys$event[k], min_grade = keys$min_grade[k],
                                     comparison = comparison, rule_test(x[keep], n[keep])))
  }
  fit <- cuminc(s$time_days, s$event_code, s$regimen)
  for (g in groups) {
    tp <- sort(unique(c(0, s$time_days[s$regimen == g])))
    for (cause in 1:2) {
      tpo <- timepoints(fit[paste(g, cause)], tp)
      cifs <- rbind(cifs, data.frame(event = keys$event[k], min_grade = keys$min_grade[k], group = g,
                                     cause = cause, time = tp, est = as.numeric(tpo$est),
                                     var = as.numeric(tpo$var)))
    }
  }
  grays <- rbind(grays, data.frame(event = keys$event[k], min_grade = keys$min_grade[k], cause = 1:2,
                                   stat = fit$Tests[, "stat"], p = fit$Tests[, "pv"], df = fit$Tests[, "df"]))
  for (g in groups) {
    t <- s$time_days[s$regimen == g & s$event_code == 1]
    q <- if (length(t)) quantile(t, c(0.25, 0.5, 0.75), type = 7) else rep(NA_real_, 3)
    onsets <- rbind(onsets, data.frame(event = keys$event[k], min_grade = keys$min_grade[k], group = g,
                                       events = length(t), q1 = q[1], median = q[2], q3 = q[3]))
  }
}
one <- d[!duplicated(d[, c("patient_id", "event")]), ]
one$worst_grade <- factor(one$worst_grade, levels = c("NONE", "UNK", "1", "2", "3", "4", "5"))
worst <- as.data.frame(table(group = one$regimen, event = one$event, worst_grade = one$worst_grade),
                       stringsAsFactors = FALSE)
names(worst)[names(worst) == "Freq"] <- "n"

write_full(props, "toxicity_props.csv")
write_full(tests, "toxicity_tests.csv")
write_full(cifs, "toxicity_cif.csv")
write_full(grays, "toxicity_gray.csv")
write_full(onsets, "toxicity_onset.csv")
write.csv(worst, file.path(out_dir, "toxicity_worst.csv"), row.names = FALSE, quote = FALSE)
