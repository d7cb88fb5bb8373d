//! A small builder for the SQL the resource engine composes at run time (filters, sorts,
//! cursors, include batches), with every value bound, never interpolated.
//!
//! Why not `diesel::sql_query`: it marks every statement unsafe to cache, so SQLite would
//! re-prepare the page query on each request. [`SqlBuilder`] is a `QueryFragment` that
//! diesel caches by its SQL text; placeholders are written by diesel for the backend in
//! use (`?` or `$n`), so one builder serves both. Lists of ids are bound as one JSON
//! array, so a batch of 3 or 3,000 ids is the same cached statement.

use chrono::NaiveDateTime;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types;
use diesel::{QueryResult, RunQueryDsl};

use super::{BackendKind, MultiBackend};

/// A value bound to a placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Int(i64),
    Bool(bool),
    Time(NaiveDateTime),
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}
impl From<&String> for Value {
    fn from(s: &String) -> Self {
        Value::Text(s.clone())
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Int(n)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<NaiveDateTime> for Value {
    fn from(t: NaiveDateTime) -> Self {
        Value::Time(t)
    }
}

#[derive(Debug, Clone)]
enum Piece {
    Sql(String),
    Bind(Value),
}

/// SQL text and bound values, in order.
#[derive(Debug, Clone)]
pub struct SqlBuilder {
    backend: BackendKind,
    pieces: Vec<Piece>,
}

impl SqlBuilder {
    pub fn new(backend: BackendKind) -> Self {
        SqlBuilder {
            backend,
            pieces: Vec::with_capacity(16),
        }
    }

    pub fn backend(&self) -> BackendKind {
        self.backend
    }

    /// Appends SQL text. Only ever pass text from the program, never from a request.
    pub fn sql(&mut self, text: &str) -> &mut Self {
        match self.pieces.last_mut() {
            Some(Piece::Sql(last)) => last.push_str(text),
            _ => self.pieces.push(Piece::Sql(text.to_owned())),
        }
        self
    }

    /// Appends a placeholder bound to `value`.
    pub fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.pieces.push(Piece::Bind(value.into()));
        self
    }

    /// Appends `expr IN (…values…)`, with the values bound as one parameter (a JSON
    /// array on SQLite, a `text[]` on PostgreSQL) so the statement text does not depend
    /// on how many there are.
    pub fn in_list<S: AsRef<str>>(&mut self, expr: &str, values: &[S]) -> &mut Self {
        match values {
            [] => return self.sql("1 = 0"),
            // One value is the common case (a filter on one status, one owner): plain
            // equality lets the planner use an index range in sort order.
            [one] => return self.sql(expr).sql(" = ").bind(one.as_ref().to_owned()),
            _ => {}
        }
        self.sql(expr);
        match self.backend {
            BackendKind::Sqlite => {
                let array = serde_json::Value::Array(
                    values
                        .iter()
                        .map(|v| serde_json::Value::String(v.as_ref().to_owned()))
                        .collect(),
                )
                .to_string();
                self.sql(" IN (SELECT value FROM json_each(")
                    .bind(array)
                    .sql("))")
            }
            // `= ANY(array)`, not `IN (SELECT json_array_elements_text(…))`: PostgreSQL
            // guessed 100 rows for the set-returning function and scanned the whole of
            // team_memberships for an include instead of using its (user_id) index.
            BackendKind::Postgres => self
                .sql(" = ANY(CAST(")
                .bind(postgres_text_array(values))
                .sql(" AS text[]))"),
        }
    }

    /// Appends another builder's text and values.
    pub fn append(&mut self, other: &SqlBuilder) -> &mut Self {
        for piece in &other.pieces {
            match piece {
                Piece::Sql(text) => {
                    self.sql(text);
                }
                Piece::Bind(value) => {
                    self.bind(value.clone());
                }
            }
        }
        self
    }

    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }

    /// The SQL with `?` for each value, for logs and tests.
    pub fn debug_sql(&self) -> String {
        self.pieces
            .iter()
            .map(|p| match p {
                Piece::Sql(text) => text.as_str(),
                Piece::Bind(_) => "?",
            })
            .collect()
    }
}

impl QueryId for SqlBuilder {
    type QueryId = ();
    // The text varies, so diesel keys its statement cache by the SQL string.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for SqlBuilder {
    type SqlType = sql_types::Untyped;
}

impl<Conn> RunQueryDsl<Conn> for SqlBuilder {}

impl QueryFragment<MultiBackend> for SqlBuilder {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        for piece in &self.pieces {
            match piece {
                Piece::Sql(text) => out.push_sql(text),
                Piece::Bind(Value::Text(s)) => out.push_bind_param::<sql_types::Text, _>(s)?,
                Piece::Bind(Value::Int(n)) => out.push_bind_param::<sql_types::BigInt, _>(n)?,
                Piece::Bind(Value::Bool(b)) => out.push_bind_param::<sql_types::Bool, _>(b)?,
                Piece::Bind(Value::Time(t)) => out.push_bind_param::<sql_types::Timestamp, _>(t)?,
            }
        }
        Ok(())
    }
}

/// A PostgreSQL array literal of texts: every element quoted, `"` and `\` escaped, so
/// that commas, braces, quotes, spaces and `NULL` arrive as the text they are.
fn postgres_text_array<S: AsRef<str>>(values: &[S]) -> String {
    let mut literal = String::from("{");
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            literal.push(',');
        }
        literal.push('"');
        for c in value.as_ref().chars() {
            if c == '"' || c == '\\' {
                literal.push('\\');
            }
            literal.push(c);
        }
        literal.push('"');
    }
    literal.push('}');
    literal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_text_and_keeps_binds_in_order() {
        let mut q = SqlBuilder::new(BackendKind::Sqlite);
        q.sql("SELECT * FROM t WHERE a = ")
            .bind("x")
            .sql(" AND ")
            .in_list("b", &["1", "2"]);
        assert_eq!(
            q.debug_sql(),
            "SELECT * FROM t WHERE a = ? AND b IN (SELECT value FROM json_each(?))"
        );
        let mut pg = SqlBuilder::new(BackendKind::Postgres);
        pg.in_list("b", &["1", "2"]);
        assert_eq!(pg.debug_sql(), "b = ANY(CAST(? AS text[]))");
        let mut empty = SqlBuilder::new(BackendKind::Postgres);
        empty.in_list::<&str>("b", &[]);
        assert_eq!(empty.debug_sql(), "1 = 0");
    }

    #[test]
    fn postgres_array_literals_quote_every_element() {
        assert_eq!(postgres_text_array(&["a", "b"]), r#"{"a","b"}"#);
        assert_eq!(
            postgres_text_array(&[r#"say "hi""#, r"back\slash", "{x,y}", "NULL", ""]),
            r#"{"say \"hi\"","back\\slash","{x,y}","NULL",""}"#
        );
    }
}
