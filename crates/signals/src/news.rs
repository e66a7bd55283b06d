//! One day of news sentiment for one symbol: the arithmetic shared by the sentiment endpoint,
//! the signal's `sentiment` component and `"series": "sentiment"` alert rules, so the three
//! always agree on a day's number.
//!
//! A day's score is the relevance-weighted mean of its scored articles,
//! Σ(score · weight) / Σ(weight), where an article's weight is its relevance to the symbol in
//! [0, 1] ([`weight`]): the answering scorer's, else the source's own (Alpha Vantage's
//! `relevance_score`), else [`DEFAULT_RELEVANCE`]. A day whose weights are all 0 (every article
//! only mentions the symbol in passing, as a scorer judged it) has no score. The bullish,
//! bearish and neutral shares count articles, not weights. Articles not scored yet are never
//! counted: they are the caller's "pending".
//!
//! Which articles belong to a day is the caller's choice: the endpoint groups by the New York
//! calendar date of publication; the signal and alert rules by trading session
//! ([`session_day`]), so a day's value never uses news published after that day's close.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use domain::{Evidence, SignalScore, new_york};

use std::collections::BTreeMap;

use crate::{SentimentReading, SentimentSeries};

/// The weight of an article whose relevance to the symbol no one gave: half, between "named
/// in passing" (the lexicon's 0.3) and "the subject" (1).
pub const DEFAULT_RELEVANCE: f64 = 0.5;

/// The New York time a session's news closes at: the regular close. An article published at
/// or after it belongs to the next session.
pub const NEWS_CLOSE: NaiveTime = match NaiveTime::from_hms_opt(16, 0, 0) {
    Some(time) => time,
    None => NaiveTime::MIN,
};

/// An article's polarity as its scorer labelled it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Polarity {
    Bearish,
    Neutral,
    Bullish,
}

/// Where an article's weight came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WeightSource {
    /// The scorer that answered judged the article's relevance to the symbol.
    Scorer,
    /// The source's own relevance (Alpha Vantage's `relevance_score`).
    Source,
    /// Neither: [`DEFAULT_RELEVANCE`].
    Default,
}

impl WeightSource {
    /// The wire name (`scorer`, `source`, `default`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scorer => "scorer",
            Self::Source => "source",
            Self::Default => "default",
        }
    }
}

/// The weight of an article for a symbol and where it came from: the scorer's relevance, else
/// the source's, else [`DEFAULT_RELEVANCE`]; a given relevance is clamped to [0, 1] and a
/// non-finite one is ignored.
pub fn weight(scorer: Option<f64>, source: Option<f64>) -> (f64, WeightSource) {
    let valid = |r: Option<f64>| r.filter(|r| r.is_finite()).map(|r| r.clamp(0.0, 1.0));
    if let Some(r) = valid(scorer) {
        (r, WeightSource::Scorer)
    } else if let Some(r) = valid(source) {
        (r, WeightSource::Source)
    } else {
        (DEFAULT_RELEVANCE, WeightSource::Default)
    }
}

impl Polarity {
    /// The polarity a scorer's label names (`bearish`, `neutral`, `bullish`), else the one of
    /// `score`: neutral within [`NEUTRAL_BAND`] of zero, else by its sign (as the scorers
    /// derive their labels).
    pub fn of(label: Option<&str>, score: f64) -> Self {
        match label {
            Some("bearish") => Self::Bearish,
            Some("neutral") => Self::Neutral,
            Some("bullish") => Self::Bullish,
            _ if score > NEUTRAL_BAND => Self::Bullish,
            _ if score < -NEUTRAL_BAND => Self::Bearish,
            _ => Self::Neutral,
        }
    }

    /// The wire name (`bearish`, `neutral`, `bullish`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bearish => "bearish",
            Self::Neutral => "neutral",
            Self::Bullish => "bullish",
        }
    }
}

/// Scores within this distance of zero are neutral when no label was stored (the scorers'
/// own band, `sentiment::NEUTRAL_BAND`: VADER's ±0.05).
pub const NEUTRAL_BAND: f64 = 0.05;

/// One scored article as a day's sentiment counts it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WeightedScore {
    /// -1 (bearish) … 1 (bullish).
    pub score: f64,
    /// In [0, 1] ([`weight`]).
    pub weight: f64,
    pub polarity: Polarity,
}

