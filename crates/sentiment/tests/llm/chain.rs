//! The chain: first answer wins, failures are recorded, the lexicon answers last.

use std::sync::Arc;

use sentiment::{ArticleText, DailyBudget, LexiconScorer, Scorer, ScorerChain};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;

#[tokio::test]
async fn failures_fall_back_in_order_and_the_lexicon_answers_last() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GEMINI_PATH))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"candidates": [{"finishReason": "SAFETY", "index": 0}]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "5"))
        .expect(1)
        .mount(&server)
        .await;
    let chain = ScorerChain::new(
        vec![
            Arc::new(gemini_at(&server.uri(), DailyBudget::new(10))),
            Arc::new(openai_at(&server.uri(), DailyBudget::new(10))),
        ],
        LexiconScorer::new(),
    );
    let scored = chain
        .score(&ArticleText::new("Acme beats estimates", ""), &symbols())
        .await;
    assert_eq!(scored.identity, LexiconScorer::new().identity());
    assert!(scored.score.score > 0.0);
    let kinds: Vec<(&str, &str)> = scored
        .skipped
        .iter()
        .map(|skip| (skip.identity.scorer.as_str(), skip.error.kind()))
        .collect();
    assert_eq!(kinds, [("gemini", "refused"), ("openai", "rate_limited")]);
    let mut budgets: Vec<(String, u32)> = Vec::new();
    for (identity, budget) in chain.budgets() {
        budgets.push((identity.scorer, budget.status().await.used));
    }
    assert_eq!(
        budgets,
        [("gemini".to_owned(), 1), ("openai".to_owned(), 1)]
    );
}

#[tokio::test]
async fn the_first_scorer_that_answers_is_recorded_and_later_ones_are_not_called() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(completion(&answer_text(-0.4, "bearish"), "stop")),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(GEMINI_PATH))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let chain = ScorerChain::new(
        vec![
            Arc::new(openai_at(&server.uri(), DailyBudget::new(10))),
            Arc::new(gemini_at(&server.uri(), DailyBudget::new(10))),
        ],
        LexiconScorer::new(),
    );
    let scored = chain
        .score(&ArticleText::new("Acme beats estimates", ""), &symbols())
        .await;
    assert_eq!(scored.identity.scorer, "openai");
    assert_eq!(scored.score.score, -0.4);
    assert!(scored.skipped.is_empty());
    assert_eq!(chain.identities().len(), 3);
}

#[tokio::test]
async fn an_unreachable_server_is_an_upstream_failure_without_the_key() {
    let url = refused_url();
    let article = ArticleText::new("Acme beats estimates", "");
    let openai = openai_at(&url, DailyBudget::new(10));
    let gemini = gemini_at(&url, DailyBudget::new(10));
    for error in [
        openai.score(&article, &symbols()).await.unwrap_err(),
        gemini.score(&article, &symbols()).await.unwrap_err(),
    ] {
        assert!(
            matches!(error, sentiment::ScoreError::Upstream { status: None, .. }),
            "{error:?}"
        );
        assert_no_key(&error, OPENAI_KEY);
        assert_no_key(&error, GEMINI_KEY);
    }
    let shown = format!("{openai:?} {gemini:?}");
    assert!(
        !shown.contains(OPENAI_KEY) && !shown.contains(GEMINI_KEY),
        "{shown}"
    );
}
