-- Dropped webhook windows: Stripe events stored only because the pull (or a replay's re-fetch) listed
-- them, never delivered by the webhook. Consecutive such events (in `created`, then id, order, with no
-- webhook-delivered event between them) form one gap, reported with its window bounds.

with

events as (

    select * from {{ ref('stg_operator_api__stripe_events') }}

),

webhook_delivered as (

    select distinct event_id
    from {{ ref('stg_operator_api__stripe_webhook_deliveries') }}
    -- a delivery the webhook refused and a replay later applied came by webhook too
    where delivery_source = 'webhook'
        and (status in ('accepted', 'duplicate', 'ignored') or resolved_at is not null)
        and event_id is not null

),

flagged as (

    select
        events.event_id,
        events.event_type,
        events.tenant_id,
        events.created_epoch,
        events.created_at,
        events.first_arrival,
        -- An event exported into the landing zone reached us by its own path: not a dropped webhook.
        webhook_delivered.event_id is null and coalesce(events.first_arrival, '') <> 'landing' as is_missed

    from events
    left join webhook_delivered
        on events.event_id = webhook_delivered.event_id

),

islands as (

    -- Each delivered event closes the run of missed events before it: the running count of delivered
    -- events numbers the runs.
    select
        *,
        sum(case when is_missed then 0 else 1 end) over (
            order by created_epoch, event_id rows between unbounded preceding and current row
        ) as run_number

    from flagged

),

gaps as (

    select
        run_number,
        min(created_at) as window_start,
        max(created_at) as window_end,
        count(*) as missed_events,
        count(distinct tenant_id) as tenants,
        min(event_id) as first_event_id

    from islands
    where is_missed
    group by run_number

),

final as (

    select
        cast(window_start as timestamp) as window_start,
        cast(window_end as timestamp) as window_end,
        cast(missed_events as bigint) as missed_events,
        cast(tenants as bigint) as tenants,
        cast(first_event_id as {{ string_type() }}) as first_event_id

    from gaps

)

select * from final
