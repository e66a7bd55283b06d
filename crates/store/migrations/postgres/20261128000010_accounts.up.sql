-- Users and what hangs off them. Every child table refers to users with ON DELETE CASCADE, so
-- deleting a user removes their data, and later tables (alerts, deliveries) can do the same.
create table users (
    id             text        not null primary key,   -- UUID v7
    email          text        not null,               -- stored lowercased
    display_name   text,
    password_hash  text        not null,               -- argon2id PHC string
    is_admin       boolean     not null default false,
    created_at     timestamptz not null,
    updated_at     timestamptz not null
);
create unique index users_email on users (lower(email));

-- Session and API tokens: only the SHA-256 of the token is stored.
create table auth_tokens (
    id            text        not null primary key,
    user_id       text        not null references users (id) on delete cascade,
    kind          text        not null check (kind in ('session', 'api')),
    name          text,
    token_hash    text        not null unique,          -- hex SHA-256 of the token
    created_at    timestamptz not null,
    expires_at    timestamptz,                          -- null: until revoked
    last_used_at  timestamptz
);
create index auth_tokens_user on auth_tokens (user_id, kind);

create table watchlist (
    user_id   text        not null references users (id) on delete cascade,
    symbol    text        not null,
    added_at  timestamptz not null,
    primary key (user_id, symbol)
);
create index watchlist_symbol on watchlist (symbol);

-- Notification channels. `secret` is the webhook signing secret, kept as given so the
-- dispatcher can sign; the API never returns it after creation.
create table channels (
    id          text        not null primary key,
    user_id     text        not null references users (id) on delete cascade,
    kind        text        not null check (kind in ('webhook', 'email', 'sms')),
    target      text        not null,                   -- URL, address or E.164 number
    secret      text,
    format      text,                                   -- webhook body format
    created_at  timestamptz not null
);
create index channels_user on channels (user_id);
