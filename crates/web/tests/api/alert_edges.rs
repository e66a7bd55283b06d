//! Alert rules at the edges, over HTTP: a rule without `frequency` fires once, and a dry run
//! from a date meets the market of the bars before it.

use serde_json::json;

use crate::accounts::App;
use crate::alerts::{create, crosses_up, owner};
use crate::helpers::csv_closes;

#[tokio::test]
async fn a_rule_without_frequency_is_created_to_fire_once() {
    let app = App::new().await;
    let ada = owner(&app, "ada@example.com").await;
    let mut body = crosses_up(&ada.channel);
    body.as_object_mut().unwrap().remove("frequency");
    let rule = create(&app, &ada, body).await;
    assert_eq!(rule["frequency"], "once");
    assert_eq!(rule["status"], "active");
}

#[tokio::test]
async fn the_dry_run_from_a_date_compares_its_first_bar_with_the_close_before_it() {
    let app = App::new().await;
    let ada = owner(&app, "ada@example.com").await;
    // The first MSFT session of the sample that closed over 1 % above the session before.
    let closes = csv_closes("MSFT");
    let day = closes
        .windows(2)
        .find(|pair| {
            let before: f64 = pair[0].1.parse().unwrap();
            let close: f64 = pair[1].1.parse().unwrap();
            close > before * 1.01
        })
        .map(|pair| pair[1].0.clone())
        .unwrap();
    let body = json!({"symbol": "MSFT", "kind": "moves_up_pct", "percent": 1,
                      "vs_previous_close": true, "channels": [ada.channel]});
    let dry = app
        .send(
            "POST",
            &format!("/v1/alerts/backtest?from={day}&to={day}"),
            Some(&ada.token),
            Some(body),
        )
        .await;
    assert_eq!(dry.status, 200, "{}", dry.text());
    let dry = dry.json();
    // One bar replayed and reported; the close before it came from the warm-up.
    assert_eq!(dry["bars"], 1);
    assert_eq!(dry["fires"].as_array().unwrap().len(), 1, "{dry}");
    assert_eq!(dry["fires"][0]["date"], day.as_str());
}
