//! Every kind fires exactly when it should, and not otherwise.

use alerts::{Engine, LastQuote, RuleState, Tick};
use chrono::TimeDelta;
use serde_json::json;

use crate::{Feed, at, msft, price, rule};

#[test]
fn above_fires_strictly_above_and_once_means_once() {
    let mut feed = Feed::new(rule(json!({"kind":"above","price":420})));
    assert_eq!(feed.fires(&["419", "420", "420.01", "425", "430"]), [2]);
    assert!(!feed.state().armed);
    assert_eq!(feed.state().fire_count, 1);
}

#[test]
fn below_fires_strictly_below() {
    let mut feed = Feed::new(rule(json!({"kind":"below","price":420})));
    assert_eq!(feed.fires(&["421", "420", "419.99", "410"]), [2]);
}

#[test]
fn above_once_per_day_rearms_on_the_next_trading_day() {
    let mut feed = Feed::new(rule(
        json!({"kind":"above","price":420,"frequency":"once_per_day"}),
    ));
    // Monday: fires once, stays quiet for the rest of the day although still above.
    assert_eq!(feed.fires(&["421", "422", "425"]), [0]);
    assert_eq!(feed.state().fired_day, Some("2026-11-23".parse().unwrap()));
    // 23:59 New York on Monday is still Monday.
    assert!(feed.tick_at(at("2026-11-24T04:59:00Z"), "430").is_empty());
    // Tuesday just after midnight New York: fires again.
    assert_eq!(feed.tick_at(at("2026-11-24T05:00:00Z"), "430").len(), 1);
    // Wednesday fires; Thanksgiving (a holiday) belongs to Wednesday's session; Friday fires.
    assert_eq!(feed.tick_at(at("2026-11-25T15:00:00Z"), "430").len(), 1);
    assert!(feed.tick_at(at("2026-11-26T15:00:00Z"), "430").is_empty());
    assert_eq!(feed.tick_at(at("2026-11-27T15:00:00Z"), "430").len(), 1);
    assert!(feed.state().armed);
}

#[test]
fn once_per_day_does_not_fire_on_a_new_day_when_the_price_is_not_beyond() {
    let mut feed = Feed::new(rule(
        json!({"kind":"above","price":420,"frequency":"once_per_day"}),
    ));
    assert_eq!(feed.fires(&["421"]), [0]);
    assert!(feed.tick_at(at("2026-11-24T15:00:00Z"), "410").is_empty());
    assert_eq!(feed.tick_at(at("2026-11-24T16:00:00Z"), "421").len(), 1);
}

#[test]
fn every_time_waits_out_its_cooldown() {
    let mut feed = Feed::new(rule(
        json!({"kind":"above","price":420,"frequency":"every_time","cooldown":"5m"}),
    ));
    // One tick a minute, all above: fires at minute 0, 5 and 10.
    let prices = ["421"; 12];
    assert_eq!(feed.fires(&prices), [0, 5, 10]);
    assert_eq!(feed.state().fire_count, 3);
}

#[test]
fn every_time_cooldown_does_not_fire_when_the_price_fell_back_meanwhile() {
    let mut feed = Feed::new(rule(
        json!({"kind":"above","price":420,"frequency":"every_time","cooldown":"2m"}),
    ));
    assert_eq!(feed.fires(&["421", "419", "419", "419", "421"]), [0, 4]);
}

#[test]
fn crosses_up_fires_when_the_price_leaves_the_level_upwards_not_when_it_touches_it() {
    let mut feed = Feed::new(rule(
        json!({"kind":"crosses_up","price":420,"frequency":"every_time","cooldown":"1s"}),
    ));
    // The first tick has no previous price: nothing can have crossed. Reaching 420 from below
    // is a touch; 420 → 421 is the crossing (previous ≤ level < current).
    assert_eq!(
        feed.fires(&["421", "419", "420", "421", "420", "421", "419.5", "425"]),
        [3, 5, 7]
    );
}

