-- Failed payment attempts per tenant, UTC day, object type and reason: charges that failed, payment intents
-- whose last attempt failed (last_payment_error), invoice payments that did not pay. The reasons are read
-- when the object is stored (api/billing/payments.py): failure_code, decline_code, Stripe's outcome (type,
-- reason, network status). The attempted amount is summed per currency; nothing here is money received
-- (a failed attempt's amount_received_cents is 0). Rules: docs/DECISIONLOG.md ("Stripe semantics").

with

stripe_objects as (

    select * from {{ ref('stg_operator_api__stripe_objects') }}

),

invoices as (

    select object_id as invoice_id, attempt_count as invoice_attempt_count
    from stripe_objects
    where object_type = 'invoice'

),

failed_attempts as (

    select
        objects.tenant_id,
        cast(objects.created_at as date) as failed_on,
        objects.object_type,
        objects.failure_code,
        objects.decline_code,
        objects.outcome_type,
        objects.outcome_reason,
        objects.network_status,
        -- an invoice payment carries its invoice's attempt count; a charge or an intent's failure is one
        case
            when objects.object_type = 'invoice_payment' then coalesce(invoices.invoice_attempt_count, 1)
            else 1
        end as attempts,
        objects.currency,
        objects.amount_cents as attempted_amount_cents

    from stripe_objects as objects
    left join invoices
        on objects.object_type = 'invoice_payment'
        and objects.related_id = invoices.invoice_id
    where (objects.object_type = 'charge' and objects.status = 'failed')
        or (objects.object_type = 'payment_intent' and objects.failure_code is not null
            and coalesce(objects.status, '') <> 'succeeded')
        or (objects.object_type = 'invoice_payment' and objects.status in ('canceled', 'failed'))

),

aggregated as (

    select
        tenant_id,
        failed_on,
        object_type,
        failure_code,
        decline_code,
        outcome_type,
        outcome_reason,
        network_status,
        currency,
        count(*) as failures,
        sum(attempts) as attempts,
        {{ sum_cents('attempted_amount_cents') }} as attempted_amount_cents

    from failed_attempts
    group by
        tenant_id, failed_on, object_type, failure_code, decline_code, outcome_type, outcome_reason,
        network_status, currency

),

final as (

    select
        cast(tenant_id as {{ string_type() }}) as tenant_id,
        cast(failed_on as date) as failed_on,
        cast(object_type as {{ string_type() }}) as object_type,
        cast(failure_code as {{ string_type() }}) as failure_code,
        cast(decline_code as {{ string_type() }}) as decline_code,
        cast(outcome_type as {{ string_type() }}) as outcome_type,
        cast(outcome_reason as {{ string_type() }}) as outcome_reason,
        cast(network_status as {{ string_type() }}) as network_status,
        cast(failures as bigint) as failures,
        cast(attempts as bigint) as attempts,
        cast(currency as {{ string_type() }}) as currency,
        cast(attempted_amount_cents as bigint) as attempted_amount_cents

    from aggregated

)

select * from final
