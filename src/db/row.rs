//! Rows of the engine's queries read by position, not by name.
//!
//! diesel's `#[derive(QueryableByName)]` finds each field's column by its name: on SQLite
//! that asks `sqlite3_column_name` for every column before it and compares the texts, a
//! cost quadratic in the width of the row. It was a fifth of the instructions of a page
//! with includes. The engine's select lists are fixed (a type's columns in the order of
//! its row's fields, then the caller's columns, then an `__owner` or `__total`), so
//! [`read_by_position!`](crate::read_by_position) reads field `n` from column `n`, and
//! [`PositionalRow::FIELDS`] lets a test check that each type's select list and its row
//! agree.

use chrono::NaiveDateTime;
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::row::{Field, NamedRow, Row};
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamp};

use super::MultiBackend;
use super::time::{OptionalTime, Time};

/// A row whose fields are read from its columns in order.
pub trait PositionalRow {
    /// The field names, in the order of the columns they are read from.
    const FIELDS: &'static [&'static str];
}

type RawValue<'a> = <MultiBackend as Backend>::RawValue<'a>;

/// A field type and how it is read from a column's raw value (`None` is SQL NULL).
pub trait Column: Sized {
    fn read(value: Option<RawValue<'_>>) -> deserialize::Result<Self>;
}

impl Column for String {
    fn read(value: Option<RawValue<'_>>) -> deserialize::Result<Self> {
        <String as FromSql<Text, MultiBackend>>::from_nullable_sql(value)
    }
}

impl Column for Option<String> {
    fn read(value: Option<RawValue<'_>>) -> deserialize::Result<Self> {
        value
            .map(<String as FromSql<Text, MultiBackend>>::from_sql)
            .transpose()
    }
}

impl Column for bool {
    fn read(value: Option<RawValue<'_>>) -> deserialize::Result<Self> {
        <bool as FromSql<Bool, MultiBackend>>::from_nullable_sql(value)
    }
}

impl Column for i64 {
    fn read(value: Option<RawValue<'_>>) -> deserialize::Result<Self> {
        <i64 as FromSql<BigInt, MultiBackend>>::from_nullable_sql(value)
    }
}

impl Column for NaiveDateTime {
    fn read(value: Option<RawValue<'_>>) -> deserialize::Result<Self> {
        <Time as FromSql<Timestamp, MultiBackend>>::from_nullable_sql(value).map(|t| t.0)
    }
}

impl Column for Option<NaiveDateTime> {
    fn read(value: Option<RawValue<'_>>) -> deserialize::Result<Self> {
        <OptionalTime as FromSql<Nullable<Timestamp>, MultiBackend>>::from_nullable_sql(value)
            .map(|t| t.0)
    }
}

/// The value of column `at` (0-based) of `row`.
pub fn column<'a, T: Column>(
    row: &impl NamedRow<'a, MultiBackend>,
    at: usize,
) -> deserialize::Result<T> {
    let field = Row::get(row, at).ok_or_else(|| format!("the row has no column {at}"))?;
    T::read(field.value())
}

/// The value of the last column of `row` (an `__owner` or `__total` after the row's own).
pub fn last_column<'a, T: Column>(row: &impl NamedRow<'a, MultiBackend>) -> deserialize::Result<T> {
    let count = Row::field_count(row);
    column(row, count.checked_sub(1).ok_or("the row has no columns")?)
}

/// Implements `QueryableByName` for a row struct by reading its fields, in the order
/// listed (which must be the struct's columns in its select list), from columns 0, 1, …
/// and [`PositionalRow`] with their names.
#[macro_export]
macro_rules! read_by_position {
    ($row:ty { $($field:ident),* $(,)? }) => {
        impl diesel::QueryableByName<$crate::db::MultiBackend> for $row {
            fn build<'a>(
                row: &impl diesel::row::NamedRow<'a, $crate::db::MultiBackend>,
            ) -> diesel::deserialize::Result<Self> {
                let mut at = 0usize;
                let mut next = || {
                    at += 1;
                    at - 1
                };
                // Struct expressions evaluate their fields in the order written.
                Ok(Self {
                    $( $field: $crate::db::row::column(row, next())?, )*
                })
            }
        }

        impl $crate::db::row::PositionalRow for $row {
            const FIELDS: &'static [&'static str] = &[$(stringify!($field)),*];
        }
    };
}
