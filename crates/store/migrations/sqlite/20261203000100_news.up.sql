-- News articles, stored once per canonical URL (tracking parameters and fragments dropped by
-- the domain's `canonical_url`), the symbols each concerns, each source's own sentiment, each
-- source's cursor per symbol, and sentiment scores written once per (article, scorer, model,
-- prompt version). Times are RFC 3339 UTC text, which sorts as the times do.
create table news_articles (
    id             integer primary key,        -- the rowid, also the FTS5 table's
    url            text    not null unique,    -- canonical URL: the article's key
    title          text    not null,
    summary        text    not null,
    publisher      text,
    provider       text    not null,           -- the source that delivered it first
    published_at   text    not null,
    first_seen_at  text    not null,
    simulated      integer not null check (simulated in (0, 1))
);
create index news_articles_newest on news_articles (published_at desc, id desc);

-- One row per article and symbol; `published_at` is the article's, copied so a symbol's
-- newest-first page is one index range.
create table news_article_symbols (
    article_id    integer not null references news_articles (id) on delete cascade,
    symbol        text    not null,
    published_at  text    not null,
    primary key (article_id, symbol)
) without rowid;
create index news_article_symbols_newest
    on news_article_symbols (symbol, published_at desc, article_id desc);

-- A source's own reading of an article for one symbol (Alpha Vantage's ticker sentiment,
-- Polygon's insights): a second opinion beside stockd's scores, the latest per source.
create table news_provider_sentiment (
    article_id  integer not null references news_articles (id) on delete cascade,
    symbol      text    not null,
    provider    text    not null,
    score       real,
    label       text,
    relevance   real,
    reasoning   text,
    primary key (article_id, symbol, provider)
) without rowid;

-- The newest article each source delivered for each symbol; it only moves forward.
create table news_cursors (
    provider      text not null,
    symbol        text not null,
    published_at  text not null,
    url           text not null,
    primary key (provider, symbol)
) without rowid;

-- One score per article and (scorer, model, prompt version): the primary key is what keeps a
-- restart, a second replica or a retry from scoring an article twice.
create table news_scores (
    article_id      integer not null references news_articles (id) on delete cascade,
    scorer          text    not null,
    model           text    not null,
    prompt_version  text    not null,
    score           real    not null check (score between -1 and 1),
    rationale       text,
    scored_at       text    not null,
    primary key (article_id, scorer, model, prompt_version)
) without rowid;
create index news_scores_by_key on news_scores (scorer, model, prompt_version, article_id);

-- Full-text search over title and summary: an external-content FTS5 table (the text lives
-- once, in news_articles), Porter-stemmed, kept in step by the triggers below.
create virtual table news_fts using fts5(
    title, summary, content = 'news_articles', content_rowid = 'id',
    tokenize = 'porter unicode61'
);
create trigger news_articles_fts_insert after insert on news_articles begin
    insert into news_fts (rowid, title, summary) values (new.id, new.title, new.summary);
end;
create trigger news_articles_fts_delete after delete on news_articles begin
    insert into news_fts (news_fts, rowid, title, summary)
        values ('delete', old.id, old.title, old.summary);
end;
create trigger news_articles_fts_update after update of title, summary on news_articles begin
    insert into news_fts (news_fts, rowid, title, summary)
        values ('delete', old.id, old.title, old.summary);
    insert into news_fts (rowid, title, summary) values (new.id, new.title, new.summary);
end;
