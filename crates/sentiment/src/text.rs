//! Article text as scorers receive it, and making it safe to score: HTML removed, whitespace
//! collapsed, length bounded.
//!
//! Feeds deliver summaries with markup and sometimes whole pages; a model must never receive
//! unbounded or markup-laden text, and the lexicon must not score tag names.

use serde::{Deserialize, Serialize};

/// Titles are cut to this many characters.
pub const MAX_TITLE_CHARS: usize = 300;
/// Summaries (or bodies) are cut to this many characters.
pub const MAX_SUMMARY_CHARS: usize = 4_000;

/// The text of one article, as the news source gave it (possibly with HTML).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArticleText {
    pub title: String,
    /// The summary or body; may be empty.
    pub summary: String,
}

/// An article's text after [`ArticleText::prepared`]: plain text, bounded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreparedArticle {
    pub title: String,
    pub summary: String,
}

impl ArticleText {
    /// An article with a title and a summary.
    pub fn new(title: impl Into<String>, summary: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            summary: summary.into(),
        }
    }

    /// The text to score: HTML stripped, whitespace collapsed, each part bounded
    /// ([`MAX_TITLE_CHARS`], [`MAX_SUMMARY_CHARS`]).
    pub fn prepared(&self) -> PreparedArticle {
        PreparedArticle {
            title: bounded(&strip_html(&self.title), MAX_TITLE_CHARS),
            summary: bounded(&strip_html(&self.summary), MAX_SUMMARY_CHARS),
        }
    }
}

/// `html` as plain text: tags removed (with the contents of `script` and `style`), common
/// entities decoded, runs of whitespace collapsed to one space.
pub fn strip_html(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        text.push_str(&rest[..start]);
        let after = &rest[start..];
        let Some(end) = after.find('>') else {
            // A lone '<' is text ("P/E < 10"), not a tag.
            text.push_str(after);
            rest = "";
            break;
        };
        let tag = after[1..end].trim_start_matches('/').to_ascii_lowercase();
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        rest = &after[end + 1..];
        if !after[1..].starts_with('/') && (name == "script" || name == "style") {
            let closing = format!("</{name}");
            rest = match rest.to_ascii_lowercase().find(&closing) {
                Some(at) => rest[at..].find('>').map_or("", |gt| &rest[at + gt + 1..]),
                None => "",
            };
        }
        // A tag separates words ("<p>a</p><p>b</p>" is "a b").
        text.push(' ');
    }
    text.push_str(rest);
    collapse_whitespace(&decode_entities(&text))
}

fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let decoded = after.find(';').filter(|&end| end <= 10).and_then(|end| {
            let name = &after[1..end];
            let ch = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" | "#39" => Some('\''),
                "nbsp" => Some(' '),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                    .and_then(char::from_u32),
            };
            ch.map(|ch| (ch, end))
        });
        match decoded {
            Some((ch, end)) => {
                out.push(ch);
                rest = &after[end + 1..];
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

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `text` cut to at most `max_chars` characters (the last one an ellipsis when cut).
fn bounded(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_scripts_and_entities_become_plain_text() {
        let html =
            "<p>Acme &amp; Co <b>beats</b></p><script>alert('x')</script><p>estimates&#33;</p>";
        assert_eq!(strip_html(html), "Acme & Co beats estimates!");
    }

    #[test]
    fn a_lone_less_than_sign_is_kept() {
        assert_eq!(strip_html("P/E < 10 and rising"), "P/E < 10 and rising");
    }

    #[test]
    fn long_summaries_are_bounded() {
        let article = ArticleText::new("t", "word ".repeat(2_000));
        let prepared = article.prepared();
        assert_eq!(prepared.summary.chars().count(), MAX_SUMMARY_CHARS);
        assert!(prepared.summary.ends_with('…'));
    }
}
