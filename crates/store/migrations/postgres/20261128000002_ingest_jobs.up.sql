-- The ingestion job queue: one row per batch of symbols to fetch (or partitions to archive).
-- Workers claim a row with `for update skip locked`, hold it under a lease they renew, and record
-- the outcome on the same row.
create table ingest_jobs (
    id            bigint generated always as identity primary key,
    dedupe_key    text        not null unique,   -- the same work enqueued twice is one job
    kind          text        not null,          -- daily | backfill | archive
    run_group     text        not null,          -- jobs enqueued together (a session, a backfill)
    symbols       text        not null,          -- comma-separated; on a retry, those left to do
    from_date     date,                          -- inclusive; null = the provider's start
    to_date       date,                          -- inclusive; null = latest
    status        text        not null check (status in ('queued', 'running', 'succeeded', 'failed')),
    attempts      integer     not null default 0,
    max_attempts  integer     not null,
    run_at        timestamptz not null,          -- not claimed before this instant (backoff)
    lease_until   timestamptz,                   -- a running job whose lease passed is reclaimed
    worker        text,
    last_error    text,
    bars_changed  bigint      not null default 0,
    created_at    timestamptz not null,
    updated_at    timestamptz not null,
    finished_at   timestamptz
);

create index ingest_jobs_claimable on ingest_jobs (status, run_at);
create index ingest_jobs_group on ingest_jobs (run_group);
