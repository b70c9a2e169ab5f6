-- Data quality by rule, unit and period (chất lượng dữ liệu): for the latest version of each
-- unit's report received by the as_of_date, every validation rule of its latest validation run
-- - rows checked, rows failing, the issues raised (errors, warnings) and the rows kept out of
-- the marts (quarantined). A rule that passed has a row too, with zero failures.

with

report_versions as (

    select * from {{ ref('int_report_versions') }}
    where is_latest

),

rule_results as (

    select * from {{ ref('stg_quality__rule_results') }}

),

current_issues as (

    select * from {{ ref('int_current_validation_issues') }}

),

quarantined_rows as (

    select * from {{ ref('stg_quality__quarantined_rows') }}

),

rules as (

    select * from {{ ref('stg_catalogue__validation_rules') }}

),

issue_counts as (

    select
        sheet_version_id,
        unit_code,
        rule_code,
        count(*) as issue_count,
        bool_or(blocks_version) as blocks_version

    from current_issues
    group by sheet_version_id, unit_code, rule_code

),

quarantine_counts as (

    select
        quarantined_rows.sheet_version_id,
        quarantined_rows.unit_code,
        rule_codes.rule_code,
        count(*) as quarantined_row_count

    from quarantined_rows
    cross join lateral unnest(quarantined_rows.rule_codes) as rule_codes (rule_code)
    group by quarantined_rows.sheet_version_id, quarantined_rows.unit_code, rule_codes.rule_code

),

final as (

    select
        report_versions.programme_code,
        report_versions.period_code,
        report_versions.unit_code,
        report_versions.sheet_version_id,
        report_versions.validation_run_id,
        rule_results.rule_code,
        rules.rule_name_vi,
        rules.rule_name_en,
        rule_results.part,
        rule_results.severity,
        {{ severity_label_vi('rule_results.severity') }} as severity_vi,
        rule_results.rows_checked,
        rule_results.rows_failed,
        coalesce(issue_counts.issue_count, 0) as issue_count,
        case
            when rule_results.severity = 'error' then coalesce(issue_counts.issue_count, 0)
            else 0
        end as error_count,
        case
            when rule_results.severity = 'warning' then coalesce(issue_counts.issue_count, 0)
            else 0
        end as warning_count,
        coalesce(issue_counts.blocks_version, false) as blocks_version,
        coalesce(quarantine_counts.quarantined_row_count, 0) as quarantined_row_count,
        rule_results.rows_failed = 0 and coalesce(issue_counts.issue_count, 0) = 0 as is_passed

    from report_versions
    inner join rule_results
        on rule_results.sheet_version_id = report_versions.sheet_version_id
        and rule_results.unit_code = report_versions.unit_code
        and rule_results.validation_run_id = report_versions.validation_run_id
    left join rules
        on rules.rule_code = rule_results.rule_code
    left join issue_counts
        on issue_counts.sheet_version_id = report_versions.sheet_version_id
        and issue_counts.unit_code = report_versions.unit_code
        and issue_counts.rule_code = rule_results.rule_code
    left join quarantine_counts
        on quarantine_counts.sheet_version_id = report_versions.sheet_version_id
        and quarantine_counts.unit_code = report_versions.unit_code
        and quarantine_counts.rule_code = rule_results.rule_code

)

select * from final
