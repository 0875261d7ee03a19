{#-
    Every webhook delivery has exactly one outcome: deliveries = accepted + duplicates + ignored + rejected,
    and the rejections by reason (seed billing_webhook_rejection_reasons) add up to the rejections. One
    failing row per day that breaks it.
-#}
{% test webhook_deliveries_add_up(model) %}

select *
from {{ model }}
where deliveries <> accepted + duplicates + ignored + rejected
    or rejected <> {% for reason in seed_values('billing_webhook_rejection_reasons', 'reason') -%}
        rejected_{{ reason }}{% if not loop.last %} + {% endif %}
    {%- endfor %}

{% endtest %}
