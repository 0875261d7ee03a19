{#-
    Money conservation of a resolved settlement: what was released to the payee plus what was
    refunded to the payer equals the amount locked in escrow, to the cent. One failing row per
    resolved settlement that breaks it (a missing released/refunded amount counts as zero, so a
    resolved settlement with neither amount fails too).
-#}
{% test resolved_money_is_conserved(
    model,
    amount_column='amount_cents',
    released_column='released_amount_cents',
    refunded_column='refunded_amount_cents',
    resolved_column='is_resolved'
) %}

with resolved as (

    select *
    from {{ model }}
    where {{ resolved_column }}

)

select *
from resolved
where coalesce({{ released_column }}, 0) + coalesce({{ refunded_column }}, 0) <> {{ amount_column }}
    or {{ amount_column }} is null

{% endtest %}
