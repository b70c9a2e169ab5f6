with

indicators as (

    select * from {{ ref('stg_catalogue__indicators') }}

),

indicator_assignments as (

    select * from {{ ref('stg_catalogue__indicator_assignments') }}

),

assignment_counts as (

    select
        indicator_code,
        count(*) as assigned_unit_count

    from indicator_assignments
    group by indicator_code

),

final as (

    select
        indicators.programme_code,
        indicators.indicator_code,
        indicators.indicator_name,
        indicators.unit_of_measure,
        indicators.value_kind,
        indicators.task_code,
        indicators.target_value,
        indicators.target_operator,
        indicators.target_period_kind,
        {{ period_kind_label_vi('indicators.target_period_kind') }} as target_period_kind_vi,
        indicators.target_scope,
        case indicators.target_scope
            when 'unit' then 'Từng đơn vị'
            when 'province' then 'Tổng các đơn vị'
        end as target_scope_vi,
        case
            when indicators.target_value is not null then
                concat_ws(
                    ' ',
                    case indicators.target_operator
                        when '>=' then 'Từ'
                        when '<=' then 'Không quá'
                        when '=' then 'Đúng'
                    end,
                    trim_scale(indicators.target_value)::text,
                    indicators.unit_of_measure,
                    case indicators.target_operator when '>=' then 'trở lên' end
                )
                || coalesce(
                    ' / ' || lower({{ period_kind_label_vi('indicators.target_period_kind') }}),
                    ''
                )
        end as target_text_vi,
        indicators.source_ref,
        coalesce(assignment_counts.assigned_unit_count, 0) as assigned_unit_count

    from indicators
    left join assignment_counts
        on assignment_counts.indicator_code = indicators.indicator_code

)

select * from final
