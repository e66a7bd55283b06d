//! The wire shape of `POST /v1/alerts` and the field-named validation errors.

use alerts::{
    Condition, FieldError, Frequency, Move, Percent, Rule, RuleState, SeriesSpec, Side, Span, Trail,
};
use chrono::{DateTime, Utc};
use serde_json::json;

use crate::{msft, price};

fn parse(value: serde_json::Value) -> Rule {
    serde_json::from_value(value).unwrap()
}

fn fields_of(value: serde_json::Value) -> Vec<&'static str> {
    let errors: Vec<FieldError> = parse(value).validate().unwrap_err();
    errors.iter().map(|e| e.field).collect()
}

#[test]
fn the_issue_example_parses_and_round_trips() {
    let wire = json!({"symbol":"MSFT","kind":"crosses_up","price":420.0,"frequency":"once","channels":["ch_12"]});
    let rule = parse(wire.clone());
    assert_eq!(rule.symbol, msft());
    assert_eq!(
        rule.condition,
        Condition::CrossesUp {
            price: price("420")
        }
    );
    assert_eq!(rule.frequency, Frequency::Once);
    assert_eq!(rule.channels, vec!["ch_12".to_owned()]);
    assert_eq!(serde_json::to_value(&rule).unwrap(), wire);
    rule.validate().unwrap();
}

#[test]
fn a_rule_without_frequency_fires_once_as_on_tradingview() {
    let rule = serde_json::from_value::<Rule>(
        json!({"symbol":"MSFT","kind":"crosses_up","price":420,"channels":["ch_12"]}),
    )
    .unwrap();
    assert_eq!(rule.frequency, Frequency::Once);
    rule.validate().unwrap();
    // Stored and answered with the frequency it got.
    assert_eq!(serde_json::to_value(&rule).unwrap()["frequency"], "once");
    // A cooldown still needs `every_time`.
    let with_cooldown = parse(json!({"symbol":"MSFT","kind":"above","price":1,"cooldown":"1m"}));
    assert_eq!(with_cooldown.validate().unwrap_err()[0].field, "cooldown");
}

#[test]
fn every_kind_round_trips() {
    let rules = [
        json!({"symbol":"MSFT","kind":"above","price":500.25,"frequency":"every_time","cooldown":"15m","channels":["ch_1"],"expires_at":"2026-12-31T21:00:00Z"}),
        json!({"symbol":"MSFT","kind":"below","price":300,"frequency":"once_per_day","channels":[]}),
        json!({"symbol":"MSFT","kind":"crosses_down","price":410,"frequency":"once","channels":["ch_1"]}),
        json!({"symbol":"MSFT","kind":"crosses","price":410,"frequency":"once","channels":["ch_1"]}),
        json!({"symbol":"MSFT","kind":"moves_down_pct","percent":5,"window_days":3,"frequency":"once","channels":["ch_1"]}),
        json!({"symbol":"MSFT","kind":"moves_up_pct","percent":2.5,"window":"2h","frequency":"once","channels":["ch_1"]}),
        json!({"symbol":"MSFT","kind":"moves_up_pct","percent":1,"vs_previous_close":true,"frequency":"once","channels":["ch_1"]}),
        json!({"symbol":"MSFT","kind":"trailing_stop","percent":8,"activation_price":450,"side":"long","frequency":"once","channels":["ch_1"]}),
        json!({"symbol":"MSFT","kind":"trailing_stop","amount":3.5,"side":"short","frequency":"once","channels":["ch_1"]}),
    ];
    for wire in rules {
        let rule = parse(wire.clone());
        rule.validate().unwrap();
        let back: Rule = serde_json::from_value(serde_json::to_value(&rule).unwrap()).unwrap();
        assert_eq!(back, rule, "{wire}");
    }
}

