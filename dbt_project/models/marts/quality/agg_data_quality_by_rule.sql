{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ history_touch('partition') }}",
        post_hook="{{ history_record() }}",
    )
}}

-- Data quality by rule, unit and period (chất lượng dữ liệu): for the latest version of each
-- unit's report received by the as_of_date, every validation rule of its latest validation run
-- - rows checked, rows failing, the issues raised (errors, warnings) and the rows kept out of
-- the marts (quarantined). A rule that passed has a row too, with zero failures.
-- Incremental (macros/history.sql): a build writes again the rows of the (period, unit) pairs
-- that changed since it last ran (a new version, a new check, the day it is built for).

with

report_versions as (

    {% if is_incremental() -%}
        {{ history_touched_rows(
            history_input('int_report_versions'), condition='touched_rows.is_latest'
        ) }}
    {%- else -%}
        select * from {{ ref('int_report_versions') }}
        where is_latest
    {%- endif %}

),

rules as (

    select * from {{ ref('stg_catalogue__validation_rules') }}

),

-- per version, its rule results with the issues and the quarantined rows of each rule, each
-- read through its index on the version: a nested loop per version (macros/history.sql,
-- history_touched_rows)
version_rules as (

    select
        report_versions.programme_code,
        report_versions.period_code,
        report_versions.unit_code,
        report_versions.sheet_version_id,
        report_versions.validation_run_id,
        rule_results.rule_code,
        rule_results.part,
        rule_results.severity,
        rule_results.rows_checked,
        rule_results.rows_failed,
        coalesce(rule_results.issue_count, 0) as issue_count,
        coalesce(rule_results.blocks_version, false) as blocks_version,
        coalesce(rule_results.quarantined_row_count, 0) as quarantined_row_count

    from report_versions
    cross join lateral (
        select
            rule_results.rule_code,
            rule_results.part,
            rule_results.severity,
            rule_results.rows_checked,
            rule_results.rows_failed,
            issue_counts.issue_count,
            issue_counts.blocks_version,
            quarantine_counts.quarantined_row_count
        from {{ ref('stg_quality__rule_results') }} as rule_results
        left join (
            select
                current_issues.rule_code,
                count(*) as issue_count,
                bool_or(current_issues.blocks_version) as blocks_version
            from {{ ref('int_current_validation_issues') }} as current_issues
            where current_issues.sheet_version_id = report_versions.sheet_version_id
                and current_issues.unit_code = report_versions.unit_code
            group by current_issues.rule_code
        ) as issue_counts
            on issue_counts.rule_code = rule_results.rule_code
        left join (
            select
                rule_codes.rule_code,
                count(*) as quarantined_row_count
            from {{ ref('stg_quality__quarantined_rows') }} as quarantined_rows
            cross join lateral unnest(quarantined_rows.rule_codes) as rule_codes (rule_code)
            where quarantined_rows.sheet_version_id = report_versions.sheet_version_id
                and quarantined_rows.unit_code = report_versions.unit_code
            group by rule_codes.rule_code
        ) as quarantine_counts
            on quarantine_counts.rule_code = rule_results.rule_code
        where rule_results.validation_run_id = report_versions.validation_run_id
            and rule_results.sheet_version_id = report_versions.sheet_version_id
            and rule_results.unit_code = report_versions.unit_code
        -- one probe per row (macros/history.sql, history_touched_rows)
        offset 0  -- noqa: AM09
    ) as rule_results

),

final as (

    select
        version_rules.programme_code,
        version_rules.period_code,
        version_rules.unit_code,
        version_rules.sheet_version_id,
        version_rules.validation_run_id,
        version_rules.rule_code,
        rules.rule_name_vi,
        rules.rule_name_en,
        version_rules.part,
        version_rules.severity,
        {{ severity_label_vi('version_rules.severity') }} as severity_vi,
        version_rules.rows_checked,
        version_rules.rows_failed,
        version_rules.issue_count,
        case
            when version_rules.severity = 'error' then version_rules.issue_count
            else 0
        end as error_count,
        case
            when version_rules.severity = 'warning' then version_rules.issue_count
            else 0
        end as warning_count,
        version_rules.blocks_version,
        version_rules.quarantined_row_count,
        version_rules.rows_failed = 0 and version_rules.issue_count = 0 as is_passed

    from version_rules
    left join rules
        on rules.rule_code = version_rules.rule_code

)

select * from final
