//! Proptest strategies for rules, states, ticks and bars at the extremes of what their types
//! hold (and, for rules, also at the ends of the ranges validation allows). Boxed, so that the
//! nested value trees stay small on a debug build's stack.

use alerts::{Condition, Frequency, Move, Percent, Rule, RuleState, Side, Span, Trail};
use chrono::{DateTime, NaiveDate, Utc};
use domain::{Bar, Price, Symbol};
use proptest::prelude::*;

pub(crate) fn symbol(index: u8) -> Symbol {
    Symbol::parse(["AAA", "BBB"][usize::from(index % 2)]).unwrap()
}

/// Raw prices: the extremes of `i64`, zero and negatives, and ordinary half-dollar prices
/// (so that rules do fire and the fire paths run too).
pub(crate) fn price() -> BoxedStrategy<Price> {
    prop_oneof![
        1 => Just(i64::MIN),
        1 => Just(i64::MAX),
        1 => Just(i64::MAX - 1),
        1 => Just(0),
        1 => Just(1),
        1 => Just(-1),
        2 => any::<i64>(),
        6 => (1i64..=400).prop_map(|half_dollars| half_dollars * 500_000_000),
    ]
    .prop_map(Price::from_raw)
    .boxed()
}

pub(crate) fn from_timestamp(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap()
}

/// Instants from chrono's minimum to its maximum, often right at or near either end, often in
/// an ordinary week (so cooldowns and re-arms come due).
pub(crate) fn instant() -> BoxedStrategy<DateTime<Utc>> {
    let min = DateTime::<Utc>::MIN_UTC.timestamp();
    let max = DateTime::<Utc>::MAX_UTC.timestamp();
    let week = from_timestamp(1_795_000_000).timestamp();
    prop_oneof![
        1 => Just(DateTime::<Utc>::MIN_UTC),
        1 => Just(DateTime::<Utc>::MAX_UTC),
        1 => (0i64..=800 * 86_400).prop_map(move |s| from_timestamp(min + s)),
        1 => (0i64..=800 * 86_400).prop_map(move |s| from_timestamp(max - s)),
        1 => (min..=max).prop_map(from_timestamp),
        5 => (0i64..=7 * 86_400).prop_map(move |s| from_timestamp(week + s)),
    ]
    .boxed()
}

pub(crate) fn date() -> BoxedStrategy<NaiveDate> {
    prop_oneof![
        Just(NaiveDate::MIN),
        Just(NaiveDate::MAX),
        (NaiveDate::MIN.to_epoch_days()..=NaiveDate::MAX.to_epoch_days())
            .prop_map(|days| NaiveDate::from_epoch_days(days).unwrap()),
        (0i32..=30).prop_map(|days| NaiveDate::from_epoch_days(20_770 + days).unwrap()),
    ]
    .boxed()
}

/// Durations from zero to `u64::MAX` seconds (what `"99999999999d"` parses to lies between).
pub(crate) fn span() -> BoxedStrategy<Span> {
    prop_oneof![
        Just(0u64),
        Just(u64::MAX),
        any::<u64>(),
        Just(99_999_999_999 * 86_400),
        1u64..=400 * 86_400,
    ]
    .prop_map(Span::from_secs)
    .boxed()
}

pub(crate) fn percent() -> BoxedStrategy<Percent> {
    price().prop_map(Percent).boxed()
}

/// A percent move with any combination of bases (none, several, out of range).
pub(crate) fn movement() -> BoxedStrategy<Move> {
    (
        percent(),
        prop::option::of(any::<u32>()),
        prop::option::of(span()),
        any::<bool>(),
    )
        .prop_map(|(percent, window_days, window, vs_previous_close)| Move {
            percent,
            window_days,
            window,
            vs_previous_close,
        })
        .boxed()
}

pub(crate) fn condition() -> BoxedStrategy<Condition> {
    let trail = (
        prop::option::of(percent()),
        prop::option::of(price()),
        prop::option::of(price()),
        any::<bool>(),
    )
        .prop_map(|(percent, amount, activation_price, long)| Trail {
            percent,
            amount,
            activation_price,
            side: if long { Side::Long } else { Side::Short },
        });
    prop_oneof![
        price().prop_map(|price| Condition::Above { price }),
        price().prop_map(|price| Condition::Below { price }),
        price().prop_map(|price| Condition::CrossesUp { price }),
        price().prop_map(|price| Condition::CrossesDown { price }),
        price().prop_map(|price| Condition::Crosses { price }),
        movement().prop_map(Condition::MovesUpPct),
        movement().prop_map(Condition::MovesDownPct),
        trail.prop_map(Condition::TrailingStop),
    ]
    .boxed()
}

/// Any rule: mostly out of range (which the engine sets aside on insertion), often within
/// the ranges validation allows but at their ends (which it must evaluate without overflow).
pub(crate) fn rule() -> BoxedStrategy<Rule> {
    prop_oneof![unchecked_rule(), bounded_rule()].boxed()
}

