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
