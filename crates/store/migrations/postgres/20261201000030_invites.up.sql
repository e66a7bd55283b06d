-- Single-use invitation codes for invite-only sign-up. Only the SHA-256 of a code is stored;
-- `used_at` is set once, by the registration that spends the code.
create table invites (
    id          text        not null primary key,       -- UUID v7
    code_hash   text        not null unique,            -- hex SHA-256 of the code
    note        text,
    created_by  text        references users (id) on delete set null,  -- null: the operator
    created_at  timestamptz not null,
    expires_at  timestamptz not null,
    used_at     timestamptz,
    used_by     text        references users (id) on delete set null
);
