-- The finance floor: every GL and escrow finding, by one hand-written DuckDB query straight over the
-- landing files (Parquet), independent of the dbt models; its rows are compared with injected.csv and with
-- marts.fct_finance_reconciliation_mismatches (tenant_id, period, provider_id, mismatch_type, mismatch_key).
with
postings as (select * from read_parquet($postings)),
batches as (select * from read_parquet($batches)),
lines as (select * from read_parquet($lines)),
statements as (select * from read_parquet($statements)),
statement_lines as (select * from read_parquet($statement_lines)),
held as (
    select * from read_parquet($held)
    qualify row_number() over (partition by tenant_id, period, currency order by generated_at desc, artifact_id desc) = 1
),
closes as (
    select * from read_parquet($closes)
    qualify row_number() over (partition by tenant_id, period order by updated_at desc) = 1
),
latest as (
    select * from batches
    qualify row_number() over (partition by tenant_id, period order by generated_at desc, batch_id desc) = 1
),
books as (
    select tenant_id, period from closes where status = 'closed'
    union select tenant_id, period from batches
    union select tenant_id, period from statements
),
per_period as (
    select b.tenant_id, b.period, l.batch_id, l.basis, l.artifact_hash,
        coalesce(n.n_statements, 0) as n_statements,
        coalesce(c.status = 'closed', false) as closed
    from books b
    left join latest l using (tenant_id, period)
    left join closes c using (tenant_id, period)
    left join (select tenant_id, period, count(*) as n_statements from statements group by all) n using (tenant_id, period)
),
latest_lines as (select x.*, p.period as p_period from lines x join per_period p using (tenant_id, batch_id)),
digests as (
    select tenant_id, batch_id, sha256(
        count(*)::varchar
        || '|' || sum(('0x' || substr(h, 1, 8))::bigint)::bigint::varchar
        || '|' || sum(('0x' || substr(h, 9, 8))::bigint)::bigint::varchar
        || '|' || sum(('0x' || substr(h, 17, 8))::bigint)::bigint::varchar
        || '|' || sum(('0x' || substr(h, 25, 8))::bigint)::bigint::varchar) as digest
    from (select tenant_id, batch_id, md5(concat_ws(chr(31), party_id, account_id, entry_id, amount_cents::varchar)) as h
          from latest_lines)
    group by all
),
both_sides as (select * from per_period where batch_id is not null and n_statements > 0),
st_lines as (
    select s.tenant_id, s.period, s.party_id, x.line_kind, x.account_id, x.entry_id, x.amount_cents
    from statement_lines x join statements s using (tenant_id, statement_id)
    semi join both_sides b on b.tenant_id = s.tenant_id and b.period = s.period
),
gl_totals as (
    select tenant_id, p_period as period, party_id, account_id, sum(amount_cents) as cents
    from latest_lines l semi join both_sides b using (tenant_id, batch_id) group by all
),
st_totals as (select tenant_id, period, party_id, account_id, sum(amount_cents) as cents from st_lines where line_kind = 'total' group by all),
gl_entry_set as (select distinct l.tenant_id, l.p_period as period, l.entry_id from latest_lines l
                 semi join both_sides b on b.tenant_id = l.tenant_id and b.batch_id = l.batch_id),
