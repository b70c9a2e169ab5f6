{#- The date at which reports are judged, as a SQL date expression: the var as_of_date (a build by
    hand: --vars '{as_of_date: 2026-06-21}'; a unit test's overrides), else the environment
    variable TONGHOP_AS_OF_DATE (how the pipeline passes the day, pipeline/dbt.py: unlike
    --vars, a new day does not make dbt parse the whole project again). Unset / null / 'none'
    means today in the report time zone. -#}
{% macro as_of_date() -%}
    {%- set value = var('as_of_date', none) -%}
    {%- if value is none or (value is string and value | trim | lower in ('', 'none', 'null')) -%}
        {%- set value = env_var('TONGHOP_AS_OF_DATE', '') -%}
    {%- endif -%}
    {%- if value is none or (value is string and value | trim | lower in ('', 'none', 'null')) -%}
        (now() at time zone '{{ var("report_timezone", "Asia/Ho_Chi_Minh") }}')::date
    {%- else -%}
        date '{{ value | string | trim }}'
    {%- endif -%}
{%- endmacro %}

{#- The calendar day of a timestamptz in the report time zone (due dates are local dates). -#}
{% macro local_date(timestamp_expression) -%}
    ({{ timestamp_expression }} at time zone '{{ var("report_timezone", "Asia/Ho_Chi_Minh") }}')::date
{%- endmacro %}

{#- A unit version (int_unit_versions) is in force on a day. -#}
{% macro in_force_on(versions, day) -%}
    ({{ versions }}.effective_from is null or {{ versions }}.effective_from <= {{ day }})
    and ({{ versions }}.effective_to is null or {{ day }} < {{ versions }}.effective_to)
{%- endmacro %}
