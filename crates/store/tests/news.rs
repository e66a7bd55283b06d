//! Stored news on every backend: an article is stored once per canonical URL however it is
//! delivered, links every symbol it concerns, cursors only move forward, full-text search finds
//! words of the title or summary, a score key is taken exactly once even under concurrent
//! writers, the unscored queue and every read are bounded and paged newest first.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use common::backends;
use domain::news::{NewsItem, ProviderSentiment, canonical_url};
use domain::{SignalScore, Symbol};
use store::{
    ArticleId, ArticleScore, MAX_NEWS_PER_READ, NewArticle, NewsCursor, NewsPage, NewsQuery,
    ScoreKey, Store, StoredArticle, SymbolRelevance,
};

fn sym(text: &str) -> Symbol {
    Symbol::parse(text).unwrap()
}

/// 2026-11-30 14:00 UTC plus `minutes`, with microseconds (what PostgreSQL keeps).
fn at(minutes: i64) -> DateTime<Utc> {
    "2026-11-30T14:00:00.123456Z"
        .parse::<DateTime<Utc>>()
        .unwrap()
        + Duration::minutes(minutes)
}

fn item(url: &str, title: &str, summary: &str, minutes: i64, symbols: &[&str]) -> NewsItem {
    NewsItem {
        title: title.into(),
        url: url.into(),
        publisher: Some("Example Wire".into()),
        published_at: at(minutes),
        summary: summary.into(),
        symbols: symbols.iter().map(|s| sym(s)).collect(),
        provider: "finnhub".into(),
        provider_sentiment: Vec::new(),
        simulated: false,
    }
}

fn article(item: NewsItem) -> NewArticle {
    NewArticle::new(item).unwrap()
}

fn key(prompt_version: &str) -> ScoreKey {
    ScoreKey {
        scorer: "llm".into(),
        model: "small-1".into(),
        prompt_version: prompt_version.into(),
    }
}

fn score(article: ArticleId, key: &ScoreKey, value: f64) -> ArticleScore {
    ArticleScore {
        article,
        key: key.clone(),
        score: SignalScore::new(value).unwrap(),
        label: Some(if value > 0.0 { "bullish" } else { "bearish" }.into()),
        relevance: Vec::new(),
        rationale: Some(format!("reason {value}")),
        scored_at: at(600),
    }
}

