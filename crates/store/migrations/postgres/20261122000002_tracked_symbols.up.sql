-- The global list of symbols that ingestion keeps fresh.
create table tracked_symbols (
    symbol    text        not null primary key,
    added_at  timestamptz not null
);
