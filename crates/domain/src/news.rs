//! News articles about listed symbols, as the news sources deliver them, and the plain-text
//! rule every source applies to article summaries.
//!
//! A [`NewsItem`] is untrusted third-party text: its title and summary came from a publisher we
//! do not control. [`plain_summary`] turns a provider's summary (often HTML) into bounded plain
//! text so nothing downstream renders markup or stores megabytes from one feed entry.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::Symbol;
pub use crate::canonical_url::{
    CanonicalUrl, CanonicalUrlError, MAX_URL_LEN, canonical_url, is_tracking_parameter,
};

/// The most characters of summary kept per article.
pub const MAX_SUMMARY_CHARS: usize = 2_000;

/// The most characters of title kept per article (headlines are short; a longer one is a feed bug).
pub const MAX_TITLE_CHARS: usize = 500;

/// One article concerning one or more symbols, as a news source delivered it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewsItem {
    /// The headline, plain text, at most [`MAX_TITLE_CHARS`] characters.
    pub title: String,
    /// The article's address exactly as the provider gave it (canonicalising is the store's job).
    pub url: String,
    /// Who published the article (`Reuters`, `Motley Fool`), when the provider says.
    pub publisher: Option<String>,
    pub published_at: DateTime<Utc>,
    /// Plain text with markup removed, at most [`MAX_SUMMARY_CHARS`] characters.
    pub summary: String,
    /// The symbols the article concerns: always the one asked about, plus any the provider tags.
    pub symbols: Vec<Symbol>,
    /// Which news source delivered it (`finnhub`, `newsapi`, `alphavantage`, `polygon`, `rss`, `sim`).
    pub provider: String,
    /// The provider's own sentiment per symbol, when it sends one: a second opinion kept beside
    /// stockd's own scoring, never merged into it.
    pub provider_sentiment: Vec<ProviderSentiment>,
    /// True for articles invented by the `sim` source for demos and tests.
    pub simulated: bool,
}

/// A provider's own sentiment reading of an article for one symbol.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProviderSentiment {
    pub symbol: Symbol,
    /// The provider's score, when numeric (Alpha Vantage: -1 bearish … 1 bullish).
    pub score: Option<f64>,
    /// The provider's label as it wrote it (`Somewhat-Bullish`, `positive`).
    pub label: Option<String>,
    /// How much the article concerns the symbol, 0 … 1 (Alpha Vantage's `relevance_score`).
    pub relevance: Option<f64>,
    /// The provider's stated reason (Polygon's `sentiment_reasoning`), plain and bounded.
    pub reasoning: Option<String>,
}

/// Turns a provider's summary into bounded plain text: tags dropped (with the content of
/// `script` and `style`), common entities decoded, whitespace collapsed, and at most
/// [`MAX_SUMMARY_CHARS`] characters kept (cut at a character boundary, ending in `…`).
pub fn plain_summary(raw: &str) -> String {
    bounded(&strip_markup(raw), MAX_SUMMARY_CHARS)
}

/// Like [`plain_summary`] for a headline, bounded to [`MAX_TITLE_CHARS`].
pub fn plain_title(raw: &str) -> String {
    bounded(&strip_markup(raw), MAX_TITLE_CHARS)
}

/// Cuts `text` to at most `limit` characters, the last being `…` when anything was cut.
fn bounded(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_owned();
    }
    let mut head: String = text.chars().take(limit.saturating_sub(1)).collect();
    head.truncate(head.trim_end().len());
    head.push('…');
    head
}

/// Tags that end a word: a line or block break in the rendered text.
const BLOCK_TAGS: [&str; 22] = [
    "p",
    "br",
    "div",
    "li",
    "ul",
    "ol",
    "tr",
    "td",
    "th",
    "table",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "section",
    "article",
    "hr",
    "img",
    "pre",
];

/// Drops tags and the bodies of `script`/`style`, decodes entities, collapses whitespace.
fn strip_markup(raw: &str) -> String {
    let mut text = String::with_capacity(raw.len().min(4 * MAX_SUMMARY_CHARS));
    let mut rest = raw;
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        let after = &rest[open..];
        let Some(close) = after.find('>') else {
            // An unterminated `<` is text, not a tag ("P/E < 20").
            text.push_str(after);
            rest = "";
            break;
        };
        let tag = after[1..close].trim_start_matches('/').to_ascii_lowercase();
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        rest = &after[close + 1..];
        if (name == "script" || name == "style") && !after[1..].starts_with('/') {
            let end_tag = format!("</{name}");
            rest = match find_ignore_ascii_case(rest, &end_tag) {
                Some(end) => rest[end..].find('>').map_or("", |gt| &rest[end + gt + 1..]),
                None => "",
            };
        }
        // Block-level tags separate words ("<p>a</p><p>b</p>" is "a b", not "ab"); inline ones
        // do not ("<b>grows</b>." stays "grows.").
        if BLOCK_TAGS.contains(&name.as_str()) {
            text.push(' ');
        }
    }
    text.push_str(rest);
    collapse_whitespace(&decode_entities(&text))
}

fn find_ignore_ascii_case(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Decodes the named entities feeds actually use and numeric ones; unknown ones stay as written.
fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp..];
        let decoded = after
            .get(1..after.len().min(12))
            .and_then(|window| window.find(';'))
            .and_then(|semi| {
                let entity = &after[1..=semi];
                decode_entity(entity).map(|c| (c, semi + 2))
            });
        match decoded {
            Some((c, consumed)) => {
                out.push(c);
                rest = &after[consumed..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn decode_entity(entity: &str) -> Option<char> {
    if let Some(number) = entity.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        return char::from_u32(code).filter(|c| !c.is_control() || c.is_whitespace());
    }
    Some(match entity {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "ndash" => '–',
        "mdash" => '—',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "hellip" => '…',
        _ => return None,
    })
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace()
        .filter(|word| !word.chars().all(char::is_control))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_dropped_and_blocks_separate_words() {
        assert_eq!(
            plain_summary("<p>Apple <b>beats</b> estimates.</p><p>Shares up.</p>"),
            "Apple beats estimates. Shares up."
        );
        assert_eq!(
            plain_summary("Revenue <b>grows</b>.<br/>Next"),
            "Revenue grows. Next"
        );
    }

    #[test]
    fn script_and_style_bodies_are_dropped_entirely() {
        assert_eq!(
            plain_summary("Hi<script>alert('x')</script> there<STYLE>p{color:red}</STYLE>!"),
            "Hi there!"
        );
        assert_eq!(plain_summary("a<script>never closed"), "a");
    }

    #[test]
    fn entities_are_decoded_and_unknown_ones_kept() {
        assert_eq!(
            plain_summary("AT&amp;T &lt;3 &#8217;s &#x2014; &bogus; R&D"),
            "AT&T <3 ’s — &bogus; R&D"
        );
    }

    #[test]
    fn a_lone_less_than_is_text() {
        assert_eq!(plain_summary("P/E < 20"), "P/E < 20");
    }

    #[test]
    fn long_summaries_are_cut_to_the_bound_at_a_character_boundary() {
        let long = "é".repeat(5_000);
        let summary = plain_summary(&long);
        assert_eq!(summary.chars().count(), MAX_SUMMARY_CHARS);
        assert!(summary.ends_with('…'));
        assert_eq!(
            plain_title(&"x ".repeat(1_000)).chars().count(),
            MAX_TITLE_CHARS
        );
    }
}
