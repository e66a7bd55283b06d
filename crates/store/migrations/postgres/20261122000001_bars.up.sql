-- Daily bars, one row per (symbol, trading day). Prices are exact fixed-point integers at 1e-9
-- (the `_e9` suffix), so comparisons and sums in SQL are exact.
create table bars (
    symbol        text        not null,
    date          date        not null,     -- exchange-local trading day
    open_e9       bigint      not null,
    high_e9       bigint      not null,
    low_e9        bigint      not null,
    close_e9      bigint      not null,
    volume        bigint      not null,
    adj_close_e9  bigint,
    source        text        not null,     -- provider the bar came from
    fetched_at    timestamptz not null,     -- instant of the fetch (microsecond precision)
    primary key (symbol, date)
);

-- The last successful fetch per symbol: what makes "fresh enough, do not refetch" survive a restart.
create table symbol_fetches (
    symbol      text        not null primary key,
    source      text        not null,
    fetched_at  timestamptz not null,
    bar_count   bigint      not null
);
