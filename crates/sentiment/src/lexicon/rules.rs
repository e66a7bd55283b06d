//! VADER's rules over one text: tokens, phrases, boosters, negation, capitals, "least", "but",
//! punctuation emphasis and normalisation (see the module above for the list).

use super::{Lexicon, MAX_PHRASE_WORDS};

/// A booster's step (VADER's B_INCR / B_DECR).
const BOOST: f64 = 0.293;
/// ALL-CAPS emphasis (VADER's C_INCR).
const CAPS_BOOST: f64 = 0.733;
/// A negation's factor (VADER's N_SCALAR).
const NEGATION: f64 = -0.74;
/// The normalisation constant: x/√(x²+α).
const ALPHA: f64 = 15.0;

const NEGATIONS: &[&str] = &[
    "aint",
    "arent",
    "cannot",
    "cant",
    "couldnt",
    "darent",
    "didnt",
    "doesnt",
    "ain't",
    "aren't",
    "can't",
    "couldn't",
    "daren't",
    "didn't",
    "doesn't",
    "dont",
    "hadnt",
    "hasnt",
    "havent",
    "isnt",
    "mightnt",
    "mustnt",
    "neither",
    "don't",
    "hadn't",
    "hasn't",
    "haven't",
    "isn't",
    "mightn't",
    "mustn't",
    "neednt",
    "needn't",
    "never",
    "none",
    "nope",
    "nor",
    "not",
    "nothing",
    "nowhere",
    "oughtnt",
    "shant",
    "shouldnt",
    "uhuh",
    "wasnt",
    "werent",
    "oughtn't",
    "shan't",
    "shouldn't",
    "uh-uh",
    "wasn't",
    "weren't",
    "without",
    "wont",
    "wouldnt",
    "won't",
    "wouldn't",
    "rarely",
    "seldom",
    "despite",
];

const INCREASING: &[&str] = &[
    "absolutely",
    "amazingly",
    "awfully",
    "completely",
    "considerable",
    "considerably",
    "decidedly",
    "deeply",
    "enormous",
    "enormously",
    "entirely",
    "especially",
    "exceptional",
    "exceptionally",
    "extreme",
    "extremely",
    "fabulously",
    "fully",
    "greatly",
    "highly",
    "hugely",
    "incredible",
    "incredibly",
    "intensely",
    "major",
    "majorly",
    "more",
    "most",
    "particularly",
    "purely",
    "quite",
    "really",
    "remarkably",
    "so",
    "substantially",
    "thoroughly",
    "total",
    "totally",
    "tremendous",
    "tremendously",
    "unbelievably",
    "unusually",
    "utter",
    "utterly",
    "very",
    "sharply",
    "steeply",
];

const DECREASING: &[&str] = &[
    "almost",
    "barely",
    "hardly",
    "kinda",
    "kindof",
    "kind-of",
    "less",
    "little",
    "marginal",
    "marginally",
    "occasional",
    "occasionally",
    "partly",
    "scarce",
    "scarcely",
    "slight",
    "slightly",
    "somewhat",
    "sorta",
    "sortof",
    "sort-of",
    "modestly",
];

/// One text's sentiment.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Polarity {
    /// The normalised score in [-1, 1].
    pub compound: f64,
    /// Each term that contributed, with its valence after the rules.
    pub terms: Vec<(String, f64)>,
}

impl Polarity {
    pub fn has_sentiment(&self) -> bool {
        !self.terms.is_empty()
    }
}

struct Token {
    text: String,
    lower: String,
}