#[test]
fn closes_of_9_10_11_cross_up_10_on_the_11() {
    let mut feed = Feed::new(rule(json!({"kind":"crosses_up","price":10})));
    assert_eq!(feed.fires(&["9", "10", "11"]), [2]);
    let mut feed = Feed::new(rule(json!({"kind":"crosses_down","price":10})));
    assert_eq!(feed.fires(&["11", "10", "9"]), [2]);
}

#[test]
fn a_touch_that_bounces_back_crosses_only_the_way_it_leaves() {
    // 11, 10, 11: down to the level and back up is a crossing up (from 10), not down.
    let up = || rule(json!({"kind":"crosses_up","price":10}));
    let down = || rule(json!({"kind":"crosses_down","price":10}));
    assert_eq!(Feed::new(up()).fires(&["11", "10", "11"]), [2]);
    assert!(Feed::new(down()).fires(&["11", "10", "11"]).is_empty());
    // 9, 10, 9 mirrors it: a crossing down on the way back.
    assert!(Feed::new(up()).fires(&["9", "10", "9"]).is_empty());
    assert_eq!(Feed::new(down()).fires(&["9", "10", "9"]), [2]);
    // `crosses` sees the one crossing, on the tick that leaves the level.
    let either = rule(json!({"kind":"crosses","price":10}));
    assert_eq!(Feed::new(either).fires(&["11", "10", "11"]), [2]);
}

#[test]
fn crosses_up_fires_on_a_gap_over_the_level() {
    let mut feed = Feed::new(rule(json!({"kind":"crosses_up","price":420})));
    let fired = {
        feed.tick("400");
        feed.tick("440")
    };
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].message, "MSFT crossed above 420.00 (now 440.00)");
    assert_eq!(fired[0].dedupe_key, "r1:2026-11-23T15:02:00Z");
    assert_eq!(fired[0].state, feed.state());
    assert!(!feed.state().armed);
}

#[test]
fn crosses_down_mirrors_crosses_up() {
    let mut feed = Feed::new(rule(
        json!({"kind":"crosses_down","price":420,"frequency":"every_time","cooldown":"1s"}),
    ));
    assert_eq!(
        feed.fires(&["419", "421", "420", "419", "420", "419", "421", "400"]),
        [3, 5, 7]
    );
}

#[test]
fn crosses_fires_in_both_directions() {
    let mut feed = Feed::new(rule(
        json!({"kind":"crosses","price":420,"frequency":"every_time","cooldown":"1s"}),
    ));
    assert_eq!(
        feed.fires(&["410", "430", "425", "415", "415", "420.5"]),
        [1, 3, 5]
    );
    let mut feed = Feed::new(rule(json!({"kind":"crosses","price":420})));
    let triggers = {
        feed.tick("430");
        feed.tick("410")
    };
    assert_eq!(
        triggers[0].message,
        "MSFT crossed below 420.00 (now 410.00)"
    );
}

#[test]
fn a_rule_never_fires_at_or_after_its_expiry() {
    let mut feed = Feed::new(rule(
        json!({"kind":"crosses_up","price":420,"expires_at":"2026-11-23T15:03:00Z"}),
    ));
    assert!(feed.tick("410").is_empty());
    assert!(feed.tick("415").is_empty());
    // 15:03 is the expiry instant.
    assert!(feed.tick("430").is_empty());
    assert!(feed.state().expired && !feed.state().armed);
}

#[test]
fn expiry_disarms_a_rule_even_when_no_tick_reaches_it() {
    let mut feed = Feed::new(rule(
        json!({"kind":"above","price":900,"expires_at":"2026-11-23T15:03:00Z"}),
    ));
    feed.tick("410");
    feed.tick("410");
    assert!(feed.engine.changed_states().is_empty());
    feed.tick("410");
    assert_eq!(feed.engine.changed_states(), [(1, feed.state())]);
    assert!(feed.state().expired);
}

