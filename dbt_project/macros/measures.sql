{#- Small expressions used by several marts. -#}

{#- value compared with a target by an operator held in a column ('>=', '<=', '='); null when
    the value, the target or the operator is missing. -#}
{% macro meets_target(value, operator, target) -%}
    case {{ operator }}
        when '>=' then {{ value }} >= {{ target }}
        when '<=' then {{ value }} <= {{ target }}
        when '=' then {{ value }} = {{ target }}
    end
{%- endmacro %}

{#- numerator / denominator as a 0-1 numeric rounded to 4 places; null when the denominator is 0. -#}
{% macro safe_rate(numerator, denominator) -%}
    round(({{ numerator }})::numeric / nullif({{ denominator }}, 0), 4)
{%- endmacro %}

{#- A task with an end can be completed: yearly (hang_nam), with a fixed deadline (co_thoi_han),
    or any task the plan gives a deadline. An ongoing task (thuong_xuyen, no deadline) never
    finishes; tonghop.catalogue.Task.is_ongoing is the same rule. -#}
{% macro task_has_end(timing, deadline) -%}
    ({{ timing }} <> 'thuong_xuyen' or {{ deadline }} is not null)
{%- endmacro %}

{#- The progress a row reports, read by its task's timing: an ongoing task is "đang thực hiện
    thường xuyên" whatever active status the unit picked (a "Hoàn thành" there is flagged by the
    rule task.status_timing and cannot count as a completion); a task with an end keeps its
    status, "Đang thực hiện thường xuyên" counting as in progress. -#}
{% macro task_progress_code(status_code, has_end) -%}
    case
        when {{ status_code }} is null then null
        when {{ status_code }} = 'chua_trien_khai' then 'chua_trien_khai'
        when not {{ has_end }} then 'dang_thuc_hien_thuong_xuyen'
        when {{ status_code }} = 'dang_thuc_hien_thuong_xuyen' then 'dang_trien_khai'
        else {{ status_code }}
    end
{%- endmacro %}
