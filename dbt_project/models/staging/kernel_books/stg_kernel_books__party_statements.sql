-- One row per party statement (tenant_id, statement_id).
{{ kernel_books_staged(
    'party_statements',
    [('tenant_id', string_type()), ('statement_id', string_type()), ('party_id', string_type()),
     ('party_role', string_type()), ('period', string_type()), ('statement_period', string_type()),
     ('basis', string_type()), ('generated_at', 'timestamp'), ('artifact_hash', string_type())],
    partition_by=['tenant_id', 'statement_id'],
    order_by='_source_file desc, _source_row desc',
    incremental_key=['tenant_id', 'statement_id'],
) }}
