-- time_to_event: one row per included patient x endpoint x origin (endpoints.md, the table of
-- definitions; long format like CDISC ADaM ADTTE). A patient gets a row for an origin only when the
-- origin was observed (and for a GVHD endpoint only when its GVHD can be timed). Each block lists the candidate events in the order endpoints.md lists
-- them: the earliest wins, and on a tie the one listed first (first_event_desc). No event: the row
-- is censored at L (followup_end). Every event here is dated on or after its origin, because the
-- exclusions of 20_int_exclusions.sql remove histories where that could fail, so time_days >= 0.
CREATE OR REPLACE TEMP MACRO first_event_date(d1, d2, d3, d4) AS least(d1, d2, d3, d4);

-- The event is named in its ENUM type where it is written: each name is a constant, cast once,
-- rather than text cast on each of the table's rows.
CREATE OR REPLACE TEMP MACRO first_event_desc(d1, e1, d2, e2, d3, e3, d4, e4) AS
    CASE least(d1, d2, d3, d4)
        WHEN d1 THEN CAST(e1 AS event_desc_code)
        WHEN d2 THEN CAST(e2 AS event_desc_code)
        WHEN d3 THEN CAST(e3 AS event_desc_code)
        WHEN d4 THEN CAST(e4 AS event_desc_code)
        ELSE CAST('CENSORED' AS event_desc_code)
    END;