/// An article's title, its score and the sources' (symbol, score) readings.
type SentimentSeen<'a> = (&'a str, Option<f64>, Vec<(&'a str, Option<f64>)>);

fn titles(articles: &[StoredArticle]) -> Vec<&str> {
    articles.iter().map(|a| a.title.as_str()).collect()
}

/// Stores `count` articles about `symbol`, one a minute, titled `t0`, `t1`, ….
async fn store_many(store: &Arc<dyn Store>, symbol: &str, count: i64) -> Vec<ArticleId> {
    let batch: Vec<NewArticle> = (0..count)
        .map(|i| {
            article(item(
                &format!("https://example.com/{symbol}/{i}"),
                &format!("t{i}"),
                "",
                i,
                &[symbol],
            ))
        })
        .collect();
    let inserted = store.insert_articles(&batch, at(1_000)).await.unwrap();
    inserted.iter().map(|i| i.id).collect()
}

#[tokio::test]
async fn an_article_is_stored_once_whatever_tracking_parameters_its_url_carries() {
    for (_keep, store) in backends().await {
        let backend = store.backend();
        let first = article(item(
            "https://News.Example.com/msft-beats?id=7&utm_source=rss#top",
            "Microsoft beats estimates",
            "Cloud revenue grew.",
            0,
            &["MSFT"],
        ));
        let again = article(NewsItem {
            title: "A later rewrite of the headline".into(),
            ..item(
                "HTTPS://news.example.com/msft-beats?fbclid=x&id=7&utm_medium=email",
                "",
                "",
                5,
                &["MSFT"],
            )
        });
        let inserted = store
            .insert_articles(std::slice::from_ref(&first), at(1))
            .await
            .unwrap();
        assert!(inserted[0].new, "{backend}");
        assert_eq!(inserted[0].linked, [sym("MSFT")], "{backend}");
        let second = store.insert_articles(&[again], at(2)).await.unwrap();
        assert_eq!(second[0].id, inserted[0].id, "{backend}");
        assert!(!second[0].new, "{backend}");
        assert!(second[0].linked.is_empty(), "{backend}");

        let stored = store
            .symbol_news(sym("MSFT"), None, NewsPage::first(10))
            .await
            .unwrap();
        assert_eq!(stored.len(), 1, "{backend}: stored once");
        let stored = &stored[0];
        assert_eq!(
            stored.url.as_str(),
            "https://news.example.com/msft-beats?id=7"
        );
        assert_eq!(stored.title, "Microsoft beats estimates", "{backend}");
        assert_eq!(
            stored.published_at,
            at(0),
            "{backend}: the first delivery's"
        );
        assert_eq!(stored.first_seen_at, at(1), "{backend}");
        assert_eq!(stored.publisher.as_deref(), Some("Example Wire"));
        assert_eq!(stored.provider, "finnhub");
        assert!(!stored.simulated);
    }
}

#[tokio::test]
async fn one_article_concerns_every_symbol_any_delivery_named() {
    for (_keep, store) in backends().await {
        let backend = store.backend();
        let url = "https://example.com/chips";
        let by_one = article(item(url, "Chip deal", "", 0, &["NVDA", "AMD"]));
        let by_other = article(NewsItem {
            provider: "polygon".into(),
            ..item(url, "Chip deal", "", 0, &["INTC", "NVDA"])
        });
        // Both deliveries in one batch, as a source that pages twice over one article would.
        let inserted = store
            .insert_articles(&[by_one, by_other], at(1))
            .await
            .unwrap();
        assert_eq!(inserted[0].id, inserted[1].id, "{backend}");
        assert_eq!(
            (inserted[0].new, inserted[1].new),
            (true, false),
            "{backend}"
        );
        assert_eq!(inserted[0].linked, [sym("AMD"), sym("NVDA")], "{backend}");
        assert_eq!(inserted[1].linked, [sym("INTC")], "{backend}");
        for symbol in ["NVDA", "AMD", "INTC"] {
            let news = store
                .symbol_news(sym(symbol), None, NewsPage::first(10))
                .await
                .unwrap();
            assert_eq!(news.len(), 1, "{backend} {symbol}");
            assert_eq!(
                news[0].symbols,
                [sym("AMD"), sym("INTC"), sym("NVDA")],
                "{backend}"
            );
        }
        let none = store
            .symbol_news(sym("MSFT"), None, NewsPage::first(10))
            .await
            .unwrap();
        assert!(none.is_empty(), "{backend}");
    }
}

#[tokio::test]
async fn each_sources_own_sentiment_is_kept_per_article_and_symbol() {
    for (_keep, store) in backends().await {
        let backend = store.backend();
        let opinion = |symbol: &str, score: f64, label: &str| ProviderSentiment {
            symbol: sym(symbol),
            score: Some(score),
            label: Some(label.into()),
            relevance: Some(0.5),
            reasoning: None,
        };
        let url = "https://example.com/ab";
        let alpha = NewsItem {
            provider: "alphavantage".into(),
            provider_sentiment: vec![opinion("AAPL", 0.3, "Somewhat-Bullish")],
            ..item(url, "Apple and Boeing", "", 0, &["AAPL", "BA"])
        };
        let polygon = NewsItem {
            provider: "polygon".into(),
            provider_sentiment: vec![ProviderSentiment {
                reasoning: Some("supply worries".into()),
                ..opinion("BA", -0.5, "negative")
            }],
            ..item(url, "Apple and Boeing", "", 0, &["BA"])
        };
        let id = store
            .insert_articles(&[article(alpha.clone())], at(1))
            .await
            .unwrap()[0]
            .id;
        // A later reading by the same source replaces its earlier one.
        let mut revised = alpha;
        revised.provider_sentiment = vec![opinion("AAPL", 0.4, "Bullish")];
        store
            .insert_articles(&[article(revised), article(polygon)], at(2))
            .await
            .unwrap();
        let stored = store.provider_sentiment(&[id]).await.unwrap();
        let seen: Vec<(&str, &str, Option<f64>, Option<&str>)> = stored
            .iter()
            .map(|o| {
                (
                    o.sentiment.symbol.as_str(),
                    o.provider.as_str(),
                    o.sentiment.score,
                    o.sentiment.reasoning.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("AAPL", "alphavantage", Some(0.4), None),
                ("BA", "polygon", Some(-0.5), Some("supply worries")),
            ],
            "{backend}"
        );
    }
}

#[tokio::test]
async fn a_sources_cursor_only_moves_forward() {
    for (_keep, store) in backends().await {
        let backend = store.backend();
        let cursor = |minutes: i64, path: &str| NewsCursor {
            provider: "finnhub".into(),
            symbol: sym("MSFT"),
            published_at: at(minutes),
            url: canonical_url(&format!("https://example.com/{path}")).unwrap(),
        };
        assert_eq!(
            store.news_cursor("finnhub", sym("MSFT")).await.unwrap(),
            None
        );
        assert!(store.advance_news_cursor(&cursor(10, "b")).await.unwrap());
        assert!(
            !store.advance_news_cursor(&cursor(5, "a")).await.unwrap(),
            "{backend}: an older article does not move it back"
        );
        assert!(
            !store.advance_news_cursor(&cursor(10, "c")).await.unwrap(),
            "{backend}: nor does one as old"
        );
        assert_eq!(
            store.news_cursor("finnhub", sym("MSFT")).await.unwrap(),
            Some(cursor(10, "b")),
            "{backend}"
        );
        assert!(store.advance_news_cursor(&cursor(11, "d")).await.unwrap());
        assert_eq!(
            store.news_cursor("finnhub", sym("MSFT")).await.unwrap(),
            Some(cursor(11, "d")),
            "{backend}"
        );
        // Cursors are per source and symbol.
        assert_eq!(
            store.news_cursor("polygon", sym("MSFT")).await.unwrap(),
            None
        );
        assert_eq!(
            store.news_cursor("finnhub", sym("AAPL")).await.unwrap(),
            None
        );
    }
}

#[tokio::test]
async fn text_search_finds_words_of_the_title_or_summary_of_the_symbols_asked() {
    for (_keep, store) in backends().await {
        let backend = store.backend();
        store
            .insert_articles(
                &[
                    article(item(
                        "https://example.com/1",
                        "Microsoft widens cloud lead",
                        "Azure revenue grew again.",
                        0,
                        &["MSFT"],
                    )),
                    article(item(
                        "https://example.com/2",
                        "Quarterly results",
                        "Revenue from Azure and gaming beat forecasts.",
                        1,
                        &["MSFT"],
                    )),
                    article(item(
                        "https://example.com/3",
                        "Amazon cloud outage",
                        "Customers of AWS saw errors; Azure unaffected.",
                        2,
                        &["AMZN"],
                    )),
                ],
                at(10),
            )
            .await
            .unwrap();
        let search = |symbols: &[&str], text: &str| NewsQuery {
            symbols: symbols.iter().map(|s| sym(s)).collect(),
            text: Some(text.into()),
            from: None,
        };
        let page = NewsPage::first(10);
        let found = store
            .search_news(&search(&[], "azure"), page)
            .await
            .unwrap();
        assert_eq!(
            titles(&found),
            [
                "Amazon cloud outage",
                "Quarterly results",
                "Microsoft widens cloud lead"
            ],
            "{backend}: newest first, in summaries as in titles"
        );
        let found = store
            .search_news(&search(&["MSFT"], "Azure"), page)
            .await
            .unwrap();
        assert_eq!(
            titles(&found),
            ["Quarterly results", "Microsoft widens cloud lead"],
            "{backend}: not another symbol's"
        );
        let found = store
            .search_news(&search(&["MSFT", "AMZN"], "cloud"), page)
            .await
            .unwrap();
        assert_eq!(
            titles(&found),
            ["Amazon cloud outage", "Microsoft widens cloud lead"],
            "{backend}: a word in the title"
        );
        let found = store
            .search_news(&search(&[], "azure gaming"), page)
            .await
            .unwrap();
        assert_eq!(
            titles(&found),
            ["Quarterly results"],
            "{backend}: every word"
        );
        let found = store
            .search_news(&search(&["MSFT"], "outage"), page)
            .await
            .unwrap();
        assert!(found.is_empty(), "{backend}");
        // Query syntax of either backend is only words.
        let found = store
            .search_news(&search(&[], "\"outage\" OR* -(NEAR"), page)
            .await
            .unwrap();
        assert!(
            found.is_empty(),
            "{backend}: 'or' and 'near' are words here"
        );
        let found = store
            .search_news(&search(&[], "  \"*\" !!"), page)
            .await
            .unwrap();
        assert!(found.is_empty(), "{backend}: no word matches nothing");
        // From and symbols without text.
        let recent = NewsQuery {
            symbols: vec![sym("MSFT")],
            text: None,
            from: Some(at(1)),
        };
        let found = store.search_news(&recent, page).await.unwrap();
        assert_eq!(titles(&found), ["Quarterly results"], "{backend}");
        let all = store
            .search_news(&NewsQuery::default(), page)
            .await
            .unwrap();
        assert_eq!(all.len(), 3, "{backend}");
    }
}

#[tokio::test]
async fn reads_are_paged_newest_first_without_gaps_or_repeats() {
    for (_keep, store) in backends().await {
        let backend = store.backend();
        store_many(&store, "IBM", 7).await;
        // Two articles published at the same instant: the id breaks the tie.
        store
            .insert_articles(
                &[
                    article(item("https://example.com/tie-a", "tie-a", "", 3, &["IBM"])),
                    article(item("https://example.com/tie-b", "tie-b", "", 3, &["IBM"])),
                ],
                at(1_000),
            )
            .await
            .unwrap();
        let mut symbol_pages = Vec::new();
        let mut search_pages = Vec::new();
        let (mut before, mut search_before) = (None, None);
        loop {
            let page = store
                .symbol_news(sym("IBM"), None, NewsPage { before, limit: 3 })
                .await
                .unwrap();
            let searched = store
                .search_news(
                    &NewsQuery {
                        symbols: vec![sym("IBM")],
                        ..NewsQuery::default()
                    },
                    NewsPage {
                        before: search_before,
                        limit: 3,
                    },
                )
                .await
                .unwrap();
            assert!(page.len() <= 3);
            if page.is_empty() {
                assert!(searched.is_empty());
                break;
            }
            before = page.last().map(StoredArticle::key);
            search_before = searched.last().map(StoredArticle::key);
            symbol_pages.extend(page);
            search_pages.extend(searched);
        }
        assert_eq!(
            titles(&symbol_pages),
            ["t6", "t5", "t4", "tie-b", "tie-a", "t3", "t2", "t1", "t0"],
            "{backend}"
        );
        assert_eq!(symbol_pages, search_pages, "{backend}");
        let from = store
            .symbol_news(sym("IBM"), Some(at(5)), NewsPage::first(10))
            .await
            .unwrap();
        assert_eq!(titles(&from), ["t6", "t5"], "{backend}");
        let zero = store
            .symbol_news(sym("IBM"), None, NewsPage::first(0))
            .await
            .unwrap();
        assert_eq!(zero.len(), 1, "{backend}: a limit of 0 reads one");
    }
}

#[tokio::test]
async fn no_read_returns_more_than_the_bound() {
    for (_keep, store) in backends().await {
        let backend = store.backend();
        let count = i64::from(MAX_NEWS_PER_READ) + 20;
        let ids = store_many(&store, "GE", count).await;
        let page = NewsPage::first(u32::MAX);
        let listed = store.symbol_news(sym("GE"), None, page).await.unwrap();
        assert_eq!(listed.len() as u32, MAX_NEWS_PER_READ, "{backend}");
        let searched = store
            .search_news(&NewsQuery::default(), page)
            .await
            .unwrap();
        assert_eq!(searched.len() as u32, MAX_NEWS_PER_READ, "{backend}");
        let queue = store
            .unscored_articles(&[key("v1")], at(-1), u32::MAX)
            .await
            .unwrap();
        assert_eq!(queue.len() as u32, MAX_NEWS_PER_READ, "{backend}");
        // More ids than the bound: the first ones are read.
        for id in &ids {
            store
                .insert_score(&score(*id, &key("v1"), 0.1))
                .await
                .unwrap();
        }
        let scores = store.article_scores(&ids, None).await.unwrap();
        assert_eq!(scores.len() as u32, MAX_NEWS_PER_READ, "{backend}");
    }
}

#[tokio::test]
async fn replicas_storing_the_same_articles_in_any_order_store_each_once() {
    for (_keep, store) in backends().await {
        let backend = store.backend();
        let batch: Vec<NewArticle> = (0..12)
            .map(|i| {
                let symbols: &[&str] = if i % 2 == 0 {
                    &["MSFT", "AAPL"]
                } else {
                    &["AAPL", "MSFT"]
                };
                article(item(
                    &format!("https://example.com/r{i}"),
                    &format!("r{i}"),
                    "",
                    i,
                    symbols,
                ))
            })
            .collect();
        let writers: Vec<_> = (0..6)
            .map(|writer| {
                let store = store.clone();
                let mut batch = batch.clone();
                if writer % 2 == 1 {
                    batch.reverse();
                }
                tokio::spawn(async move { store.insert_articles(&batch, at(100)).await })
            })
            .collect();
        let mut new = 0;
        for writer in writers {
            let inserted = writer.await.unwrap().unwrap();
            assert_eq!(inserted.len(), 12, "{backend}");
            new += inserted.iter().filter(|i| i.new).count();
        }
        assert_eq!(
            new, 12,
            "{backend}: each article is new to exactly one writer"
        );
        let stored = store
            .symbol_news(sym("AAPL"), None, NewsPage::first(100))
            .await
            .unwrap();
        assert_eq!(stored.len(), 12, "{backend}");
        assert!(
            stored
                .iter()
                .all(|a| a.symbols == [sym("AAPL"), sym("MSFT")])
        );
    }
}

#[tokio::test]
async fn the_databases_search_with_their_own_stemming() {
    for (_keep, store) in backends().await {
        let backend = store.backend();
        if backend == "memory" {
            continue; // whole words only
        }
        store
            .insert_articles(
                &[article(item(
                    "https://example.com/stem",
                    "Nvidia beats expectations",
                    "Earnings surged on data-center demand.",
                    0,
                    &["NVDA"],
                ))],
                at(1),
            )
            .await
            .unwrap();
        let query = |text: &str| NewsQuery {
            text: Some(text.into()),
            ..NewsQuery::default()
        };
        for text in ["beat", "earning surge", "expected"] {
            let found = store
                .search_news(&query(text), NewsPage::first(10))
                .await
                .unwrap();
            assert_eq!(
                titles(&found),
                ["Nvidia beats expectations"],
                "{backend}: {text}"
            );
        }
    }
}

#[tokio::test]
async fn concurrent_writers_of_one_score_key_store_exactly_one_score() {
    for (_keep, store) in backends().await {
        let backend = store.backend();
        let id = store_many(&store, "TSLA", 1).await[0];
        let writers: Vec<_> = (0..8)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    let value = f64::from(i) / 10.0;
                    let stored = store
                        .insert_score(&score(id, &key("v1"), value))
                        .await
                        .unwrap();
                    (stored, value)
                })
            })
            .collect();
        let mut winners = Vec::new();
        for writer in writers {
            let (stored, value) = writer.await.unwrap();
            if stored {
                winners.push(value);
            }
        }
        assert_eq!(winners.len(), 1, "{backend}: exactly one writer stores");
        let scores = store.article_scores(&[id], None).await.unwrap();
        assert_eq!(scores.len(), 1, "{backend}");
        assert_eq!(scores[0].score.get(), winners[0], "{backend}: the winner's");
        // A retry after the fact is a no-op too, and keeps the stored score.
        assert!(
            !store
                .insert_score(&score(id, &key("v1"), -0.9))
                .await
                .unwrap()
        );
        assert_eq!(
            store.article_scores(&[id], None).await.unwrap(),
            scores,
            "{backend}"
        );
        // Another prompt version is another key.
        assert!(
            store
                .insert_score(&score(id, &key("v2"), -0.9))
                .await
                .unwrap()
        );
        let v2 = store.article_scores(&[id], Some(&key("v2"))).await.unwrap();
        assert_eq!(v2, [score(id, &key("v2"), -0.9)], "{backend}");
    }
}

