{#- The date at which reports are judged (var as_of_date), as a SQL date expression.
    Unset / null / 'none' means today in the report time zone. -#}
{% macro as_of_date() -%}
    {%- set value = var('as_of_date', none) -%}
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
