-- One row per statement line: a total (tenant_id, statement_id, account_id) or an included entry
-- (tenant_id, statement_id, entry_id).
{{ kernel_books_staged(
    'party_statement_lines',
    [('tenant_id', 'varchar'), ('statement_id', 'varchar'), ('period', 'varchar'),
     ('line_kind', 'varchar'), ('account_id', 'varchar'), ('entry_id', 'varchar'),
     ('amount_cents', 'bigint'), ('currency', 'varchar')],
    partition_by=['tenant_id', 'statement_id', 'line_kind', 'account_id', 'entry_id'],
    order_by='_source_file desc, _source_row desc',
) }}
