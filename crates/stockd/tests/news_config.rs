//! The `[news]` table: off by default, sources in order with the keys they need, the
//! environment's `STOCKD_NEWS__*` names, NewsAPI's default quota, checks that name the
//! setting, and every key and URL redacted in `stockd config`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::time::Duration;

use clap::Parser;
use secrecy::ExposeSecret;
use stockd::cli::{Cli, OutputFormat};
use stockd::config::{Config, NewsSourceName};

fn load(args: &[&str], env: &[(&str, &str)]) -> Result<Config, String> {
    let mut argv = vec!["stockd"];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
    Config::load_from(
        &cli,
        env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    )
    .map_err(|e| e.to_string())
}

#[test]
fn news_is_off_by_default_with_a_half_hourly_trading_day_schedule() {
    let config = load(&[], &[]).unwrap();
    assert!(!config.news.enabled());
    assert_eq!(config.news.schedule.schedule.expression(), "*/30 * * * *");
    assert!(config.news.schedule.trading_days_only);
    assert_eq!(config.news.fetch.limit, 50);
    assert_eq!(
        config.news.fetch.lookback,
        Duration::from_secs(3 * 24 * 3600)
    );
    let newsapi = &config.market.quotas["newsapi"];
    assert_eq!((newsapi.per_minute, newsapi.per_day), (0, 100));
    let rss = &config.market.quotas["rss"];
    assert_eq!((rss.per_minute, rss.per_day), (0, 0));
}

#[test]
fn sources_come_in_order_from_the_environment_and_share_market_keys() {
    let config = load(
        &[],
        &[
            ("STOCKD_NEWS__SOURCES", "newsapi, Finnhub,sim"),
            ("STOCKD_NEWS__NEWSAPI_API_KEY", "0123456789"),
            ("STOCKD_FINNHUB_API_KEY", "fh-key"),
            ("STOCKD_NEWS__LIMIT", "20"),
            ("STOCKD_NEWS__LOOKBACK", "12h"),
            ("STOCKD_NEWS__TRADING_DAYS_ONLY", "false"),
            ("STOCKD_QUOTAS__NEWSAPI__PER_DAY", "500"),
        ],
    )
    .unwrap();
    assert_eq!(
        config.news.sources,
        [
            NewsSourceName::NewsApi,
            NewsSourceName::Finnhub,
            NewsSourceName::Sim
        ]
    );
    assert_eq!(
        config.news.newsapi_key.as_ref().unwrap().expose_secret(),
        "0123456789",
        "a numeric-looking key stays text"
    );
    assert_eq!(config.news.fetch.limit, 20);
    assert_eq!(config.news.fetch.lookback, Duration::from_secs(12 * 3600));
    assert!(!config.news.schedule.trading_days_only);
    assert_eq!(config.market.quotas["newsapi"].per_day, 500);
    assert!(Config::unknown_env_names([("STOCKD_NEWS__SOURCES".into(), "sim".into())]).is_empty());
}

#[test]
fn the_file_takes_an_array_and_the_rss_template() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(
        file,
        "[news]\nsources = [\"rss\", \"sim\"]\nrss_url = \"https://feeds.example.com/rss?s={{symbol}}&token=FEEDSECRET\"\nschedule = \"*/15 * * * *\""
    )
    .unwrap();
    let path = file.path().to_str().unwrap();
    let config = load(&["--config", path], &[]).unwrap();
    assert_eq!(
        config.news.sources,
        [NewsSourceName::Rss, NewsSourceName::Sim]
    );
    assert_eq!(config.news.schedule.schedule.expression(), "*/15 * * * *");
    let text = config.render(OutputFormat::Toml);
    assert!(!text.contains("FEEDSECRET"), "{text}");
    assert!(text.contains("token=[redacted]"), "{text}");
}

#[test]
fn keys_and_urls_are_redacted_in_stockd_config() {
    let config = load(
        &[],
        &[
            ("STOCKD_NEWS__SOURCES", "newsapi"),
            ("STOCKD_NEWS__NEWSAPI_API_KEY", "NEWSAPI-SECRET"),
            (
                "STOCKD_NEWS__NEWSAPI_BASE_URL",
                "https://user:PROXYPASS@proxy.example.com",
            ),
        ],
    )
    .unwrap();
    for format in [OutputFormat::Toml, OutputFormat::Json] {
        let text = config.render(format);
        assert!(
            !text.contains("NEWSAPI-SECRET") && !text.contains("PROXYPASS"),
            "{text}"
        );
        assert!(text.contains("[redacted]"), "{text}");
    }
    assert!(!format!("{:?}", config.news).contains("NEWSAPI-SECRET"));
}

#[test]
fn bad_news_settings_are_refused_with_the_settings_name() {
    for (env, setting, says) in [
        (
            vec![("STOCKD_NEWS__SOURCES", "bloomberg")],
            "news.sources",
            "known: finnhub",
        ),
        (
            vec![("STOCKD_NEWS__SOURCES", "newsapi")],
            "news.sources",
            "news.newsapi_api_key",
        ),
        (
            vec![("STOCKD_NEWS__SOURCES", "polygon")],
            "news.sources",
            "polygon_api_key",
        ),
        (
            vec![("STOCKD_NEWS__SOURCES", "sim,sim")],
            "news.sources",
            "twice",
        ),
        (
            vec![("STOCKD_NEWS__SOURCES", "rss")],
            "news.sources",
            "news.rss_url",
        ),
        (
            vec![("STOCKD_NEWS__RSS_URL", "https://feeds.example.com/rss")],
            "news.rss_url",
            "{symbol}",
        ),
        (
            vec![("STOCKD_NEWS__SCHEDULE", "hourly")],
            "news.schedule",
            "cron",
        ),
        (
            vec![("STOCKD_NEWS__TIME_ZONE", "Mars/Olympus")],
            "news.time_zone",
            "IANA",
        ),
        (vec![("STOCKD_NEWS__LIMIT", "0")], "news.limit", "1 to 100"),
        (
            vec![("STOCKD_NEWS__LOOKBACK", "1s")],
            "news.lookback",
            "1 minute",
        ),
        (
            vec![("STOCKD_NEWS__NEWSAPI_BASE_URL", "ftp://x")],
            "news.newsapi_base_url",
            "http",
        ),
    ] {
        let err = load(&[], &env).unwrap_err();
        assert!(
            err.starts_with(setting) && err.contains(says),
            "{env:?}: {err}"
        );
    }
}
