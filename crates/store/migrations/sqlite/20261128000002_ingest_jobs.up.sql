-- The ingestion job queue: one row per batch of symbols to fetch (or partitions to archive).
-- Workers claim a row inside `begin immediate` (SQLite has one writer, so a claim can never race
-- another), hold it under a lease they renew, and record the outcome on the same row.
create table ingest_jobs (
    id            integer primary key autoincrement,
    dedupe_key    text    not null unique,   -- the same work enqueued twice is one job
    kind          text    not null,          -- daily | backfill | archive
    run_group     text    not null,          -- jobs enqueued together (a session day, a backfill)
    symbols       text    not null,          -- comma-separated; on a retry, only those left to do
    from_date     text,                      -- YYYY-MM-DD, inclusive; null = the provider's start
    to_date       text,                      -- YYYY-MM-DD, inclusive; null = latest
    status        text    not null,          -- queued | running | succeeded | failed
    attempts      integer not null default 0,
    max_attempts  integer not null,
    run_at        text    not null,          -- not claimed before this instant (retry backoff)
    lease_until   text,                      -- a running job whose lease passed is reclaimed
    worker        text,
    last_error    text,
    bars_changed  integer not null default 0,
    created_at    text    not null,
    updated_at    text    not null,
    finished_at   text
);

create index ingest_jobs_claimable on ingest_jobs (status, run_at);
create index ingest_jobs_group on ingest_jobs (run_group);
