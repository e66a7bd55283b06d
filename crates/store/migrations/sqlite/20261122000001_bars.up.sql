-- Daily bars, one row per (symbol, trading day). Prices are exact fixed-point integers at 1e-9
-- (the `_e9` suffix), so comparisons and sums in SQL are exact.
create table bars (
    symbol        text    not null,
    date          text    not null,          -- exchange-local trading day, YYYY-MM-DD
    open_e9       integer not null,
    high_e9       integer not null,
    low_e9        integer not null,
    close_e9      integer not null,
    volume        integer not null,
    adj_close_e9  integer,
    source        text    not null,          -- provider the bar came from
    fetched_at    text    not null,          -- RFC 3339 UTC instant of the fetch
    primary key (symbol, date)
) without rowid;

-- The last successful fetch per symbol: what makes "fresh enough, do not refetch" survive a restart.
create table symbol_fetches (
    symbol      text not null primary key,
    source      text not null,
    fetched_at  text not null,
    bar_count   integer not null
) without rowid;