#[test]
fn the_issue_short_forms_parse() {
    let rule = parse(
        json!({"symbol":"MSFT","kind":"trailing_stop","percent":8,"activation_price":450,"frequency":"once"}),
    );
    assert_eq!(
        rule.condition,
        Condition::TrailingStop(Trail {
            percent: Some(Percent::from_units(8)),
            amount: None,
            activation_price: Some(price("450")),
            side: Side::Long,
        })
    );
    let rule = parse(
        json!({"symbol":"MSFT","kind":"moves_down_pct","percent":5,"window_days":3,"frequency":"once"}),
    );
    assert_eq!(
        rule.condition,
        Condition::MovesDownPct(Move {
            percent: Percent::from_units(5),
            window_days: Some(3),
            window: None,
            vs_previous_close: false,
        })
    );
    let rule = parse(
        json!({"symbol":"MSFT","kind":"above","price":1,"frequency":"every_time","cooldown":"1h 30m"}),
    );
    assert_eq!(rule.cooldown, Some(Span::from_secs(5400)));
}

#[test]
fn an_unknown_kind_lists_the_known_ones() {
    let error = serde_json::from_value::<Rule>(
        json!({"symbol":"MSFT","kind":"crosses_sideways","price":1,"frequency":"once"}),
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("crosses_sideways"), "{error}");
    for kind in Condition::KINDS {
        assert!(error.contains(kind), "{kind} missing from: {error}");
    }
}

#[test]
fn validation_names_each_bad_field() {
    let base = |extra: serde_json::Value| {
        let mut v = json!({"symbol":"MSFT","frequency":"once"});
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        v
    };
    assert_eq!(
        fields_of(base(json!({"kind":"above","price":0}))),
        ["price"]
    );
    assert_eq!(
        fields_of(base(json!({"kind":"crosses","price":-3}))),
        ["price"]
    );
    assert_eq!(
        fields_of(base(
            json!({"kind":"moves_up_pct","percent":-5,"window_days":3})
        )),
        ["percent"]
    );
    assert_eq!(
        fields_of(base(
            json!({"kind":"moves_up_pct","percent":1000.5,"window_days":3})
        )),
        ["percent"]
    );
    assert_eq!(
        fields_of(base(
            json!({"kind":"moves_down_pct","percent":5,"window_days":0})
        )),
        ["window_days"]
    );
    assert_eq!(
        fields_of(base(
            json!({"kind":"moves_down_pct","percent":5,"window_days":261})
        )),
        ["window_days"]
    );
    assert_eq!(
        fields_of(base(json!({"kind":"moves_down_pct","percent":5}))),
        ["window_days"]
    );
    assert_eq!(
        fields_of(base(
            json!({"kind":"moves_down_pct","percent":5,"window":"2h","window_days":2})
        )),
        ["window_days"]
    );
    assert_eq!(
        fields_of(base(json!({"kind":"trailing_stop","amount":0}))),
        ["amount"]
    );
    assert_eq!(
        fields_of(base(
            json!({"kind":"trailing_stop","percent":5,"activation_price":-1})
        )),
        ["activation_price"]
    );
    assert_eq!(
        fields_of(base(json!({"kind":"trailing_stop"}))),
        ["percent"]
    );
    assert_eq!(
        fields_of(json!({"symbol":"MSFT","kind":"above","price":1,"frequency":"every_time"})),
        ["cooldown"]
    );
    // Several problems are reported together.
    assert_eq!(
        fields_of(
            json!({"symbol":"MSFT","kind":"trailing_stop","percent":-1,"activation_price":0,"frequency":"every_time"})
        ),
        ["percent", "activation_price", "cooldown"]
    );
}

#[test]
fn validation_messages_say_what_is_wrong_and_the_allowed_range() {
    let errors = parse(json!({"symbol":"MSFT","kind":"above","price":-2,"frequency":"once"}))
        .validate()
        .unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field, "price");
    for part in ["greater than 0", "at most 100000000", "got -2"] {
        assert!(errors[0].message.contains(part), "{}", errors[0].message);
    }
    let body = serde_json::to_value(&errors).unwrap();
    assert_eq!(body[0]["field"], "price");
    assert_eq!(body[0]["message"], errors[0].message.as_str());
}

