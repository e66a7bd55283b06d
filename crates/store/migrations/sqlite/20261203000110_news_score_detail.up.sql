-- What a scorer said beside its number: its label (an LLM's own; the lexicon's from the score)
-- and how relevant the article is to each symbol it was asked about, as a JSON object
-- {"MSFT": 0.9, …} (one row per score stays one atomic insert, so "scored once" keeps resting
-- on the primary key alone). Scores stored before this migration have neither.
alter table news_scores add column label text;
alter table news_scores add column relevance text not null default '{}';