/// VADER's compound score of `text` and its contributing terms.
pub(crate) fn polarity(lexicon: &Lexicon, text: &str) -> Polarity {
    let tokens = tokens(lexicon, text);
    let cap_differential = cap_differential(&tokens);
    let mut valences = Vec::with_capacity(tokens.len());
    for (i, token) in tokens.iter().enumerate() {
        let next_is_of = tokens.get(i + 1).is_some_and(|next| next.lower == "of");
        if booster(&token.lower).is_some()
            || ((token.lower == "kind" || token.lower == "sort") && next_is_of)
        {
            valences.push(0.0);
            continue;
        }
        valences.push(valence(lexicon, &tokens, i, cap_differential));
    }
    but_shift(&tokens, &mut valences);

    let mut sum: f64 = valences.iter().sum();
    let emphasis = punctuation_emphasis(text);
    if sum > 0.0 {
        sum += emphasis;
    } else if sum < 0.0 {
        sum -= emphasis;
    }
    let terms = tokens
        .into_iter()
        .zip(valences)
        .filter(|(_, valence)| *valence != 0.0)
        .map(|(token, valence)| (token.lower, valence))
        .collect();
    Polarity {
        compound: normalise(sum),
        terms,
    }
}

/// Whitespace-separated words with leading and trailing punctuation removed (kept when that
/// leaves two characters or fewer, as VADER does for emoticons), then finance phrases merged.
fn tokens(lexicon: &Lexicon, text: &str) -> Vec<Token> {
    let words: Vec<&str> = text
        .split_whitespace()
        .map(|word| {
            let stripped = word.trim_matches(|c: char| c.is_ascii_punctuation());
            if stripped.chars().count() <= 2 {
                word
            } else {
                stripped
            }
        })
        .collect();
    let lower: Vec<String> = words.iter().map(|word| word.to_lowercase()).collect();
    let mut tokens = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        let longest = MAX_PHRASE_WORDS.min(words.len() - i);
        let phrase = (2..=longest).rev().find_map(|n| {
            let joined = lower[i..i + n].join(" ");
            lexicon.contains_key(&joined).then_some((n, joined))
        });
        match phrase {
            Some((n, joined)) => {
                tokens.push(Token {
                    text: words[i..i + n].join(" "),
                    lower: joined,
                });
                i += n;
            }
            None => {
                tokens.push(Token {
                    text: words[i].to_owned(),
                    lower: lower[i].clone(),
                });
                i += 1;
            }
        }
    }
    tokens
}

/// Python's `str.isupper`: at least one cased character, and every cased one upper case.
fn is_upper(text: &str) -> bool {
    let mut cased = false;
    for c in text.chars() {
        if c.is_lowercase() {
            return false;
        }
        cased |= c.is_uppercase();
    }
    cased
}

/// Whether some but not all tokens are ALL CAPS (then capitals mean emphasis).
fn cap_differential(tokens: &[Token]) -> bool {
    let caps = tokens.iter().filter(|token| is_upper(&token.text)).count();
    caps > 0 && caps < tokens.len()
}

fn booster(lower: &str) -> Option<f64> {
    if INCREASING.contains(&lower) {
        Some(BOOST)
    } else if DECREASING.contains(&lower) {
        Some(-BOOST)
    } else {
        None
    }
}

fn negated(lower: &str) -> bool {
    NEGATIONS.contains(&lower) || lower.contains("n't")
}

/// The valence of token `i` after boosters, negation, capitals, "no" and "least".
fn valence(lexicon: &Lexicon, tokens: &[Token], i: usize, cap_differential: bool) -> f64 {
    let token = &tokens[i];
    let Some(&base) = lexicon.get(&token.lower) else {
        return 0.0;
    };
    let word = |back: usize| tokens[i - back].lower.as_str();
    let known = |back: usize| lexicon.contains_key(word(back));

    let mut valence = base;
    if token.lower == "no"
        && tokens
            .get(i + 1)
            .is_some_and(|next| lexicon.contains_key(&next.lower))
    {
        valence = 0.0;
    }
    if (i > 0 && word(1) == "no")
        || (i > 1 && word(2) == "no")
        || (i > 2 && word(3) == "no" && matches!(word(1), "or" | "nor"))
    {
        valence = base * NEGATION;
    }
    if cap_differential && is_upper(&token.text) {
        valence += if valence > 0.0 {
            CAPS_BOOST
        } else {
            -CAPS_BOOST
        };
    }
    for back in 1..=3 {
        if i < back || known(back) {
            continue;
        }
        let mut step = booster(word(back)).unwrap_or(0.0);
        if step != 0.0 {
            if valence < 0.0 {
                step = -step;
            }
            if cap_differential && is_upper(&tokens[i - back].text) {
                step += if valence > 0.0 {
                    CAPS_BOOST
                } else {
                    -CAPS_BOOST
                };
            }
            step *= [1.0, 0.95, 0.9][back - 1];
        }
        valence += step;
        valence = negation(valence, &word, back);
    }
    least(valence, &word, &known, i)
}