#[tokio::test]
async fn a_scores_label_and_relevance_per_symbol_are_read_back_in_symbol_order() {
    for (_keep, store) in backends().await {
        let backend = store.backend();
        let id = store_many(&store, "MSFT", 1).await[0];
        let relevance = |symbol: &str, relevance: f64| SymbolRelevance {
            symbol: sym(symbol),
            relevance,
        };
        let scored = ArticleScore {
            label: Some("neutral".into()),
            relevance: vec![relevance("MSFT", 0.875), relevance("AAPL", 0.25)],
            ..score(id, &key("v1"), 0.0)
        };
        assert!(store.insert_score(&scored).await.unwrap(), "{backend}");
        let read = store.article_scores(&[id], None).await.unwrap();
        assert_eq!(read.len(), 1, "{backend}");
        assert_eq!(read[0].label.as_deref(), Some("neutral"), "{backend}");
        assert_eq!(
            read[0].relevance,
            [relevance("AAPL", 0.25), relevance("MSFT", 0.875)],
            "{backend}"
        );
        assert_eq!(read[0].relevance_to(sym("MSFT")), Some(0.875), "{backend}");
        assert_eq!(read[0].relevance_to(sym("TSLA")), None, "{backend}");
    }
}

#[tokio::test]
async fn the_unscored_queue_holds_what_a_key_has_not_scored_newest_first() {
    for (_keep, store) in backends().await {
        let backend = store.backend();
        let ids = store_many(&store, "AAPL", 4).await;
        store
            .insert_score(&score(ids[2], &key("v1"), 0.5))
            .await
            .unwrap();
        let queue = store
            .unscored_articles(&[key("v1")], at(0), 10)
            .await
            .unwrap();
        assert_eq!(titles(&queue), ["t3", "t1", "t0"], "{backend}");
        assert_eq!(queue[0].symbols, [sym("AAPL")], "{backend}");
        let since = store
            .unscored_articles(&[key("v1")], at(1), 10)
            .await
            .unwrap();
        assert_eq!(titles(&since), ["t3", "t1"], "{backend}");
        let bounded = store
            .unscored_articles(&[key("v1")], at(0), 1)
            .await
            .unwrap();
        assert_eq!(titles(&bounded), ["t3"], "{backend}");
        let other = store
            .unscored_articles(&[key("v2")], at(0), 10)
            .await
            .unwrap();
        assert_eq!(other.len(), 4, "{backend}: each key has its own queue");
    }
}

