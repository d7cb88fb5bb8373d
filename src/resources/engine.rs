//! The generic resource engine: turns a resource declaration ([`Resource`]) into SQL for
//! lists (filters, sorts, offset and cursor pages), lookups by id, related collections
//! and include batches, and assembles the response [`Graph`].
//!
//! Includes are loaded one query per include path segment, whatever the page size: each
//! segment is one `… WHERE owner IN (all owners of that segment)` query — or, for a
//! relationship that may point at any type (an audit event's `target`), one such query
//! per target type present, each by that type's engine. Every query on a
//! type — primary, related or included — goes through that type's `scope`, so what a
//! caller may not see never appears anywhere.

use std::collections::{BTreeMap, HashMap};
use std::marker::PhantomData;

use base64::Engine as _;
use chrono::NaiveDateTime;
use diesel::QueryableByName;
use diesel::RunQueryDsl;
use diesel::deserialize;
use diesel::row::NamedRow;
use diesel::sql_types::BigInt;

use crate::auth::Caller;
use crate::db::row::PositionalRow;
use crate::db::sql::Value;
use crate::db::{DbConnection, MultiBackend, SqlBuilder};
use crate::jsonapi::document::{Graph, Node, ResourceView, format_time};
use crate::jsonapi::error::{ApiError, ApiResult, ErrorCode};
use crate::jsonapi::query::{FilterClause, FilterOp, FilterValue, IncludeTree, Page, Query};
use crate::jsonapi::schema::{Relationship, ResourceSchema};

// What a query may see — the tenant rule — is the policy's: `Scope`, `Discarded` and
// `single_scope` live in `crate::policy` beside each type's `scope`.
pub use crate::policy::{Discarded, Scope, live_single_scope, single_scope};

/// After the statement that deletes a row: none changed means a concurrent request
/// deleted it first (and answered 204), so this one is a 404.
pub fn ensure_changed(changed: usize) -> ApiResult<()> {
    if changed == 0 {
        Err(ApiError::not_found())
    } else {
        Ok(())
    }
}

/// How the value of a sort key is typed, for cursors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKind {
    Text,
    Int,
    Time,
}

/// One sortable field: its SQL expression and how to read its value from a row.
pub struct SortSpec<Row> {
    pub name: &'static str,
    pub expr: &'static str,
    pub kind: SortKind,
    /// The expression can be NULL; NULL sorts before every value on both backends.
    pub nullable: bool,
    pub value: fn(&Row) -> Option<CursorValue>,
}

