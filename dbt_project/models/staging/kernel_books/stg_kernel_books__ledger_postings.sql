-- One row per posting (tenant_id, entry_id, posting_index); a posting delivered again collapses to the
-- later file and row (the ledger is append-only: a re-delivery is the same posting).
{{ kernel_books_staged(
    'ledger_postings',
    [('tenant_id', string_type()), ('entry_id', string_type()), ('posting_index', 'bigint'),
     ('posted_at', 'timestamp'), ('account_id', string_type()), ('party_id', string_type()),
     ('amount_cents', 'bigint'), ('currency', string_type()), ('memo', string_type())],
    partition_by=['tenant_id', 'entry_id', 'posting_index'],
    order_by='_source_file desc, _source_row desc',
    incremental_key=['tenant_id', 'entry_id'],
) }}
