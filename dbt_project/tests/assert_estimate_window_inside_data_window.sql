-- The estimated part of a period ("ước thực hiện", estimated_from to data_to) lies inside its data
-- window and starts after its first day; and a catalogue period whose window ends after its last
-- on-time day has one (the units are asked for figures that do not exist yet). Returns the
-- periods that break it.

select
    period_code,
    data_from,
    data_to,
    on_time_until,
    estimated_from
from {{ ref('int_periods') }}
where
    (
        estimated_from is not null
        and (estimated_from <= data_from or estimated_from > data_to)
    )
    or (estimated_from is null and data_to > {{ local_date('on_time_until') }})
