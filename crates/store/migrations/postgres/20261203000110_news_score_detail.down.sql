alter table news_scores drop column relevance;
alter table news_scores drop column label;
