-- Composite trading signals: one row per symbol, trading day and method. A change of weights or
-- thresholds is a new method, so it adds rows beside the old ones and never rewrites them.
-- `components` is the JSON the domain writes, kept as text verbatim: evidence keys keep their
-- order and numbers their exact text.
create table signals (
    method       text not null,   -- which computation (e.g. v1-f34f5ca0)
    symbol       text not null,
    day          text not null,   -- exchange-local trading day, YYYY-MM-DD
    score        real not null check (score between -1 and 1),
    label        text not null,   -- strong_sell | sell | neutral | buy | strong_buy
    components   text not null check (json_valid(components)),
    missing      text not null,   -- components left out for lack of data, comma-separated
    computed_at  text not null,   -- RFC 3339 UTC instant
    primary key (method, symbol, day)
) without rowid;