/// The body of the security report: accepted before, then the evaluator panicked at its first
/// fire (`DateTime + TimeDelta overflowed`) and no rule of any user fired again.
#[test]
fn the_reported_cooldown_of_99999999999_days_is_refused_with_its_range() {
    let rule = parse(
        json!({"symbol":"MSFT","kind":"above","price":5,"frequency":"every_time",
                            "cooldown":"99999999999d"}),
    );
    let errors = rule.validate().unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].field, "cooldown");
    assert!(
        errors[0].message.contains("between 1s and 366d"),
        "{}",
        errors[0].message
    );
    // The longest allowed cooldown is accepted.
    parse(
        json!({"symbol":"MSFT","kind":"above","price":5,"frequency":"every_time",
                 "cooldown":"366d"}),
    )
    .validate()
    .unwrap();
}

#[test]
fn every_price_duration_and_count_a_rule_carries_is_bounded() {
    let base = |extra: serde_json::Value| {
        let mut v = json!({"symbol":"MSFT","frequency":"once"});
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        v
    };
    for (body, field) in [
        (json!({"kind":"above","price":100_000_000.5}), "price"),
        (
            json!({"kind":"crosses_up","price":9_000_000_000.0}),
            "price",
        ),
        (
            json!({"kind":"trailing_stop","amount":200_000_000}),
            "amount",
        ),
        (
            json!({"kind":"trailing_stop","percent":5,"activation_price":100_000_001}),
            "activation_price",
        ),
        (
            json!({"kind":"moves_up_pct","percent":5,"window":"8d"}),
            "window",
        ),
        (
            json!({"kind":"moves_up_pct","percent":5,"window":"99999999999d"}),
            "window",
        ),
        (
            json!({"kind":"moves_up_pct","percent":5,"window_days":4_000_000_000u32}),
            "window_days",
        ),
        (
            json!({"kind":"above","price":1,"frequency":"every_time","cooldown":"367d"}),
            "cooldown",
        ),
        (
            json!({"kind":"above","price":1,"frequency":"every_time","cooldown":"500ms"}),
            "cooldown",
        ),
        (
            json!({"kind":"above","price":1,"frequency":"every_time","cooldown":18_446_744_073_709_551_615u64}),
            "cooldown",
        ),
    ] {
        assert_eq!(fields_of(base(body.clone())), [field], "{body}");
    }
    // The upper ends themselves are allowed.
    for body in [
        json!({"kind":"above","price":100_000_000}),
        json!({"kind":"trailing_stop","amount":100_000_000,"activation_price":100_000_000}),
        json!({"kind":"moves_up_pct","percent":1000,"window":"7d"}),
        json!({"kind":"moves_up_pct","percent":5,"window_days":260}),
    ] {
        parse(base(body.clone()))
            .validate()
            .unwrap_or_else(|e| panic!("{body}: {e:?}"));
    }
}

#[test]
fn expires_at_must_be_in_the_future_and_at_most_ten_years_ahead() {
    let now: DateTime<Utc> = "2026-11-30T12:00:00Z".parse().unwrap();
    let with_expiry = |expires_at: &str| {
        parse(
            json!({"symbol":"MSFT","kind":"above","price":1,"frequency":"once",
                     "expires_at": expires_at}),
        )
    };
    for late_or_past in [
        "2026-11-30T12:00:00Z",
        "2020-01-01T00:00:00Z",
        "2036-12-31T00:00:00Z",
        "9999-12-31T23:59:59Z",
    ] {
        let errors = with_expiry(late_or_past).validate_at(now).unwrap_err();
        assert_eq!(errors[0].field, "expires_at", "{late_or_past}");
        assert!(
            errors[0].message.contains("at most 10 years ahead"),
            "{}",
            errors[0].message
        );
        // Without the clock only the values are checked: a stored rule may have expired.
        with_expiry(late_or_past).validate().unwrap();
    }
    for fine in ["2026-11-30T12:00:01Z", "2036-11-29T00:00:00Z"] {
        with_expiry(fine).validate_at(now).unwrap();
    }
}

