-- A provider that answered "my own limit is reached" (Alpha Vantage's 25 requests a day) is not
-- called again until that limit resets. One row per provider: the latest pause, kept so that a
-- restart, or another replica on this database, does not call it again meanwhile.
create table provider_pauses (
    provider      text not null primary key,
    paused_until  text not null,  -- RFC 3339 UTC instant, whole seconds: when the limit resets
    rate_limit    text not null,  -- which limit: per_day, per_minute, per_second, unstated
    detail        text not null,  -- the provider's own words (never a key)
    paused_at     text not null   -- RFC 3339 UTC instant of the answer
) without rowid;