/// One day's sentiment of one symbol.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DaySentiment {
    /// Σ(score · weight) / Σ(weight), rounded to 4 decimal places; `None` without articles or
    /// when every weight is 0.
    pub score: Option<f64>,
    /// Scored articles counted.
    pub articles: usize,
    /// Σ(weight).
    pub weight: f64,
    /// Shares of the articles labelled bullish, bearish and neutral (0 without articles).
    pub bullish: f64,
    pub bearish: f64,
    pub neutral: f64,
}

impl DaySentiment {
    /// The sentiment of `scores` (one day's scored articles).
    pub fn of(scores: &[WeightedScore]) -> Self {
        let weight: f64 = scores.iter().map(|s| s.weight).sum();
        let weighted: f64 = scores.iter().map(|s| s.score * s.weight).sum();
        let score = (weight > 0.0)
            .then(|| crate::components::round4((weighted / weight).clamp(-1.0, 1.0)))
            .filter(|s| s.is_finite());
        let share = |polarity| {
            let n = scores.iter().filter(|s| s.polarity == polarity).count();
            if scores.is_empty() {
                0.0
            } else {
                crate::components::round4(n as f64 / scores.len() as f64)
            }
        };
        Self {
            score,
            articles: scores.len(),
            weight: crate::components::round4(weight),
            bullish: share(Polarity::Bullish),
            bearish: share(Polarity::Bearish),
            neutral: share(Polarity::Neutral),
        }
    }

    /// The day as the signal's sentiment component reads it, with its evidence (articles,
    /// weights, shares and, when given, the strongest headline); `None` without a score.
    pub fn reading(&self, strongest: Option<&str>) -> Option<SentimentReading> {
        let score = SignalScore::new(self.score?).ok()?;
        let mut evidence = Evidence::new()
            .with("articles", self.articles as u64)
            .with("weight", self.weight)
            .with("bullish_share", self.bullish)
            .with("bearish_share", self.bearish)
            .with("neutral_share", self.neutral);
        if let Some(headline) = strongest {
            evidence.insert("strongest_headline", headline);
        }
        evidence.insert(
            "reading",
            format!(
                "{} scored article(s), relevance-weighted sentiment {:+.2} ({:.0}% bullish, {:.0}% bearish)",
                self.articles,
                score.get(),
                self.bullish * 100.0,
                self.bearish * 100.0
            ),
        );
        Some(SentimentReading { score, evidence })
    }
}

/// The trading session whose signal may read an article published at `published_at`: the
/// first of `days` (trading days, ascending) whose [`NEWS_CLOSE`] in New York is after it.
/// `None` when it was published after the last day's close (its session has no bar yet).
pub fn session_day(days: &[NaiveDate], published_at: DateTime<Utc>) -> Option<NaiveDate> {
    let at = days.partition_point(|day| new_york::instant(*day, NEWS_CLOSE) <= published_at);
    days.get(at).copied()
}

/// A scored article with when it was published and its headline: what [`session_series`]
/// groups.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DatedScore<'a> {
    pub published_at: DateTime<Utc>,
    pub scored: WeightedScore,
    pub title: &'a str,
}

