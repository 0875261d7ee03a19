-- One row per posting (tenant_id, entry_id, posting_index); a posting delivered again collapses to the
-- later file and row (the ledger is append-only: a re-delivery is the same posting).
{{ kernel_books_staged(
    'ledger_postings',
    [('tenant_id', 'varchar'), ('entry_id', 'varchar'), ('posting_index', 'bigint'),
     ('posted_at', 'timestamp'), ('account_id', 'varchar'), ('party_id', 'varchar'),
     ('amount_cents', 'bigint'), ('currency', 'varchar'), ('memo', 'varchar')],
    partition_by=['tenant_id', 'entry_id', 'posting_index'],
    order_by='_source_file desc, _source_row desc',
) }}
