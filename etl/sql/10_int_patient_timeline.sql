-- int_patient_timeline: one row per staged patient with every date the endpoints are built from
-- (endpoints.md, "Notation"). Only events dated on or before the data cut-off C are observed;
-- the *_any columns keep every recorded date for the consistency checks of 20_int_exclusions.sql.
-- A temporary table, in no particular order: the steps after it read it and sort what they store,
-- and analysis_patients keeps the dates an analysis needs (CR1, R1, line 2, HCT1, CAR-T, D, L).
CREATE OR REPLACE TEMP TABLE int_patient_timeline AS
WITH params AS (
    SELECT data_cutoff AS c FROM load_parameters
),
lines AS (
    SELECT l.patient_id,
           min(l.start_date) AS line_first_any,
           max(l.start_date) AS line_last_any,
           max(l.start_date) FILTER (WHERE l.start_date <= p.c) AS line_last,
           min(l.start_date) FILTER (WHERE l.line_no = 2 AND l.start_date <= p.c) AS line2,
           min(l.regimen) FILTER (WHERE l.line_no = 1) AS frontline_regimen,
           min(l.regimen) FILTER (WHERE l.line_no = 2 AND l.start_date <= p.c) AS salvage_regimen,
           min(l.start_date) FILTER (
               WHERE l.regimen IN ('CAR_T_CD19', 'CAR_T_CD7') AND l.start_date <= p.c
           ) AS cart1
    FROM stg_treatment_lines AS l CROSS JOIN params AS p
    GROUP BY l.patient_id
),
rel AS (
    SELECT r.patient_id,
           min(r.relapse_date) AS rel_first_any,
           max(r.relapse_date) AS rel_last_any,
           min(r.relapse_date) FILTER (WHERE r.relapse_date <= p.c) AS r1,
           arg_min(r.site, r.relapse_date) FILTER (WHERE r.relapse_date <= p.c) AS r1_site,
           max(r.relapse_date) FILTER (WHERE r.relapse_date <= p.c) AS rel_last
    FROM stg_relapses AS r CROSS JOIN params AS p
    GROUP BY r.patient_id
),
assessments AS (
    SELECT a.*, a.response IN ('CR', 'CRI', 'CRH') AS remission, a.assessment_date <= p.c AS observed, rel.r1
    FROM stg_responses AS a CROSS JOIN params AS p LEFT JOIN rel USING (patient_id)
),
resp AS (
    SELECT a.patient_id,
           min(a.assessment_date) AS assess_first_any,
           max(a.assessment_date) AS assess_last_any,
           max(a.assessment_date) FILTER (WHERE a.observed) AS assess_last,
           count(*) FILTER (WHERE a.line_no = 1 AND a.observed) AS line1_assessments,
           count(*) FILTER (WHERE a.line_no = 1 AND a.observed AND a.remission) AS line1_remissions,
           count(*) FILTER (WHERE a.line_no = 2 AND a.observed) AS line2_assessments,
           count(*) FILTER (WHERE a.line_no = 2 AND a.observed AND a.remission) AS line2_remissions,
           min(a.assessment_date) FILTER (WHERE a.line_no = 2 AND a.observed AND a.remission)
               AS line2_remission_date,
           arg_min(coalesce(a.mrd, CAST('UNK' AS mrd_code)), a.assessment_date)
               FILTER (WHERE a.line_no = 1 AND a.observed AND a.remission) AS mrd_eoi,
           -- CR1: the earliest observed remission assessment (any line) before the first relapse R1.
           min(a.assessment_date) FILTER (
               WHERE a.remission AND a.observed AND (a.r1 IS NULL OR a.assessment_date < a.r1)
           ) AS cr1
    FROM assessments AS a
    GROUP BY a.patient_id
),
hct AS (
    SELECT h.patient_id,
           min(h.hct_date) AS hct_first_any,
           max(greatest(h.hct_date, h.agvhd_date, h.cgvhd_date)) AS hct_last_any,
           min(h.hct_date) FILTER (WHERE h.hct_date <= p.c) AS hct1,
           max(h.hct_date) FILTER (WHERE h.hct_date <= p.c) AS hct_last
    FROM stg_transplants AS h CROSS JOIN params AS p
    GROUP BY h.patient_id
),
joined AS (
    SELECT pt.patient_id,
           p.c AS data_cutoff,
           dx.patient_id IS NOT NULL AS has_diagnosis,
           fu.patient_id IS NOT NULL AS has_followup,
           dx.dx_date,
           -- carried for analysis_patients, which then needs no join of its own
           pt.sex, pt.race, pt.ethnicity, pt.center_id,
           dx.age_at_dx, dx.lineage, dx.subtype, dx.wbc_at_dx, dx.cns_status,
           fu.last_contact_date,
           fu.vital_status,
           fu.death_date,
           CASE WHEN fu.vital_status = 'DEAD' AND fu.death_date <= p.c THEN fu.death_date END AS d,
           lines.line_first_any, lines.line_last_any, lines.line2, lines.frontline_regimen,
           lines.salvage_regimen, lines.cart1,
           rel.rel_first_any, rel.rel_last_any, rel.r1, rel.r1_site,
           resp.assess_first_any, resp.assess_last_any, resp.line2_remission_date, resp.mrd_eoi,
           coalesce(resp.line1_assessments, 0) > 0 AND coalesce(resp.line1_remissions, 0) = 0
               AS induction_failure,
           coalesce(resp.line2_assessments, 0) > 0 AND coalesce(resp.line2_remissions, 0) = 0
               AS salvage_failure,
           resp.cr1,
           hct.hct_first_any, hct.hct_last_any, hct.hct1,
           greatest(lines.line_last, resp.assess_last, rel.rel_last, hct.hct_last) AS last_event
    FROM stg_patients AS pt
    CROSS JOIN params AS p
    LEFT JOIN stg_diagnoses AS dx USING (patient_id)
    LEFT JOIN stg_followup AS fu USING (patient_id)
    LEFT JOIN lines USING (patient_id)
    LEFT JOIN rel USING (patient_id)
    LEFT JOIN resp USING (patient_id)
    LEFT JOIN hct USING (patient_id)
)
-- L, the end of follow-up: the death when there is one, else the later of the last contact and
-- the last observed event, capped at the cut-off.
SELECT joined.*,
       coalesce(d, least(data_cutoff, greatest(last_contact_date, last_event))) AS followup_end
FROM joined;
