-- Composite trading signals: one row per symbol, trading day and method. A change of weights or
-- thresholds is a new method, so it adds rows beside the old ones and never rewrites them.
-- `components` is the JSON the domain writes, kept as text verbatim (jsonb would reorder the
-- evidence keys); the check refuses anything that is not a JSON array.
create table signals (
    method       text             not null,   -- which computation (e.g. v1-f34f5ca0)
    symbol       text             not null,
    day          date             not null,   -- exchange-local trading day
    score        double precision not null check (score between -1 and 1),
    label        text             not null
        check (label in ('strong_sell', 'sell', 'neutral', 'buy', 'strong_buy')),
    components   text             not null check (json_typeof(components::json) = 'array'),
    missing      text             not null,   -- components left out, comma-separated
    computed_at  timestamptz      not null,
    primary key (method, symbol, day)
);