#[test]
fn moves_up_pct_against_the_close_n_sessions_back() {
    let mut feed = Feed::new(rule(
        json!({"kind":"moves_up_pct","percent":5,"window_days":3}),
    ));
    let closes = [
        ("2026-11-17", "390"),
        ("2026-11-18", "400"), // three sessions before Monday the 23rd
        ("2026-11-19", "410"),
        ("2026-11-20", "415"),
        ("2026-11-23", "500"), // Monday's own close is not a reference for Monday
    ];
    let closes: Vec<_> = closes
        .iter()
        .map(|(d, p)| (d.parse().unwrap(), price(p)))
        .collect();
    feed.engine.set_reference_closes(msft(), &closes);
    // +5 % of 400 is exactly 420.
    assert_eq!(feed.fires(&["419.99", "420"]), [1]);
}

#[test]
fn moves_down_pct_against_the_previous_close() {
    let mut feed = Feed::new(rule(
        json!({"kind":"moves_down_pct","percent":2,"vs_previous_close":true}),
    ));
    feed.engine
        .set_reference_closes(msft(), &[("2026-11-20".parse().unwrap(), price("100"))]);
    let triggers = {
        assert!(feed.tick("98.01").is_empty());
        feed.tick("98")
    };
    assert_eq!(
        triggers[0].message,
        "MSFT is down 2.00% versus the previous close 100.00 (now 98.00)"
    );
}

#[test]
fn moves_without_reference_closes_never_fire() {
    let mut feed = Feed::new(rule(
        json!({"kind":"moves_down_pct","percent":2,"window_days":2}),
    ));
    feed.engine
        .set_reference_closes(msft(), &[("2026-11-20".parse().unwrap(), price("100"))]);
    assert!(feed.fires(&["50", "40"]).is_empty());
}

#[test]
fn moves_up_pct_within_a_duration_measures_from_the_window_low() {
    let mut feed = Feed::new(rule(
        json!({"kind":"moves_up_pct","percent":10,"window":"5m"}),
    ));
    // Low 100 at minute 1; at minute 7 it has left the 5-minute window (low is then 105).
    assert_eq!(
        feed.fires(&["100", "105", "108", "109", "109", "109", "110", "115"]),
        Vec::<usize>::new()
    );
    let mut feed = Feed::new(rule(
        json!({"kind":"moves_up_pct","percent":10,"window":"5m"}),
    ));
    assert_eq!(feed.fires(&["100", "105", "108", "110"]), [3]);
}

#[test]
fn trailing_stop_activates_then_tracks_the_peak_then_fires() {
    let mut feed = Feed::new(rule(
        json!({"kind":"trailing_stop","percent":8,"activation_price":450}),
    ));
    // Below activation nothing is tracked, whatever the fall.
    assert!(feed.fires(&["440", "400"]).is_empty());
    assert!(!feed.state().activated);
    assert_eq!(feed.engine.trigger_level(1), None);
    // Reaching 450 activates; the peak ratchets up to 460 and never down.
    assert!(feed.fires(&["450", "460", "455"]).is_empty());
    assert!(feed.state().activated);
    assert_eq!(feed.state().extreme, Some(price("460")));
    assert_eq!(feed.engine.trigger_level(1), Some(price("423.2")));
    // 8 % below 460 is 423.20: 423.21 does not fire, 423.20 does.
    assert!(feed.tick("423.21").is_empty());
    let fired = feed.tick("423.2");
    assert_eq!(
        fired[0].message,
        "MSFT fell 8.00% from its high of 460.00 to 423.20 (trailing stop at 423.20)"
    );
    assert!(!feed.state().armed);
}

#[test]
fn trailing_stop_short_side_by_amount_rises_from_the_trough() {
    let mut feed = Feed::new(rule(
        json!({"kind":"trailing_stop","amount":5,"side":"short"}),
    ));
    assert!(feed.fires(&["100", "96", "90", "94.99"]).is_empty());
    assert_eq!(feed.state().extreme, Some(price("90")));
    assert_eq!(feed.engine.trigger_level(1), Some(price("95")));
    assert_eq!(feed.fires(&["95"]), [0]);
}