#[tokio::test]
async fn a_chains_queue_skips_articles_any_of_its_scorers_answered_and_reads_prefer_its_order() {
    for (_keep, store) in backends().await {
        let backend = store.backend();
        let ids = store_many(&store, "MSFT", 3).await;
        // t0 fell back to the lexicon ("v1"), t1 was answered by the LLM ("v2") and later
        // also by the lexicon; t2 has no score yet.
        for (id, k, value) in [
            (ids[0], "v1", 0.1),
            (ids[1], "v2", 0.9),
            (ids[1], "v1", -0.2),
        ] {
            store
                .insert_score(&score(id, &key(k), value))
                .await
                .unwrap();
        }
        let chain = [key("v2"), key("v1")];
        let queue = store.unscored_articles(&chain, at(0), 10).await.unwrap();
        assert_eq!(titles(&queue), ["t2"], "{backend}");
        let none = store.unscored_articles(&[], at(0), 10).await.unwrap();
        assert!(none.is_empty(), "{backend}: no scorer, nothing to score");

        let read = store
            .symbol_sentiment(sym("MSFT"), &chain, at(0), at(100), 10)
            .await
            .unwrap();
        let scores: Vec<(&str, Option<(String, f64)>)> = read
            .iter()
            .map(|s| {
                let score = s.score.as_ref();
                (
                    s.article.title.as_str(),
                    score.map(|score| (score.key.prompt_version.clone(), score.score.get())),
                )
            })
            .collect();
        assert_eq!(
            scores,
            [
                ("t2", None),
                ("t1", Some(("v2".to_owned(), 0.9))),
                ("t0", Some(("v1".to_owned(), 0.1))),
            ],
            "{backend}: each article's score is its most preferred key's"
        );
    }
}

