-- One row per settlement (tenant_id, settlement_id): the latest state the kernel exported.
-- The kernel re-exports a settlement whenever it changes, so a later `updated_at` supersedes an
-- earlier one; ties (the same version delivered twice) go to the later file and row.

{%- set row_columns = [
    'tenant_id', 'settlement_id', 'run_id', 'payer_agent_id', 'payee_agent_id', 'policy_id', 'policy_version',
    'policy_hash', 'status', 'dispute_status', 'amount_cents', 'released_amount_cents', 'refunded_amount_cents',
    'currency', 'dispute_window_days', 'locked_at', 'resolved_at', 'updated_at', '_source_file', '_source_row',
] %}

-- `not_materialized()`: the de-duplication reads `renamed` three times (macros/deduplicate.sql).
with

source as {{ not_materialized() }} (

    select * from {{ source('raw', 'settlements') }}

),

renamed as {{ not_materialized() }} (

    select
        cast(tenant_id as {{ string_type() }}) as tenant_id,
        cast(settlement_id as {{ string_type() }}) as settlement_id,
        cast(run_id as {{ string_type() }}) as run_id,
        cast(payer_agent_id as {{ string_type() }}) as payer_agent_id,
        cast(payee_agent_id as {{ string_type() }}) as payee_agent_id,
        cast(policy_id as {{ string_type() }}) as policy_id,
        cast(policy_version as bigint) as policy_version,
        cast(policy_hash as {{ string_type() }}) as policy_hash,
        cast(status as {{ string_type() }}) as status,
        -- The contract lets the kernel omit dispute_status: no dispute recorded means none.
        cast(coalesce(dispute_status, 'none') as {{ string_type() }}) as dispute_status,
        cast(amount_cents as bigint) as amount_cents,
        -- A missing released/refunded amount means nothing moved that way (fail-closed: a
        -- resolved settlement with both missing still breaks conservation).
        cast(coalesce(released_amount_cents, 0) as bigint) as released_amount_cents,
        cast(coalesce(refunded_amount_cents, 0) as bigint) as refunded_amount_cents,
        cast(currency as {{ string_type() }}) as currency,
        -- No window sent means none: the settlement cannot be disputed after its resolution.
        cast(coalesce(dispute_window_days, 0) as bigint) as dispute_window_days,
        cast(locked_at as timestamp) as locked_at,
        cast(resolved_at as timestamp) as resolved_at,
        cast(updated_at as timestamp) as updated_at,
        cast(_source_file as {{ string_type() }}) as _source_file,
        cast(_source_row as bigint) as _source_row

    from source

),

latest_versions as (

    {{ deduplicate(
        'renamed',
        partition_by=['tenant_id', 'settlement_id'],
        order_by='updated_at desc, _source_file desc, _source_row desc',
        columns=row_columns,
    ) }}

),

final as (

    select
        tenant_id,
        settlement_id,
        run_id,
        payer_agent_id,
        payee_agent_id,
        policy_id,
        policy_version,
        policy_hash,
        status,
        dispute_status,
        {{ to_period('locked_at') }} as locked_period,
        {{ to_period('resolved_at') }} as resolved_period,
        status in ('released', 'refunded') as is_resolved,
        dispute_status in ('open', 'closed') as has_dispute,
        amount_cents,
        released_amount_cents,
        refunded_amount_cents,
        currency,
        dispute_window_days,
        locked_at,
        resolved_at,
        -- Disputes may be opened, and verdicts issued, up to this instant (null while locked).
        {{ dbt.dateadd('day', 'dispute_window_days', 'resolved_at') }} as dispute_window_ends_at,
        updated_at,
        _source_file,
        _source_row

    from latest_versions

)

select * from final
