//! News reads over stored articles: a symbol's news paged by cursor, the search, daily
//! sentiment with citations, the answer when news is off, bad parameters, the `news` flag, and
//! a stored bullish day moving the composite signal's sentiment component.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::news::{NewsItem, ProviderSentiment};
use domain::{SignalScore, Symbol, new_york};
use service::news::{NewsSettings, lexicon_key};
use store::{ArticleId, ArticleScore, NewArticle, ScoreKey, SymbolRelevance};

use crate::helpers::{TestApp, csv_closes};

fn on() -> NewsSettings {
    NewsSettings { enabled: true }
}

fn sym(text: &str) -> Symbol {
    Symbol::parse(text).unwrap()
}

fn item(url: &str, title: &str, published_at: DateTime<Utc>, symbols: &[&str]) -> NewsItem {
    NewsItem {
        title: title.into(),
        url: url.into(),
        publisher: Some("Example Wire".into()),
        published_at,
        summary: format!("{title}. More in the article."),
        symbols: symbols.iter().map(|s| sym(s)).collect(),
        provider: "finnhub".into(),
        provider_sentiment: Vec::new(),
        simulated: false,
    }
}

impl TestApp {
    async fn store_news(&self, items: Vec<NewsItem>) -> Vec<ArticleId> {
        let batch: Vec<NewArticle> = items
            .into_iter()
            .map(|item| NewArticle::new(item).unwrap())
            .collect();
        self.store
            .insert_articles(&batch, Utc::now())
            .await
            .unwrap()
            .into_iter()
            .map(|inserted| inserted.id)
            .collect()
    }

