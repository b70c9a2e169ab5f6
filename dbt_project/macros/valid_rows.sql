{#
    The rows of one part of the report that count: rows of the latest usable version (submitted,
    not blocked) of each unit's report for a period, without the rows that the current
    validation marks as an error. Shared by int_valid_task_rows, int_valid_indicator_rows and
    int_valid_feedback_rows.

    rows_model: the staging model of the part; part: its name in quality.validation_issues;
    columns: the part's own columns to carry.
#}
{% macro valid_rows(rows_model, part, columns) %}

with

parsed_rows as (

    select * from {{ ref(rows_model) }}

),

report_versions as (

    select * from {{ ref('int_report_versions') }}

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
        bool_or(is_warning) as has_warning

    from current_issues
    group by sheet_version_id, unit_code, row_key

),

valid_rows as (

    select
        report_versions.programme_code,
        parsed_rows.period_code,
        parsed_rows.unit_code,
        parsed_rows.sheet_version_id,
        parsed_rows.row_key,
        parsed_rows.tab_title,
        parsed_rows.row_number,
        {%- for column in columns %}
        parsed_rows.{{ column }},
        {%- endfor %}
        coalesce(row_issues.has_warning, false) as has_warning

    from parsed_rows
    inner join report_versions
        on report_versions.sheet_version_id = parsed_rows.sheet_version_id
        and report_versions.unit_code = parsed_rows.unit_code
        and report_versions.period_code = parsed_rows.period_code
    left join row_issues
        on row_issues.sheet_version_id = parsed_rows.sheet_version_id
        and row_issues.unit_code = parsed_rows.unit_code
        and row_issues.row_key = parsed_rows.row_key
    where report_versions.is_latest_usable
        and not coalesce(row_issues.has_error, false)

)

select * from valid_rows

{% endmacro %}
