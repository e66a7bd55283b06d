-- Calls made to each upstream provider in the current UTC minute and UTC day, so quota
-- accounting survives a restart and replicas sharing the database see each other's spending.
-- One row per provider: a call in a newer window resets that window's count.
create table provider_usage (
    provider      text    not null primary key,
    minute_start  text    not null,         -- RFC 3339 UTC instant: the minute counted
    minute_calls  integer not null,
    day           text    not null,         -- YYYY-MM-DD: the UTC day counted
    day_calls     integer not null
) without rowid;
