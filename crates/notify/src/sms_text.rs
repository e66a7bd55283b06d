//! SMS bodies that fit a set number of segments.
//!
//! An SMS carries 160 characters of the GSM-7 alphabet, or 70 UTF-16 units (UCS-2) as soon as
//! one character is outside it (an emoji, "…", curly quotes). Longer texts are split into
//! segments of 153 / 67 (the rest of each is the concatenation header), each billed as one
//! message. So a body is cut to fit `max_segments`, ending in "..." when it is GSM-7 (a "…"
//! would switch the whole message to UCS-2 and cost half the room) or "…" when it is UCS-2
//! already.

/// Characters of the GSM 03.38 default alphabet (one septet each).
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// Characters of its extension table (an escape plus one septet: two each).
const GSM_EXTENSION: &str = "\u{c}^{}\\[~]|€";

/// How a body is encoded on the air.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsEncoding {
    /// The GSM 03.38 7-bit alphabet.
    Gsm7,
    /// UCS-2 (UTF-16 on the air).
    Ucs2,
}

impl SmsEncoding {
    /// The encoding a body needs.
    pub fn of(text: &str) -> Self {
        if text.chars().all(|c| gsm_septets(c).is_some()) {
            Self::Gsm7
        } else {
            Self::Ucs2
        }
    }

    fn limits(self) -> (usize, usize) {
        match self {
            Self::Gsm7 => (160, 153),
            Self::Ucs2 => (70, 67),
        }
    }

    fn cost(self, c: char) -> usize {
        match self {
            Self::Gsm7 => gsm_septets(c).unwrap_or(2),
            Self::Ucs2 => c.len_utf16(),
        }
    }
}

fn gsm_septets(c: char) -> Option<usize> {
    if GSM_BASIC.contains(c) {
        Some(1)
    } else if GSM_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// How many segments `text` takes.
pub fn segments(text: &str) -> usize {
    let encoding = SmsEncoding::of(text);
    let costs: Vec<usize> = text.chars().map(|c| encoding.cost(c)).collect();
    count_segments(&costs, encoding.limits())
}

fn count_segments(costs: &[usize], (single, multi): (usize, usize)) -> usize {
    if costs.iter().sum::<usize>() <= single {
        return 1;
    }
    // Greedy packing: a two-unit character (GSM escape, UTF-16 surrogate pair) is never split
    // across segments, so the count can exceed total / 153.
    let (mut count, mut used) = (1, 0);
    for &cost in costs {
        if used + cost > multi {
            count += 1;
            used = 0;
        }
        used += cost;
    }
    count
}

/// `text` cut to fit `max_segments` (1 to 10; Twilio takes at most 1600 characters) segments.
pub fn fit(text: &str, max_segments: u8) -> String {
    let max_segments = usize::from(max_segments.clamp(1, 10));
    if segments(text) <= max_segments {
        return text.to_owned();
    }
    let encoding = SmsEncoding::of(text);
    let ellipsis = match encoding {
        SmsEncoding::Gsm7 => "...",
        SmsEncoding::Ucs2 => "…",
    };
    let chars: Vec<char> = text.chars().collect();
    let fits = |keep: usize| {
        let mut candidate: String = chars[..keep].iter().collect();
        candidate.truncate(candidate.trim_end().len());
        candidate.push_str(ellipsis);
        let costs: Vec<usize> = candidate.chars().map(|c| encoding.cost(c)).collect();
        (count_segments(&costs, encoding.limits()) <= max_segments).then_some(candidate)
    };
    // Fitting is monotone in the kept length: binary search the longest prefix that fits.
    let (mut low, mut high) = (0, chars.len());
    while low < high {
        let mid = (low + high).div_ceil(2);
        if fits(mid).is_some() {
            low = mid;
        } else {
            high = mid - 1;
        }
    }
    // Cut between words when a word boundary is near (a shorter prefix fits too).
    let mid_word = low < chars.len() && !chars[low].is_whitespace();
    if mid_word
        && let Some(space) = chars[..low].iter().rposition(|c| c.is_whitespace())
        && low - space <= 20
    {
        low = space;
    }
    fits(low).unwrap_or_else(|| ellipsis.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_are_detected() {
        assert_eq!(
            SmsEncoding::of("MSFT crossed 420.00 [up] €"),
            SmsEncoding::Gsm7
        );
        assert_eq!(SmsEncoding::of("MSFT crossed 420.00 …"), SmsEncoding::Ucs2);
        assert_eq!(SmsEncoding::of("📈 MSFT"), SmsEncoding::Ucs2);
    }

    #[test]
    fn short_bodies_are_untouched() {
        let text = "a".repeat(160);
        assert_eq!(fit(&text, 1), text);
        let text = "é".repeat(160);
        assert_eq!(fit(&text, 1), text);
        let text = "…".repeat(70);
        assert_eq!(fit(&text, 1), text);
    }

    #[test]
    fn long_gsm_bodies_are_cut_to_160_with_dots() {
        let out = fit(&"word ".repeat(50), 1);
        assert!(out.ends_with("word..."), "{out}");
        assert!(out.chars().count() <= 160);
        assert_eq!(SmsEncoding::of(&out), SmsEncoding::Gsm7);
        assert_eq!(segments(&out), 1);
    }

    #[test]
    fn extension_characters_count_twice() {
        let text = "{".repeat(81);
        assert_eq!(segments(&text), 2);
        let out = fit(&text, 1);
        assert_eq!(out, format!("{}...", "{".repeat(78)));
    }

    #[test]
    fn long_ucs2_bodies_are_cut_to_70_units() {
        let out = fit(&"📈".repeat(40), 1);
        assert_eq!(out, format!("{}…", "📈".repeat(34)));
        assert_eq!(out.encode_utf16().count(), 69);
    }

    #[test]
    fn several_segments_when_allowed() {
        let text = "a".repeat(300);
        assert_eq!(segments(&text), 2);
        assert_eq!(fit(&text, 2), text);
        let out = fit(&"a".repeat(400), 2);
        assert_eq!(out.len(), 306);
        assert_eq!(segments(&out), 2);
    }
}
