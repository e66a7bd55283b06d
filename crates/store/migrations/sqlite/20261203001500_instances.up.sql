-- Running stockd processes and their latest heartbeat (GET /v1/system/instances).
create table instances (
    id          text not null primary key,   -- host, process id and a random part
    role        text not null,               -- all, or roles joined with +
    version     text not null,
    started_at  text not null,               -- RFC 3339 UTC instant
    last_seen   text not null
) without rowid;
create index instances_last_seen on instances (last_seen);
