//! The labelled headline set (`data/headlines.tsv`, written for stockd, no dataset copied)
//! and the metrics the tests and the benchmark report: accuracy and macro-F1.
//!
//! Each line is `label<TAB>headline`, the label being the polarity an investor in the named
//! company would read (`bearish`, `neutral`, `bullish`); `#` lines are comments.

use crate::score::Label;

const HEADLINES: &str = include_str!("../data/headlines.tsv");

/// One hand-labelled headline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelledHeadline {
    pub headline: String,
    pub expected: Label,
}

/// The embedded labelled set, in file order.
///
/// # Errors
/// The line number and text of a line that is not `label<TAB>headline`.
pub fn headlines() -> Result<Vec<LabelledHeadline>, String> {
    HEADLINES
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|(index, line)| {
            let bad = || format!("headlines.tsv line {}: {line:?}", index + 1);
            let (label, headline) = line.split_once('\t').ok_or_else(bad)?;
            let expected = Label::parse(label.trim()).ok_or_else(bad)?;
            let headline = headline.trim();
            if headline.is_empty() {
                return Err(bad());
            }
            Ok(LabelledHeadline {
                headline: headline.to_owned(),
                expected,
            })
        })
        .collect()
}

/// How predictions compare with the expected labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    pub total: usize,
    pub correct: usize,
    /// Share of predictions equal to the expected label.
    pub accuracy: f64,
    /// The mean over the three labels of each label's F1 (a label never predicted and never
    /// expected is left out of the mean).
    pub macro_f1: f64,
    /// `confusion[expected][predicted]`, labels in [`Label::ALL`] order.
    pub confusion: [[usize; 3]; 3],
}

/// Accuracy, macro-F1 and the confusion matrix of `(expected, predicted)` pairs.
pub fn metrics(pairs: impl IntoIterator<Item = (Label, Label)>) -> Metrics {
    let index = |label: Label| Label::ALL.iter().position(|l| *l == label).unwrap_or(0);
    let mut confusion = [[0usize; 3]; 3];
    for (expected, predicted) in pairs {
        confusion[index(expected)][index(predicted)] += 1;
    }
    let total: usize = confusion.iter().flatten().sum();
    let correct: usize = (0..3).map(|i| confusion[i][i]).sum();
    let f1s: Vec<f64> = (0..3)
        .filter_map(|label| {
            let true_positive = confusion[label][label] as f64;
            let predicted: usize = (0..3).map(|row| confusion[row][label]).sum();
            let expected: usize = confusion[label].iter().sum();
            if predicted + expected == 0 {
                return None;
            }
            Some(2.0 * true_positive / (predicted + expected) as f64)
        })
        .collect();
    let ratio = |part: f64, whole: f64| if whole == 0.0 { 0.0 } else { part / whole };
    Metrics {
        total,
        correct,
        accuracy: ratio(correct as f64, total as f64),
        macro_f1: ratio(f1s.iter().sum(), f1s.len() as f64),
        confusion,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_set_is_large_balanced_and_unique() {
        let set = headlines().unwrap();
        assert!(set.len() >= 150, "{}", set.len());
        for label in Label::ALL {
            let count = set.iter().filter(|h| h.expected == label).count();
            assert!(count >= 45, "{label}: {count}");
        }
        let mut texts: Vec<&str> = set.iter().map(|h| h.headline.as_str()).collect();
        texts.sort_unstable();
        texts.dedup();
        assert_eq!(texts.len(), set.len(), "duplicate headlines");
    }

    #[test]
    fn macro_f1_averages_per_label_f1() {
        use Label::*;
        let metrics = metrics([
            (Bullish, Bullish),
            (Bullish, Neutral),
            (Bearish, Bearish),
            (Neutral, Neutral),
        ]);
        assert_eq!(metrics.correct, 3);
        assert!((metrics.accuracy - 0.75).abs() < 1e-12);
        // F1: bullish 2/3, bearish 1, neutral 2/3.
        assert!((metrics.macro_f1 - (2.0 / 3.0 + 1.0 + 2.0 / 3.0) / 3.0).abs() < 1e-12);
    }
}
