{#
    One part of the reports (tasks, indicators or feedback), in two steps.

    checked_rows: every row of every version of every report, with the verdict of the report's
    latest validation run on that row. Incremental: raw only grows, so a build reads only the
    reports whose latest run is not in the table yet - a new version, or an old version checked
    again by a later run (its rows are replaced: unique key, delete+insert).

    valid_rows: the rows that count - rows of the latest valid version (submitted, not blocked,
    no error: fct_submission's rule for which reports count) of each unit's report for a
    period, without the rows that the current validation marks as an error (there are none
    unless the completion_requires_no_errors var is off).

    rows_model: the staging model of the part; part: its name in quality.validation_issues;
    columns: the part's own columns to carry; checked_model: the part's checked_rows model.
#}
{% macro checked_rows(rows_model, part, columns) %}

with

parsed_rows as (

    select * from {{ ref(rows_model) }}

),

periods as (

    select * from {{ ref('int_periods') }}

),

latest_runs as (

    select * from {{ ref('int_report_latest_runs') }} as latest_runs
    {%- if is_incremental() %}
    where not exists (
        select 1
        from {{ this }} as checked
        where checked.sheet_version_id = latest_runs.sheet_version_id
            and checked.unit_code = latest_runs.unit_code
            and checked.validation_run_id = latest_runs.validation_run_id
    )
    {%- endif %}

),

current_issues as (

    select * from {{ ref('int_current_validation_issues') }}
    where part = '{{ part }}'
        and row_key is not null

),

row_issues as (

    select
        sheet_version_id,
        unit_code,
        row_key,
        bool_or(is_error) as has_error,
        bool_or(is_warning) as has_warning,
        array_agg(distinct rule_code order by rule_code) as rule_codes

    from current_issues
    group by sheet_version_id, unit_code, row_key

),

checked as (

    select
        periods.programme_code,
        parsed_rows.period_code,
        parsed_rows.unit_code,
        parsed_rows.sheet_version_id,
        parsed_rows.row_key,
        parsed_rows.tab_title,
        parsed_rows.row_number,
        {%- for column in columns %}
        parsed_rows.{{ column }},
        {%- endfor %}
        latest_runs.validation_run_id,
        coalesce(row_issues.has_error, false) as has_error,
        coalesce(row_issues.has_warning, false) as has_warning,
        row_issues.rule_codes

    from parsed_rows
    inner join latest_runs
        on latest_runs.sheet_version_id = parsed_rows.sheet_version_id
        and latest_runs.unit_code = parsed_rows.unit_code
    left join periods
        on periods.period_code = parsed_rows.period_code
    left join row_issues
        on row_issues.sheet_version_id = parsed_rows.sheet_version_id
        and row_issues.unit_code = parsed_rows.unit_code
        and row_issues.row_key = parsed_rows.row_key

)

select * from checked

{% endmacro %}


{% macro valid_rows(checked_model) %}

with

checked_rows as (

    select * from {{ ref(checked_model) }}

),

report_versions as (

    select * from {{ ref('int_report_versions') }}

),

valid_rows as (

    select checked_rows.*

    from checked_rows
    inner join report_versions
        on report_versions.sheet_version_id = checked_rows.sheet_version_id
        and report_versions.unit_code = checked_rows.unit_code
        and report_versions.period_code = checked_rows.period_code
    where report_versions.is_latest_complete
        and not checked_rows.has_error

)

select * from valid_rows

{% endmacro %}