#[tokio::test]
async fn a_symbols_sentiment_is_its_articles_in_range_with_scores_and_second_opinions() {
    for (_keep, store) in backends().await {
        let backend = store.backend();
        let with_opinion = NewsItem {
            provider: "alphavantage".into(),
            provider_sentiment: vec![
                ProviderSentiment {
                    symbol: sym("MSFT"),
                    score: Some(0.25),
                    label: Some("Somewhat-Bullish".into()),
                    relevance: Some(0.9),
                    reasoning: None,
                },
                ProviderSentiment {
                    symbol: sym("AAPL"),
                    score: Some(-0.25),
                    label: None,
                    relevance: None,
                    reasoning: None,
                },
            ],
            ..item("https://example.com/s1", "s1", "", 10, &["MSFT", "AAPL"])
        };
        let inserted = store
            .insert_articles(
                &[
                    article(item("https://example.com/s0", "s0", "", 0, &["MSFT"])),
                    article(with_opinion),
                    article(item("https://example.com/s2", "s2", "", 20, &["MSFT"])),
                    article(item("https://example.com/s3", "s3", "", 30, &["MSFT"])),
                ],
                at(40),
            )
            .await
            .unwrap();
        let id = |i: usize| inserted[i].id;
        store
            .insert_score(&score(id(1), &key("v1"), 0.75))
            .await
            .unwrap();
        store
            .insert_score(&score(id(2), &key("v0"), -1.0))
            .await
            .unwrap();
        let sentiment = store
            .symbol_sentiment(sym("MSFT"), &[key("v1")], at(10), at(30), 100)
            .await
            .unwrap();
        let seen: Vec<SentimentSeen> = sentiment
            .iter()
            .map(|s| {
                (
                    s.article.title.as_str(),
                    s.score.as_ref().map(|score| score.score.get()),
                    s.provider_sentiment
                        .iter()
                        .map(|o| (o.sentiment.symbol.as_str(), o.sentiment.score))
                        .collect(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("s2", None, vec![]),
                ("s1", Some(0.75), vec![("MSFT", Some(0.25))]),
            ],
            "{backend}: [from, to), newest first, this key's scores, this symbol's opinions"
        );
    }
}

#[tokio::test]
async fn urls_that_cannot_be_an_articles_address_are_refused_before_the_store() {
    let refused = NewArticle::new(item("ftp://example.com/a", "x", "", 0, &["MSFT"]));
    assert!(refused.is_err());
}
