-- One row per party statement (tenant_id, statement_id).
{{ kernel_books_staged(
    'party_statements',
    [('tenant_id', 'varchar'), ('statement_id', 'varchar'), ('party_id', 'varchar'),
     ('party_role', 'varchar'), ('period', 'varchar'), ('statement_period', 'varchar'),
     ('basis', 'varchar'), ('generated_at', 'timestamp'), ('artifact_hash', 'varchar')],
    partition_by=['tenant_id', 'statement_id'],
    order_by='_source_file desc, _source_row desc',
) }}
