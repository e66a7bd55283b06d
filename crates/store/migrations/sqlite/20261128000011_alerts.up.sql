-- Alert rules, what they fired, and the notifications each firing owes (the outbox), with every
-- delivery attempt. A rule's definition and its engine state are JSON documents owned by the
-- `alerts` crate: the store keeps them whole so the rule language can grow without migrations.
create table alert_rules (
    id          integer     primary key autoincrement,
    user_id     text        not null references users (id) on delete cascade,
    symbol      text        not null,
    definition  text        not null,                       -- JSON: kind, levels, frequency, channels
    state       text        not null,                       -- JSON: last price, peak, armed, cooldown
    status      text        not null check (status in ('active', 'paused', 'disarmed', 'expired')),
    created_at  text        not null,
    updated_at  text        not null
);
create index alert_rules_user on alert_rules (user_id);
create index alert_rules_active on alert_rules (symbol, status);

-- One row per firing; the dedupe key (rule + quote time) makes a re-evaluated tick a no-op.
create table alert_events (
    id               text        not null primary key,
    rule_id          integer     not null references alert_rules (id) on delete cascade,
    user_id          text        not null references users (id) on delete cascade,
    symbol           text        not null,
    price_e9         integer     not null,
    quote_at         text        not null,
    dedupe_key       text        not null unique,
    message          text        not null,
    created_at       text        not null,
    acknowledged_at  text       
);
create index alert_events_user on alert_events (user_id, created_at);

-- The outbox: one row per (event, channel), written in the same transaction as the event.
create table notifications (
    id                   text        not null primary key,
    event_id             text        not null references alert_events (id) on delete cascade,
    user_id              text        not null references users (id) on delete cascade,
    channel_id           text        not null references channels (id) on delete cascade,
    idempotency_key      text        not null unique,      -- event id + channel id
    payload              text        not null,             -- JSON sent to the channel
    status               text        not null check (status in ('pending', 'sending', 'delivered', 'failed')),
    attempts             integer     not null default 0,
    next_attempt_at      text        not null,
    lease_until          text       ,
    worker               text,
    last_error           text,
    provider_message_id  text,
    created_at           text        not null,
    updated_at           text        not null,
    delivered_at         text       
);
create index notifications_due on notifications (status, next_attempt_at);
create index notifications_user on notifications (user_id, created_at);

-- The delivery log: every attempt, whatever its outcome.
create table notification_attempts (
    notification_id      text        not null references notifications (id) on delete cascade,
    attempt              integer     not null,
    attempted_at         text        not null,
    outcome              text        not null,             -- delivered | retry | failed
    error                text,
    provider_message_id  text,
    primary key (notification_id, attempt)
);

-- Each symbol's last accepted price, the "previous price" of the next crossing check: kept so a
-- restart neither misses a crossing nor sees one that did not happen.
create table alert_last_quotes (
    symbol    text        not null primary key,
    price_e9  integer     not null,
    quote_at  text        not null
);
