//! Configuration layering, seed aliases, validation messages and redaction.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use clap::Parser;
use stockd::cli::{Cli, OutputFormat};
use stockd::config::{Config, ProviderChoice, ProviderName};
use web::features::Feature;

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
fn with_nothing_set_stockd_serves_the_sample_on_8080() {
    let config = load(&["serve"], &[]).unwrap();
    assert_eq!(config.settings.port, 8080);
    assert_eq!(config.settings.symbol.as_str(), "MSFT");
    assert_eq!(config.settings.ndays, 7);
    assert_eq!(config.settings.max_days, 5000);
    assert_eq!(config.settings.cache_ttl, Duration::from_secs(300));
    assert_eq!(
        config.settings.circuit_breaker_timeout,
        Duration::from_secs(30)
    );
    assert_eq!(config.settings.provider_choice(), ProviderChoice::Sample);
    assert_eq!(
        config.settings.database_path(),
        std::path::Path::new("./data/stockd.db")
    );
}

#[test]
fn the_seed_variable_names_work() {
    let config = load(
        &[],
        &[
            ("PORT", "9000"),
            ("SYMBOL", "ibm"),
            ("NDAYS", "3"),
            ("APIKEY", "12345"),
            ("CACHE_TTL", "60"),
            ("CIRCUIT_BREAKER_TIMEOUT", "45s"),
        ],
    )
    .unwrap();
    assert_eq!(config.settings.port, 9000);
    assert_eq!(config.settings.symbol.as_str(), "IBM");
    assert_eq!(config.settings.ndays, 3);
    assert_eq!(config.settings.cache_ttl, Duration::from_secs(60));
    assert_eq!(
        config.settings.circuit_breaker_timeout,
        Duration::from_secs(45)
    );
    assert_eq!(
        config.settings.provider_choice(),
        ProviderChoice::AlphaVantage,
        "a key switches to live data"
    );
}

#[test]
fn the_breaker_timeout_accepts_plain_seconds_and_units() {
    for (value, seconds) in [("30", 30), ("30s", 30), ("2m", 120)] {
        let config = load(&[], &[("CIRCUIT_BREAKER_TIMEOUT", value)]).unwrap();
        assert_eq!(
            config.settings.circuit_breaker_timeout,
            Duration::from_secs(seconds),
            "{value}"
        );
    }
}

#[test]
fn stockd_names_beat_aliases_and_flags_beat_the_environment() {
    let config = load(&[], &[("PORT", "9000"), ("STOCKD_PORT", "9100")]).unwrap();
    assert_eq!(config.settings.port, 9100);
    let config = load(&["--port", "9200", "serve"], &[("STOCKD_PORT", "9100")]).unwrap();
    assert_eq!(config.settings.port, 9200);
    let config = load(&["serve", "--provider", "sample"], &[("APIKEY", "k")]).unwrap();
    assert_eq!(
        config.settings.provider_choice(),
        ProviderChoice::Sample,
        "an explicit provider wins"
    );
}

#[test]
fn a_config_file_sits_between_defaults_and_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stockd.toml");
    std::fs::write(&file, "port = 7000\nndays = 10\ncache_ttl = \"2m\"\n").unwrap();
    let path = file.to_str().unwrap();
    let config = load(&["--config", path], &[("NDAYS", "12")]).unwrap();
    assert_eq!(config.settings.port, 7000);
    assert_eq!(config.settings.ndays, 12);
    assert_eq!(config.settings.cache_ttl, Duration::from_secs(120));
}

#[test]
fn invalid_settings_are_named_in_the_error() {
    for (env, setting) in [
        (("NDAYS", "0"), "ndays"),
        (("NDAYS", "9000"), "ndays"),
        (("PORT", "eighty"), "port"),
        (("CACHE_TTL", "soon"), "cache_ttl"),
        (("CACHE_TTL", "0"), "cache_ttl"),
        (("SYMBOL", "NOT A SYMBOL"), "symbol"),
        (("STOCKD_PROVIDER", "bloomberg"), "provider"),
        (
            ("STOCKD_ALPHAVANTAGE_BASE_URL", "ftp://x"),
            "alphavantage_base_url",
        ),
        (("STOCKD_LOG_FORMAT", "xml"), "log_format"),
        (("STOCKD_INGEST_LEASE", "1s"), "ingest_lease"),
        (("STOCKD_INGEST_LEASE", "2h"), "ingest_lease"),
    ] {
        let err = load(&[], &[env]).unwrap_err();
        assert!(err.contains(setting), "{env:?}: {err}");
    }
}

#[test]
fn choosing_alphavantage_without_a_key_says_how_to_set_one() {
    let err = load(&[], &[("STOCKD_PROVIDER", "alphavantage")]).unwrap_err();
    assert!(err.contains("APIKEY"), "{err}");
}

#[test]
fn a_missing_config_file_is_an_error() {
    let err = load(&["--config", "/nonexistent/stockd.toml"], &[]).unwrap_err();
    assert!(err.contains("no such file"), "{err}");
}

#[test]
fn the_printed_configuration_redacts_the_api_key() {
    let config = load(&[], &[("APIKEY", "SUPER-SECRET-KEY")]).unwrap();
    for format in [OutputFormat::Toml, OutputFormat::Json] {
        let text = config.render(format);
        assert!(!text.contains("SUPER-SECRET-KEY"), "{text}");
        assert!(text.contains("[redacted]"), "{text}");
        assert!(text.contains("cache_ttl"), "{text}");
    }
    assert!(!format!("{config:?}").contains("SUPER-SECRET-KEY"));
}