/// How a `filter[NAME]` becomes SQL.
#[derive(Debug, Clone, Copy)]
pub enum FilterSql {
    /// `column IN (values)`; with a date operator, `column op value`.
    Column(&'static str),
    /// `column IN (values)` where the column stores a case-folded form (written by the
    /// application) and the values are folded the same way, so that an index answers.
    Folded(&'static str),
    /// Case-insensitive substring of any of the columns.
    Contains(&'static [&'static str]),
    /// `id IN (SELECT owner FROM table WHERE target IN (values))` — e.g. users of a team
    /// — where the targets are only those the caller may see (`visible`, usually
    /// the target type's `policy::…::visible_ids`): a filter that names another resource never
    /// matches through a row the caller cannot see (SPEC §2).
    Through {
        table: &'static str,
        owner_column: &'static str,
        target_column: &'static str,
        visible: VisibleIds,
    },
    /// Handled by the engine (`discarded`) or the scope (`account`).
    Special,
}

/// Appends `SELECT id FROM … WHERE …`: the ids of a type's rows that a scope may see.
pub type VisibleIds = fn(&mut SqlBuilder, &Scope<'_>);

/// How a relationship finds its targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// To-one through a column of the owner's row (`users.account_id`).
    ToOne { column: &'static str },
    /// To-many through a column of the target's rows pointing back (`devices.user_id`).
    Reverse { column: &'static str },
    /// To-many through a join table (`team_memberships(user_id → team_id)`).
    Through {
        table: &'static str,
        owner_column: &'static str,
        target_column: &'static str,
    },
}

/// A resource type, declared once: its protocol schema, its table, how the caller's
/// scope, filters, sorts and relationships map to SQL, and its permissions.
pub trait Resource: Sized + 'static {
    type Row: QueryableByName<MultiBackend> + PositionalRow + ResourceView + 'static;
    const SCHEMA: &'static ResourceSchema;
    const TABLE: &'static str;
    /// The select list, every column of `Row` qualified by the table name.
    const COLUMNS: &'static str;
    /// Whether rows have `discarded_at` (soft delete).
    const SOFT_DELETE: bool;
    const SORTS: &'static [SortSpec<Self::Row>];
    const FILTERS: &'static [(&'static str, FilterSql)];
    const LINKS: &'static [(&'static str, Link)];

    /// Appends ` AND …` conditions that keep only rows `scope` may see (the tenant
    /// rule; the engine adds the `discarded_at` rule).
    fn scope(q: &mut SqlBuilder, scope: &Scope<'_>);

    /// Appends `, expr AS name` columns that depend on the caller (its role on each
    /// row, for permissions). Most types have none.
    fn caller_columns(_q: &mut SqlBuilder, _scope: &Scope<'_>) {}

    /// May the caller read this type at all? (403 otherwise; what it reads is still
    /// limited by `scope`.)
    fn may_read(_caller: &Caller) -> bool {
        true
    }

    /// `meta.permissions.actions` for `caller`, from the policy.
    fn actions(row: &Self::Row, caller: &Caller) -> Vec<(&'static str, bool)>;
}

/// A value of a sort key, as carried in a cursor.
#[derive(Debug, Clone, PartialEq)]
pub enum CursorValue {
    Text(String),
    Int(i64),
    Time(NaiveDateTime),
}

impl CursorValue {
    fn to_json(&self) -> serde_json::Value {
        match self {
            CursorValue::Text(s) => serde_json::Value::String(s.clone()),
            CursorValue::Int(n) => serde_json::Value::from(*n),
            CursorValue::Time(t) => serde_json::Value::String(format_time(t)),
        }
    }

    fn from_json(value: &serde_json::Value, kind: SortKind) -> Option<Option<CursorValue>> {
        if value.is_null() {
            return Some(None);
        }
        Some(Some(match kind {
            SortKind::Text => CursorValue::Text(value.as_str()?.to_owned()),
            SortKind::Int => CursorValue::Int(value.as_i64()?),
            SortKind::Time => CursorValue::Time(
                chrono::DateTime::parse_from_rfc3339(value.as_str()?)
                    .ok()?
                    .naive_utc(),
            ),
        }))
    }

    fn bind(&self) -> Value {
        match self {
            CursorValue::Text(s) => Value::Text(s.clone()),
            CursorValue::Int(n) => Value::Int(*n),
            CursorValue::Time(t) => Value::Time(*t),
        }
    }
}

/// A row with the owner id it was loaded for (include batches).
pub struct WithOwner<T> {
    pub row: T,
    pub owner: String,
}

impl<T: QueryableByName<MultiBackend>> QueryableByName<MultiBackend> for WithOwner<T> {
    fn build<'a>(row: &impl NamedRow<'a, MultiBackend>) -> deserialize::Result<Self> {
        Ok(WithOwner {
            row: T::build(row)?,
            // `__owner` is the last column (see `crate::db::row`).
            owner: crate::db::row::last_column(row)?,
        })
    }
}

/// A row with the count of all matches (offset pages carry `meta.total`).
pub struct WithTotal<T> {
    pub row: T,
    pub total: i64,
}

impl<T: QueryableByName<MultiBackend>> QueryableByName<MultiBackend> for WithTotal<T> {
    fn build<'a>(row: &impl NamedRow<'a, MultiBackend>) -> deserialize::Result<Self> {
        Ok(WithTotal {
            row: T::build(row)?,
            // `__total` is the last column (see `crate::db::row`).
            total: crate::db::row::last_column(row)?,
        })
    }
}

/// One sort key in effect: the declared spec and its direction.
struct ActiveSort<'s, Row> {
    spec: Option<&'s SortSpec<Row>>,
    descending: bool,
}

impl<Row> ActiveSort<'_, Row> {
    fn expr<R: Resource<Row = Row>>(&self) -> String {
        match self.spec {
            Some(spec) => spec.expr.to_owned(),
            None => format!("{}.id", R::TABLE),
        }
    }
    fn nullable(&self) -> bool {
        self.spec.is_some_and(|s| s.nullable)
    }
    fn kind(&self) -> SortKind {
        self.spec.map_or(SortKind::Text, |s| s.kind)
    }
    fn value(&self, row: &Row, id: &str) -> Option<CursorValue> {
        match self.spec {
            Some(spec) => (spec.value)(row),
            None => Some(CursorValue::Text(id.to_owned())),
        }
    }
}

