//! `redacted_debug!`: `Debug` for types that hold a secret or a hash of one (rows with password
//! or token hashes here; request and response bodies with passwords or tokens at the web edge),
//! showing every field but those. A hash is not the secret, but it is what an offline guess
//! starts from, and values end up in logs and panic messages.

/// How a hidden field shows in `Debug`: that it is there, never what it is.
#[doc(hidden)]
pub trait Hidden {
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
#[macro_export]
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
