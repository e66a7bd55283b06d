//! `redacted_debug!`: `Debug` for rows that hold a password or token hash, showing every field
//! but those. A hash is not the secret, but it is what an offline guess starts from, and rows
//! end up in logs and panic messages.

/// How a hidden field shows in `Debug`: that it is there, never what it is.
pub(crate) trait Hidden {
    fn shown(&self) -> &'static str;
}

impl Hidden for String {
    fn shown(&self) -> &'static str {
        "[redacted]"
    }
}

impl Hidden for Option<String> {
    fn shown(&self) -> &'static str {
        match self {
            Some(_) => "Some([redacted])",
            None => "None",
        }
    }
}

/// `redacted_debug!(User { id, email } hiding { password_hash })`. Every field must be named in
/// one list or the other (the struct is destructured), so a field added later is never shown
/// by accident.
macro_rules! redacted_debug {
    ($ty:ident { $($field:ident),* $(,)? } hiding { $($hidden:ident),+ $(,)? }) => {
        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                use $crate::redact::Hidden as _;
                let Self { $($field,)* $($hidden,)+ } = self;
                f.debug_struct(stringify!($ty))
                    $(.field(stringify!($field), $field))*
                    $(.field(stringify!($hidden), &format_args!("{}", $hidden.shown())))+
                    .finish()
            }
        }
    };
}
