-- One row per GL batch (tenant_id, batch_id); which batch of a period counts is decided in intermediate.
{{ kernel_books_staged(
    'gl_batches',
    [('tenant_id', 'varchar'), ('batch_id', 'varchar'), ('period', 'varchar'), ('basis', 'varchar'),
     ('generated_at', 'timestamp'), ('artifact_hash', 'varchar')],
    partition_by=['tenant_id', 'batch_id'],
    order_by='_source_file desc, _source_row desc',
) }}
