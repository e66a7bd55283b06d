-- News articles, stored once per canonical URL (tracking parameters and fragments dropped by
-- the domain's `canonical_url`), the symbols each concerns, each source's own sentiment, each
-- source's cursor per symbol, and sentiment scores written once per (article, scorer, model,
-- prompt version).
create table news_articles (
    id             bigint      generated always as identity primary key,
    url            text        not null unique,   -- canonical URL: the article's key
    title          text        not null,
    summary        text        not null,
    publisher      text,
    provider       text        not null,          -- the source that delivered it first
    published_at   timestamptz not null,
    first_seen_at  timestamptz not null,
    simulated      boolean     not null,
    -- Full-text search over title and summary (English stemming and stop words).
    search         tsvector    generated always as
        (to_tsvector('english', title || ' ' || summary)) stored
);
create index news_articles_newest on news_articles (published_at desc, id desc);
create index news_articles_search on news_articles using gin (search);

-- One row per article and symbol; `published_at` is the article's, copied so a symbol's
-- newest-first page is one index range.
create table news_article_symbols (
    article_id    bigint      not null references news_articles (id) on delete cascade,
    symbol        text        not null,
    published_at  timestamptz not null,
    primary key (article_id, symbol)
);
create index news_article_symbols_newest
    on news_article_symbols (symbol, published_at desc, article_id desc);

-- A source's own reading of an article for one symbol (Alpha Vantage's ticker sentiment,
-- Polygon's insights): a second opinion beside stockd's scores, the latest per source.
create table news_provider_sentiment (
    article_id  bigint           not null references news_articles (id) on delete cascade,
    symbol      text             not null,
    provider    text             not null,
    score       double precision,
    label       text,
    relevance   double precision,
    reasoning   text,
    primary key (article_id, symbol, provider)
);

-- The newest article each source delivered for each symbol; it only moves forward.
create table news_cursors (
    provider      text        not null,
    symbol        text        not null,
    published_at  timestamptz not null,
    url           text        not null,
    primary key (provider, symbol)
);

-- One score per article and (scorer, model, prompt version): the primary key is what keeps a
-- restart, a second replica or a retry from scoring an article twice.
create table news_scores (
    article_id      bigint           not null references news_articles (id) on delete cascade,
    scorer          text             not null,
    model           text             not null,
    prompt_version  text             not null,
    score           double precision not null check (score between -1 and 1),
    rationale       text,
    scored_at       timestamptz      not null,
    primary key (article_id, scorer, model, prompt_version)
);
create index news_scores_by_key on news_scores (scorer, model, prompt_version, article_id);