CREATE OR REPLACE TABLE time_to_event AS
WITH tl AS (
    SELECT t.* FROM int_patient_timeline AS t
    WHERE NOT EXISTS (SELECT 1 FROM int_exclusions AS x WHERE x.patient_id = t.patient_id)
),
-- The first relapse after the first transplant (strictly after: a relapse dated on the day of
-- transplant is the disease the transplant treated).
relapse_after_hct AS (
    SELECT tl.patient_id, min(r.relapse_date) AS relapse_date
    FROM tl JOIN stg_relapses AS r
      ON r.patient_id = tl.patient_id AND r.relapse_date > tl.hct1 AND r.relapse_date <= tl.data_cutoff
    GROUP BY tl.patient_id
),
-- The first relapse after the first line-2 remission, on or after the start of line 2.
relapse_after_salvage AS (
    SELECT tl.patient_id, min(r.relapse_date) AS relapse_date
    FROM tl JOIN stg_relapses AS r
      ON r.patient_id = tl.patient_id
     AND r.relapse_date > tl.line2_remission_date
     AND r.relapse_date >= tl.line2
     AND r.relapse_date <= tl.data_cutoff
    GROUP BY tl.patient_id
),
-- GVHD dated from the first transplant to the cut-off (any transplant record of the patient): acute
-- grade II-IV and III-IV, chronic moderate/severe. The undated_* flags mark a GVHD of that grade
-- without an onset date on any record: it cannot be timed, so the patient gets no row for the GVHD
-- endpoints it would count for (endpoints.md, format 1.1; 30_derivation_warnings.sql warns).
gvhd AS (
    SELECT tl.patient_id,
           min(h.agvhd_date) FILTER (
               WHERE h.agvhd_grade IN ('II', 'III', 'IV') AND h.agvhd_date >= tl.hct1
                 AND h.agvhd_date <= tl.data_cutoff
           ) AS agvhd_2_4,
           min(h.agvhd_date) FILTER (
               WHERE h.agvhd_grade IN ('III', 'IV') AND h.agvhd_date >= tl.hct1 AND h.agvhd_date <= tl.data_cutoff
           ) AS agvhd_3_4,
           min(h.cgvhd_date) FILTER (
               WHERE h.cgvhd_severity IN ('MODERATE', 'SEVERE') AND h.cgvhd_date >= tl.hct1
                 AND h.cgvhd_date <= tl.data_cutoff
           ) AS cgvhd_mod_sev,
           bool_or(h.agvhd_grade IN ('II', 'III', 'IV') AND h.agvhd_date IS NULL) AS undated_2_4,
           bool_or(h.agvhd_grade IN ('III', 'IV') AND h.agvhd_date IS NULL) AS undated_3_4,
           bool_or(h.cgvhd_severity IN ('MODERATE', 'SEVERE') AND h.cgvhd_date IS NULL) AS undated_cgvhd
    FROM tl JOIN stg_transplants AS h ON h.patient_id = tl.patient_id
    WHERE tl.hct1 IS NOT NULL
    GROUP BY tl.patient_id
),
rows AS (
    -- OS from diagnosis: death.
    SELECT patient_id, 'OS' AS endpoint, 'DX' AS origin, dx_date AS origin_date,
           d AS event_date, first_event_desc(d, 'DEATH', NULL, NULL, NULL, NULL, NULL, NULL) AS event_desc,
           followup_end
    FROM tl
    UNION ALL
    -- EFS from diagnosis: induction failure (at time 0), first relapse, death.
    SELECT patient_id, 'EFS', 'DX', dx_date,
           first_event_date(CASE WHEN induction_failure THEN dx_date END, r1, d, NULL),
           first_event_desc(CASE WHEN induction_failure THEN dx_date END, 'INDUCTION_FAILURE',
                            r1, 'RELAPSE', d, 'DEATH', NULL, NULL),
           followup_end
    FROM tl
    UNION ALL
    -- RFS from CR1: first relapse, death.
    SELECT patient_id, 'RFS', 'CR1', cr1,
           first_event_date(r1, d, NULL, NULL),
           first_event_desc(r1, 'RELAPSE', d, 'DEATH', NULL, NULL, NULL, NULL),
           followup_end
    FROM tl WHERE cr1 IS NOT NULL
    UNION ALL
    -- CIR and NRM from CR1: relapse vs death without relapse (codes assigned below).
    SELECT patient_id, ep.endpoint, 'CR1', cr1,
           first_event_date(r1, d, NULL, NULL),
           first_event_desc(r1, 'RELAPSE', d, 'DEATH_WITHOUT_RELAPSE', NULL, NULL, NULL, NULL),
           followup_end
    FROM tl CROSS JOIN (VALUES ('CIR'), ('NRM')) AS ep(endpoint) WHERE cr1 IS NOT NULL
    UNION ALL
    -- OS from first relapse, from the start of line 2, from the first transplant: death.
    SELECT patient_id, 'OS', o.origin, o.origin_date,
           d, first_event_desc(d, 'DEATH', NULL, NULL, NULL, NULL, NULL, NULL), followup_end
    FROM tl CROSS JOIN LATERAL (VALUES ('REL1', tl.r1), ('LINE2', tl.line2), ('HCT1', tl.hct1))
        AS o(origin, origin_date)
    WHERE o.origin_date IS NOT NULL
    UNION ALL
    -- EFS from line 2: salvage failure (at time 0), relapse after the first line-2 remission, death.
    SELECT tl.patient_id, 'EFS', 'LINE2', line2,
           first_event_date(CASE WHEN salvage_failure THEN line2 END, ras.relapse_date, d, NULL),
           first_event_desc(CASE WHEN salvage_failure THEN line2 END, 'SALVAGE_FAILURE',
                            ras.relapse_date, 'RELAPSE', d, 'DEATH', NULL, NULL),
           followup_end
    FROM tl LEFT JOIN relapse_after_salvage AS ras USING (patient_id) WHERE line2 IS NOT NULL
    UNION ALL
    -- GRFS from the first transplant: aGVHD III-IV, cGVHD moderate/severe, relapse after HCT, death.
    SELECT tl.patient_id, 'GRFS', 'HCT1', hct1,
           first_event_date(g.agvhd_3_4, g.cgvhd_mod_sev, rah.relapse_date, d),
           first_event_desc(g.agvhd_3_4, 'AGVHD_3_4', g.cgvhd_mod_sev, 'CGVHD_MOD_SEV',
                            rah.relapse_date, 'RELAPSE', d, 'DEATH'),
           followup_end
    FROM tl LEFT JOIN gvhd AS g USING (patient_id) LEFT JOIN relapse_after_hct AS rah USING (patient_id)
    WHERE hct1 IS NOT NULL
    UNION ALL
    -- CIR and NRM from the first transplant: relapse after HCT vs death without it.
    SELECT tl.patient_id, ep.endpoint, 'HCT1', hct1,
           first_event_date(rah.relapse_date, d, NULL, NULL),
           first_event_desc(rah.relapse_date, 'RELAPSE', d, 'DEATH_WITHOUT_RELAPSE', NULL, NULL, NULL, NULL),
           followup_end
    FROM tl LEFT JOIN relapse_after_hct AS rah USING (patient_id)
    CROSS JOIN (VALUES ('CIR'), ('NRM')) AS ep(endpoint)
    WHERE hct1 IS NOT NULL
    UNION ALL
    -- GVHD from the first transplant (format 1.1): the GVHD of the endpoint's grade, with the first
    -- relapse after HCT or death competing, whichever comes first without that GVHD before it.
    SELECT tl.patient_id, x.endpoint, 'HCT1', hct1,
           first_event_date(x.gvhd_date, rah.relapse_date, d, NULL),
           first_event_desc(x.gvhd_date, x.gvhd_desc, rah.relapse_date, 'RELAPSE', d, 'DEATH', NULL, NULL),
           followup_end
    FROM tl LEFT JOIN gvhd AS g USING (patient_id) LEFT JOIN relapse_after_hct AS rah USING (patient_id)
    CROSS JOIN LATERAL (VALUES ('AGVHD24', g.agvhd_2_4, 'AGVHD_2_4', g.undated_2_4),
                               ('AGVHD34', g.agvhd_3_4, 'AGVHD_3_4', g.undated_3_4),
                               ('CGVHD', g.cgvhd_mod_sev, 'CGVHD_MOD_SEV', g.undated_cgvhd))
        AS x(endpoint, gvhd_date, gvhd_desc, undated)
    WHERE hct1 IS NOT NULL AND NOT coalesce(x.undated, FALSE)
)
SELECT patient_id,
       CAST(endpoint AS endpoint_code) AS endpoint,
       CAST(origin AS origin_code) AS origin,
       origin_date,
       coalesce(event_date, followup_end) AS end_date,
       CAST(date_diff('day', origin_date, coalesce(event_date, followup_end)) AS INTEGER) AS time_days,
       CAST(CASE
           WHEN event_desc = 'CENSORED' THEN 0
           WHEN endpoint = 'CIR' AND event_desc = 'DEATH_WITHOUT_RELAPSE' THEN 2
           WHEN endpoint = 'NRM' AND event_desc = 'RELAPSE' THEN 2
           WHEN endpoint IN ('AGVHD24', 'AGVHD34', 'CGVHD') AND event_desc IN ('RELAPSE', 'DEATH') THEN 2
           ELSE 1
       END AS TINYINT) AS event_code,
       event_desc
FROM rows
ORDER BY patient_id, endpoint, origin;
