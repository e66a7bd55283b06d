drop table news_scores;
drop table news_cursors;
drop table news_provider_sentiment;
drop table news_article_symbols;
drop table news_articles;
