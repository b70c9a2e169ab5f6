{#- Fails on every row where the SQL expression is not true (false or null). When the test is
    declared on a column, the expression is appended to the column: `column_name <expression>`. -#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not coalesce(
    ({% if column_name is not none %}{{ column_name }} {% endif %}{{ expression }}),
    false
)

{% endtest %}