/// A full rule of each kind, every optional field set. Struct literals without `..`: a field
/// added to a condition breaks this test until it is listed.
fn every_field_of_each_kind() -> Vec<Rule> {
    let level = price("10");
    let moves = Move {
        percent: Percent::from_units(5),
        window_days: Some(3),
        window: Some(Span::from_secs(60)),
        vs_previous_close: true,
    };
    let trail = Trail {
        percent: Some(Percent::from_units(5)),
        amount: Some(level),
        activation_price: Some(level),
        side: Side::Short,
    };
    [
        Condition::Above { price: level },
        Condition::Below { price: level },
        Condition::CrossesUp { price: level },
        Condition::CrossesDown { price: level },
        Condition::Crosses { price: level },
        Condition::MovesUpPct(moves),
        Condition::MovesDownPct(moves),
        Condition::TrailingStop(trail),
    ]
    .into_iter()
    .map(|condition| {
        // The level kinds also take a series with its value and other (never all together
        // in a valid rule: this only lists the fields).
        let level_kind = matches!(
            condition,
            Condition::Above { .. }
                | Condition::Below { .. }
                | Condition::CrossesUp { .. }
                | Condition::CrossesDown { .. }
                | Condition::Crosses { .. }
        );
        let series = |name: &str| level_kind.then(|| name.parse::<SeriesSpec>().unwrap());
        (
            condition,
            series("sma:50"),
            series("sma:200"),
            level_kind.then_some(level),
        )
    })
    .map(|(condition, series, other, value)| Rule {
        symbol: msft(),
        condition,
        series,
        value,
        other,
        frequency: Frequency::EveryTime,
        cooldown: Some(Span::from_secs(60)),
        channels: vec!["ch_1".to_owned()],
        expires_at: Some("2027-01-01T00:00:00Z".parse().unwrap()),
    })
    .collect()
}

#[test]
fn the_field_list_of_each_kind_is_exactly_what_it_serialises() {
    let rules = every_field_of_each_kind();
    assert_eq!(rules.len(), Condition::KINDS.len());
    for rule in rules {
        let wire = serde_json::to_value(&rule).unwrap();
        let kind = wire["kind"].as_str().unwrap().to_owned();
        let mut sent: Vec<&str> = wire
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut listed = Rule::fields(&kind);
        sent.sort_unstable();
        listed.sort_unstable();
        assert_eq!(sent, listed, "{kind}");
        assert!(Rule::unknown_fields(&kind, sent.iter().copied()).is_empty());
    }
}

#[test]
fn unknown_fields_are_named_per_kind() {
    let keys = ["symbol", "kind", "price", "frequency", "expires", "percent"];
    assert_eq!(Rule::unknown_fields("above", keys), ["expires", "percent"]);
    let keys = ["symbol", "kind", "percent", "window", "side"];
    assert_eq!(Rule::unknown_fields("moves_up_pct", keys), ["side"]);
    assert_eq!(Rule::unknown_fields("trailing_stop", keys), ["window"]);
    assert!(Rule::fields("pigeon").is_empty());
}

#[test]
fn a_short_trailing_stop_may_ask_for_more_than_100_percent() {
    parse(json!({"symbol":"MSFT","kind":"trailing_stop","percent":150,"side":"short","frequency":"once"}))
        .validate()
        .unwrap();
    assert_eq!(
        fields_of(json!({"symbol":"MSFT","kind":"trailing_stop","percent":150,"frequency":"once"})),
        ["percent"]
    );
}

#[test]
fn state_round_trips_through_json() {
    let mut state = RuleState::armed();
    state.activated = true;
    state.extreme = Some(price("461.5"));
    state.fired_day = Some("2026-11-27".parse().unwrap());
    state.cooldown_until = Some("2026-11-27T15:45:00Z".parse().unwrap());
    let text = serde_json::to_string(&state).unwrap();
    assert_eq!(serde_json::from_str::<RuleState>(&text).unwrap(), state);
}
