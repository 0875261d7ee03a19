-- The latest state of each month close (tenant_id, period): latest updated_at, ties to the later file
-- and row.
{{ kernel_books_staged(
    'month_closes',
    [('tenant_id', string_type()), ('period', string_type()), ('status', string_type()), ('closed_at', 'timestamp'),
     ('chain_hash', string_type()), ('updated_at', 'timestamp')],
    partition_by=['tenant_id', 'period'],
    order_by='updated_at desc, _source_file desc, _source_row desc',
    incremental_key=['tenant_id', 'period'],
) }}
