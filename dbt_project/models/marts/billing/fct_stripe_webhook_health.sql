-- Stripe webhook health per UTC day of receipt: how many deliveries arrived, how many were accepted,
-- repeated, ignored (event types Settld does not use) or rejected, and the rejections by reason key.
-- A replay updates the delivery it re-judged (no copy): `dead_letters` are the day's rejected, replayable
-- deliveries no replay has resolved yet, `replayed` those a later replay applied.
-- One column per reason of the seed billing_webhook_rejection_reasons (the contract lists them: a reason
-- added to the seed without its column fails the build).
-- depends_on: {{ ref('billing_webhook_rejection_reasons') }}

{%- set reasons = seed_values('billing_webhook_rejection_reasons', 'reason') %}

with

deliveries as (

    select * from {{ ref('stg_operator_api__stripe_webhook_deliveries') }}

),

daily as (

    select
        cast(received_at as date) as received_on,
        count(*) as deliveries,
        count(case when status = 'accepted' then 1 end) as accepted,
        count(case when status = 'duplicate' then 1 end) as duplicates,
        count(case when status = 'ignored' then 1 end) as ignored,
        count(case when status = 'rejected' then 1 end) as rejected,
        {%- for reason in reasons %}
        count(case when status = 'rejected' and reason = '{{ reason }}' then 1 end) as rejected_{{ reason }},
        {%- endfor %}
        count(case when status = 'rejected' and is_replayable and resolved_at is null then 1 end) as dead_letters,
        count(case when resolved_at is not null then 1 end) as replayed

    from deliveries
    group by cast(received_at as date)

),

final as (

    select
        received_on,
        cast(deliveries as bigint) as deliveries,
        cast(accepted as bigint) as accepted,
        cast(duplicates as bigint) as duplicates,
        cast(ignored as bigint) as ignored,
        cast(rejected as bigint) as rejected,
        {%- for reason in reasons %}
        cast(rejected_{{ reason }} as bigint) as rejected_{{ reason }},
        {%- endfor %}
        cast(dead_letters as bigint) as dead_letters,
        cast(replayed as bigint) as replayed

    from daily

)

select * from final
