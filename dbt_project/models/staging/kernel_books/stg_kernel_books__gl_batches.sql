-- One row per GL batch (tenant_id, batch_id); which batch of a period counts is decided in intermediate.
{{ kernel_books_staged(
    'gl_batches',
    [('tenant_id', string_type()), ('batch_id', string_type()), ('period', string_type()), ('basis', string_type()),
     ('generated_at', 'timestamp'), ('artifact_hash', string_type())],
    partition_by=['tenant_id', 'batch_id'],
    order_by='_source_file desc, _source_row desc',
    incremental_key=['tenant_id', 'batch_id'],
) }}
