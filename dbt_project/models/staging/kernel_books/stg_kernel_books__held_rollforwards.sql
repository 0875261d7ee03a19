-- The latest held-exposure roll-forward per (tenant_id, period, currency): latest generated_at, ties to
-- the greater artifact id, then the later file and row.
{{ kernel_books_staged(
    'held_exposure_rollforwards',
    [('tenant_id', string_type()), ('artifact_id', string_type()), ('period', string_type()), ('currency', string_type()),
     ('opening_cents', 'bigint'), ('new_holds_cents', 'bigint'), ('released_cents', 'bigint'),
     ('forfeited_cents', 'bigint'), ('ending_cents', 'bigint'), ('generated_at', 'timestamp')],
    partition_by=['tenant_id', 'period', 'currency'],
    order_by='generated_at desc, artifact_id desc, _source_file desc, _source_row desc',
    incremental_key=['tenant_id', 'period'],
) }}