    async fn store_score(&self, article: ArticleId, key: &ScoreKey, score: f64, relevance: f64) {
        let symbols = self.store.article_scores(&[article], None).await.unwrap();
        assert!(symbols.is_empty(), "scored once");
        self.store
            .insert_score(&ArticleScore {
                article,
                key: key.clone(),
                score: SignalScore::new(score).unwrap(),
                label: None,
                relevance: vec![SymbolRelevance {
                    symbol: sym("MSFT"),
                    relevance,
                }],
                rationale: Some("beats, raises".into()),
                scored_at: Utc::now(),
            })
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_symbol_s_news_pages_newest_first_through_its_cursor() {
    let app = TestApp::with_news(on()).await;
    let now = Utc::now();
    let items = (0..3)
        .map(|i| {
            item(
                &format!("https://news.example.com/msft/{i}?utm_source=x"),
                &format!("Microsoft headline {i}"),
                now - Duration::hours(3 - i),
                &["MSFT"],
            )
        })
        .collect();
    app.store_news(items).await;
    let first = app.get("/v1/stocks/msft/news?limit=2").await.json();
    assert_eq!(first["count"], 2);
    assert_eq!(first["articles"][0]["title"], "Microsoft headline 2");
    assert_eq!(
        first["articles"][0]["url"], "https://news.example.com/msft/2",
        "stored under the canonical URL"
    );
    assert_eq!(first["articles"][0]["source"], "finnhub");
    assert_eq!(first["articles"][0]["symbols"], serde_json::json!(["MSFT"]));
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = app
        .get(&format!("/v1/stocks/MSFT/news?limit=2&cursor={cursor}"))
        .await
        .json();
    assert_eq!(second["count"], 1);
    assert_eq!(second["articles"][0]["title"], "Microsoft headline 0");
    assert!(second["next_cursor"].is_null());
    let tomorrow = new_york::date_of(now).succ_opt().unwrap();
    let none = app
        .get(&format!("/v1/stocks/MSFT/news?from={tomorrow}"))
        .await
        .json();
    assert_eq!(none["count"], 0, "nothing published from tomorrow on");
    let since = new_york::date_of(now - Duration::hours(4));
    let all = app
        .get(&format!("/v1/stocks/MSFT/news?from={since}"))
        .await
        .json();
    assert_eq!(all["count"], 3);
}

#[tokio::test]
async fn the_search_matches_words_and_symbols() {
    let app = TestApp::with_news(on()).await;
    let now = Utc::now();
    app.store_news(vec![
        item(
            "https://a.example/1",
            "Microsoft raises its dividend",
            now,
            &["MSFT"],
        ),
        item(
            "https://a.example/2",
            "Apple dividends rise",
            now,
            &["AAPL"],
        ),
        item("https://a.example/3", "Apple ships a phone", now, &["AAPL"]),
    ])
    .await;
    let body = app.get("/v1/news?q=dividend").await.json();
    assert_eq!(body["count"], 2, "stemmed: dividends matches dividend");
    let body = app
        .get("/v1/news?q=dividend&symbols=AAPL,TSLA")
        .await
        .json();
    assert_eq!(body["count"], 1);
    assert_eq!(body["articles"][0]["title"], "Apple dividends rise");
}

#[tokio::test]
async fn bad_parameters_are_400_naming_the_parameter() {
    let app = TestApp::with_news(on()).await;
    let cases = [
        (
            "/v1/stocks/MSFT/news?limit=0",
            "limit must be from 1 to 100",
        ),
        (
            "/v1/stocks/MSFT/news?limit=101",
            "limit must be from 1 to 100",
        ),
        (
            "/v1/stocks/MSFT/news?from=yesterday",
            "from must be a date as YYYY-MM-DD",
        ),
        ("/v1/stocks/MSFT/news?cursor=junk", "cursor is not one"),
        ("/v1/news?q=%22%26%26", "q has no word"),
        ("/v1/news?symbols=MSFT,not%20a%20ticker", "symbols:"),
        (
            "/v1/stocks/MSFT/sentiment?days=0",
            "days must be from 1 to 90",
        ),
        (
            "/v1/stocks/MSFT/sentiment?days=91",
            "days must be from 1 to 90",
        ),
    ];
    for (uri, expected) in cases {
        let detail = app.get(uri).await.problem(400);
        assert!(detail.starts_with(expected), "{uri}: {detail}");
    }
}

#[tokio::test]
async fn news_off_with_nothing_stored_says_how_to_turn_it_on() {
    let app = TestApp::with_news(NewsSettings::default()).await;
    for uri in [
        "/v1/stocks/MSFT/news",
        "/v1/news?q=dividend",
        "/v1/stocks/MSFT/sentiment",
    ] {
        let response = app.get(uri).await;
        let detail = response.problem(404);
        assert_eq!(response.json()["type"], "urn:stockd:problem:news-off");
        assert!(detail.contains("[news] sources"), "{detail}");
        assert!(detail.contains("STOCKD_NEWS__SOURCES"), "{detail}");
    }
    // Articles stored earlier are still served with the sources switched off.
    app.store_news(vec![item(
        "https://a.example/1",
        "Old news",
        Utc::now(),
        &["MSFT"],
    )])
    .await;
    assert_eq!(app.get("/v1/stocks/MSFT/news").await.json()["count"], 1);
}

#[tokio::test]
async fn the_news_flag_off_disables_every_news_route() {
    let settings = BTreeMap::from([("news".to_owned(), false)]);
    let features = web::features::Features::from_settings(&settings).unwrap();
    let app = TestApp::with_features(
        std::sync::Arc::new(providers::sample::Sample::new()),
        crate::helpers::market_config(),
        features,
    )
    .await;
    for uri in [
        "/v1/stocks/MSFT/news",
        "/v1/news",
        "/v1/stocks/MSFT/sentiment",
    ] {
        let response = app.get(uri).await;
        response.problem(404);
        assert_eq!(
            response.json()["type"],
            "urn:stockd:problem:feature-disabled"
        );
    }
}

#[tokio::test]
async fn daily_sentiment_cites_every_counted_article_beside_the_source_s_score() {
    let app = TestApp::with_news(on()).await;
    let now = Utc::now();
    let today = new_york::date_of(now);
    let early = new_york::instant(today, chrono::NaiveTime::from_hms_opt(0, 30, 0).unwrap());
    let mut beat = item(
        "https://a.example/beat",
        "Microsoft beats",
        early,
        &["MSFT"],
    );
    beat.provider = "alphavantage".into();
    beat.provider_sentiment = vec![ProviderSentiment {
        symbol: sym("MSFT"),
        score: Some(0.35),
        label: Some("Somewhat-Bullish".into()),
        relevance: Some(0.8),
        reasoning: None,
    }];
    let ids = app
        .store_news(vec![
            beat,
            item(
                "https://a.example/miss",
                "Microsoft misses",
                early,
                &["MSFT"],
            ),
            item(
                "https://a.example/wait",
                "Microsoft waits",
                early,
                &["MSFT"],
            ),
        ])
        .await;
    app.store_score(ids[0], &lexicon_key(), 0.6, 1.0).await;
    app.store_score(ids[1], &lexicon_key(), -0.3, 0.5).await;
    let body = app.get("/v1/stocks/MSFT/sentiment?days=2").await.json();
    assert_eq!(body["symbol"], "MSFT");
    assert_eq!(body["to"], today.to_string());
    assert_eq!(body["scorers"][0]["scorer"], "lexicon");
    let days = body["days"].as_array().unwrap();
    assert_eq!(days.len(), 2);
    let day = &days[1];
    assert_eq!(day["day"], today.to_string());
    // (0.6·1 − 0.3·0.5) / 1.5 = 0.3
    assert_eq!(day["score"], 0.3);
    assert_eq!(day["articles"], 2);
    assert_eq!(day["pending"], 1);
    assert_eq!(day["bullish_share"], 0.5);
    assert_eq!(day["bearish_share"], 0.5);
    assert_eq!(
        day["pending_articles"][0]["article"]["title"],
        "Microsoft waits"
    );
    let citations = day["citations"].as_array().unwrap();
    let beat = citations
        .iter()
        .find(|c| c["article"]["title"] == "Microsoft beats")
        .unwrap();
    assert_eq!(beat["score"], 0.6);
    assert_eq!(beat["weight"], 1.0);
    assert_eq!(beat["weight_source"], "scorer");
    assert_eq!(beat["label"], "bullish");
    assert_eq!(beat["scorer"]["scorer"], "lexicon");
    assert_eq!(beat["article"]["url"], "https://a.example/beat");
    assert_eq!(beat["article"]["publisher"], "Example Wire");
    assert_eq!(beat["source_sentiment"][0]["source"], "alphavantage");
    assert_eq!(beat["source_sentiment"][0]["score"], 0.35);
    assert!(days[0]["score"].is_null(), "a day without news");
}

#[tokio::test]
async fn a_stored_bullish_day_moves_the_signal_s_sentiment_component() {
    let app = TestApp::with_news(on()).await;
    let before = app.get("/v1/stocks/MSFT/signal").await.json();
    assert_eq!(before["missing"], serde_json::json!(["sentiment"]));
    let last_day: NaiveDate = csv_closes("MSFT").last().unwrap().0.parse().unwrap();
    let morning = new_york::instant(last_day, chrono::NaiveTime::from_hms_opt(10, 0, 0).unwrap());
    let ids = app
        .store_news(vec![
            item(
                "https://a.example/up",
                "Microsoft soars on record cloud sales",
                morning,
                &["MSFT"],
            ),
            // After the close: the next session's news, not this day's.
            item(
                "https://a.example/late",
                "Microsoft plunges after hours",
                morning + Duration::hours(7),
                &["MSFT"],
            ),
        ])
        .await;
    app.store_score(ids[0], &lexicon_key(), 0.9, 1.0).await;
    app.store_score(ids[1], &lexicon_key(), -0.9, 1.0).await;
    let after = app.get("/v1/stocks/MSFT/signal").await.json();
    assert_eq!(after["day"], before["day"]);
    assert_eq!(after["missing"], serde_json::json!([]));
    let sentiment = after["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "sentiment")
        .unwrap();
    assert_eq!(
        sentiment["score"], 0.9,
        "the after-hours plunge is not read"
    );
    assert_eq!(
        sentiment["evidence"]["strongest_headline"],
        "Microsoft soars on record cloud sales"
    );
    assert_eq!(sentiment["evidence"]["articles"], 1);
    assert!(
        after["score"].as_f64().unwrap() > before["score"].as_f64().unwrap(),
        "{} then {}",
        before["score"],
        after["score"]
    );
}
