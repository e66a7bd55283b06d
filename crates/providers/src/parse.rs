//! Text-to-number helpers shared by the providers' parsers (prices go through
//! [`domain::Price`]'s own exact parser; this module owns what `Price` does not cover).

/// Parses a share volume written as an integer (`"3963700"`) or as an integral decimal
/// (`"3963700.0"`, as some CSV exports write it); `None` for anything else.
///
/// Fractional or negative volumes are rejected rather than rounded: they mean the column is not
/// what we think it is.
pub(crate) fn parse_volume(text: &str) -> Option<u64> {
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let integral = fraction.bytes().all(|b| b == b'0');
    if whole.is_empty() || !integral || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    whole.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_integral_decimals_are_volumes() {
        assert_eq!(parse_volume("3963700"), Some(3_963_700));
        assert_eq!(parse_volume("3963700.0"), Some(3_963_700));
        assert_eq!(parse_volume(" 0 "), Some(0));
    }

    #[test]
    fn fractional_negative_and_garbage_volumes_are_rejected() {
        for text in [
            "",
            ".0",
            "1.5",
            "-1",
            "+1",
            "1e6",
            "abc",
            "99999999999999999999999",
        ] {
            assert_eq!(parse_volume(text), None, "{text:?} should be rejected");
        }
    }
}
