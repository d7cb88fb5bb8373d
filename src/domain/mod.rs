//! Values that cannot exist invalid past the edge of the system.
//!
//! Whatever arrives from outside — a request attribute, a command-line flag, a seed file —
//! is parsed once, at the edge, into one of these types; everything after that (resources,
//! policy, the database layer) holds an [`Email`] or a [`UserStatus`], never a bare
//! `String`. Holding the type is the proof that the check ran, so the check cannot be
//! forgotten on one code path or drift apart between two ("parse, don't validate").
//!
//! What this module owns: the *shape* of each value — lengths, allowed characters, the
//! closed sets of roles and statuses. What it does not own: anything that needs the
//! database (is this email or slug taken?) or a caller (may this user grant `owner`?);
//! those belong to `resources/` and `policy.rs`.
//!
//! A failed parse is a [`DomainError`] holding only a human-readable detail for a 422
//! response. The caller knows where the value came from and attaches the JSON pointer.
//! No detail ever repeats the input: it may be a password, or megabytes of junk.
//!
//! Lengths are counted in `char`s (Unicode scalar values), which is what a person typing a
//! name means by "characters"; where a file system needs a byte limit too (avatars), both
//! are checked. Parsers never panic, whatever the input (see the junk tests).

// The macros come first: `macro_rules!` is visible only to modules declared after it.
#[macro_use]
mod macros;

mod avatar;
mod device;
mod email;
mod password;
mod preferences;
mod roles;
mod slug;
mod status;
mod text;
mod timezone;

#[cfg(test)]
mod junk_tests;

pub use avatar::Avatar;
pub use device::{DeviceSubType, DeviceType};
pub use email::Email;
pub use password::Password;
pub use preferences::Preferences;
pub use roles::{AccountRole, TeamRole};
pub use slug::Slug;
pub use status::UserStatus;
pub use text::{Description, Identifier, Name, TeamName};
pub use timezone::Timezone;

/// Why a value was rejected: a detail such as "must be a valid email address", meant for
/// the `detail` of a 422 `validation_failed` error. It never contains the rejected input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DomainError(pub String);

impl DomainError {
    pub fn new(detail: impl Into<String>) -> Self {
        Self(detail.into())
    }

    /// The detail, for building an error document.
    pub fn detail(&self) -> &str {
        &self.0
    }
}