/// The sentiment reading of each of `days` (trading days with a bar, ascending) on or after
/// `from` that has scored news: each article counts for its [`session_day`], so a day never
/// reads news published after its close. The evidence names the day's strongest headline
/// (the largest |score · weight|).
pub fn session_series(
    days: &[NaiveDate],
    from: Option<NaiveDate>,
    scores: &[DatedScore<'_>],
) -> SentimentSeries {
    let mut by_day: BTreeMap<NaiveDate, Vec<&DatedScore<'_>>> = BTreeMap::new();
    for dated in scores {
        if let Some(day) = session_day(days, dated.published_at)
            && from.is_none_or(|from| day >= from)
        {
            by_day.entry(day).or_default().push(dated);
        }
    }
    by_day
        .into_iter()
        .filter_map(|(day, dated)| {
            let scored: Vec<WeightedScore> = dated.iter().map(|d| d.scored).collect();
            let strongest = dated
                .iter()
                .max_by(|a, b| strength(a).total_cmp(&strength(b)))
                .map(|d| d.title);
            DaySentiment::of(&scored)
                .reading(strongest)
                .map(|reading| (day, reading))
        })
        .collect()
}

fn strength(dated: &DatedScore<'_>) -> f64 {
    (dated.scored.score * dated.scored.weight).abs()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scored(score: f64, weight: f64, polarity: Polarity) -> WeightedScore {
        WeightedScore {
            score,
            weight,
            polarity,
        }
    }

    #[test]
    fn a_day_is_the_relevance_weighted_mean_with_shares_by_count() {
        let day = DaySentiment::of(&[
            scored(0.8, 1.0, Polarity::Bullish),
            scored(-0.4, 0.5, Polarity::Bearish),
            scored(0.0, 0.5, Polarity::Neutral),
            scored(0.6, 0.0, Polarity::Bullish),
        ]);
        // (0.8·1 − 0.4·0.5 + 0 + 0.6·0) / 2 = 0.3
        assert_eq!(day.score, Some(0.3));
        assert_eq!(day.articles, 4);
        assert_eq!(day.weight, 2.0);
        assert_eq!((day.bullish, day.bearish, day.neutral), (0.5, 0.25, 0.25));
    }

    #[test]
    fn no_articles_or_only_zero_weights_have_no_score() {
        assert_eq!(DaySentiment::of(&[]).score, None);
        assert_eq!(DaySentiment::of(&[]).bullish, 0.0);
        let passing = DaySentiment::of(&[scored(0.9, 0.0, Polarity::Bullish)]);
        assert_eq!(passing.score, None);
        assert_eq!(passing.articles, 1);
        assert!(passing.reading(None).is_none());
    }

    #[test]
    fn the_weight_is_the_scorer_s_then_the_source_s_then_the_default() {
        assert_eq!(weight(Some(0.3), Some(0.9)), (0.3, WeightSource::Scorer));
        assert_eq!(weight(None, Some(0.9)), (0.9, WeightSource::Source));
        assert_eq!(weight(Some(f64::NAN), None), (0.5, WeightSource::Default));
        assert_eq!(weight(Some(7.0), None), (1.0, WeightSource::Scorer));
    }

    #[test]
    fn news_after_the_close_belongs_to_the_next_session() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        // Fri 2026-11-27 and Mon 2026-11-30; New York is UTC−5 in winter.
        let days = [d("2026-11-27"), d("2026-11-30")];
        assert_eq!(
            session_day(&days, at("2026-11-27T20:59:59Z")),
            Some(d("2026-11-27"))
        );
        assert_eq!(
            session_day(&days, at("2026-11-27T21:00:00Z")),
            Some(d("2026-11-30")),
            "at the close: the next session"
        );
        assert_eq!(
            session_day(&days, at("2026-11-28T15:00:00Z")),
            Some(d("2026-11-30")),
            "weekend news waits for Monday"
        );
        assert_eq!(session_day(&days, at("2026-11-30T21:00:00Z")), None);
        assert_eq!(
            session_day(&days, at("2020-01-01T00:00:00Z")),
            Some(d("2026-11-27"))
        );
    }

    #[test]
    fn a_session_series_groups_by_session_and_skips_days_before_from() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let days = [d("2026-11-25"), d("2026-11-27"), d("2026-11-30")];
        let dated = |published: &str, score: f64, title: &'static str| DatedScore {
            published_at: at(published),
            scored: scored(score, 1.0, Polarity::of(None, score)),
            title,
        };
        let scores = [
            dated("2026-11-25T15:00:00Z", -0.9, "old"),
            dated("2026-11-27T14:00:00Z", 0.2, "small"),
            dated("2026-11-28T14:00:00Z", 0.6, "weekend"),
            dated("2026-11-29T14:00:00Z", -0.8, "big"),
        ];
        let series = session_series(&days, Some(d("2026-11-27")), &scores);
        assert_eq!(
            series.keys().copied().collect::<Vec<_>>(),
            [d("2026-11-27"), d("2026-11-30")]
        );
        assert_eq!(series[&d("2026-11-27")].score.get(), 0.2);
        assert_eq!(series[&d("2026-11-30")].score.get(), -0.1);
        assert_eq!(
            series[&d("2026-11-30")].evidence.get("strongest_headline"),
            Some(&serde_json::json!("big"))
        );
    }

    #[test]
    fn a_stored_label_wins_over_the_score_s_sign() {
        assert_eq!(Polarity::of(Some("bearish"), 0.3), Polarity::Bearish);
        assert_eq!(Polarity::of(None, 0.3), Polarity::Bullish);
        assert_eq!(Polarity::of(Some("odd"), 0.01), Polarity::Neutral);
    }

    #[test]
    fn a_reading_carries_its_evidence() {
        let day = DaySentiment::of(&[scored(0.7, 1.0, Polarity::Bullish)]);
        let reading = day.reading(Some("Acme beats")).unwrap();
        assert_eq!(reading.score.get(), 0.7);
        assert_eq!(
            reading.evidence.get("strongest_headline"),
            Some(&serde_json::json!("Acme beats"))
        );
        assert_eq!(
            reading.evidence.get("articles"),
            Some(&serde_json::json!(1))
        );
    }
}