#[test]
fn a_repeating_trailing_stop_trails_afresh_after_its_cooldown() {
    let mut feed = Feed::new(rule(
        json!({"kind":"trailing_stop","amount":10,"frequency":"every_time","cooldown":"2m"}),
    ));
    // Peak 100, fires at 90 (minute 2); resting at minute 3; re-armed at minute 4 from 80.
    assert_eq!(feed.fires(&["100", "90", "85", "80", "75", "70"]), [1, 5]);
}

#[test]
fn only_changed_states_are_reported() {
    let mut engine = Engine::new();
    engine.insert(
        1,
        rule(json!({"kind":"crosses_up","price":420})),
        RuleState::armed(),
    );
    engine.insert(
        2,
        rule(json!({"kind":"crosses_up","price":500})),
        RuleState::armed(),
    );
    let tick = |p: &str, m: i64| Tick {
        symbol: msft(),
        price: price(p),
        at: at("2026-11-23T15:00:00Z") + TimeDelta::minutes(m),
        source: "sim".to_owned(),
    };
    engine.on_tick(&tick("410", 0));
    engine.on_tick(&tick("430", 1));
    let changed = engine.changed_states();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].0, 1);
    assert!(engine.changed_states().is_empty());
    assert_eq!(
        engine.changed_quotes(),
        [LastQuote {
            symbol: msft(),
            price: price("430"),
            at: at("2026-11-23T15:01:00Z")
        }]
    );
}

#[test]
fn a_restored_quote_and_state_neither_lose_nor_repeat_a_crossing() {
    let crossing =
        rule(json!({"kind":"crosses_up","price":420,"frequency":"every_time","cooldown":"1h"}));
    let mut before = Feed::new(crossing.clone());
    before.fires(&["410", "425"]);
    let state = before.state();
    let quote = before.engine.changed_quotes()[0];
    // Restart: a new engine from what was persisted.
    let mut engine = Engine::new();
    engine.insert(1, crossing, state);
    engine.restore_quote(quote);
    let tick = |p: &str, m: i64| Tick {
        symbol: msft(),
        price: price(p),
        at: quote.at + TimeDelta::minutes(m),
        source: "sim".to_owned(),
    };
    // Replaying the firing quote is refused as not newer... it is the same time, and equal
    // prices do not cross.
    assert!(engine.on_tick(&tick("425", 0)).is_empty());
    // Falling and crossing again inside the cooldown: quiet; after it: fires.
    assert!(engine.on_tick(&tick("410", 1)).is_empty());
    assert!(engine.on_tick(&tick("421", 2)).is_empty());
    assert!(engine.on_tick(&tick("410", 61)).is_empty());
    assert_eq!(engine.on_tick(&tick("421", 62)).len(), 1);
}

#[test]
fn stale_and_non_positive_ticks_are_ignored() {
    let mut feed = Feed::new(rule(json!({"kind":"crosses_up","price":420})));
    feed.tick("410");
    let latest = feed.now;
    assert!(
        feed.tick_at(latest - TimeDelta::minutes(5), "430")
            .is_empty()
    );
    feed.now = latest;
    assert!(feed.tick("0").is_empty());
    assert!(feed.tick("-5").is_empty());
    assert_eq!(feed.engine.last_quote(msft()).unwrap().price, price("410"));
    assert_eq!(feed.tick("430").len(), 1);
}

#[test]
fn update_keeps_state_for_delivery_changes_and_resets_it_for_a_new_condition() {
    let mut feed = Feed::new(rule(json!({"kind":"trailing_stop","percent":5})));
    feed.fires(&["100", "110"]);
    assert!(feed.engine.update(
        1,
        rule(json!({"kind":"trailing_stop","percent":5,"channels":["ch_7"]}))
    ));
    assert_eq!(feed.state().extreme, Some(price("110")));
    assert!(
        feed.engine
            .update(1, rule(json!({"kind":"trailing_stop","percent":6})))
    );
    assert_eq!(feed.state().extreme, None);
    assert!(
        !feed
            .engine
            .update(99, rule(json!({"kind":"above","price":1})))
    );
    assert!(feed.engine.remove(1).is_some());
    assert!(feed.fires(&["1", "1000"]).is_empty());
}

