-- One row per statement line: a total (tenant_id, statement_id, account_id) or an included entry
-- (tenant_id, statement_id, entry_id).
{{ kernel_books_staged(
    'party_statement_lines',
    [('tenant_id', string_type()), ('statement_id', string_type()), ('period', string_type()),
     ('line_kind', string_type()), ('account_id', string_type()), ('entry_id', string_type()),
     ('amount_cents', 'bigint'), ('currency', string_type())],
    partition_by=['tenant_id', 'statement_id', 'line_kind', 'account_id', 'entry_id'],
    order_by='_source_file desc, _source_row desc',
    incremental_key=['tenant_id', 'statement_id'],
) }}
