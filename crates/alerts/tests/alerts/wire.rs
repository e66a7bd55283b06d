//! The wire shape of `POST /v1/alerts` and the field-named validation errors.

use alerts::{Condition, FieldError, Frequency, Move, Percent, Rule, RuleState, Side, Span, Trail};
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
fn validation_messages_say_what_is_wrong() {
    let errors = parse(json!({"symbol":"MSFT","kind":"above","price":-2,"frequency":"once"}))
        .validate()
        .unwrap_err();
    assert_eq!(errors[0].message, "must be greater than 0 (got -2)");
    let body = serde_json::to_value(&errors).unwrap();
    assert_eq!(
        body,
        json!([{"field":"price","message":"must be greater than 0 (got -2)"}])
    );
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
