{#-
    Every webhook delivery has exactly one outcome: deliveries = accepted + duplicates + ignored + rejected,
    and the rejections by reason add up to the rejections. One failing row per day that breaks it.
-#}
{% test webhook_deliveries_add_up(model) %}

select *
from {{ model }}
where deliveries <> accepted + duplicates + ignored + rejected
    or rejected <> rejected_signature_verification_failed + rejected_timestamp_outside_tolerance
        + rejected_invalid_json + rejected_schema_invalid + rejected_tenant_unresolved

{% endtest %}
