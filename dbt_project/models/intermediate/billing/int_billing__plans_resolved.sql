-- The plan each tenant is billed on in each period, with its figures: one row per (tenant_id, period)
-- from the tenant's first billable month to the as-of month (or its last month with usage, if later).
--
-- A month is billed on ONE plan: the plan the tenant held for the longest part of it. Time covered by
-- a Stripe subscription state (int_billing__stripe_plans_sequenced, ended subscriptions mapped to
-- free) counts for that state's plan; time before the tenant's first Stripe event counts for its configured
-- plan (seed billing_tenant_plans), else free. Ties go to the plan held later. So an upgrade on the
-- 20th bills the old plan, a cancellation on the last day still bills the month that was used, and a
-- tenant that subscribes an hour into its first month is billed its subscription.
-- The seed's overrides then replace catalog figures of whichever plan won. Rules:
-- docs/DECISIONLOG.md ("Billing: usage and invoice drafts").

with

catalog as (

    select * from {{ ref('billing_plan_catalog') }}

),

tenant_plans as (

    select * from {{ ref('billing_tenant_plans') }}

),

stripe_plans as (

    select * from {{ ref('int_billing__stripe_plans_sequenced') }}

),

usage_events as (

    select * from {{ ref('int_billing__usage_events') }}

),

-- A tenant is billable from the first month it has a Stripe subscription event, usage, or a configured
-- billable_from_period; zero-usage months after that still get their subscription.
billing_months as (

    select tenant_id, {{ to_period('valid_from') }} as period from stripe_plans
    union all
    select tenant_id, period from usage_events
    union all
    select tenant_id, billable_from_period as period from tenant_plans
    where billable_from_period is not null

),

tenant_bounds as (

    select
        tenant_id,
        min(period) as first_period,
        -- Periods are YYYY-MM text: text order is time order.
        max(period) as last_seen_period

    from billing_months
    group by tenant_id

),

-- 600 months (50 years) is far more than any tenant's history; months past the end are filtered out.
month_offsets as (

    {{ dbt.generate_series(600) }}

),

tenant_months as (

    select
        bounds.tenant_id,
        {{ dbt.dateadd('month', 'cast(offsets.generated_number as integer) - 1', "cast(bounds.first_period || '-01' as timestamp)") }}
            as period_start_at,
        greatest(bounds.last_seen_period, {{ to_period(reconciliation_as_of()) }}) as last_period

    from tenant_bounds as bounds
    cross join month_offsets as offsets

),

tenant_periods as (

    select
        tenant_id,
        {{ to_period('period_start_at') }} as period,
        period_start_at,
        {{ dbt.dateadd('month', 1, 'period_start_at') }} as period_end_at

    from tenant_months
    where {{ to_period('period_start_at') }} <= last_period

),

first_stripe_events as (

    select tenant_id, min(valid_from) as first_valid_from
    from stripe_plans
    group by tenant_id

),

-- Each Stripe subscription state clipped to the period; states that last no time (two events in the
-- same second) are never in force and are dropped.
stripe_segments as (

    select
        periods.tenant_id,
        periods.period,
        stripe_plans.plan,
        'stripe' as plan_source,
        greatest(stripe_plans.valid_from, periods.period_start_at) as segment_start_at,
        least(coalesce(stripe_plans.valid_to, periods.period_end_at), periods.period_end_at) as segment_end_at

    from tenant_periods as periods
    inner join stripe_plans
        on periods.tenant_id = stripe_plans.tenant_id
        and stripe_plans.valid_from < periods.period_end_at
        and (stripe_plans.valid_to is null or stripe_plans.valid_to > periods.period_start_at)
    where stripe_plans.valid_to is null or stripe_plans.valid_to > stripe_plans.valid_from

),

-- The part of the period before the tenant's first Stripe event (all of it without Stripe).
configured_segments as (

    select
        periods.tenant_id,
        periods.period,
        coalesce(tenant_plans.plan, 'free') as plan,
        case when tenant_plans.plan is null then 'default' else 'configured' end as plan_source,
        periods.period_start_at as segment_start_at,
        least(coalesce(first_stripe.first_valid_from, periods.period_end_at), periods.period_end_at)
            as segment_end_at

    from tenant_periods as periods
    left join first_stripe_events as first_stripe
        on periods.tenant_id = first_stripe.tenant_id
    left join tenant_plans
        on periods.tenant_id = tenant_plans.tenant_id

),

segments as (

    select * from stripe_segments
    union all
    select * from configured_segments

),

plan_durations as (

    select
        tenant_id,
        period,
        plan,
        plan_source,
        sum({{ epoch_microseconds('segment_end_at') }} - {{ epoch_microseconds('segment_start_at') }})
            as held_microseconds,
        max(segment_start_at) as last_held_from

    from segments
    where segment_end_at > segment_start_at
    group by tenant_id, period, plan, plan_source

),

plans_ranked as (

    select
        *,
        row_number() over (
            partition by tenant_id, period
            order by held_microseconds desc, last_held_from desc, plan, plan_source
        ) as plan_rank

    from plan_durations

),

-- A plan missing from the catalog keeps its row with null figures: not_null tests fail the build
-- instead of the tenant silently dropping out of billing. Each term a tenant's row in billing_tenant_plans
-- may override, with its type:
{%- set plan_terms = [
    ('included_verified_runs', 'bigint'), ('overage_milli_cents_per_run', 'bigint'),
    ('settled_volume_fee_bps', 'integer'), ('hard_limit_verified_runs', 'bigint'),
    ('subscription_cents', 'bigint'), ('arbitration_case_fee_cents', 'bigint'),
] %}
final as (

    select
        cast(periods.tenant_id as {{ string_type() }}) as tenant_id,
        cast(periods.period as {{ string_type() }}) as period,
        cast(chosen.plan as {{ string_type() }}) as plan,
        cast(chosen.plan_source as {{ string_type() }}) as plan_source,
        cast(
            {% for term, _ in plan_terms %}tenant_plans.{{ term }} is not null{% if not loop.last %} or {% endif %}{% endfor %}
            as boolean
        ) as has_overrides,
        {%- for term, sql_type in plan_terms %}
        cast(coalesce(tenant_plans.{{ term }}, catalog.{{ term }}) as {{ sql_type }}) as {{ term }},
        {%- endfor %}
        cast(catalog.currency as {{ string_type() }}) as currency,
        cast(periods.period_start_at as timestamp) as period_start_at,
        cast(periods.period_end_at as timestamp) as period_end_at

    from tenant_periods as periods
    inner join plans_ranked as chosen
        on periods.tenant_id = chosen.tenant_id
        and periods.period = chosen.period
        and chosen.plan_rank = 1
    left join tenant_plans
        on periods.tenant_id = tenant_plans.tenant_id
    left join catalog
        on chosen.plan = catalog.plan

)

select * from final
