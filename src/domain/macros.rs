//! The boilerplate every string newtype and every closed set of names shares, written
//! once so that `as_str`, `Display` and `Serialize` cannot disagree between types.

/// A newtype over a `String` that only its module's `parse` can build. Invoke it in a
/// direct child of `domain` (paths say `super::DomainError`); the including
/// module must define `pub fn parse(input: &str) -> Result<Self, DomainError>`.
macro_rules! string_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// The parsed value (after any trimming `parse` documents).
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Gives the `String` back without copying, e.g. to move it into a row.
            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        // Lets clap and `str::parse` use the same rules as the API.
        impl ::std::str::FromStr for $name {
            type Err = super::DomainError;

            fn from_str(input: &str) -> Result<Self, Self::Err> {
                Self::parse(input)
            }
        }
    };
}

/// A closed set of lower-case names (roles, statuses, device types). The wire name is
/// written next to each variant, so renaming a variant can never change the API.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every accepted name, in declaration order.
            pub const ALL: &'static [&'static str] = &[$($text),+];

            /// Every variant, in the same order as [`Self::ALL`].
            pub const VARIANTS: &'static [Self] = &[$(Self::$variant),+];

            /// Accepts exactly one of [`Self::ALL`]: case-sensitive, no trimming, because
            /// these names are identifiers in the API and in filters, not free text.
            pub fn parse(input: &str) -> Result<Self, super::DomainError> {
                match input {
                    $( $text => Ok(Self::$variant), )+
                    _ => Err(super::DomainError::new(format!(
                        "must be one of: {}",
                        Self::ALL.join(", ")
                    ))),
                }
            }

            /// The wire name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $text, )+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = super::DomainError;

            fn from_str(input: &str) -> Result<Self, Self::Err> {
                Self::parse(input)
            }
        }
    };
}