/// Flips and damps `valence` when the word `back` places before is a negation, except in
/// "never so/this …" (an intensifier) and "without doubt".
fn negation<'a>(valence: f64, word: &impl Fn(usize) -> &'a str, back: usize) -> f64 {
    match back {
        1 => {
            if negated(word(1)) {
                valence * NEGATION
            } else {
                valence
            }
        }
        2 => {
            if word(2) == "never" && matches!(word(1), "so" | "this") {
                valence * 1.25
            } else if word(2) == "without" && word(1) == "doubt" {
                valence
            } else if negated(word(2)) {
                valence * NEGATION
            } else {
                valence
            }
        }
        _ => {
            if (word(3) == "never" && matches!(word(2), "so" | "this"))
                || matches!(word(1), "so" | "this")
            {
                valence * 1.25
            } else if word(3) == "without" && (word(2) == "doubt" || word(1) == "doubt") {
                valence
            } else if negated(word(3)) {
                valence * NEGATION
            } else {
                valence
            }
        }
    }
}

/// "least good" is negated; "at least" and "very least" are not.
fn least<'a>(
    valence: f64,
    word: &impl Fn(usize) -> &'a str,
    known: &impl Fn(usize) -> bool,
    i: usize,
) -> f64 {
    if i > 0 && !known(1) && word(1) == "least" {
        if i > 1 && matches!(word(2), "at" | "very") {
            return valence;
        }
        return valence * NEGATION;
    }
    valence
}

/// Words before the first "but" count half, words after it one and a half times.
fn but_shift(tokens: &[Token], valences: &mut [f64]) {
    let Some(at) = tokens.iter().position(|token| token.lower == "but") else {
        return;
    };
    for (i, valence) in valences.iter_mut().enumerate() {
        if i < at {
            *valence *= 0.5;
        } else if i > at {
            *valence *= 1.5;
        }
    }
}

/// Up to four "!" add 0.292 each; two or three "?" add 0.18 each, more add 0.96.
fn punctuation_emphasis(text: &str) -> f64 {
    let exclamations = text.matches('!').count().min(4) as f64;
    let questions = text.matches('?').count();
    let question_emphasis = match questions {
        0 | 1 => 0.0,
        2 | 3 => questions as f64 * 0.18,
        _ => 0.96,
    };
    exclamations * 0.292 + question_emphasis
}

fn normalise(sum: f64) -> f64 {
    (sum / (sum * sum + ALPHA).sqrt()).clamp(-1.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lexicon() -> Lexicon {
        Lexicon::from([
            ("good".to_owned(), 1.9),
            ("bad".to_owned(), -2.5),
            ("beats estimates".to_owned(), 2.4),
        ])
    }

    #[test]
    fn a_single_word_matches_vader() {
        // vaderSentiment 3.3.2: "The book was good." → compound 0.4404.
        let polarity = polarity(&lexicon(), "The book was good.");
        assert!(
            (polarity.compound - 0.4404).abs() < 5e-5,
            "{}",
            polarity.compound
        );
    }

    #[test]
    fn booster_and_negation_match_vader() {
        // vaderSentiment 3.3.2 (valence only from "good" 1.9): "very good" → 0.4927,
        // "not good" → -0.3412.
        let very = polarity(&lexicon(), "The book was very good").compound;
        let not = polarity(&lexicon(), "The book was not good").compound;
        assert!((very - 0.4927).abs() < 5e-4, "{very}");
        assert!((not + 0.3412).abs() < 5e-4, "{not}");
    }

    #[test]
    fn phrases_merge_into_one_token() {
        let polarity = polarity(&lexicon(), "Acme beats estimates");
        assert_eq!(polarity.terms, [("beats estimates".to_owned(), 2.4)]);
    }
}