#[test]
fn dedupe_keys_are_stable_for_the_same_quote() {
    let make = || {
        let mut feed = Feed::new(rule(json!({"kind":"above","price":420})));
        feed.tick("421")
    };
    assert_eq!(make()[0].dedupe_key, make()[0].dedupe_key);
    assert_eq!(make()[0].dedupe_key, "r1:2026-11-23T15:01:00Z");
}

/// Feeds `price` at each offset (milliseconds after 10:00 New York); the offsets that fired.
fn fires_at(feed: &mut Feed, offsets_ms: &[i64], price: &str) -> Vec<i64> {
    let start = at("2026-11-23T15:00:00Z");
    offsets_ms
        .iter()
        .copied()
        .filter(|ms| {
            !feed
                .tick_at(start + TimeDelta::milliseconds(*ms), price)
                .is_empty()
        })
        .collect()
}

#[test]
fn a_one_second_cooldown_fires_on_every_quote_polled_every_second_despite_jitter() {
    let every_second =
        || rule(json!({"kind":"above","price":420,"frequency":"every_time","cooldown":"1s"}));
    // Every other poll lands 0.3 ms short of the whole second: a strict cooldown skipped those
    // and the next one could fire only on the poll after.
    let jittered: Vec<i64> = (0..20)
        .map(|k| k * 1000 - if k % 2 == 1 { 1 } else { 0 })
        .collect();
    let mut feed = Feed::new(every_second());
    assert_eq!(fires_at(&mut feed, &jittered, "421"), jittered);
    assert_eq!(feed.state().fire_count, 20);
    // Exactly on the second, of course, too.
    let exact: Vec<i64> = (0..20).map(|k| k * 1000).collect();
    let mut feed = Feed::new(every_second());
    assert_eq!(fires_at(&mut feed, &exact, "421"), exact);
}

#[test]
fn every_minute_on_quotes_every_fifteen_seconds_is_every_fourth_quote() {
    let mut feed = Feed::new(rule(
        json!({"kind":"above","price":420,"frequency":"every_time","cooldown":"1m"}),
    ));
    // Polls 15 s apart, each up to 400 ms early or late.
    let jitter = [
        0, -400, 250, -120, -380, 90, 400, -5, -399, 0, 300, -250, -1,
    ];
    let polls: Vec<i64> = jitter
        .iter()
        .enumerate()
        .map(|(k, j)| i64::try_from(k).unwrap() * 15_000 + j)
        .collect();
    let fired = fires_at(&mut feed, &polls, "421");
    assert_eq!(fired, [polls[0], polls[4], polls[8], polls[12]]);
}

#[test]
fn a_cooldown_never_ends_early_by_more_than_half_the_quote_spacing() {
    // Quotes every second, a five-minute cooldown: the quote at 299 s is a second early (the
    // next one is on time), so the rule waits for 300 s.
    let mut feed = Feed::new(rule(
        json!({"kind":"above","price":420,"frequency":"every_time","cooldown":"5m"}),
    ));
    let quotes: Vec<i64> = (0..=600).map(|s| s * 1000).collect();
    assert_eq!(fires_at(&mut feed, &quotes, "421"), [0, 300_000, 600_000]);
    // After a long silence, never more than a tenth of the cooldown early: a one-hour cooldown
    // fired at 10:00 fires again on a lone quote at 10:54, not on one at 10:53:59.
    let hourly =
        || rule(json!({"kind":"above","price":420,"frequency":"every_time","cooldown":"1h"}));
    let mut feed = Feed::new(hourly());
    assert_eq!(fires_at(&mut feed, &[0, 3_239_000], "421"), [0]);
    let mut feed = Feed::new(hourly());
    assert_eq!(fires_at(&mut feed, &[0, 3_240_000], "421"), [0, 3_240_000]);
}