pub(crate) fn unchecked_rule() -> BoxedStrategy<Rule> {
    (
        any::<u8>(),
        condition(),
        prop_oneof![
            Just(Frequency::Once),
            Just(Frequency::OncePerDay),
            Just(Frequency::EveryTime)
        ],
        prop::option::of(span()),
        prop::option::of(instant()),
    )
        .prop_map(|(index, condition, frequency, cooldown, expires_at)| Rule {
            symbol: symbol(index),
            condition,
            series: None,
            value: None,
            other: None,
            frequency,
            cooldown,
            channels: Vec::new(),
            expires_at,
        })
        .boxed()
}

/// A rule that passes validation, its values often at the ends of their ranges.
pub(crate) fn bounded_rule() -> BoxedStrategy<Rule> {
    let level = prop_oneof![
        Just(Price::from_raw(1)),
        Just(alerts::MAX_PRICE),
        (1i64..=400).prop_map(|half_dollars| Price::from_raw(half_dollars * 500_000_000)),
    ];
    let up_percent = prop_oneof![
        Just(Percent(Price::from_raw(1))),
        Just(alerts::MAX_PERCENT),
        (1i64..=20).prop_map(Percent::from_units),
    ];
    let down_percent = prop_oneof![
        Just(Percent(Price::from_raw(1))),
        Just(Percent(Price::from_raw(99_999_999_999))),
        (1i64..=20).prop_map(Percent::from_units),
    ];
    let basis = prop_oneof![
        prop_oneof![Just(1u32), Just(alerts::MAX_WINDOW_DAYS)].prop_map(|days| (
            Some(days),
            None,
            false
        )),
        prop_oneof![Just(alerts::MIN_SPAN), Just(alerts::MAX_WINDOW)].prop_map(|span| (
            None,
            Some(span),
            false
        )),
        Just((None, None, true)),
    ];
    let moves = (any::<bool>(), up_percent.clone(), down_percent, basis).prop_map(
        |(up, up_percent, down_percent, (window_days, window, vs_previous_close))| {
            let percent = if up { up_percent } else { down_percent };
            let change = Move {
                percent,
                window_days,
                window,
                vs_previous_close,
            };
            if up {
                Condition::MovesUpPct(change)
            } else {
                Condition::MovesDownPct(change)
            }
        },
    );
    let stop = (
        prop::option::of(level.clone()),
        level.clone(),
        any::<bool>(),
    )
        .prop_map(|(activation_price, amount, by_amount)| {
            Condition::TrailingStop(Trail {
                // A short stop may trail by 1000 %; by amount either side.
                percent: (!by_amount).then_some(alerts::MAX_PERCENT),
                amount: by_amount.then_some(amount),
                activation_price,
                side: if by_amount { Side::Long } else { Side::Short },
            })
        });
    let condition = prop_oneof![
        level.clone().prop_map(|price| Condition::Above { price }),
        level.clone().prop_map(|price| Condition::Below { price }),
        level.clone().prop_map(|price| Condition::Crosses { price }),
        moves,
        stop,
    ];
    let frequency = prop_oneof![
        Just((Frequency::Once, None)),
        Just((Frequency::OncePerDay, None)),
        prop_oneof![Just(alerts::MIN_SPAN), Just(alerts::MAX_COOLDOWN)]
            .prop_map(|cooldown| (Frequency::EveryTime, Some(cooldown))),
    ];
    (
        any::<u8>(),
        condition,
        frequency,
        prop::option::of(instant()),
    )
        .prop_map(|(index, condition, (frequency, cooldown), expires_at)| {
            let rule = Rule {
                symbol: symbol(index),
                condition,
                series: None,
                value: None,
                other: None,
                frequency,
                cooldown,
                channels: Vec::new(),
                expires_at,
            };
            assert_eq!(rule.validate(), Ok(()), "{rule:?}");
            rule
        })
        .boxed()
}

/// Any state, as a store written by an older (or buggy) build could hand back.
pub(crate) fn state() -> BoxedStrategy<RuleState> {
    (
        (any::<bool>(), any::<bool>(), any::<bool>()),
        prop::option::of(price()),
        prop::option::of(instant()),
        prop::option::of(instant()),
        prop::option::of(date()),
        prop::option::of(instant()),
        prop::option::of(price()),
        prop_oneof![Just(0u64), Just(u64::MAX), any::<u64>()],
    )
        .prop_map(
            |(
                (armed, expired, activated),
                last_price,
                last_at,
                last_fired_at,
                fired_day,
                cooldown_until,
                extreme,
                fire_count,
            )| RuleState {
                armed,
                expired,
                last_price,
                last_at,
                last_fired_at,
                fired_day,
                cooldown_until,
                activated,
                extreme,
                fire_count,
            },
        )
        .boxed()
}

pub(crate) fn bar() -> BoxedStrategy<Bar> {
    (date(), price(), price(), price(), price())
        .prop_map(|(date, open, high, low, close)| Bar {
            date,
            open,
            high,
            low,
            close,
            volume: 0,
            adj_close: None,
        })
        .boxed()
}
