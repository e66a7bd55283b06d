//! The ceiling for stockd's benchmark: the smallest axum server that answers a JSON body of the
//! same size class as `GET /MSFT/7`, on the same runtime settings stockd uses.

use axum::{Router, routing::get};

const BODY: &str = r#"{"symbol":"MSFT","ndays":7,"prices":[{"date":"2013-03-01","close":27.95},{"date":"2013-02-28","close":27.8},{"date":"2013-02-27","close":27.86},{"date":"2013-02-26","close":27.37},{"date":"2013-02-25","close":27.27},{"date":"2013-02-22","close":27.76},{"date":"2013-02-21","close":27.13}],"average":27.591428571}"#;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8099".into());
    let app = Router::new().route(
        "/{symbol}/{days}",
        get(|| async { ([("content-type", "application/json")], BODY) }),
    );
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    axum::serve(listener, app).await
}