/// The query's sorts with their SQL. Every sort of a query is one the schema declares
/// (the parser keeps only those), and every declared sort has SQL (a unit test checks
/// each type): a missing one is a 500, never silently another order.
fn active_sorts<R: Resource>(query: &Query) -> ApiResult<Vec<ActiveSort<'static, R::Row>>> {
    let mut sorts = query
        .sort
        .iter()
        .map(|key| {
            let spec = R::SORTS
                .iter()
                .find(|s| s.name == key.field)
                .ok_or_else(|| {
                    ApiError::internal(format!(
                        "sort `{}` of `{}` has no SQL",
                        key.field,
                        R::SCHEMA.type_name
                    ))
                })?;
            Ok(ActiveSort {
                spec: Some(spec),
                descending: key.descending,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    // Ties are always broken by ascending id, so the order is total and stable.
    sorts.push(ActiveSort {
        spec: None,
        descending: false,
    });
    Ok(sorts)
}

/// The WHERE clause shared by a page query and its count.
fn where_clause<R: Resource>(
    backend: crate::db::BackendKind,
    scope: &Scope<'_>,
    query: Option<&Query>,
    restriction: Option<&SqlBuilder>,
) -> ApiResult<SqlBuilder> {
    let mut q = SqlBuilder::new(backend);
    q.sql(" WHERE 1 = 1");
    if R::SOFT_DELETE {
        match scope.discarded {
            Discarded::Exclude => q.sql(&format!(" AND {}.discarded_at IS NULL", R::TABLE)),
            Discarded::Only => q.sql(&format!(" AND {}.discarded_at IS NOT NULL", R::TABLE)),
            Discarded::All => &mut q,
        };
    }
    R::scope(&mut q, scope);
    if let Some(restriction) = restriction {
        q.append(restriction);
    }
    if let Some(query) = query {
        for clause in &query.filters {
            apply_filter::<R>(&mut q, scope, clause)?;
        }
    }
    Ok(q)
}

fn text_values(clause: &FilterClause) -> Vec<String> {
    clause
        .values
        .iter()
        .map(|v| match v {
            FilterValue::Text(s) => s.clone(),
            FilterValue::Time(t) => format_time(t),
        })
        .collect()
}

fn apply_filter<R: Resource>(
    q: &mut SqlBuilder,
    scope: &Scope<'_>,
    clause: &FilterClause,
) -> ApiResult<()> {
    let Some((_, how)) = R::FILTERS.iter().find(|(name, _)| *name == clause.name) else {
        return Err(ApiError::internal(format!(
            "filter `{}` of `{}` has no SQL",
            clause.name,
            R::SCHEMA.type_name
        )));
    };
    match *how {
        FilterSql::Column(column) => {
            let times: Vec<NaiveDateTime> = clause
                .values
                .iter()
                .filter_map(|v| match v {
                    FilterValue::Time(t) => Some(*t),
                    FilterValue::Text(_) => None,
                })
                .collect();
            if times.is_empty() {
                q.sql(" AND ").in_list(column, &text_values(clause));
            } else {
                let op = match clause.op {
                    FilterOp::Eq => "=",
                    FilterOp::Gt => ">",
                    FilterOp::Gte => ">=",
                    FilterOp::Lt => "<",
                    FilterOp::Lte => "<=",
                };
                q.sql(" AND (");
                for (i, t) in times.iter().enumerate() {
                    if i > 0 {
                        q.sql(" OR ");
                    }
                    q.sql(column).sql(" ").sql(op).sql(" ").bind(*t);
                }
                q.sql(")");
            }
        }
        FilterSql::Folded(column) => {
            let folded: Vec<String> = text_values(clause)
                .iter()
                .map(|v| v.trim().to_lowercase())
                .collect();
            q.sql(" AND ").in_list(column, &folded);
        }
        FilterSql::Contains(columns) => {
            // Any needle (comma = OR) in any of the columns, ignoring case.
            q.sql(" AND (");
            for (i, needle) in text_values(clause).iter().enumerate() {
                let pattern = format!(
                    "%{}%",
                    needle
                        .to_lowercase()
                        .replace('\\', "\\\\")
                        .replace('%', "\\%")
                        .replace('_', "\\_")
                );
                for (j, column) in columns.iter().enumerate() {
                    if i > 0 || j > 0 {
                        q.sql(" OR ");
                    }
                    q.sql("casefold(")
                        .sql(column)
                        .sql(") LIKE ")
                        .bind(pattern.clone())
                        .sql(" ESCAPE '\\'");
                }
            }
            q.sql(")");
        }
        FilterSql::Through {
            table,
            owner_column,
            target_column,
            visible,
        } => {
            q.sql(&format!(
                " AND {}.id IN (SELECT {owner_column} FROM {table} WHERE ",
                R::TABLE
            ))
            .in_list(target_column, &text_values(clause))
            .sql(&format!(" AND {target_column} IN ("));
            visible(q, scope);
            q.sql("))");
        }
        FilterSql::Special => {}
    }
    Ok(())
}

fn order_by<R: Resource>(q: &mut SqlBuilder, sorts: &[ActiveSort<'_, R::Row>], reverse: bool) {
    q.sql(" ORDER BY ");
    for (i, sort) in sorts.iter().enumerate() {
        if i > 0 {
            q.sql(", ");
        }
        let descending = sort.descending != reverse;
        q.sql(&sort.expr::<R>());
        // NULL is the smallest value on both backends (PostgreSQL's default is the
        // opposite), so that cursors mean the same thing everywhere.
        q.sql(match (descending, sort.nullable()) {
            (false, false) => " ASC",
            (true, false) => " DESC",
            (false, true) => " ASC NULLS FIRST",
            (true, true) => " DESC NULLS LAST",
        });
    }
}

/// Appends the keyset condition "strictly after `values` in the order of `sorts`"
/// (`reverse`: strictly before).
fn after_condition<R: Resource>(
    q: &mut SqlBuilder,
    sorts: &[ActiveSort<'_, R::Row>],
    values: &[Option<CursorValue>],
    reverse: bool,
) {
    let uniform = sorts
        .iter()
        .all(|s| !s.nullable() && s.descending == sorts[0].descending)
        && values.iter().all(Option::is_some);
    if uniform {
        // A row-value comparison lets both databases seek the index to the cursor.
        let ascending = sorts[0].descending == reverse;
        q.sql(" AND (");
        for (i, sort) in sorts.iter().enumerate() {
            q.sql(if i > 0 { ", " } else { "" }).sql(&sort.expr::<R>());
        }
        q.sql(if ascending { ") > (" } else { ") < (" });
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                q.sql(", ");
            }
            if let Some(v) = value {
                q.bind(v.bind());
            }
        }
        q.sql(")");
        return;
    }
    q.sql(" AND (");
    for i in 0..sorts.len() {
        q.sql(if i > 0 { " OR (" } else { "(" });
        for j in 0..i {
            equal_condition::<R>(q, &sorts[j], &values[j]);
            q.sql(" AND ");
        }
        let ascending = sorts[i].descending == reverse;
        beyond_condition::<R>(q, &sorts[i], &values[i], ascending);
        q.sql(")");
    }
    q.sql(")");
}

fn equal_condition<R: Resource>(
    q: &mut SqlBuilder,
    sort: &ActiveSort<'_, R::Row>,
    value: &Option<CursorValue>,
) {
    let expr = sort.expr::<R>();
    match value {
        None => q.sql(&expr).sql(" IS NULL"),
        Some(v) => q.sql(&expr).sql(" = ").bind(v.bind()),
    };
}

/// `expr` strictly beyond `value` in the given direction, NULL being the smallest value.
fn beyond_condition<R: Resource>(
    q: &mut SqlBuilder,
    sort: &ActiveSort<'_, R::Row>,
    value: &Option<CursorValue>,
    ascending: bool,
) {
    let expr = sort.expr::<R>();
    match (value, ascending) {
        (None, true) => q.sql(&expr).sql(" IS NOT NULL"),
        (None, false) => q.sql("1 = 0"),
        (Some(v), true) => q.sql(&expr).sql(" > ").bind(v.bind()),
        (Some(v), false) if sort.nullable() => q
            .sql("(")
            .sql(&expr)
            .sql(" < ")
            .bind(v.bind())
            .sql(" OR ")
            .sql(&expr)
            .sql(" IS NULL)"),
        (Some(v), false) => q.sql(&expr).sql(" < ").bind(v.bind()),
    };
}

fn encode_cursor(values: &[Option<CursorValue>]) -> String {
    let array: Vec<serde_json::Value> = values
        .iter()
        .map(|v| {
            v.as_ref()
                .map_or(serde_json::Value::Null, CursorValue::to_json)
        })
        .collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::Value::Array(array).to_string())
}

fn decode_cursor<Row>(
    parameter: &str,
    cursor: &str,
    sorts: &[ActiveSort<'_, Row>],
) -> ApiResult<Vec<Option<CursorValue>>> {
    let invalid = || {
        ApiError::invalid_parameter(
            parameter,
            format!("`{cursor}` is not a cursor of this list (with this sort)."),
        )
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| invalid())?;
    let values: Vec<serde_json::Value> = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if values.len() != sorts.len() {
        return Err(invalid());
    }
    let decoded = values
        .iter()
        .zip(sorts)
        .map(|(v, s)| CursorValue::from_json(v, s.kind()))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(invalid)?;
    // The id tiebreak is never null.
    if decoded.last().is_none_or(Option::is_none) {
        return Err(invalid());
    }
    Ok(decoded)
}

/// A page of primary rows and what its links and meta need.
pub struct PageResult<Row> {
    pub rows: Vec<Row>,
    pub cursors: Vec<String>,
    /// Offset pages: all matches.
    pub total: Option<i64>,
    /// Cursor pages: whether there are rows before / after this page (`None`: unknown).
    pub has_prev: bool,
    pub has_next: bool,
}

/// Loads one page of `R` visible to `scope`, with the query's filters and sort;
/// `restriction` narrows it further (a related collection).
pub fn list<R: Resource>(
    conn: &mut DbConnection,
    scope: &Scope<'_>,
    query: &Query,
    restriction: Option<&SqlBuilder>,
) -> ApiResult<PageResult<R::Row>> {
    let backend = conn.backend();
    let filters = where_clause::<R>(backend, scope, Some(query), restriction)?;
    let sorts = active_sorts::<R>(query)?;
    match &query.page {
        Page::Offset { number, size } => {
            let offset = i64::from(number.saturating_sub(1)) * i64::from(*size);
            let mut q = SqlBuilder::new(backend);
            // The total is an uncorrelated scalar subquery: the database computes it
            // once, from the index, in the same statement as the page.
            q.sql("SELECT ").sql(R::COLUMNS);
            R::caller_columns(&mut q, scope);
            q.sql(", (SELECT COUNT(*) FROM ").sql(R::TABLE);
            q.append(&filters)
                .sql(") AS __total FROM ")
                .sql(R::TABLE)
                .append(&filters);
            order_by::<R>(&mut q, &sorts, false);
            q.sql(" LIMIT ")
                .bind(i64::from(*size))
                .sql(" OFFSET ")
                .bind(offset);
            let rows: Vec<WithTotal<R::Row>> = q.load(conn)?;
            let total = match rows.first() {
                Some(first) => first.total,
                None if offset == 0 => 0,
                None => {
                    // Past the last page: count separately (rare).
                    let mut count = SqlBuilder::new(backend);
                    count
                        .sql("SELECT COUNT(*) AS __total FROM ")
                        .sql(R::TABLE)
                        .append(&filters);
                    count.load::<Count>(conn)?.first().map_or(0, |c| c.total)
                }
            };
            Ok(PageResult {
                rows: rows.into_iter().map(|r| r.row).collect(),
                cursors: Vec::new(),
                total: Some(total),
                has_prev: offset > 0,
                has_next: offset + i64::from(*size) < total,
            })
        }
        Page::Cursor {
            after,
            before,
            size,
        } => {
            let mut q = SqlBuilder::new(backend);
            q.sql("SELECT ").sql(R::COLUMNS);
            R::caller_columns(&mut q, scope);
            q.sql(" FROM ").sql(R::TABLE).append(&filters);
            let reverse = before.is_some();
            if let Some(cursor) = after {
                let values = decode_cursor("page[after]", cursor, &sorts)?;
                after_condition::<R>(&mut q, &sorts, &values, false);
            }
            if let Some(cursor) = before {
                let values = decode_cursor("page[before]", cursor, &sorts)?;
                after_condition::<R>(&mut q, &sorts, &values, true);
            }
            order_by::<R>(&mut q, &sorts, reverse);
            // One extra row tells whether another page follows.
            q.sql(" LIMIT ").bind(i64::from(*size) + 1);
            let mut rows: Vec<R::Row> = q.load(conn)?;
            let more = rows.len() > *size as usize;
            rows.truncate(*size as usize);
            if reverse {
                rows.reverse();
            }
            let cursors = rows
                .iter()
                .map(|row| {
                    let values: Vec<Option<CursorValue>> =
                        sorts.iter().map(|s| s.value(row, row.id())).collect();
                    encode_cursor(&values)
                })
                .collect();
            let (has_prev, has_next) = if reverse {
                (more, true)
            } else {
                (after.is_some(), more)
            };
            Ok(PageResult {
                rows,
                cursors,
                total: None,
                has_prev,
                has_next,
            })
        }
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt, column_name = __total)]
    total: i64,
}

/// The row of `R` with this id, if `scope` may see it.
pub fn find<R: Resource>(
    conn: &mut DbConnection,
    scope: &Scope<'_>,
    id: &str,
) -> ApiResult<R::Row> {
    // One spelling per id (SPEC §2): a URL that spells an id otherwise names nothing.
    // Were it looked up case-insensitively, the handlers' writes — keyed by the id as
    // the URL gave it — would then miss the row they had found.
    if crate::jsonapi::input::canonical_id(id).as_deref() != Some(id) {
        return Err(ApiError::not_found());
    }
    let mut q = SqlBuilder::new(conn.backend());
    q.sql("SELECT ").sql(R::COLUMNS);
    R::caller_columns(&mut q, scope);
    q.sql(" FROM ").sql(R::TABLE);
    q.append(&where_clause::<R>(conn.backend(), scope, None, None)?);
    q.sql(&format!(" AND {}.id = ", R::TABLE))
        .bind(id.to_owned());
    let mut rows: Vec<R::Row> = q.load(conn)?;
    rows.pop().ok_or_else(ApiError::not_found)
}

/// The live row of `R` with this id as `caller` sees it by id: what a change acts on
/// (a soft-deleted row is 404 even for admins who may read it).
pub fn find_live<R: Resource>(
    conn: &mut DbConnection,
    caller: &Caller,
    id: &str,
) -> ApiResult<R::Row> {
    find::<R>(conn, &live_single_scope(caller), id)
}

/// [`find_linked_node`] for a type whose row the caller needs.
pub fn find_linked<R: Resource>(
    conn: &mut DbConnection,
    caller: &Caller,
    id: &str,
    pointer: &str,
) -> ApiResult<R::Row> {
    find_live::<R>(conn, caller, id).map_err(|e| at_linkage(e, pointer))
}

/// A not-found that a body's linkage caused points at that linkage.
fn at_linkage(e: ApiError, pointer: &str) -> ApiError {
    if e.code() == ErrorCode::NotFound.code() {
        ApiError::not_found().with_source(crate::jsonapi::error::ErrorSource::Pointer(
            pointer.to_owned(),
        ))
    } else {
        e
    }
}

/// The live resource of `resource`'s type that a request body's linkage names, as the
/// caller sees it by id: 404 `not_found` at `pointer` when there is none or the caller
/// may not see it — checked before permissions and values, so the answer never depends
/// on whether a hidden row exists (SPEC §2).
pub fn find_linked_node(
    resource: &'static dyn DynResource,
    conn: &mut DbConnection,
    caller: &Caller,
    id: &str,
    pointer: &str,
) -> ApiResult<Node> {
    resource
        .find_node(conn, &live_single_scope(caller), id)
        .map_err(|e| at_linkage(e, pointer))
}

/// Soft-deletes the live row of `R` with this id (`discarded_at` and `updated_at` set to
/// `now`). 404 when no live row was changed: a concurrent request deleted it first.
pub fn soft_delete<R: Resource>(
    conn: &mut DbConnection,
    id: &str,
    now: NaiveDateTime,
) -> ApiResult<()> {
    debug_assert!(R::SOFT_DELETE, "{} has no discarded_at", R::TABLE);
    let mut q = SqlBuilder::new(conn.backend());
    q.sql(&format!("UPDATE {} SET discarded_at = ", R::TABLE))
        .bind(now)
        .sql(", updated_at = ")
        .bind(now)
        .sql(" WHERE id = ")
        .bind(id.to_owned())
        .sql(" AND discarded_at IS NULL");
    let changed = q.execute(conn)?;
    ensure_changed(changed)
}

/// Whether any row of `table` — deleted ones included — has this id.
pub fn id_taken(conn: &mut DbConnection, table: &str, id: &str) -> ApiResult<bool> {
    let mut q = SqlBuilder::new(conn.backend());
    q.sql(&format!(
        "SELECT COUNT(*) AS __total FROM {table} WHERE id = "
    ))
    .bind(id.to_owned());
    Ok(q.load::<Count>(conn)?.first().is_some_and(|c| c.total > 0))
}

/// Stamps `updated_at` of a row that a write changed.
pub fn touch<R: Resource>(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> ApiResult<()> {
    let mut q = SqlBuilder::new(conn.backend());
    q.sql(&format!("UPDATE {} SET updated_at = ", R::TABLE))
        .bind(now)
        .sql(" WHERE id = ")
        .bind(id.to_owned());
    q.execute(conn)?;
    Ok(())
}

/// 403 when the caller may not read `R` at all — checked before any lookup, so that
/// the answer is the same whether or not an id exists.
pub fn authorize_type<R: Resource>(caller: &Caller) -> ApiResult<()> {
    if R::may_read(caller) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "You may not read {} resources.",
            R::SCHEMA.type_name
        )))
    }
}