st_entry_set as (select distinct tenant_id, period, entry_id from st_lines where line_kind = 'entry'),
esc as (
    select tenant_id, currency, strftime(posted_at::timestamp, '%Y-%m') as month, amount_cents as a, coalesce(memo, '') as memo
    from postings where account_id like '%:escrow_locked'
),
esc_periods as (
    select tenant_id, period from closes union select tenant_id, period from held
    union select tenant_id, strftime(posted_at::timestamp, '%Y-%m') from postings
),
esc_keys as (
    select distinct p.tenant_id, p.period, e.currency from esc_periods p join esc e on e.tenant_id = p.tenant_id and e.month <= p.period
    union select tenant_id, period, currency from held
),
ledger as (
    select k.tenant_id, k.period, k.currency,
        coalesce(sum(a) filter (where month < k.period), 0) as opening,
        coalesce(sum(a) filter (where month = k.period and a > 0 and memo like 'escrow:hold:%'), 0) as new_locks,
        coalesce(-sum(a) filter (where month = k.period and a < 0 and memo like 'escrow:release:%'), 0) as releases,
        coalesce(-sum(a) filter (where month = k.period and a < 0 and memo like 'escrow:forfeit:%'), 0) as forfeits,
        count(*) filter (where month = k.period and a <> 0 and not (
            (a > 0 and memo like 'escrow:hold:%') or (a < 0 and (memo like 'escrow:release:%' or memo like 'escrow:forfeit:%')))) as unknown,
        coalesce(sum(a) filter (where month <= k.period), 0) as ending
    from esc_keys k left join esc e on e.tenant_id = k.tenant_id and e.currency = k.currency and e.month <= k.period
    group by all
),
net as (
    select l.*, h.artifact_id is not null as has_held, h.opening_cents, h.new_holds_cents, h.released_cents,
        h.forfeited_cents, h.ending_cents
    from ledger l
    join closes c on c.tenant_id = l.tenant_id and c.period = l.period and c.status = 'closed'
    left join held h on h.tenant_id = l.tenant_id and h.period = l.period and h.currency = l.currency
),
found as (
    select tenant_id, period, 'gl_batch_missing' as t, period as k from per_period where batch_id is null and (closed or n_statements > 0)
    union all select tenant_id, period, 'statements_missing', batch_id from per_period where batch_id is not null and n_statements = 0
    union all select tenant_id, p_period, 'gl_not_zero_sum', batch_id || '|' || currency from latest_lines group by all having sum(amount_cents) <> 0
    union all select p.tenant_id, p.period, 'gl_hash_mismatch', p.batch_id from per_period p left join digests d using (tenant_id, batch_id)
        where p.batch_id is not null and d.digest is distinct from p.artifact_hash
    union all select s.tenant_id, s.period, 'statement_period_mismatch', s.statement_id from statements s join both_sides b using (tenant_id, period)
        where s.statement_period <> s.period
    union all select s.tenant_id, s.period, 'statement_basis_mismatch', s.statement_id from statements s join both_sides b using (tenant_id, period)
        where s.basis <> b.basis
    union all select coalesce(g.tenant_id, s.tenant_id), coalesce(g.period, s.period), 'totals_mismatch',
            coalesce(g.party_id, s.party_id) || '|' || coalesce(g.account_id, s.account_id)
        from gl_totals g full join st_totals s using (tenant_id, period, party_id, account_id)
        where coalesce(g.cents, 0) <> coalesce(s.cents, 0)
    union all select tenant_id, period, 'entry_ids_mismatch', entry_id
        from ((from gl_entry_set except from st_entry_set) union all (from st_entry_set except from gl_entry_set))
    union all select tenant_id, period, 'held_rollforward_missing', currency from net
        where not has_held and (opening <> 0 or new_locks <> 0 or releases <> 0 or forfeits <> 0 or ending <> 0 or unknown > 0)
    union all select tenant_id, period, 'ledger_escrow_rollforward_invalid', currency from net where opening + new_locks - releases - forfeits <> ending
    union all select tenant_id, period, 'held_rollforward_invalid', currency from net
        where has_held and opening_cents + new_holds_cents - released_cents - forfeited_cents <> ending_cents
    union all select tenant_id, period, 'held_rollforward_ledger_mismatch', currency from net
        where has_held and (opening_cents, new_holds_cents, released_cents, forfeited_cents, ending_cents) <> (opening, new_locks, releases, forfeits, ending)
    union all select tenant_id, period, 'ledger_unclassified_escrow_adjustment', currency from net where unknown > 0
)
select tenant_id, period, 'settlement_kernel' as provider_id, t as mismatch_type, k as mismatch_key from found
