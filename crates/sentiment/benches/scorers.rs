//! Accuracy and macro-F1 of each scorer on the labelled headline set, and the lexicon's speed.
//!
//! `cargo bench -p sentiment --bench scorers` prints a table (to stderr) before criterion's
//! timing. The lexicon is measured for real. The LLM scorers are measured through local mocks
//! of their APIs that look each headline up in the labelled set and answer its label: their
//! figures show that requests, structured answers and validation carry the right label
//! through (plumbing), not how well any model scores.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use domain::Symbol;
use secrecy::SecretString;
use sentiment::labelled::{LabelledHeadline, Metrics, headlines, metrics};
use sentiment::{
    ArticleText, DailyBudget, GeminiConfig, GeminiScorer, Label, LexiconScorer, OpenAiConfig,
    OpenAiScorer, ResponseFormat, Scorer,
};
use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Answers each request with the labelled set's label for the headline in its data field.
struct OracleMock {
    labels: HashMap<String, Label>,
    gemini: bool,
}

impl Respond for OracleMock {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let data = if self.gemini {
            &body["contents"][0]["parts"][0]["text"]
        } else {
            &body["messages"][1]["content"]
        };
        let data: Value = serde_json::from_str(data.as_str().unwrap()).unwrap();
        let title = data["article"]["title"].as_str().unwrap();
        let label = self.labels.get(title).copied().unwrap_or(Label::Neutral);
        let score = match label {
            Label::Bearish => -0.6,
            Label::Neutral => 0.0,
            Label::Bullish => 0.6,
        };
        let answer = json!({"score": score, "label": label.as_str(),
            "relevance": [{"symbol": "ACME", "relevance": 1.0}],
            "rationale": "Mock answer from the labelled set."})
        .to_string();
        let body = if self.gemini {
            json!({"candidates": [{"content": {"role": "model", "parts": [{"text": answer}]},
                "finishReason": "STOP", "index": 0}]})
        } else {
            json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": answer},
                "finish_reason": "stop"}]})
        };
        ResponseTemplate::new(200).set_body_json(body)
    }
}

async fn evaluate(scorer: &dyn Scorer, set: &[LabelledHeadline]) -> Metrics {
    let symbols = [Symbol::parse("ACME").unwrap()];
    let mut pairs = Vec::with_capacity(set.len());
    for item in set {
        let article = ArticleText::new(&item.headline, "");
        let predicted = scorer.score(&article, &symbols).await.unwrap().label;
        pairs.push((item.expected, predicted));
    }
    metrics(pairs)
}

fn report(set: &[LabelledHeadline]) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let labels: HashMap<String, Label> = set
        .iter()
        .map(|item| (item.headline.clone(), item.expected))
        .collect();
    let rows = runtime.block_on(async {
        let server = MockServer::start().await;
        let openai_server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(OracleMock {
                labels: labels.clone(),
                gemini: true,
            })
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .respond_with(OracleMock {
                labels,
                gemini: false,
            })
            .mount(&openai_server)
            .await;
        let budget = DailyBudget::new(10_000);
        let gemini = GeminiScorer::new(
            GeminiConfig {
                base_url: server.uri(),
                model: "mock".to_owned(),
                api_key: SecretString::from("mock-key"),
                timeout: Duration::from_secs(5),
                budget: budget.clone(),
            },
            reqwest::Client::new(),
        );
        let openai = OpenAiScorer::new(
            OpenAiConfig {
                base_url: openai_server.uri(),
                model: "mock".to_owned(),
                api_key: None,
                response_format: ResponseFormat::JsonSchema,
                timeout: Duration::from_secs(5),
                budget,
            },
            reqwest::Client::new(),
        );
        vec![
            ("lexicon", evaluate(&LexiconScorer::new(), set).await),
            ("openai (mock)", evaluate(&openai, set).await),
            ("gemini (mock)", evaluate(&gemini, set).await),
        ]
    });
    eprintln!("\nlabelled headlines: {}", set.len());
    eprintln!("| scorer | accuracy | macro-F1 |");
    eprintln!("|---|---|---|");
    for (name, result) in &rows {
        eprintln!(
            "| {name} | {:.3} ({}/{}) | {:.3} |",
            result.accuracy, result.correct, result.total, result.macro_f1
        );
    }
    let lexicon = &rows[0].1;
    eprintln!("lexicon confusion (rows expected, columns predicted; bearish, neutral, bullish):");
    for row in lexicon.confusion {
        eprintln!("  {row:?}");
    }
    eprintln!();
}

fn lexicon_speed(c: &mut Criterion) {
    let set = headlines().unwrap();
    report(&set);
    let scorer = LexiconScorer::new();
    let symbols = [Symbol::parse("ACME").unwrap()];
    let articles: Vec<ArticleText> = set
        .iter()
        .map(|item| {
            ArticleText::new(
                &item.headline,
                "ACME said results will be discussed on a call with analysts.",
            )
        })
        .collect();
    let mut group = c.benchmark_group("lexicon");
    group.throughput(Throughput::Elements(articles.len() as u64));
    group.bench_function("score_labelled_set", |b| {
        b.iter(|| {
            for article in &articles {
                std::hint::black_box(scorer.score_now(article, &symbols));
            }
        });
    });
    group.finish();
}

criterion_group!(benches, lexicon_speed);
criterion_main!(benches);
