-- Arbitration SLA per tenant, priority and UTC day, as of the run's as-of instant: cases opened, closed,
-- breached (the day a case not closed by then passed its due_at), and the median time from opening to
-- verdict of the verdicts issued that day. The median is percentile_cont(0.5) within group (order by ...),
-- an ordered-set aggregate DuckDB and Postgres both implement (rounded down to whole seconds).

with

cases as (

    select * from {{ ref('fct_arbitration_queue') }}

),

events as (

    select tenant_id, priority, cast(opened_at as date) as day, 'opened' as event_type,
        cast(null as bigint) as seconds_to_verdict
    from cases

    union all

    select tenant_id, priority, cast(closed_at as date), 'closed', cast(null as bigint)
    from cases
    where closed_at is not null

    union all

    select tenant_id, priority, cast(due_at as date), 'breached', cast(null as bigint)
    from cases
    where due_at < as_of and (closed_at is null or closed_at > due_at)

    union all

    select tenant_id, priority, cast(verdict_issued_at as date), 'verdict',
        {{ floor_divide(epoch_microseconds('verdict_issued_at') ~ ' - ' ~ epoch_microseconds('opened_at'), 1000000) }}
    from cases
    where verdict_issued_at is not null

),

daily as (

    select
        tenant_id,
        priority,
        day,
        sum(case when event_type = 'opened' then 1 else 0 end) as opened_count,
        sum(case when event_type = 'closed' then 1 else 0 end) as closed_count,
        sum(case when event_type = 'breached' then 1 else 0 end) as over_sla_count,
        sum(case when event_type = 'verdict' then 1 else 0 end) as verdict_count,
        percentile_cont(0.5) within group (order by seconds_to_verdict) as median_seconds_to_verdict

    from events
    group by tenant_id, priority, day

),

final as (

    select
        cast(tenant_id as {{ string_type() }}) as tenant_id,
        cast(priority as {{ string_type() }}) as priority,
        cast(day as date) as day,
        cast(opened_count as bigint) as opened_count,
        cast(closed_count as bigint) as closed_count,
        cast(over_sla_count as bigint) as over_sla_count,
        cast(verdict_count as bigint) as verdict_count,
        cast(floor(median_seconds_to_verdict) as bigint) as median_seconds_to_verdict

    from daily

)

select * from final
