{#
    One part of the reports (tasks, indicators or feedback), in two steps.

    checked_rows: every row of every version of every report, with the verdict of the report's
    latest validation run on that row. Incremental (macros/history.sql): raw only grows, so a
    build reads only the reports whose latest run it has not taken in - a new version, or an
    old version checked again by a later run (its rows are replaced).

    valid_rows: the rows that count - rows of the latest valid version (submitted, not blocked,
    no error: fct_submission's rule for which reports count) of each unit's report for a
    period, without the rows that the current validation marks as an error (there are none
    unless the completion_requires_no_errors var is off).

    rows_model: the staging model of the part; part: its name in quality.validation_issues;
    columns: the part's own columns to carry; checked_model: the part's checked_rows model.
#}
{% macro checked_rows(rows_model, part, columns) %}

with

periods as (

    select * from {{ ref('int_periods') }}

),

latest_runs as (

    {% if is_incremental() -%}
        {{ history_touched_rows(history_input('int_report_latest_runs'), 'report') }}
    {%- else -%}
        select * from {{ ref('int_report_latest_runs') }}
    {%- endif %}

),

-- each report's rows, and the issues of its latest run on them, through the indexes on
-- sheet_version_id: a nested loop per report (macros/history.sql, history_touched_rows)
checked as (

    select
        periods.programme_code,
        report_rows.period_code,
        report_rows.unit_code,
        report_rows.sheet_version_id,
        report_rows.row_key,
        report_rows.tab_title,
        report_rows.row_number,
        {%- for column in columns %}
        report_rows.{{ column }},
        {%- endfor %}
        latest_runs.validation_run_id,
        coalesce(report_rows.has_error, false) as has_error,
        coalesce(report_rows.has_warning, false) as has_warning,
        report_rows.rule_codes

    from latest_runs
    cross join lateral (
        select
            parsed_rows.*,
            row_issues.has_error,
            row_issues.has_warning,
            row_issues.rule_codes
        from {{ ref(rows_model) }} as parsed_rows
        left join (
            select
                issues.row_key,
                bool_or(issues.is_error) as has_error,
                bool_or(issues.is_warning) as has_warning,
                array_agg(distinct issues.rule_code order by issues.rule_code) as rule_codes
            from {{ ref('int_current_validation_issues') }} as issues
            where issues.sheet_version_id = latest_runs.sheet_version_id
                and issues.unit_code = latest_runs.unit_code
                and issues.part = '{{ part }}'
                and issues.row_key is not null
            group by issues.row_key
        ) as row_issues
            on row_issues.row_key = parsed_rows.row_key
        where parsed_rows.sheet_version_id = latest_runs.sheet_version_id
            and parsed_rows.unit_code = latest_runs.unit_code
        -- one probe per row (macros/history.sql, history_touched_rows)
        offset 0  -- noqa: AM09
    ) as report_rows
    left join periods
        on periods.period_code = report_rows.period_code

)

select * from checked

{% endmacro %}


{#- report_versions: the versions to read the rows of (SQL), when not every version: an
    incremental mart's (macros/history.sql, history_touched_rows); the rule stays this one. -#}
{% macro valid_rows(checked_model, report_versions=none) %}

{%- set checked = history_input(checked_model) if report_versions else ref(checked_model) %}

with

report_versions as (

    {% if report_versions -%}
        {{ report_versions }}
    {%- else -%}
        select * from {{ ref('int_report_versions') }}
    {%- endif %}

),

valid_rows as (

    select checked_rows.*

    from report_versions
    cross join lateral (
        select checked_rows.* from {{ checked }} as checked_rows
        where checked_rows.sheet_version_id = report_versions.sheet_version_id
            and checked_rows.unit_code = report_versions.unit_code
            and checked_rows.period_code = report_versions.period_code
            and not checked_rows.has_error
        -- one probe per row (macros/history.sql, history_touched_rows)
        offset 0  -- noqa: AM09
    ) as checked_rows
    where report_versions.is_latest_complete

)

select * from valid_rows

{% endmacro %}
