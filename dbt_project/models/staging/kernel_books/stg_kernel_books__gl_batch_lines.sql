-- One row per GL batch line (tenant_id, batch_id, line_no).
{{ kernel_books_staged(
    'gl_batch_lines',
    [('tenant_id', 'varchar'), ('batch_id', 'varchar'), ('period', 'varchar'), ('line_no', 'bigint'),
     ('party_id', 'varchar'), ('account_id', 'varchar'), ('entry_id', 'varchar'),
     ('amount_cents', 'bigint'), ('currency', 'varchar')],
    partition_by=['tenant_id', 'batch_id', 'line_no'],
    order_by='_source_file desc, _source_row desc',
) }}
