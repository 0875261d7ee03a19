-- One row per GL batch line (tenant_id, batch_id, line_no).
{{ kernel_books_staged(
    'gl_batch_lines',
    [('tenant_id', string_type()), ('batch_id', string_type()), ('period', string_type()), ('line_no', 'bigint'),
     ('party_id', string_type()), ('account_id', string_type()), ('entry_id', string_type()),
     ('amount_cents', 'bigint'), ('currency', string_type())],
    partition_by=['tenant_id', 'batch_id', 'line_no'],
    order_by='_source_file desc, _source_row desc',
    incremental_key=['tenant_id', 'batch_id'],
) }}
