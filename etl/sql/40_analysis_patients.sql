-- analysis_patients: one row per patient, the columns a cohort is filtered and grouped by
-- (endpoints.md). Excluded patients are here too, with excluded_reason set (NULL when included),
-- so the attrition view can count them; the *_date columns serve the treatment-timing analyses.
-- Coded columns are ENUMs (etl/enums.py): a default is cast to the column's type once, so the
-- staged ENUM passes through; regimens and age groups take NONE/UNK, which their source lacks.
-- The patient's and diagnosis columns come through the timeline, which has joined them already.
CREATE OR REPLACE TABLE analysis_patients AS
WITH first_exclusion AS (
    SELECT patient_id, arg_min(reason, priority) AS excluded_reason
    FROM int_exclusions GROUP BY patient_id
)
SELECT t.patient_id,
       coalesce(t.sex, CAST('U' AS sex_code)) AS sex,
       coalesce(t.race, CAST('UNK' AS race_code)) AS race,
       coalesce(t.ethnicity, CAST('UNK' AS ethnicity_code)) AS ethnicity,
       t.center_id,
       t.dx_date,
       CAST(year(t.dx_date) AS INTEGER) AS dx_year,
       t.age_at_dx,
       CAST(coalesce(band.label, 'UNK') AS age_group_code) AS age_group,
       t.lineage,
       coalesce(t.subtype, CAST('UNK' AS subtype_code)) AS subtype,
       t.wbc_at_dx,
       coalesce(t.cns_status, CAST('UNK' AS cns_status_code)) AS cns_status,
       CAST(coalesce(t.frontline_regimen, 'NONE') AS any_regimen_code) AS frontline_regimen,
       CAST(coalesce(t.salvage_regimen, 'NONE') AS any_regimen_code) AS salvage_regimen,
       t.induction_failure,
       t.cr1 IS NOT NULL AS cr1,
       coalesce(t.mrd_eoi, CAST('UNK' AS mrd_code)) AS mrd_eoi,
       t.r1 IS NOT NULL AS relapsed,
       t.hct1 IS NOT NULL AS hct,
       x.excluded_reason,
       t.cart1 IS NOT NULL AS car_t,
       t.cr1 AS cr1_date,
       t.r1 AS relapse1_date,
       t.line2 AS line2_date,
       t.hct1 AS hct1_date,
       t.cart1 AS car_t1_date,
       t.d AS death_date,
       t.followup_end,
       -- the confounders of salvage comparisons (known from the first relapse on): the first relapse's
       -- site, the duration of CR1 (months of 30.4375 days) and early relapse (CR1 under 18 months),
       -- the months from diagnosis to the start of salvage; and the era of diagnosis (era_bands)
       CASE WHEN t.r1 IS NOT NULL THEN coalesce(t.r1_site, CAST('UNK' AS site_code)) END
           AS relapse_site,
       CASE WHEN t.cr1 IS NOT NULL AND t.r1 IS NOT NULL
            THEN round(date_diff('day', t.cr1, t.r1) / 30.4375, 1) END AS cr1_months,
       CASE WHEN t.cr1 IS NOT NULL AND t.r1 IS NOT NULL
            THEN date_diff('day', t.cr1, t.r1) < 18 * 30.4375 END AS early_relapse,
       CASE WHEN t.line2 IS NOT NULL
            THEN round(date_diff('day', t.dx_date, t.line2) / 30.4375, 1) END AS dx_to_salvage_months,
       era.label AS era
FROM int_patient_timeline AS t
LEFT JOIN age_bands AS band
    ON (band.lower_bound IS NULL OR t.age_at_dx >= band.lower_bound)
   AND (band.upper_bound IS NULL OR t.age_at_dx < band.upper_bound)
LEFT JOIN era_bands AS era
    ON (era.lower_bound IS NULL OR year(t.dx_date) >= era.lower_bound)
   AND (era.upper_bound IS NULL OR year(t.dx_date) < era.upper_bound)
LEFT JOIN first_exclusion AS x USING (patient_id)
ORDER BY t.patient_id;