/// The SQL that restricts `R`'s rows to those related to `owner_id` through `link`
/// (for related collections such as `/users/{id}/teams`).
pub fn related_restriction<R: Resource>(
    backend: crate::db::BackendKind,
    link: Link,
    owner_id: &str,
    to_one_target: Option<&str>,
) -> SqlBuilder {
    let mut q = SqlBuilder::new(backend);
    match link {
        Link::ToOne { .. } => {
            q.sql(&format!(" AND {}.id = ", R::TABLE))
                .bind(to_one_target.unwrap_or("").to_owned());
        }
        Link::Reverse { column } => {
            q.sql(&format!(" AND {}.{column} = ", R::TABLE))
                .bind(owner_id.to_owned());
        }
        Link::Through {
            table,
            owner_column,
            target_column,
        } => {
            q.sql(&format!(
                " AND {}.id IN (SELECT {target_column} FROM {table} WHERE {owner_column} = ",
                R::TABLE
            ))
            .bind(owner_id.to_owned())
            .sql(")");
        }
    }
    q
}

/// The type-erased face of a resource, for walking include paths across types.
pub trait DynResource: Sync {
    fn schema(&self) -> &'static ResourceSchema;
    fn link(&self, relationship: &str) -> Option<Link>;
    /// Rows of this type reached through `link` from `owner_ids` (for `ToOne`, the ids
    /// are this type's own ids), visible to the caller, each with its owner.
    fn load_linked(
        &self,
        conn: &mut DbConnection,
        scope: &Scope<'_>,
        link: Link,
        owner_ids: &[String],
    ) -> ApiResult<Vec<(String, Node)>>;
    /// One page of this type as nodes (cursors set under cursor pagination).
    fn page(
        &self,
        conn: &mut DbConnection,
        scope: &Scope<'_>,
        query: &Query,
        restriction: Option<&SqlBuilder>,
    ) -> ApiResult<PageResult<Node>>;
    /// 403 when the caller may not read this type at all.
    fn authorize_read(&self, caller: &Caller) -> ApiResult<()>;
    /// The sorts and filters that have SQL, and the relationships that have a link: what
    /// the schema promises must be here (checked by a test over every type).
    fn declared_sql(&self) -> (Vec<&'static str>, Vec<&'static str>, Vec<&'static str>);
    /// The columns of the select list, unqualified, and the fields of the row read from
    /// them by position (checked by a test over every type: the list must be the
    /// fields' first names in order; the rest come from `caller_columns`).
    fn select_list_and_fields(&self) -> (Vec<&'static str>, &'static [&'static str]);
    /// The node with this id, if `scope` may see it.
    fn find_node(&self, conn: &mut DbConnection, scope: &Scope<'_>, id: &str) -> ApiResult<Node>;
    /// The SQL restricting this type to the rows related to `owner` through `link`.
    fn restriction(
        &self,
        backend: crate::db::BackendKind,
        link: Link,
        owner: &Node,
        relationship: &str,
    ) -> SqlBuilder;
}

pub struct Engine<R>(PhantomData<fn() -> R>);

impl<R> Engine<R> {
    pub const fn new() -> Self {
        Engine(PhantomData)
    }
}

impl<R: Resource> Default for Engine<R> {
    fn default() -> Self {
        Self::new()
    }
}

impl<R: Resource> DynResource for Engine<R>
where
    R::Row: Send,
{
    fn schema(&self) -> &'static ResourceSchema {
        R::SCHEMA
    }

    fn link(&self, relationship: &str) -> Option<Link> {
        R::LINKS
            .iter()
            .find(|(name, _)| *name == relationship)
            .map(|(_, link)| *link)
    }

    fn load_linked(
        &self,
        conn: &mut DbConnection,
        scope: &Scope<'_>,
        link: Link,
        owner_ids: &[String],
    ) -> ApiResult<Vec<(String, Node)>> {
        if owner_ids.is_empty() {
            return Ok(Vec::new());
        }
        let backend = conn.backend();
        let caller = scope.caller;
        // Included resources are always live, whatever the primary data's scope.
        let scope = Scope {
            caller,
            account_id: scope.account_id.clone(),
            discarded: Discarded::Exclude,
        };
        let filters = where_clause::<R>(backend, &scope, None, None)?;
        let mut q = SqlBuilder::new(backend);
        q.sql("SELECT ").sql(R::COLUMNS);
        R::caller_columns(&mut q, &scope);
        match link {
            Link::ToOne { .. } => {
                q.sql(&format!(", {0}.id AS __owner FROM {0}", R::TABLE))
                    .append(&filters);
                q.sql(" AND ")
                    .in_list(&format!("{}.id", R::TABLE), owner_ids);
            }
            Link::Reverse { column } => {
                q.sql(&format!(", {0}.{column} AS __owner FROM {0}", R::TABLE))
                    .append(&filters);
                q.sql(" AND ")
                    .in_list(&format!("{}.{column}", R::TABLE), owner_ids);
            }
            Link::Through {
                table,
                owner_column,
                target_column,
            } => {
                // Drive from the join table's (owner, target) index: the owners are few
                // and given. SQLite's planner otherwise starts from the target's scope
                // index and probes the join table per row; CROSS JOIN fixes its order.
                let join = match backend {
                    crate::db::BackendKind::Sqlite => "CROSS JOIN",
                    crate::db::BackendKind::Postgres => "JOIN",
                };
                q.sql(&format!(
                    ", j.{owner_column} AS __owner FROM {table} j {join} {0} ON {0}.id = j.{target_column}",
                    R::TABLE
                ))
                .append(&filters);
                q.sql(" AND ")
                    .in_list(&format!("j.{owner_column}"), owner_ids);
            }
        }
        // Ordered here rather than by the database: an ORDER BY made SQLite copy every
        // (wide) row through a temporary sorter.
        let mut rows: Vec<WithOwner<R::Row>> = q.load(conn)?;
        rows.sort_unstable_by(|a, b| (&a.owner, a.row.id()).cmp(&(&b.owner, b.row.id())));
        Ok(rows
            .into_iter()
            .map(|r| {
                let actions = R::actions(&r.row, caller);
                (r.owner, Node::new(Box::new(r.row), actions))
            })
            .collect())
    }

    fn page(
        &self,
        conn: &mut DbConnection,
        scope: &Scope<'_>,
        query: &Query,
        restriction: Option<&SqlBuilder>,
    ) -> ApiResult<PageResult<Node>> {
        let page = list::<R>(conn, scope, query, restriction)?;
        let mut cursors = page.cursors.into_iter();
        let nodes = page
            .rows
            .into_iter()
            .map(|row| {
                let actions = R::actions(&row, scope.caller);
                let mut node = Node::new(Box::new(row), actions);
                node.cursor = cursors.next();
                node
            })
            .collect();
        Ok(PageResult {
            rows: nodes,
            cursors: Vec::new(),
            total: page.total,
            has_prev: page.has_prev,
            has_next: page.has_next,
        })
    }

    fn declared_sql(&self) -> (Vec<&'static str>, Vec<&'static str>, Vec<&'static str>) {
        (
            R::SORTS.iter().map(|s| s.name).collect(),
            R::FILTERS.iter().map(|(name, _)| *name).collect(),
            R::LINKS.iter().map(|(name, _)| *name).collect(),
        )
    }

    fn select_list_and_fields(&self) -> (Vec<&'static str>, &'static [&'static str]) {
        let columns = R::COLUMNS
            .split(',')
            .map(|c| c.trim().rsplit('.').next().unwrap_or_default())
            .collect();
        (columns, <R::Row as PositionalRow>::FIELDS)
    }

    fn authorize_read(&self, caller: &Caller) -> ApiResult<()> {
        authorize_type::<R>(caller)
    }

    fn find_node(&self, conn: &mut DbConnection, scope: &Scope<'_>, id: &str) -> ApiResult<Node> {
        let row = find::<R>(conn, scope, id)?;
        let actions = R::actions(&row, scope.caller);
        Ok(Node::new(Box::new(row), actions))
    }

    fn restriction(
        &self,
        backend: crate::db::BackendKind,
        link: Link,
        owner: &Node,
        relationship: &str,
    ) -> SqlBuilder {
        related_restriction::<R>(
            backend,
            link,
            owner.object.id(),
            owner.object.to_one(relationship),
        )
    }
}

/// Looks up the engine of a type by name.
pub type Lookup = fn(&str) -> Option<&'static dyn DynResource>;

/// Loads every include path below `parents` (nodes of one type) into `graph`: one
/// query per relationship at each level.
pub fn include(
    conn: &mut DbConnection,
    scope: &Scope<'_>,
    lookup: Lookup,
    graph: &mut Graph,
    parents: &[usize],
    tree: &IncludeTree,
) -> ApiResult<()> {
    let Some(&first) = parents.first() else {
        return Ok(());
    };
    let owner_schema = graph.nodes[first].object.schema();
    let owner = lookup(owner_schema.type_name)
        .ok_or_else(|| ApiError::internal(format!("no engine for `{}`", owner_schema.type_name)))?;
    for (name, subtree) in &tree.children {
        let relationship = owner_schema.relationship(name).ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidParameter,
                format!("unknown relationship `{name}`"),
            )
        })?;
        let link = owner
            .link(name)
            .ok_or_else(|| ApiError::internal(format!("relationship `{name}` has no link")))?;
        if relationship.is_polymorphic() {
            // The link says where the target's id is; the type comes from each row.
            if !matches!(link, Link::ToOne { .. }) {
                return Err(ApiError::internal(format!(
                    "polymorphic relationship `{name}` needs a to-one link"
                )));
            }
            for (target, ids) in
                polymorphic_targets(graph, parents, relationship, lookup, scope.caller)
            {
                let loaded = target.load_linked(conn, scope, link, &ids)?;
                let children: Vec<usize> = loaded
                    .into_iter()
                    .map(|(_, node)| graph.insert(node))
                    .collect();
                // Empty today: the query parser ends every include path at a polymorphic
                // relationship. Were deeper paths allowed, each group would follow them
                // as its own type.
                include(conn, scope, lookup, graph, &children, subtree)?;
            }
            continue;
        }
        let target = lookup(relationship.target).ok_or_else(|| {
            ApiError::internal(format!("no engine for `{}`", relationship.target))
        })?;

        let owner_ids: Vec<String> = match link {
            Link::ToOne { .. } => {
                let mut ids: Vec<String> = parents
                    .iter()
                    .filter_map(|&p| {
                        graph.nodes[p]
                            .object
                            .to_one(relationship.name)
                            .map(str::to_owned)
                    })
                    .collect();
                ids.sort();
                ids.dedup();
                ids
            }
            _ => parents
                .iter()
                .map(|&p| graph.nodes[p].object.id().to_owned())
                .collect(),
        };
        let loaded = target.load_linked(conn, scope, link, &owner_ids)?;

        let by_id: HashMap<String, usize> = parents
            .iter()
            .map(|&p| (graph.nodes[p].object.id().to_owned(), p))
            .collect();
        if relationship.is_to_many() {
            for &p in parents {
                graph.nodes[p].link(relationship.name, None);
            }
        }
        let mut children = Vec::with_capacity(loaded.len());
        for (owner_id, node) in loaded {
            let target_id = node.object.id().to_owned();
            let index = graph.insert(node);
            if !children.contains(&index) {
                children.push(index);
            }
            if relationship.is_to_many()
                && let Some(&p) = by_id.get(&owner_id)
            {
                graph.nodes[p].link(relationship.name, Some(&target_id));
            }
        }
        include(conn, scope, lookup, graph, &children, subtree)?;
    }
    Ok(())
}

/// The targets of a to-one relationship that may point at any type (an audit event's
/// `target`), grouped by the type each row names, with that type's engine: each group is
/// then loaded like a to-one link — one query per type present on the page, through that
/// type's own scope, so a target the caller may not see is left out (its linkage stays
/// in the parent) exactly as it would be on any other path.
fn polymorphic_targets(
    graph: &Graph,
    parents: &[usize],
    relationship: &Relationship,
    lookup: Lookup,
    caller: &Caller,
) -> Vec<(&'static dyn DynResource, Vec<String>)> {
    // A `BTreeMap` so that the queries, and the order of `included`, do not depend on
    // the order of the page.
    let mut by_type: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for &p in parents {
        let object = &graph.nodes[p].object;
        if let Some(id) = object.to_one(relationship.name) {
            by_type
                .entry(object.to_one_type(relationship))
                .or_default()
                .push(id.to_owned());
        }
    }
    let mut groups = Vec::with_capacity(by_type.len());
    for (type_name, mut ids) in by_type {
        // The type comes from a row, not from a declaration: a type this server does not
        // serve cannot be shown to anyone, so its targets are left out like those the
        // caller may not see, rather than failing the whole response.
        let Some(target) = lookup(type_name) else {
            log::warn!(
                "relationship `{}` names type `{type_name}`, which has no engine",
                relationship.name
            );
            continue;
        };
        // A type the caller may not read at all is not read for an include either.
        if target.authorize_read(caller).is_err() {
            continue;
        }
        ids.sort_unstable();
        ids.dedup();
        groups.push((target, ids));
    }
    groups
}