#[test]
fn unknown_stockd_variables_are_reported() {
    let env = [
        ("STOCKD_CACHE_TL", "5"),
        ("STOCKD_PORT", "1"),
        ("HOME", "/root"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    assert_eq!(Config::unknown_env_names(env), ["STOCKD_CACHE_TL"]);
}

#[test]
fn the_database_defaults_to_the_sqlite_file_in_the_data_dir() {
    let config = load(&["--data-dir", "/var/lib/stockd"], &[]).unwrap();
    assert_eq!(config.settings.database_url(), "/var/lib/stockd/stockd.db");
    let config = load(&[], &[("STOCKD_DATABASE_URL", "")]).unwrap();
    assert_eq!(
        config.settings.database_url(),
        "./data/stockd.db",
        "empty counts as unset"
    );
    let url = "postgres://stockd@db.internal:5432/stockd";
    let config = load(&[], &[("STOCKD_DATABASE_URL", url)]).unwrap();
    assert_eq!(config.settings.database_url(), url);
}

#[test]
fn the_printed_configuration_redacts_the_database_password_only() {
    let url = "postgres://stockd:HUNTER2-PASSWORD@db.internal:5432/stockd";
    let config = load(&[], &[("STOCKD_DATABASE_URL", url)]).unwrap();
    for format in [OutputFormat::Toml, OutputFormat::Json] {
        let text = config.render(format);
        assert!(!text.contains("HUNTER2-PASSWORD"), "{text}");
        assert!(
            text.contains("postgres://stockd:[redacted]@db.internal:5432/stockd"),
            "{text}"
        );
    }
    assert!(!format!("{config:?}").contains("HUNTER2-PASSWORD"));
}

#[test]
fn the_printed_configuration_hides_nats_tokens_and_notification_secrets() {
    let config = load(
        &[],
        &[
            ("STOCKD_NATS_URL", "nats://NATS-T0KEN@nats:4222"),
            ("STOCKD_SMTP_HOST", "smtp.example.com"),
            ("STOCKD_SMTP_FROM", "stockd <alerts@example.com>"),
            ("STOCKD_SMTP_PASSWORD", "SMTP-PASSW0RD"),
            ("STOCKD_TWILIO_ACCOUNT_SID", "AC123"),
            ("STOCKD_TWILIO_AUTH_TOKEN", "TWILIO-T0KEN"),
            ("STOCKD_TWILIO_FROM", "+15550001111"),
        ],
    )
    .unwrap();
    for format in [OutputFormat::Toml, OutputFormat::Json] {
        let text = config.render(format);
        for secret in ["NATS-T0KEN", "SMTP-PASSW0RD", "TWILIO-T0KEN"] {
            assert!(!text.contains(secret), "{secret} printed: {text}");
        }
        assert!(text.contains("nats://[redacted]@nats:4222"), "{text}");
    }
}

#[test]
fn kafka_settings_print_the_password_redacted_and_one_bus_is_chosen() {
    let kafka = [
        ("STOCKD_KAFKA_BROKERS", "k1:9093,k2:9093"),
        ("STOCKD_KAFKA_SECURITY_PROTOCOL", "sasl_ssl"),
        ("STOCKD_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),
        ("STOCKD_KAFKA_SASL_USERNAME", "stockd"),
        ("STOCKD_KAFKA_SASL_PASSWORD", "KAFKA-PASSW0RD"),
    ];
    let config = load(&[], &kafka).unwrap();
    for format in [OutputFormat::Toml, OutputFormat::Json] {
        let text = config.render(format);
        assert!(!text.contains("KAFKA-PASSW0RD"), "printed: {text}");
        assert!(text.contains("k1:9093,k2:9093"), "{text}");
    }
    assert!(!format!("{config:?}").contains("KAFKA-PASSW0RD"));

    let mut both = kafka.to_vec();
    both.push(("STOCKD_NATS_URL", "nats://nats:4222"));
    let err = load(&[], &both).unwrap_err();
    assert!(
        err.contains("kafka_brokers") && err.contains("choose one"),
        "{err}"
    );
    let err = load(
        &[],
        &[
            ("STOCKD_KAFKA_BROKERS", "k1:9093"),
            ("STOCKD_KAFKA_SECURITY_PROTOCOL", "sasl_ssl"),
        ],
    )
    .unwrap_err();
    assert!(err.contains("SASL user name and password"), "{err}");
}

#[test]
fn an_unsupported_database_url_is_named_in_the_error() {
    let err = load(&[], &[("STOCKD_DATABASE_URL", "mysql://db/stockd")]).unwrap_err();
    assert!(err.contains("database_url"), "{err}");
}

#[test]
fn feature_flags_come_from_the_environment_or_a_features_table() {
    let config = load(&[], &[("STOCKD_FEATURES__HISTORY_DELTA", "false")]).unwrap();
    assert!(!config.web.features().is_enabled(Feature::HistoryDelta));
    assert!(config.web.features().is_enabled(Feature::Quotes));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stockd.toml");
    std::fs::write(&file, "[features]\nmulti_daily = false\n").unwrap();
    let config = load(&["--config", file.to_str().unwrap()], &[]).unwrap();
    assert!(!config.web.features().is_enabled(Feature::MultiDaily));
}

#[test]
fn an_unknown_feature_flag_is_an_error_listing_the_known_ones() {
    let err = load(&[], &[("STOCKD_FEATURES__HISTROY_DELTA", "false")]).unwrap_err();
    assert!(
        err.contains("features") && err.contains("history_delta"),
        "{err}"
    );
}

#[test]
fn an_unknown_feature_in_the_config_file_is_refused_even_when_switched_on() {
    // A misspelt name must not read as a flag left on: it is refused at load.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stockd.toml");
    std::fs::write(&file, "[features]\nalert = true\n").unwrap();
    let err = load(&["--config", file.to_str().unwrap()], &[]).unwrap_err();
    assert!(err.contains("unknown feature 'alert'"), "{err}");
    assert!(err.contains("alerts"), "{err}");
}

#[test]
fn the_admin_token_is_a_redacted_secret() {
    let config = load(&[], &[("STOCKD_ADMIN_TOKEN", "0123456789")]).unwrap();
    assert!(
        config.web.web.admin_token.is_some(),
        "a numeric-looking token stays text"
    );
    let text = config.render(OutputFormat::Toml);
    assert!(
        !text.contains("0123456789") && text.contains("admin_token = \"[redacted]\""),
        "{text}"
    );
    let unset = load(&[], &[("STOCKD_ADMIN_TOKEN", "")]).unwrap();
    assert!(
        unset.web.web.admin_token.is_none(),
        "an empty token disables HTTP writes"
    );
}

#[test]
fn provider_chains_default_to_the_provider_setting_for_both_capabilities() {
    let chains = load(&[], &[]).unwrap().providers.chains;
    assert_eq!(chains.daily, [ProviderName::Sample]);
    assert_eq!(chains.quote, [ProviderName::Sample]);
    let chains = load(&[], &[("APIKEY", "k")]).unwrap().providers.chains;
    assert_eq!(chains.daily, [ProviderName::AlphaVantage]);
    assert_eq!(chains.quote, [ProviderName::AlphaVantage]);
}

#[test]
fn provider_chains_are_read_in_order_from_comma_separated_names() {
    let config = load(
        &[],
        &[
            ("APIKEY", "k"),
            ("STOCKD_FINNHUB_API_KEY", "f"),
            ("STOCKD_DAILY_PROVIDERS", "alphavantage, yahoo,sample"),
            ("STOCKD_QUOTE_PROVIDERS", "finnhub,alphavantage"),
        ],
    )
    .unwrap();
    let chains = config.providers.chains.clone();
    assert_eq!(
        chains.daily,
        [
            ProviderName::AlphaVantage,
            ProviderName::Yahoo,
            ProviderName::Sample
        ]
    );
    assert_eq!(
        chains.quote,
        [ProviderName::Finnhub, ProviderName::AlphaVantage]
    );
    assert_eq!(
        config.settings.yahoo_base_url,
        providers::yahoo::DEFAULT_BASE_URL
    );
    assert_eq!(
        config.settings.polygon_base_url,
        providers::polygon::DEFAULT_BASE_URL
    );
}

#[test]
fn bad_provider_chains_stop_startup_naming_the_setting() {
    for (env, expected) in [
        (
            ("STOCKD_DAILY_PROVIDERS", "yahoo,bloomberg"),
            "daily_providers: unknown provider 'bloomberg'",
        ),
        (
            ("STOCKD_QUOTE_PROVIDERS", "finnhub"),
            "quote_providers: finnhub needs an API key: set finnhub_api_key",
        ),
        (
            ("STOCKD_DAILY_PROVIDERS", "polygon"),
            "daily_providers: polygon needs an API key",
        ),
        (
            ("STOCKD_DAILY_PROVIDERS", "alphavantage"),
            "daily_providers: alphavantage needs an API key",
        ),
        (
            ("STOCKD_QUOTE_PROVIDERS", " , "),
            "quote_providers: lists no provider",
        ),
        (
            ("STOCKD_DAILY_PROVIDERS", "yahoo,yahoo"),
            "daily_providers: yahoo is listed twice",
        ),
        (("STOCKD_FINNHUB_BASE_URL", "ftp://x"), "finnhub_base_url"),
    ] {
        let err = load(&[], &[env]).unwrap_err();
        assert!(err.contains(expected), "{env:?}: {err}");
    }
}

#[test]
fn the_finnhub_and_polygon_keys_are_redacted_and_known_settings() {
    let env = [
        ("STOCKD_FINNHUB_API_KEY", "FINNHUB-SECRET"),
        ("STOCKD_POLYGON_API_KEY", "POLYGON-SECRET"),
        ("STOCKD_DAILY_PROVIDERS", "polygon"),
        ("STOCKD_QUOTE_PROVIDERS", "finnhub"),
        ("STOCKD_YAHOO_BASE_URL", "http://127.0.0.1:9"),
    ];
    let config = load(&[], &env).unwrap();
    for format in [OutputFormat::Toml, OutputFormat::Json] {
        let text = config.render(format);
        assert!(
            !text.contains("FINNHUB-SECRET") && !text.contains("POLYGON-SECRET"),
            "{text}"
        );
    }
    assert!(!format!("{config:?}").contains("SECRET"));
    let env = env.map(|(k, v)| (k.to_owned(), v.to_owned()));
    assert!(Config::unknown_env_names(env).is_empty());
}

#[test]
fn a_provider_in_both_chains_is_built_once() {
    let config = load(
        &[],
        &[
            ("STOCKD_DAILY_PROVIDERS", "yahoo,sample"),
            ("STOCKD_QUOTE_PROVIDERS", "sample,yahoo"),
        ],
    )
    .unwrap();
    let lists = stockd::app::providers(&config.providers).unwrap();
    let names = |list: &[std::sync::Arc<dyn providers::MarketData>]| -> Vec<&str> {
        list.iter().map(|p| p.name()).collect()
    };
    assert_eq!(names(&lists.daily), ["yahoo", "sample"]);
    assert_eq!(names(&lists.quote), ["sample", "yahoo"]);
    assert!(std::sync::Arc::ptr_eq(&lists.daily[0], &lists.quote[1]));
    assert!(std::sync::Arc::ptr_eq(&lists.daily[1], &lists.quote[0]));
}

#[test]
fn provider_quotas_default_to_the_free_plans_and_merge_field_by_field() {
    let config = load(&[], &[]).unwrap();
    let limits = config.market.quotas;
    let of = |name: &str| {
        let quota = limits[name];
        (quota.per_minute, quota.per_day)
    };
    assert_eq!(of("alphavantage"), (5, 25));
    assert_eq!(of("finnhub"), (60, 0));
    assert_eq!(of("polygon"), (5, 0));
    assert_eq!(of("yahoo"), (60, 0));
    assert_eq!(of("sample"), (0, 0));
    assert_eq!(config.market.unknown_symbol_ttl, Duration::from_secs(3600));

    let config = load(
        &[],
        &[
            ("STOCKD_QUOTAS__ALPHAVANTAGE__PER_DAY", "500"),
            ("STOCKD_UNKNOWN_SYMBOL_TTL", "10m"),
        ],
    )
    .unwrap();
    let quota = config.market.quotas["alphavantage"];
    assert_eq!(
        (quota.per_minute, quota.per_day),
        (5, 500),
        "per_minute kept"
    );
    assert_eq!(config.market.unknown_symbol_ttl, Duration::from_secs(600));
    assert!(
        Config::unknown_env_names([(
            "STOCKD_QUOTAS__ALPHAVANTAGE__PER_DAY".to_owned(),
            "500".to_owned()
        )])
        .is_empty()
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stockd.toml");
    std::fs::write(&file, "[quotas.polygon]\nper_minute = 100\n").unwrap();
    let config = load(&["--config", file.to_str().unwrap()], &[]).unwrap();
    let quota = config.market.quotas["polygon"];
    assert_eq!((quota.per_minute, quota.per_day), (100, 0));
    assert!(
        config
            .render(OutputFormat::Toml)
            .contains("[quotas.alphavantage]")
    );
}

#[test]
fn part_of_each_free_plan_is_reserved_for_ingestion_and_a_reserve_above_its_limit_stops_startup() {
    let config = load(&[], &[]).unwrap();
    let quotas = config.market.quotas;
    let reserved = |name: &str| {
        let quota = quotas[name];
        (quota.reserved_per_minute, quota.reserved_per_day)
    };
    assert_eq!(reserved("alphavantage"), (1, 10));
    assert_eq!(reserved("polygon"), (1, 0));
    assert_eq!(reserved("sample"), (0, 0));
    let config = load(
        &[],
        &[("STOCKD_QUOTAS__ALPHAVANTAGE__RESERVED_PER_DAY", "20")],
    )
    .unwrap();
    assert_eq!(config.market.quotas["alphavantage"].reserved_per_day, 20);
    assert!(
        config
            .render(OutputFormat::Toml)
            .contains("reserved_per_day = 20")
    );

    let err = load(&[], &[("STOCKD_QUOTAS__ALPHAVANTAGE__PER_DAY", "5")]).unwrap_err();
    assert!(
        err.contains("quotas.alphavantage.reserved_per_day (10)")
            && err.contains("quotas.alphavantage.per_day (5)"),
        "{err}"
    );
}

#[test]
fn per_client_read_limits_and_per_user_caps_have_defaults_and_can_be_turned_off() {
    let limits = load(&[], &[]).unwrap().web.web.limits;
    assert_eq!(
        (limits.reads.per_second, limits.reads.upstream_per_minute),
        (50, 3)
    );
    assert_eq!(
        (
            limits.per_user.rules,
            limits.per_user.channels,
            limits.per_user.watched_symbols,
            limits.per_user.tokens
        ),
        (100, 20, 50, 20)
    );
    let config = load(
        &[],
        &[
            ("STOCKD_LIMITS__MAX_RULES_PER_USER", "0"),
            ("STOCKD_LIMITS__UPSTREAM_READS_PER_MINUTE", "0"),
        ],
    )
    .unwrap();
    assert_eq!(
        config.web.web.limits.per_user.rules, 0,
        "0 turns the cap off"
    );
    assert_eq!(config.web.web.limits.reads.upstream_per_minute, 0);
    assert!(config.render(OutputFormat::Toml).contains("[limits]"));
    assert!(
        Config::unknown_env_names([(
            "STOCKD_LIMITS__MAX_RULES_PER_USER".to_owned(),
            "5".to_owned()
        )])
        .is_empty()
    );

    let err = load(&[], &[("STOCKD_LIMITS__READ_LIMIT_CLIENTS", "0")]).unwrap_err();
    assert!(err.contains("limits.read_limit_clients"), "{err}");
    let err = load(&[], &[("STOCKD_LIMITS__MAX_RULES", "5")]).unwrap_err();
    assert!(err.contains("max_rules"), "{err}");
}

#[test]
fn a_quota_for_an_unknown_provider_or_field_stops_startup() {
    let err = load(&[], &[("STOCKD_QUOTAS__ALPHAVANTGE__PER_DAY", "5")]).unwrap_err();
    assert!(
        err.contains("quotas") && err.contains("alphavantge") && err.contains("polygon"),
        "{err}"
    );
    let err = load(&[], &[("STOCKD_QUOTAS__POLYGON__PER_HOUR", "5")]).unwrap_err();
    assert!(err.contains("per_hour"), "{err}");
    let err = load(&[], &[("STOCKD_QUOTAS__POLYGON__PER_DAY", "lots")]).unwrap_err();
    assert!(err.contains("quotas") && err.contains("per_day"), "{err}");
}

#[test]
fn the_archive_url_defaults_under_the_data_dir_and_is_printed_redacted() {
    let config = load(&["--data-dir", "/srv/stockd"], &[]).unwrap();
    assert_eq!(
        std::path::PathBuf::from(config.settings.archive_url()),
        std::path::Path::new("/srv/stockd").join("archive")
    );

    let config = load(
        &[],
        &[
            (
                "STOCKD_ARCHIVE_URL",
                "s3://AKIA:TOPSECRET@bucket/stockd?token=ALSOSECRET",
            ),
            ("AWS_REGION", "eu-west-1"),
            ("AWS_SECRET_ACCESS_KEY", "KEYSECRET"),
            ("HOME", "/root"),
        ],
    )
    .unwrap();
    assert_eq!(
        config.settings.archive_url(),
        "s3://AKIA:TOPSECRET@bucket/stockd?token=ALSOSECRET"
    );
    // Only object-store variables are captured for the archive, and none is ever printed.
    let captured: Vec<&str> = config
        .archive
        .object_store_env
        .iter()
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(captured, ["AWS_REGION", "AWS_SECRET_ACCESS_KEY"]);
    let printed = config.render(OutputFormat::Toml);
    assert!(!printed.contains("TOPSECRET"), "{printed}");
    assert!(!printed.contains("ALSOSECRET"), "{printed}");
    assert!(!printed.contains("KEYSECRET"), "{printed}");
    assert!(printed.contains("archive_url = "), "{printed}");
    assert!(format!("{config:?}").contains("archive_url"));
    assert!(!format!("{config:?}").contains("KEYSECRET"));
    assert!(Config::unknown_env_names([("STOCKD_ARCHIVE_URL".into(), "x".into())]).is_empty());
}

#[test]
fn sign_up_and_the_password_pool_are_settings_checked_at_load() {
    let defaults = load(&[], &[]).unwrap().web.auth;
    assert_eq!(defaults.signup, web::auth::SignupMode::Open);
    assert_eq!(defaults.signups_per_address, 5);
    let pool = defaults.hasher.pool_size();
    assert!(
        pool.workers >= 1 && pool.queue == 8 * pool.workers,
        "{pool:?}"
    );

    let set = load(
        &[],
        &[
            ("STOCKD_SIGNUP", "Invite"),
            ("STOCKD_SIGNUPS_PER_ADDRESS", "0"),
            ("STOCKD_PASSWORD_HASH_WORKERS", "3"),
            ("STOCKD_PASSWORD_HASH_QUEUE", "4"),
        ],
    )
    .unwrap()
    .web
    .auth;
    assert_eq!(set.signup, web::auth::SignupMode::Invite);
    assert_eq!(set.signups_per_address, 0);
    assert_eq!(
        set.hasher.pool_size(),
        web::auth::HashPoolSize {
            workers: 3,
            queue: 4
        }
    );

    for (name, value, named) in [
        ("STOCKD_SIGNUP", "sometimes", "signup"),
        ("STOCKD_PASSWORD_HASH_WORKERS", "0", "password_hash_workers"),
        (
            "STOCKD_PASSWORD_HASH_QUEUE",
            "1000000",
            "password_hash_queue",
        ),
    ] {
        let err = load(&[], &[(name, value)]).unwrap_err();
        assert!(err.starts_with(named), "{name}={value}: {err}");
    }
}

/// Every URL-valued setting, each carrying credentials in the user-info and the query.
const URL_SETTINGS_WITH_CREDENTIALS: &[(&str, &str)] = &[
    (
        "STOCKD_ALPHAVANTAGE_BASE_URL",
        "https://avuser:AV-PASSWORD@proxy.example/av?apikey=AV-QUERY-KEY",
    ),
    (
        "STOCKD_FINNHUB_BASE_URL",
        "https://FH-USERINFO-TOKEN@finnhub.example/api/v1?token=FH-QUERY-TOKEN",
    ),
    (
        "STOCKD_YAHOO_BASE_URL",
        "https://y:YAHOO-PASSWORD@yahoo.example?crumb=YAHOO-CRUMB",
    ),
    (
        "STOCKD_POLYGON_BASE_URL",
        "https://api.polygon.example/v2?apiKey=POLYGON-QUERY-KEY",
    ),
    (
        "STOCKD_TWILIO_BASE_URL",
        "https://tw:TWILIO-URL-PASSWORD@twilio.example?token=TWILIO-QUERY-TOKEN",
    ),
    (
        "STOCKD_DATABASE_URL",
        "postgres://stockd:DB-PASSWORD@db.internal:5432/stockd?sslpassword=DB-SSL-PASSWORD",
    ),
    (
        "STOCKD_NATS_URL",
        "nats://NATS-TOKEN@n1:4222,nats://u:NATS-PASSWORD@n2:4222",
    ),
    (
        "STOCKD_ARCHIVE_URL",
        "s3://AKIA:ARCHIVE-SECRET@bucket/prefix?token=ARCHIVE-TOKEN",
    ),
    (
        "STOCKD_SMTP_HOST",
        "smtps://mailer:SMTP-URL-PASSWORD@smtp.example",
    ),
    ("STOCKD_SMTP_FROM", "stockd <alerts@example.com>"),
];

/// The credentials in [`URL_SETTINGS_WITH_CREDENTIALS`], and what must stay readable.
const URL_SECRETS: &[&str] = &[
    "AV-PASSWORD",
    "AV-QUERY-KEY",
    "FH-USERINFO-TOKEN",
    "FH-QUERY-TOKEN",
    "YAHOO-PASSWORD",
    "YAHOO-CRUMB",
    "POLYGON-QUERY-KEY",
    "TWILIO-URL-PASSWORD",
    "TWILIO-QUERY-TOKEN",
    "DB-PASSWORD",
    "DB-SSL-PASSWORD",
    "NATS-TOKEN",
    "NATS-PASSWORD",
    "ARCHIVE-SECRET",
    "ARCHIVE-TOKEN",
    "SMTP-URL-PASSWORD",
];

#[test]
fn no_url_setting_prints_the_credentials_it_carries() {
    let config = load(&[], URL_SETTINGS_WITH_CREDENTIALS).unwrap();
    for format in [OutputFormat::Toml, OutputFormat::Json] {
        let text = config.render(format);
        for secret in URL_SECRETS {
            assert!(!text.contains(secret), "{secret} printed:\n{text}");
        }
        // What an operator checks stays readable: scheme, user, hosts, path, parameter names.
        for readable in [
            "https://avuser:[redacted]@proxy.example/av?apikey=[redacted]",
            "https://[redacted]@finnhub.example/api/v1?token=[redacted]",
            "https://api.polygon.example/v2?apiKey=[redacted]",
            "postgres://stockd:[redacted]@db.internal:5432/stockd?sslpassword=[redacted]",
            "nats://[redacted]@n1:4222,nats://u:[redacted]@n2:4222",
            "s3://AKIA:[redacted]@bucket/prefix?token=[redacted]",
            "smtps://mailer:[redacted]@smtp.example",
        ] {
            assert!(text.contains(readable), "{readable} missing:\n{text}");
        }
    }
    // The values themselves are untouched: only their printing is redacted.
    assert_eq!(
        config.settings.alphavantage_base_url,
        "https://avuser:AV-PASSWORD@proxy.example/av?apikey=AV-QUERY-KEY"
    );
}

#[test]
fn http_limits_and_timeouts_default_sensibly_and_bad_values_name_the_setting() {
    let config = load(&[], &[]).unwrap();
    let server = &config.server.http;
    assert_eq!(server.header_read_timeout, Duration::from_secs(10));
    assert_eq!(server.body_timeout, Duration::from_secs(30));
    assert_eq!(server.idle_timeout, Duration::from_secs(60));
    assert_eq!(server.max_connections, 4096);
    assert_eq!(server.shutdown_grace, Duration::from_secs(20));
    assert_eq!(config.server.cors, web::CorsOrigins::Off);
    let printed = config.render(OutputFormat::Toml);
    for line in [
        "http_header_read_timeout = \"10s\"",
        "http_max_connections = 4096",
        "shutdown_grace = \"20s\"",
        "cors_allow_origins = \"\"",
    ] {
        assert!(printed.contains(line), "{line} missing:\n{printed}");
    }

    let config = load(
        &[],
        &[
            ("STOCKD_HTTP_HEADER_READ_TIMEOUT", "2s"),
            ("STOCKD_HTTP_BODY_TIMEOUT", "5s"),
            ("STOCKD_HTTP_IDLE_TIMEOUT", "2m"),
            ("STOCKD_HTTP_MAX_CONNECTIONS", "100"),
            ("STOCKD_SHUTDOWN_GRACE", "0"),
            (
                "STOCKD_CORS_ALLOW_ORIGINS",
                "https://app.example.com,http://localhost:3000",
            ),
        ],
    )
    .unwrap();
    let server = &config.server.http;
    assert_eq!(server.header_read_timeout, Duration::from_secs(2));
    assert_eq!(server.body_timeout, Duration::from_secs(5));
    assert_eq!(server.idle_timeout, Duration::from_secs(120));
    assert_eq!(server.max_connections, 100);
    assert_eq!(server.shutdown_grace, Duration::ZERO);
    assert!(matches!(&config.server.cors, web::CorsOrigins::List(list) if list.len() == 2));

    for (name, value, setting) in [
        (
            "STOCKD_HTTP_HEADER_READ_TIMEOUT",
            "0",
            "http_header_read_timeout",
        ),
        ("STOCKD_HTTP_BODY_TIMEOUT", "2h", "http_body_timeout"),
        ("STOCKD_HTTP_IDLE_TIMEOUT", "0s", "http_idle_timeout"),
        ("STOCKD_HTTP_MAX_CONNECTIONS", "0", "http_max_connections"),
        ("STOCKD_SHUTDOWN_GRACE", "1h", "shutdown_grace"),
        (
            "STOCKD_CORS_ALLOW_ORIGINS",
            "app.example.com",
            "cors_allow_origins",
        ),
        (
            "STOCKD_CORS_ALLOW_ORIGINS",
            "*,https://a.example",
            "cors_allow_origins",
        ),
    ] {
        let err = load(&[], &[(name, value)]).unwrap_err();
        assert!(err.starts_with(setting), "{name}={value}: {err}");
    }
}

#[test]
fn a_bad_value_in_each_section_is_refused_at_load_naming_its_setting() {
    // One setting per section of the loaded configuration, each parsed once at load: the
    // error names the setting as it did when the value was parsed where it was used.
    for (section, (name, value), expected) in [
        (
            "server",
            ("STOCKD_CORS_ALLOW_ORIGINS", "app.example.com"),
            "cors_allow_origins: ",
        ),
        (
            "store",
            ("STOCKD_DATABASE_URL", "mysql://db/stockd"),
            "database_url: unsupported database URL 'mysql://db/stockd': use postgres://…, \
             postgresql://…, sqlite://PATH or a file path",
        ),
        (
            "providers",
            ("STOCKD_DAILY_PROVIDERS", "sample,bloomberg"),
            "daily_providers: unknown provider 'bloomberg'; known: sample, alphavantage, \
             finnhub, yahoo, polygon, sim",
        ),
        (
            "market",
            ("CACHE_TTL", "0"),
            "cache_ttl (CACHE_TTL): must be more than 0 seconds",
        ),
        (
            "web",
            ("STOCKD_FEATURES__HISTROY_DELTA", "false"),
            "features: ",
        ),
        ("web", ("STOCKD_SIGNUP", "sometimes"), "signup: "),
        (
            "ingest",
            ("STOCKD_INGEST_SCHEDULE", "every day"),
            "ingest_schedule: ",
        ),
        (
            "roles",
            ("STOCKD_ROLES", "api,chef"),
            "roles: unknown role 'chef'; roles: all, api, worker, alerts",
        ),
        (
            "alerts",
            ("STOCKD_NATS_PREFIX", "Stock D"),
            "nats_prefix: 'Stock D' must be lower-case letters, digits, '_' or '-'",
        ),
        (
            "alerts",
            ("STOCKD_ALERT_QUOTE_PROVIDERS", "ticker"),
            "alert_quote_providers: unknown provider 'ticker'; known: sample, alphavantage, \
             finnhub, yahoo, polygon, sim",
        ),
        (
            "notify",
            ("STOCKD_NOTIFICATION_RETRY_SCHEDULE", "often"),
            "notification_retry_schedule: ",
        ),
        (
            "notify",
            ("STOCKD_WEBHOOK_ALLOW", "10.0.0.0/99"),
            "webhook_allow: ",
        ),
        (
            "notify",
            ("STOCKD_NOTIFICATION_SENDS_PER_HOST", "0"),
            "notification_sends_per_host: must be between 1 and 256 (got 0)",
        ),
        (
            "notify",
            ("STOCKD_SMTP_HOST", "mail.example.com"),
            "smtp_from: is needed with smtp_host (e.g. stockd <alerts@example.com>)",
        ),
        ("telemetry", ("STOCKD_LOG_FORMAT", "xml"), "log_format"),
    ] {
        let err = load(&[], &[(name, value)]).unwrap_err();
        if expected.ends_with(": ") || section == "telemetry" {
            assert!(
                err.starts_with(expected) || (section == "telemetry" && err.contains(expected)),
                "{section}: {name}={value}: {err}"
            );
            assert!(err.len() > expected.len() + 5, "{section}: says why: {err}");
        } else {
            assert_eq!(err, expected, "{section}: {name}={value}");
        }
    }
}

#[test]
fn serve_roles_replace_the_setting_and_are_checked_the_same_way() {
    let mut config = load(&[], &[]).unwrap();
    assert!(config.roles.worker && config.roles.alerts, "all by default");
    config.set_roles("api".into()).unwrap();
    assert!(!config.roles.worker && !config.roles.alerts);
    assert_eq!(config.settings.roles, "api");
    let err = config.set_roles("chef".into()).unwrap_err().to_string();
    assert_eq!(
        err,
        "roles: unknown role 'chef'; roles: all, api, worker, alerts"
    );
    assert_eq!(
        config.settings.roles, "api",
        "a refused value changes nothing"
    );
}

#[test]
fn signals_have_documented_weights_and_thresholds_that_the_environment_and_a_file_change() {
    let config = load(&[], &[]).unwrap();
    assert!(config.signals.enabled);
    assert_eq!(config.signals.config, domain::SignalsConfig::default());
    let weights = config.signals.config.weights();
    assert_eq!(
        [
            weights.trend,
            weights.momentum,
            weights.mean_reversion,
            weights.volatility,
            weights.sentiment
        ],
        [0.35, 0.25, 0.2, 0.2, 0.25]
    );
    let thresholds = config.signals.config.thresholds();
    assert_eq!(
        [
            thresholds.strong_buy,
            thresholds.buy,
            thresholds.sell,
            thresholds.strong_sell
        ],
        [0.6, 0.2, -0.2, -0.6]
    );
    let printed = config.render(OutputFormat::Toml);
    assert!(printed.contains("[signals]"), "{printed}");
    assert!(printed.contains("[signals.weights]") && printed.contains("mean_reversion = 0.2"));
    assert!(printed.contains("[signals.thresholds]") && printed.contains("strong_sell = -0.6"));

    let config = load(
        &[],
        &[
            ("STOCKD_SIGNALS__ENABLED", "false"),
            ("STOCKD_SIGNALS__WEIGHTS__TREND", "1"),
            ("STOCKD_SIGNALS__THRESHOLDS__BUY", "0.3"),
        ],
    )
    .unwrap();
    assert!(!config.signals.enabled);
    assert_eq!(config.signals.config.weights().trend, 1.0);
    assert_eq!(
        config.signals.config.weights().momentum,
        0.25,
        "others kept"
    );
    assert_eq!(
        config.signals.config.label_for(0.25),
        domain::SignalLabel::Neutral
    );
    assert!(
        Config::unknown_env_names([(
            "STOCKD_SIGNALS__WEIGHTS__SENTIMENT".to_owned(),
            "0".to_owned()
        )])
        .is_empty()
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stockd.toml");
    std::fs::write(
        &file,
        "[signals.weights]\nsentiment = 0\n[signals.thresholds]\nstrong_buy = 0.8\n",
    )
    .unwrap();
    let config = load(&["--config", file.to_str().unwrap()], &[]).unwrap();
    assert_eq!(config.signals.config.weights().sentiment, 0.0);
    assert_eq!(config.signals.config.thresholds().strong_buy, 0.8);
}

#[test]
fn bad_signal_weights_and_thresholds_are_refused_naming_the_setting() {
    for (name, value, setting) in [
        (
            "STOCKD_SIGNALS__WEIGHTS__MOMENTUM",
            "-0.1",
            "signals.weights.momentum",
        ),
        (
            "STOCKD_SIGNALS__THRESHOLDS__STRONG_BUY",
            "1.5",
            "signals.thresholds.strong_buy",
        ),
        (
            "STOCKD_SIGNALS__THRESHOLDS__SELL",
            "0.5",
            "signals.thresholds.sell",
        ),
        (
            "STOCKD_SIGNALS__THRESHOLDS__STRONG_SELL",
            "-0.1",
            "signals.thresholds.strong_sell",
        ),
    ] {
        let err = load(&[], &[(name, value)]).unwrap_err();
        assert!(err.starts_with(setting), "{name}={value}: {err}");
    }
    let all_zero = [
        ("STOCKD_SIGNALS__WEIGHTS__TREND", "0"),
        ("STOCKD_SIGNALS__WEIGHTS__MOMENTUM", "0"),
        ("STOCKD_SIGNALS__WEIGHTS__MEAN_REVERSION", "0"),
        ("STOCKD_SIGNALS__WEIGHTS__VOLATILITY", "0"),
        ("STOCKD_SIGNALS__WEIGHTS__SENTIMENT", "0"),
    ];
    let err = load(&[], &all_zero).unwrap_err();
    assert!(
        err.contains("signals.weights") && err.contains("more than 0"),
        "{err}"
    );
    let err = load(&[], &[("STOCKD_SIGNALS__WEIGHTS__NEWS", "1")]).unwrap_err();
    assert!(err.contains("news"), "{err}");
}

#[test]
fn sentiment_scores_with_the_lexicon_alone_unless_scorers_are_listed() {
    use stockd::config::LlmScorer;
    let config = load(&[], &[]).unwrap();
    assert!(config.sentiment.preferred.is_empty());
    assert_eq!(config.sentiment.window, Duration::from_secs(7 * 86_400));
    assert_eq!(config.sentiment.batch_size, 50);

    let config = load(
        &[],
        &[
            ("STOCKD_SENTIMENT__SCORERS", "gemini, openai"),
            ("STOCKD_SENTIMENT__GEMINI__API_KEY", "123456789"),
            (
                "STOCKD_SENTIMENT__OPENAI__BASE_URL",
                "http://127.0.0.1:11434/v1",
            ),
            ("STOCKD_SENTIMENT__OPENAI__MODEL", "llama3.1"),
            ("STOCKD_SENTIMENT__OPENAI__DAILY_BUDGET", "2000"),
            ("STOCKD_SENTIMENT__OPENAI__RESPONSE_FORMAT", "json_object"),
            ("STOCKD_SENTIMENT__WINDOW", "2d"),
        ],
    )
    .unwrap();
    let sentiment = &config.sentiment;
    assert_eq!(sentiment.preferred, [LlmScorer::Gemini, LlmScorer::OpenAi]);
    assert_eq!(sentiment.window, Duration::from_secs(2 * 86_400));
    assert_eq!(sentiment.openai.model, "llama3.1");
    assert_eq!(sentiment.openai.daily_budget, 2000);
    assert!(
        sentiment.openai.api_key.is_none(),
        "a local server needs no key"
    );
    assert_eq!(
        sentiment.openai.response_format,
        sentiment::ResponseFormat::JsonObject
    );
    assert!(
        Config::unknown_env_names([(
            "STOCKD_SENTIMENT__GEMINI__API_KEY".to_owned(),
            String::new()
        )])
        .is_empty()
    );
}

#[test]
fn sentiment_keys_are_redacted_when_printed() {
    let config = load(
        &[],
        &[
            ("STOCKD_SENTIMENT__SCORERS", "openai,gemini,lexicon"),
            ("STOCKD_SENTIMENT__OPENAI__API_KEY", "sk-very-secret"),
            ("STOCKD_SENTIMENT__GEMINI__API_KEY", "AIza-very-secret"),
            (
                "STOCKD_SENTIMENT__OPENAI__BASE_URL",
                "https://user:pw-secret@llm.internal/v1?key=q-secret",
            ),
        ],
    )
    .unwrap();
    for format in [OutputFormat::Toml, OutputFormat::Json] {
        let printed = config.render(format);
        assert!(printed.contains("sentiment"), "{printed}");
        for secret in [
            "sk-very-secret",
            "AIza-very-secret",
            "pw-secret",
            "q-secret",
        ] {
            assert!(!printed.contains(secret), "{secret} printed:\n{printed}");
        }
    }
    let debug = format!("{config:?}");
    for secret in ["sk-very-secret", "AIza-very-secret"] {
        assert!(!debug.contains(secret), "{secret} in Debug");
    }
}

#[test]
fn bad_sentiment_settings_are_refused_naming_the_setting() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("STOCKD_SENTIMENT__SCORERS", "vader")],
            "sentiment.scorers: unknown scorer 'vader'",
        ),
        (
            &[("STOCKD_SENTIMENT__SCORERS", "lexicon,openai")],
            "sentiment.scorers: lexicon must be last",
        ),
        (
            &[("STOCKD_SENTIMENT__SCORERS", "gemini")],
            "sentiment.gemini.api_key",
        ),
        (
            &[("STOCKD_SENTIMENT__SCORERS", "openai")],
            "sentiment.openai.api_key",
        ),
        (
            &[
                ("STOCKD_SENTIMENT__SCORERS", "openai"),
                ("STOCKD_SENTIMENT__OPENAI__API_KEY", "k"),
                ("STOCKD_SENTIMENT__OPENAI__DAILY_BUDGET", "0"),
            ],
            "sentiment.openai.daily_budget",
        ),
        (
            &[("STOCKD_SENTIMENT__OPENAI__BASE_URL", "ftp://x")],
            "sentiment.openai.base_url",
        ),
        (
            &[("STOCKD_SENTIMENT__OPENAI__RESPONSE_FORMAT", "yaml")],
            "sentiment.openai.response_format",
        ),
        (
            &[("STOCKD_SENTIMENT__BATCH_SIZE", "0")],
            "sentiment.batch_size",
        ),
        (&[("STOCKD_SENTIMENT__WINDOW", "1m")], "sentiment.window"),
        (
            &[("STOCKD_SENTIMENT__POLL_INTERVAL", "0s")],
            "sentiment.poll_interval",
        ),
    ];
    for (env, expected) in cases {
        let error = load(&[], env).unwrap_err();
        assert!(error.contains(expected), "{env:?}: {error}");
    }
}

#[test]
fn notification_sends_per_host_default_to_a_few_and_the_environment_sets_them() {
    let config = load(&["serve"], &[]).unwrap();
    assert_eq!(config.settings.notification_sends_per_host, 8);
    assert_eq!(config.notify.dispatch.per_host, 8);
    let config = load(&["serve"], &[("STOCKD_NOTIFICATION_SENDS_PER_HOST", "2")]).unwrap();
    assert_eq!(config.notify.dispatch.per_host, 2, "the dispatcher gets it");
    let err = load(
        &["serve"],
        &[("STOCKD_NOTIFICATION_SENDS_PER_HOST", "1000")],
    )
    .unwrap_err();
    assert_eq!(
        err,
        "notification_sends_per_host: must be between 1 and 256 (got 1000)"
    );
}
