//! What a new password must be, as NIST SP 800-63B puts it: long enough, not absurdly long, and
//! not on the lists attackers try first. Length and shape are checked here; "guessable" is
//! zxcvbn's estimate (common passwords, dictionary words, keyboard walks, repeats, dates, and
//! the user's own email), refused below [`MIN_SCORE`], with zxcvbn's advice in the answer.
//! No composition rules (a digit, a capital): NIST advises against them.

use zxcvbn::Score;

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted: NIST asks for at least 64; the bound keeps the strength estimate
/// and the hash cheap.
pub const MAX_PASSWORD_CHARS: usize = 128;
/// zxcvbn's score a password must reach: 3 is "safely unguessable" (about 10^8 guesses or
/// more), the level zxcvbn's authors suggest for accounts that matter.
pub const MIN_SCORE: Score = Score::Three;

/// The checks that need no estimate: no control characters, not only spaces, the length
/// bounds. Cheap, so they run before anything is counted or hashed.
pub fn check_shape(password: &str, field: &str) -> Result<(), String> {
    if password.chars().any(char::is_control) {
        return Err(format!(
            "{field}: must not contain control characters (such as NUL, tab or a line break)"
        ));
    }
    if password.trim().is_empty() {
        return Err(format!(
            "{field}: must not be only spaces; use a few words or other characters"
        ));
    }
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(format!(
            "{field}: must be at least {MIN_PASSWORD_CHARS} characters (got {chars}); a few unrelated words make a good one"
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(format!(
            "{field}: must be at most {MAX_PASSWORD_CHARS} characters (got {chars})"
        ));
    }
    Ok(())
}

/// zxcvbn's verdict on `password` for the user with `email` (and display name): `Err` with
/// zxcvbn's warning and suggestions when it is too easy to guess. Takes a few milliseconds of
/// CPU; callers on the server run it with the hashing, on a blocking thread.
pub fn check_guessability(
    password: &str,
    email: &str,
    display_name: Option<&str>,
    field: &str,
) -> Result<(), String> {
    let inputs = user_inputs(email, display_name);
    let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let estimate = zxcvbn::zxcvbn(password, &inputs);
    if estimate.score() >= MIN_SCORE {
        return Ok(());
    }
    let mut advice = Vec::new();
    let lowered = password.to_lowercase();
    if inputs
        .iter()
        .any(|input| input.chars().count() >= 3 && lowered.contains(input))
    {
        advice.push("It contains your email address or name.".to_owned());
    }
    if let Some(feedback) = estimate.feedback() {
        advice.extend(feedback.warning().map(|w| w.to_string()));
        advice.extend(feedback.suggestions().iter().map(|s| s.to_string()));
    }
    if advice.is_empty() {
        advice.push("Add another word or two. Uncommon words are better.".into());
    }
    Err(format!("{field}: too easy to guess. {}", advice.join(" ")))
}

/// Both checks, in order (for one-off checks such as `stockd users create`).
pub fn check_new_password(
    password: &str,
    email: &str,
    display_name: Option<&str>,
    field: &str,
) -> Result<(), String> {
    check_shape(password, field)?;
    check_guessability(password, email, display_name, field)
}

/// What a guesser who knows the user would try: the email, its parts, the display name's words.
fn user_inputs(email: &str, display_name: Option<&str>) -> Vec<String> {
    let email = email.to_lowercase();
    let mut inputs = vec![email.clone()];
    if let Some((local, domain)) = email.split_once('@') {
        inputs.push(local.to_owned());
        inputs.extend(local.split(['.', '_', '-', '+']).map(str::to_owned));
        inputs.extend(domain.split('.').map(str::to_owned));
    }
    if let Some(name) = display_name {
        inputs.extend(name.to_lowercase().split_whitespace().map(str::to_owned));
    }
    inputs.retain(|input| !input.is_empty());
    inputs.sort();
    inputs.dedup();
    inputs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_passwords_are_refused_with_advice_and_a_passphrase_is_accepted() {
        let email = "ada.lovelace@example.com";
        for (password, expect) in [
            ("          ", "only spaces"),
            ("aaaaaaaaaa", "Repeats"),
            ("password12", "common password"),
            (email, "email address"),
            ("\0\0\0\0\0\0\0\0\0\0", "control characters"),
            ("lovelace1234", "email address or name"),
            ("short", "at least 10"),
        ] {
            let refused = check_new_password(password, email, None, "password").unwrap_err();
            assert!(refused.starts_with("password: "), "{refused}");
            assert!(refused.contains(expect), "{password:?}: {refused}");
        }
        assert!(check_new_password(&"x7".repeat(65), email, None, "password").is_err());
        check_new_password("plum orbit lantern fjord", email, None, "password").unwrap();
        check_new_password(&"Zq8-wPl4!".repeat(7), email, None, "password").unwrap();
    }
}
