//! The JSON:API query string: parsing and validation of `include`, `fields[TYPE]`,
//! `sort`, `filter[NAME]` (with date operators) and `page[…]`.
//!
//! This module owns the whole journey from the raw, form-encoded query string to a
//! typed [`Query`] that has already been checked against the [`ResourceSchema`] of the
//! requested type and the [`Registry`] of all types. The engine never sees a name it
//! has to re-validate: every relationship in [`IncludeTree`] exists, every field in
//! [`Fieldsets`] is shown, every sort key and filter is declared, and every filter value
//! already has the shape its [`FilterKind`] asks for. What it does *not* own: turning
//! clauses into SQL and decoding cursors (the engine), and content negotiation (it is
//! told whether the cursor profile was requested through [`ParseOptions`]).
//!
//! Every rejection is a 400 `invalid_parameter` whose `source.parameter` is the
//! parameter name as the client wrote it (after percent-decoding), so a client can
//! point at the exact offending parameter. Only the first problem is reported.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDateTime};

use super::error::ApiError;
use super::schema::{FilterKind, Registry, Relationship, ResourceSchema};

/// `page[size]` when the client gives none.
pub const DEFAULT_PAGE_SIZE: u32 = 25;
/// The largest `page[size]` a client may ask for.
pub const MAX_PAGE_SIZE: u32 = 100;
/// The longest include path, in relationships (`a.b.c`): bounds the fan-out of one request.
pub const MAX_INCLUDE_DEPTH: usize = 3;
/// The cursor-pagination profile this server implements.
pub const CURSOR_PROFILE: &str = "https://jsonapi.org/profiles/ethanresnick/cursor-pagination";

/// Error type link of the cursor profile for `page[after]` together with `page[before]`.
const RANGE_NOT_SUPPORTED: &str =
    "https://jsonapi.org/profiles/ethanresnick/cursor-pagination/range-pagination-not-supported";
/// Error type link of the cursor profile for a `page[size]` above the maximum.
const MAX_SIZE_EXCEEDED: &str =
    "https://jsonapi.org/profiles/ethanresnick/cursor-pagination/max-size-exceeded";

/// The first parameter whose name is only lower-case letters and that JSON:API does not
/// define (`include` and `sort`; `fields`, `filter` and `page` only with brackets): a
/// 400 on every endpoint and method. Other names are implementation-specific and ignored.
pub fn unknown_parameter(raw_query: &str) -> Option<ApiError> {
    form_urlencoded::parse(raw_query.as_bytes()).find_map(|(name, _)| {
        let reserved = !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase());
        (reserved && name != "include" && name != "sort").then(|| {
            ApiError::invalid_parameter(
                name.as_ref(),
                format!("`{name}` is not a query parameter of this API"),
            )
        })
    })
}

/// What the endpoint being served accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ParseOptions {
    /// A collection GET: `sort`, `filter[…]` and `page[…]` are allowed. A single-resource
    /// GET has nothing to sort, filter or page, so they are rejected there rather than
    /// silently ignored.
    pub collection: bool,
    /// The `Accept` header named [`CURSOR_PROFILE`]: paginate by cursor even when the
    /// client sent no cursor yet (its first page).
    pub cursor_profile_requested: bool,
}

/// The relationship paths of `include`, as a tree so that the engine can load each
/// level once however many paths go through it (`teams,teams.users` loads `teams` once).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IncludeTree {
    /// Relationship name → what to include below it. A `BTreeMap` so the order of
    /// loading (and of `paths()`) does not depend on the order the client wrote.
    pub children: BTreeMap<String, IncludeTree>,
}

impl IncludeTree {
    pub fn is_empty(&self) -> bool {
        self.children.is_empty()
    }

    /// The subtree below the relationship `name`, if it is included.
    pub fn child(&self, name: &str) -> Option<&IncludeTree> {
        self.children.get(name)
    }

    /// Every included path, dotted, in pre-order: `include=teams.users` gives
    /// `["teams", "teams.users"]` because the intermediate resources are included too.
    /// Meant for logs and tests.
    pub fn paths(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_paths("", &mut out);
        out
    }

    fn collect_paths(&self, prefix: &str, out: &mut Vec<String>) {
        for (name, child) in &self.children {
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            out.push(path.clone());
            child.collect_paths(&path, out);
        }
    }

    /// Adds one validated path, merging with what is already there.
    fn insert(&mut self, segments: &[&str]) {
        let mut node = self;
        for segment in segments {
            node = node.children.entry((*segment).to_owned()).or_default();
        }
    }
}

/// Sparse fieldsets: type → the fields the client asked for. A type without an entry
/// shows all its fields; a type with an empty set shows none (`fields[user]=`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fieldsets(BTreeMap<String, BTreeSet<String>>);

impl Fieldsets {
    /// Whether `field` of resources of type `type_name` goes into the document.
    pub fn wants(&self, type_name: &str, field: &str) -> bool {
        self.0
            .get(type_name)
            .is_none_or(|fields| fields.contains(field))
    }

    /// The fieldset given for `type_name`, if any.
    pub fn get(&self, type_name: &str) -> Option<&BTreeSet<String>> {
        self.0.get(type_name)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &BTreeSet<String>)> {
        self.0.iter()
    }
}

/// One element of `sort`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    /// The name as the schema declares it (never the client's string).
    pub field: &'static str,
    pub descending: bool,
}

/// The comparison of a filter clause. Only date filters have anything but `Eq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FilterOp {
    /// Equal to any of the values (`filter[NAME]=a,b` means a OR b).
    #[default]
    Eq,
    Gt,
    Gte,
    Lt,
    Lte,
}

impl FilterOp {
    fn from_bracket(s: &str) -> Option<Self> {
        match s {
            "gt" => Some(FilterOp::Gt),
            "gte" => Some(FilterOp::Gte),
            "lt" => Some(FilterOp::Lt),
            "lte" => Some(FilterOp::Lte),
            _ => None,
        }
    }
}

/// One validated filter value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterValue {
    /// `Exact`, `OneOf` and `Text` values as given; `Id` values normalised to the
    /// lower-case hyphenated UUID form the database stores.
    Text(String),
    /// A `Date` value, converted to UTC (the database stores naive UTC timestamps).
    Time(NaiveDateTime),
}

/// One `filter[NAME]` or `filter[NAME][OP]` parameter. The values are ORed; clauses
/// are ANDed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterClause {
    /// The name as the schema declares it (never the client's string).
    pub name: &'static str,
    pub op: FilterOp,
    pub values: Vec<FilterValue>,
}

/// How the collection is paginated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    Offset {
        number: u32,
        size: u32,
    },
    /// The cursors are opaque here; the engine decodes (and rejects) them.
    Cursor {
        after: Option<String>,
        before: Option<String>,
        size: u32,
    },
}

impl Default for Page {
    fn default() -> Self {
        Page::Offset {
            number: 1,
            size: DEFAULT_PAGE_SIZE,
        }
    }
}

/// A validated query string.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    pub include: IncludeTree,
    /// `include` was present, even empty: the document then has an `included` member
    /// even when nothing is included.
    pub include_given: bool,
    pub fields: Fieldsets,
    pub sort: Vec<SortKey>,
    pub filters: Vec<FilterClause>,
    pub page: Page,
}

/// The parameters of the `page` family this server knows.
const PAGE_KEYS: &[&str] = &["number", "size", "after", "before"];
/// The operators a date filter accepts in brackets.
const DATE_OPS: &[&str] = &["gt", "gte", "lt", "lte"];

impl Query {
    /// Parses and validates `raw_query` (the part after `?`, still form-encoded) for a
    /// request on resources of type `schema`.
    pub fn parse(
        raw_query: &str,
        schema: &'static ResourceSchema,
        registry: &Registry,
        options: ParseOptions,
    ) -> Result<Query, ApiError> {
        let mut query = Query::default();
        // Names already seen: a repeated parameter has no single meaning (which
        // `page[size]` wins?), so it is an error rather than last-one-wins.
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut page = PageParams::default();

        for (name, value) in form_urlencoded::parse(raw_query.as_bytes()) {
            let name: &str = &name;
            let value: &str = &value;

            let Some(param) = classify(name)? else {
                // Implementation-specific parameter (JSON:API 1.1 §query parameters:
                // a name with a character outside a–z): not ours, ignored.
                log::debug!("ignoring implementation-specific query parameter `{name}`");
                continue;
            };
            if !seen.insert(name.to_owned()) {
                return Err(ApiError::invalid_parameter(
                    name,
                    format!("`{name}` is given more than once; give it once"),
                ));
            }
            if param.collection_only() && !options.collection {
                return Err(ApiError::invalid_parameter(
                    name,
                    format!("`{name}` is only allowed on collections"),
                ));
            }

            match param {
                Param::Include => {
                    query.include = parse_include(name, value, schema, registry)?;
                    query.include_given = true;
                }
                Param::Fields(type_name) => {
                    let (type_name, set) = parse_fields(name, type_name, value, registry)?;
                    query.fields.0.insert(type_name, set);
                }
                Param::Sort => query.sort = parse_sort(name, value, schema)?,
                Param::Filter(filter_name, op) => {
                    let clause = parse_filter(name, filter_name, op, value, schema)?;
                    // The same name and operator twice cannot be told apart from a
                    // repeated parameter; `seen` catches that already, this keeps the
                    // rule true should another spelling of an operator ever appear.
                    if query
                        .filters
                        .iter()
                        .any(|c| c.name == clause.name && c.op == clause.op)
                    {
                        return Err(ApiError::invalid_parameter(
                            name,
                            format!("`{name}` is given more than once; give it once"),
                        ));
                    }
                    query.filters.push(clause);
                }
                Param::Page(key) => page.set(name, key, value)?,
            }
        }

        query.page = page.finish(options)?;
        Ok(query)
    }

    /// Parses the query of an endpoint at the far end of `owner`'s polymorphic
    /// relationship (`/audit_events/{id}/target`), whose type only each row knows. An
    /// `include` there is a path below the relationship, refused as `include=target.x`
    /// is on the owner; `fields` works as anywhere; everything else as on a single
    /// resource.
    pub fn parse_below_polymorphic(
        raw_query: &str,
        owner: &'static ResourceSchema,
        relationship: &Relationship,
        registry: &Registry,
        options: ParseOptions,
    ) -> Result<Query, ApiError> {
        for (name, value) in form_urlencoded::parse(raw_query.as_bytes()) {
            if name == "include" && !value.is_empty() {
                return Err(ApiError::invalid_parameter(
                    "include",
                    format!(
                        "include `{value}` goes on below `{}.{}`, which points at resources \
                         of several types; include `{}` on the {} alone",
                        owner.type_name, relationship.name, relationship.name, owner.type_name
                    ),
                ));
            }
        }
        // With `include` empty or absent, the owner's schema is never consulted for it;
        // `fields` is checked against the registry.
        Query::parse(raw_query, owner, registry, options)
    }

    /// The clauses of the filter `name` (several when a date has a range: `gte` and `lt`).
    pub fn filter(&self, name: &str) -> impl Iterator<Item = &FilterClause> {
        self.filters.iter().filter(move |c| c.name == name)
    }

    pub fn page_size(&self) -> u32 {
        match &self.page {
            Page::Offset { size, .. } | Page::Cursor { size, .. } => *size,
        }
    }

    pub fn is_cursor(&self) -> bool {
        matches!(self.page, Page::Cursor { .. })
    }
}

/// A query parameter this module interprets, with the bracketed parts of its name.
#[derive(Debug, PartialEq)]
enum Param<'a> {
    Include,
    Fields(&'a str),
    Sort,
    Filter(&'a str, Option<&'a str>),
    Page(&'a str),
}

impl Param<'_> {
    fn collection_only(&self) -> bool {
        matches!(self, Param::Sort | Param::Filter(..) | Param::Page(_))
    }
}

/// Sorts a parameter name into one of ours (`Some`), an implementation-specific one to
/// ignore (`None`), or an error.
///
/// JSON:API 1.1 reserves every name (and every family base name, the part before `[`)
/// made only of a–z for the specification, and requires a 400 for such a name the
/// server does not understand; anything with another character belongs to the
/// implementation. So `foo`, `fields` or `include[x]` are errors, `fooBar` is ignored.
/// The base name ends at the first bracket of either kind, so that a stray `]`
/// (`fields]`) is a malformed family rather than an ignored name.
fn classify(name: &str) -> Result<Option<Param<'_>>, ApiError> {
    let (base, rest) = match name.find(['[', ']']) {
        Some(i) => name.split_at(i),
        None => (name, ""),
    };
    if base.is_empty() || !base.bytes().all(|b| b.is_ascii_lowercase()) {
        return Ok(None);
    }
    let Some(example) = example_for(base) else {
        return Err(ApiError::invalid_parameter(
            name,
            format!(
                "unknown query parameter `{name}`; allowed: include, fields[TYPE], sort, \
                 filter[NAME], page[number|size|after|before] (names with a character \
                 other than a-z are ignored as implementation-specific)"
            ),
        ));
    };
    let malformed = || {
        ApiError::invalid_parameter(
            name,
            format!("malformed parameter name `{name}`; expected e.g. `{example}`"),
        )
    };
    let segments = bracket_segments(rest).ok_or_else(malformed)?;
    let param = match (base, segments.as_slice()) {
        ("include", []) => Param::Include,
        ("sort", []) => Param::Sort,
        ("fields", [type_name]) => Param::Fields(type_name),
        ("filter", [filter]) => Param::Filter(filter, None),
        ("filter", [filter, op]) => Param::Filter(filter, Some(op)),
        ("page", [key]) => Param::Page(key),
        _ => return Err(malformed()),
    };
    Ok(Some(param))
}

/// What a well-formed parameter of the family `base` looks like, for error details;
/// `None` for a base name this server does not know.
fn example_for(base: &str) -> Option<&'static str> {
    match base {
        "include" => Some("include=teams.users"),
        "sort" => Some("sort=-created_at"),
        "fields" => Some("fields[user]=name,email"),
        "filter" => Some("filter[created_at][gte]=2024-05-01T00:00:00Z"),
        "page" => Some("page[size]=10"),
        _ => None,
    }
}

/// Splits `[a][b]` into `["a", "b"]`; `None` when anything is off (unbalanced,
/// empty, nested brackets or text after the last `]`).
fn bracket_segments(mut rest: &str) -> Option<Vec<&str>> {
    let mut segments = Vec::new();
    while !rest.is_empty() {
        let inner = rest.strip_prefix('[')?;
        let end = inner.find(']')?;
        let segment = &inner[..end];
        if segment.is_empty() || segment.contains('[') {
            return None;
        }
        segments.push(segment);
        rest = &inner[end + 1..];
    }
    Some(segments)
}

/// `a, b, c` for error details.
fn list(names: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    let joined = names
        .into_iter()
        .map(|n| n.as_ref().to_owned())
        .collect::<Vec<_>>()
        .join(", ");
    if joined.is_empty() {
        "none".to_owned()
    } else {
        joined
    }
}

fn parse_include(
    param: &str,
    value: &str,
    schema: &'static ResourceSchema,
    registry: &Registry,
) -> Result<IncludeTree, ApiError> {
    let mut tree = IncludeTree::default();
    // `include=` is valid: nothing to include, but the client asked for `included`.
    if value.is_empty() {
        return Ok(tree);
    }
    for path in value.split(',') {
        if path.is_empty() {
            return Err(ApiError::invalid_parameter(
                param,
                format!(
                    "`{value}` has an empty relationship path; separate paths with single commas"
                ),
            ));
        }
        let segments: Vec<&str> = path.split('.').collect();
        if segments.iter().any(|s| s.is_empty()) {
            return Err(ApiError::invalid_parameter(
                param,
                format!(
                    "include path `{path}` has an empty segment; separate relationships with single dots"
                ),
            ));
        }
        // Checked before the names so that a very long junk path gets one clear answer.
        if segments.len() > MAX_INCLUDE_DEPTH {
            return Err(ApiError::invalid_parameter(
                param,
                format!(
                    "include path `{path}` is {} relationships deep; at most {MAX_INCLUDE_DEPTH} are allowed",
                    segments.len()
                ),
            ));
        }
        let mut current = schema;
        for (i, segment) in segments.iter().enumerate() {
            let Some(rel) = current.relationship(segment) else {
                let prefix = if i == 0 {
                    String::new()
                } else {
                    format!(" (in `{path}`)")
                };
                return Err(ApiError::invalid_parameter(
                    param,
                    format!(
                        "unknown relationship `{segment}` on `{}`{prefix}; allowed: {}",
                        current.type_name,
                        list(current.relationships.iter().map(|r| r.name))
                    ),
                ));
            };
            // A polymorphic relationship is included (the engine loads each target
            // type on its own), but a path does not go on below it: which relationships
            // exist there depends on each target's type, so `target.account` would mean
            // something for some rows and nothing for others. JSON:API lets a server
            // refuse an include path it does not support with a 400.
            if rel.is_polymorphic() && i + 1 < segments.len() {
                return Err(ApiError::invalid_parameter(
                    param,
                    format!(
                        "include path `{path}` goes on below `{}.{segment}`, which points at \
                         resources of several types; include `{}` alone",
                        current.type_name,
                        segments[..=i].join(".")
                    ),
                ));
            }
            if i + 1 < segments.len() {
                // A relationship whose target is not registered is a server bug, not a
                // client mistake: a 500 that is logged.
                current = registry.get(rel.target).ok_or_else(|| {
                    ApiError::internal(format!(
                        "relationship `{}.{}` targets unregistered type `{}`",
                        current.type_name, rel.name, rel.target
                    ))
                })?;
            }
        }
        tree.insert(&segments);
    }
    Ok(tree)
}

fn parse_fields(
    param: &str,
    type_name: &str,
    value: &str,
    registry: &Registry,
) -> Result<(String, BTreeSet<String>), ApiError> {
    let Some(schema) = registry.get(type_name) else {
        return Err(ApiError::invalid_parameter(
            param,
            format!(
                "unknown resource type `{type_name}`; allowed: {}",
                list(registry.schemas.iter().map(|s| s.type_name))
            ),
        ));
    };
    let mut set = BTreeSet::new();
    // `fields[user]=` is valid: the client wants no fields of `user`.
    if value.is_empty() {
        return Ok((type_name.to_owned(), set));
    }
    for field in value.split(',') {
        if !schema.has_field(field) {
            let allowed = schema
                .attributes
                .iter()
                .filter(|a| schema.has_field(a.name))
                .map(|a| a.name)
                .chain(schema.relationships.iter().map(|r| r.name));
            let what = if field.is_empty() {
                format!("`{value}` has an empty field name")
            } else {
                format!("unknown field `{field}` on `{type_name}`")
            };
            return Err(ApiError::invalid_parameter(
                param,
                format!("{what}; allowed: {}", list(allowed)),
            ));
        }
        // Duplicates merge: a set has no order or count to get wrong.
        set.insert(field.to_owned());
    }
    Ok((type_name.to_owned(), set))
}

fn parse_sort(
    param: &str,
    value: &str,
    schema: &'static ResourceSchema,
) -> Result<Vec<SortKey>, ApiError> {
    let allowed = || list(schema.sorts.iter());
    if value.is_empty() {
        return Err(ApiError::invalid_parameter(
            param,
            format!(
                "`sort` must name at least one field; allowed: {} (prefix `-` for descending)",
                allowed()
            ),
        ));
    }
    let mut keys: Vec<SortKey> = Vec::new();
    for element in value.split(',') {
        let (field, descending) = match element.strip_prefix('-') {
            Some(field) => (field, true),
            None => (element, false),
        };
        if field.is_empty() {
            return Err(ApiError::invalid_parameter(
                param,
                format!(
                    "`{value}` has an empty sort field; allowed: {} (prefix `-` for descending)",
                    allowed()
                ),
            ));
        }
        // The declared name itself, so that no name a client wrote reaches the engine.
        let Some(field) = schema.sorts.iter().copied().find(|s| *s == field) else {
            return Err(ApiError::invalid_parameter(
                param,
                format!(
                    "`{field}` is not a sort field of `{}`; allowed: {} (prefix `-` for descending)",
                    schema.type_name,
                    allowed()
                ),
            ));
        };
        // `a,-a` has no meaning; the second key could never break a tie anyway.
        if keys.iter().any(|k| k.field == field) {
            return Err(ApiError::invalid_parameter(
                param,
                format!("`{field}` appears more than once in `sort`"),
            ));
        }
        keys.push(SortKey { field, descending });
    }
    Ok(keys)
}

fn parse_filter(
    param: &str,
    filter_name: &str,
    op: Option<&str>,
    value: &str,
    schema: &'static ResourceSchema,
) -> Result<FilterClause, ApiError> {
    let Some(filter) = schema.filter(filter_name) else {
        return Err(ApiError::invalid_parameter(
            param,
            format!(
                "unknown filter `{filter_name}` on `{}`; allowed: {}",
                schema.type_name,
                list(schema.filters.iter().map(|f| f.name))
            ),
        ));
    };
    let op = match op {
        None => FilterOp::Eq,
        Some(op) => {
            if filter.kind != FilterKind::Date {
                return Err(ApiError::invalid_parameter(
                    param,
                    format!(
                        "filter `{filter_name}` takes no operator (only date filters accept {}); use `filter[{filter_name}]`",
                        list(DATE_OPS)
                    ),
                ));
            }
            FilterOp::from_bracket(op).ok_or_else(|| {
                ApiError::invalid_parameter(
                    param,
                    format!(
                        "unknown operator `{op}` on filter `{filter_name}`; allowed: {} (equality has no operator: `filter[{filter_name}]`)",
                        list(DATE_OPS)
                    ),
                )
            })?
        }
    };

    // No stored text holds a NUL, and PostgreSQL cannot even compare text that does.
    if value.contains('\0') {
        return Err(ApiError::invalid_parameter(
            param,
            format!("filter `{filter_name}` must not contain a NUL character"),
        ));
    }
    let values = match filter.kind {
        FilterKind::Text => {
            // As everywhere, a comma means OR: each part is one needle.
            let needles: Vec<&str> = split_values(value).map(str::trim).collect();
            if needles.iter().any(|v| v.is_empty()) {
                return Err(ApiError::invalid_parameter(
                    param,
                    format!("filter `{filter_name}` needs non-empty search texts"),
                ));
            }
            needles.into_iter().map(|v| FilterValue::Text(v.to_owned())).collect()
        }
        FilterKind::Exact => split_values(value)
            .map(|v| {
                if v.is_empty() {
                    Err(ApiError::invalid_parameter(
                        param,
                        format!("filter `{filter_name}` has an empty value in `{value}`; separate values with single commas"),
                    ))
                } else {
                    Ok(FilterValue::Text(v.to_owned()))
                }
            })
            .collect::<Result<Vec<_>, _>>()?,
        FilterKind::OneOf(allowed) => split_values(value)
            .map(|v| {
                if allowed.contains(&v) {
                    Ok(FilterValue::Text(v.to_owned()))
                } else {
                    Err(ApiError::invalid_parameter(
                        param,
                        format!(
                            "`{v}` is not a valid value of filter `{filter_name}`; allowed: {}",
                            list(allowed)
                        ),
                    ))
                }
            })
            .collect::<Result<Vec<_>, _>>()?,
        FilterKind::Id => split_values(value)
            .map(|v| {
                // Ids are stored in one spelling: `{A1B2…}` or upper-case input still matches.
                super::input::canonical_id(v)
                    .map(FilterValue::Text)
                    .ok_or_else(|| {
                        ApiError::invalid_parameter(
                            param,
                            format!("`{v}` is not a valid id for filter `{filter_name}`; ids are UUIDs"),
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?,
        FilterKind::Date => {
            if op != FilterOp::Eq && value.contains(',') {
                return Err(ApiError::invalid_parameter(
                    param,
                    format!(
                        "`{param}` takes exactly one timestamp; several values are only allowed without an operator (`filter[{filter_name}]=a,b` means a or b)"
                    ),
                ));
            }
            split_values(value)
                .map(|v| parse_time(param, filter_name, v))
                .collect::<Result<Vec<_>, _>>()?
        }
    };
    Ok(FilterClause {
        name: filter.name,
        op,
        values,
    })
}

/// Comma-separated values (comma = OR).
fn split_values(value: &str) -> impl Iterator<Item = &str> {
    value.split(',')
}

fn parse_time(param: &str, filter_name: &str, v: &str) -> Result<FilterValue, ApiError> {
    match DateTime::parse_from_rfc3339(v) {
        Ok(t) => Ok(FilterValue::Time(t.naive_utc())),
        Err(_) => {
            // An unencoded `+02:00` arrives as ` 02:00` (`+` is a space in a query
            // string); say so, it is the usual cause.
            let hint = if v.contains(' ') {
                " (a `+` in an offset must be percent-encoded as `%2B`)"
            } else {
                ""
            };
            Err(ApiError::invalid_parameter(
                param,
                format!(
                    "`{v}` is not an RFC 3339 timestamp for filter `{filter_name}`, e.g. `2024-05-01T12:00:00Z`{hint}"
                ),
            ))
        }
    }
}

/// The `page[…]` parameters as given, checked together once all are read.
#[derive(Debug, Default)]
struct PageParams {
    number: Option<u32>,
    size: Option<u32>,
    after: Option<String>,
    before: Option<String>,
}

impl PageParams {
    fn set(&mut self, param: &str, key: &str, value: &str) -> Result<(), ApiError> {
        match key {
            "number" => {
                let number = parse_digits(value).filter(|n| *n >= 1).ok_or_else(|| {
                    ApiError::invalid_parameter(
                        param,
                        format!(
                            "`{value}` is not a valid page number; use an integer from 1 to {}",
                            u32::MAX
                        ),
                    )
                })?;
                self.number = Some(number);
            }
            "size" => self.size = Some(parse_size(param, value)?),
            "after" | "before" => {
                // Opaque here: only emptiness can be judged without decoding.
                if value.is_empty() {
                    return Err(ApiError::invalid_parameter(
                        param,
                        format!("`{param}` needs a cursor from a previous page's links"),
                    ));
                }
                if key == "after" {
                    self.after = Some(value.to_owned());
                } else {
                    self.before = Some(value.to_owned());
                }
            }
            _ => {
                return Err(ApiError::invalid_parameter(
                    param,
                    format!(
                        "unknown page parameter `{param}`; allowed: {}",
                        list(PAGE_KEYS.iter().map(|k| format!("page[{k}]")))
                    ),
                ));
            }
        }
        Ok(())
    }

    fn finish(self, options: ParseOptions) -> Result<Page, ApiError> {
        // A single resource is not paginated (its `page[…]` were rejected already),
        // whatever the Accept header asked: the cursor profile does not apply to it.
        if !options.collection {
            return Ok(Page::default());
        }
        let size = self.size.unwrap_or(DEFAULT_PAGE_SIZE);
        let cursor_given = self.after.is_some() || self.before.is_some();
        if self.after.is_some() && self.before.is_some() {
            return Err(ApiError::invalid_parameter(
                "page[before]",
                "`page[after]` and `page[before]` cannot be combined: range pagination is not supported",
            )
            .with_type_link(RANGE_NOT_SUPPORTED));
        }
        if !(cursor_given || options.cursor_profile_requested) {
            return Ok(Page::Offset {
                number: self.number.unwrap_or(1),
                size,
            });
        }
        if self.number.is_some() {
            let why = if cursor_given {
                "`page[number]` cannot be combined with `page[after]` or `page[before]`"
            } else {
                "`page[number]` cannot be used with the cursor-pagination profile; follow the `next` link instead"
            };
            return Err(ApiError::invalid_parameter("page[number]", why));
        }
        Ok(Page::Cursor {
            after: self.after,
            before: self.before,
            size,
        })
    }
}

/// A non-negative decimal integer of ASCII digits only (no sign, no spaces: `u32`'s
/// `FromStr` would accept a leading `+`). `None` when not one or when it overflows.
fn parse_digits(value: &str) -> Option<u32> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

fn parse_size(param: &str, value: &str) -> Result<u32, ApiError> {
    let plain = || {
        ApiError::invalid_parameter(
            param,
            format!("`{value}` is not a valid page size; use an integer from 1 to {MAX_PAGE_SIZE}"),
        )
    };
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(plain());
    }
    // All digits, so a parse failure can only be an overflow: too big is still "too
    // big", which the cursor profile has a dedicated error for.
    match value.parse::<u32>() {
        Ok(0) => Err(plain()),
        Ok(size) if size <= MAX_PAGE_SIZE => Ok(size),
        _ => Err(ApiError::invalid_parameter(
            param,
            format!("page size `{value}` exceeds the maximum of {MAX_PAGE_SIZE}"),
        )
        .with_meta(serde_json::json!({ "page": { "maxSize": MAX_PAGE_SIZE } }))
        .with_type_link(MAX_SIZE_EXCEEDED)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::error::ErrorSource;
    use super::super::schema::{Attribute, Filter, Relationship};
    use super::*;

    // A small model of the product's types: enough relationships for three-level
    // paths, one filter of each kind and a write-only attribute.

    static USER: ResourceSchema = ResourceSchema {
        type_name: "user",
        path: "users",
        attributes: &[
            Attribute::read_write("name"),
            Attribute::read_write("email"),
            Attribute::write_only("password"),
            Attribute::read_only("status"),
            Attribute::read_only("created_at"),
        ],
        relationships: &[
            Relationship::to_one("account", "account"),
            Relationship::to_many("teams", "team"),
            Relationship::to_many("team_memberships", "team_membership"),
        ],
        filters: &[
            Filter::new("email", FilterKind::Exact),
            Filter::new(
                "status",
                FilterKind::OneOf(&["active", "suspended", "pending"]),
            ),
            Filter::new("name", FilterKind::Text),
            Filter::new("id", FilterKind::Id),
            Filter::new("created_at", FilterKind::Date),
        ],
        sorts: &["name", "email", "created_at"],
        actions: &[],
    };

    static TEAM: ResourceSchema = ResourceSchema {
        type_name: "team",
        path: "teams",
        attributes: &[
            Attribute::read_write("name"),
            Attribute::read_only("created_at"),
        ],
        relationships: &[
            Relationship::to_many("users", "user"),
            Relationship::to_one("account", "account"),
        ],
        filters: &[Filter::new("name", FilterKind::Text)],
        sorts: &["name", "id"],
        actions: &[],
    };

    static ACCOUNT: ResourceSchema = ResourceSchema {
        type_name: "account",
        path: "accounts",
        attributes: &[Attribute::read_write("name"), Attribute::read_write("slug")],
        relationships: &[
            Relationship::to_many("users", "user"),
            Relationship::to_many("teams", "team"),
        ],
        filters: &[],
        sorts: &[],
        actions: &[],
    };

    static TEAM_MEMBERSHIP: ResourceSchema = ResourceSchema {
        type_name: "team_membership",
        path: "team_memberships",
        attributes: &[Attribute::read_write("role")],
        relationships: &[
            Relationship::to_one("user", "user"),
            Relationship::to_one("team", "team"),
        ],
        filters: &[],
        sorts: &[],
        actions: &[],
    };

    const REGISTRY: Registry = Registry {
        schemas: &[&USER, &TEAM, &ACCOUNT, &TEAM_MEMBERSHIP],
    };

    const COLLECTION: ParseOptions = ParseOptions {
        collection: true,
        cursor_profile_requested: false,
    };
    const SINGLE: ParseOptions = ParseOptions {
        collection: false,
        cursor_profile_requested: false,
    };
    const CURSOR: ParseOptions = ParseOptions {
        collection: true,
        cursor_profile_requested: true,
    };

    fn ok(raw: &str) -> Query {
        ok_with(raw, &USER, COLLECTION)
    }

    fn ok_with(raw: &str, schema: &'static ResourceSchema, options: ParseOptions) -> Query {
        match Query::parse(raw, schema, &REGISTRY, options) {
            Ok(q) => q,
            Err(e) => panic!("`{raw}` should parse, got {e}"),
        }
    }

    fn err(raw: &str) -> ApiError {
        err_with(raw, &USER, COLLECTION)
    }

    fn err_with(raw: &str, schema: &'static ResourceSchema, options: ParseOptions) -> ApiError {
        match Query::parse(raw, schema, &REGISTRY, options) {
            Ok(q) => panic!("`{raw}` should fail, got {q:?}"),
            Err(e) => e,
        }
    }

    /// Checks the common shape of every rejection and returns its detail.
    fn rejected(e: &ApiError, parameter: &str) -> String {
        assert_eq!(e.status, 400, "{e}");
        assert_eq!(e.code(), "invalid_parameter", "{e}");
        assert_eq!(e.errors.len(), 1);
        assert_eq!(
            e.errors[0].source,
            Some(ErrorSource::Parameter(parameter.to_owned())),
            "{e}"
        );
        e.errors[0].detail.clone()
    }

    fn assert_rejected(raw: &str, parameter: &str) -> String {
        rejected(&err(raw), parameter)
    }

    fn text(s: &str) -> FilterValue {
        FilterValue::Text(s.to_owned())
    }

    fn time(s: &str) -> FilterValue {
        let t = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").expect("test timestamp");
        FilterValue::Time(t)
    }

    // ---- no parameters ----

    #[test]
    fn empty_query_gives_defaults() {
        let q = ok("");
        assert_eq!(q, Query::default());
        assert!(!q.include_given);
        assert!(q.include.is_empty());
        assert_eq!(
            q.page,
            Page::Offset {
                number: 1,
                size: DEFAULT_PAGE_SIZE
            }
        );
        assert_eq!(q.page_size(), 25);
        assert!(!q.is_cursor());
        // Stray separators are not parameters.
        assert_eq!(ok("&&"), Query::default());
    }

    // ---- include ----

    #[test]
    fn include_builds_a_merged_tree() {
        let q = ok("include=teams.users,account,teams,teams.account");
        assert!(q.include_given);
        assert_eq!(
            q.include.paths(),
            vec!["account", "teams", "teams.account", "teams.users"]
        );
        let teams = q.include.child("teams").expect("teams");
        assert_eq!(teams.children.len(), 2);
        assert!(teams.child("users").expect("users").is_empty());
    }

    #[test]
    fn empty_include_is_given_but_empty() {
        let q = ok("include=");
        assert!(q.include_given);
        assert!(q.include.is_empty());
        // Without `=` the value is empty too.
        let q = ok("include");
        assert!(q.include_given);
        assert!(q.include.is_empty());
    }

    #[test]
    fn include_depth_three_is_allowed_four_is_not() {
        let q = ok("include=teams.users.teams");
        assert_eq!(
            q.include.paths(),
            vec!["teams", "teams.users", "teams.users.teams"]
        );
        let q = ok("include=team_memberships.team.account");
        assert_eq!(q.include.paths().len(), 3);

        let detail = assert_rejected("include=teams.users.teams.account", "include");
        assert!(detail.contains("teams.users.teams.account"), "{detail}");
        assert!(detail.contains("at most 3"), "{detail}");
    }

    #[test]
    fn include_rejects_unknown_relationships_with_the_allowed_list() {
        let detail = assert_rejected("include=tems", "include");
        assert_eq!(
            detail,
            "unknown relationship `tems` on `user`; allowed: account, teams, team_memberships"
        );
        // Nested: checked against the type reached so far.
        let detail = assert_rejected("include=teams.members", "include");
        assert!(detail.contains("`members` on `team`"), "{detail}");
        assert!(detail.contains("allowed: users, account"), "{detail}");
        // An attribute is not a relationship.
        assert_rejected("include=name", "include");
        // Case matters.
        assert_rejected("include=Teams", "include");
    }

    #[test]
    fn include_rejects_empty_paths_and_segments() {
        for raw in [
            "include=teams,",
            "include=,teams",
            "include=teams,,account",
            "include=,",
            "include=teams.",
            "include=.teams",
            "include=teams..users",
        ] {
            assert_rejected(raw, "include");
        }
    }

    #[test]
    fn include_and_fields_are_allowed_on_single_resources() {
        let q = ok_with("include=account&fields[account]=name", &USER, SINGLE);
        assert_eq!(q.include.paths(), vec!["account"]);
        assert!(!q.fields.wants("account", "slug"));
    }

    #[test]
    fn include_through_an_unregistered_type_is_a_server_error() {
        const PARTIAL: Registry = Registry { schemas: &[&USER] };
        // The last segment needs no schema of its target …
        assert!(Query::parse("include=teams", &USER, &PARTIAL, COLLECTION).is_ok());
        // … stepping through it does.
        let e = Query::parse("include=teams.users", &USER, &PARTIAL, COLLECTION)
            .expect_err("unregistered target");
        assert_eq!(e.status, 500);
        assert_eq!(e.code(), "internal");
    }

    #[test]
    fn a_polymorphic_relationship_is_included_but_ends_its_path() {
        static EVENT: ResourceSchema = ResourceSchema {
            type_name: "event",
            path: "events",
            attributes: &[Attribute::read_only("action")],
            relationships: &[
                Relationship::to_one("actor", "user"),
                Relationship::polymorphic("target"),
            ],
            filters: &[],
            sorts: &[],
            actions: &[],
        };
        const WITH_EVENTS: Registry = Registry {
            schemas: &[&USER, &TEAM, &ACCOUNT, &TEAM_MEMBERSHIP, &EVENT],
        };
        let parse = |raw: &str| Query::parse(raw, &EVENT, &WITH_EVENTS, SINGLE);
        let q = parse("include=target,actor.teams,target").expect("target");
        assert_eq!(q.include.paths(), vec!["actor", "actor.teams", "target"]);
        assert!(q.include.child("target").is_some_and(IncludeTree::is_empty));

        for (raw, path) in [
            ("include=target.account", "target.account"),
            ("include=actor,target.users.teams", "target.users.teams"),
        ] {
            let e = parse(raw).expect_err(raw);
            let detail = rejected(&e, "include");
            assert!(detail.contains(&format!("`{path}`")), "{detail}");
            assert!(detail.contains("`event.target`"), "{detail}");
            assert!(detail.contains("several types"), "{detail}");
        }
        // The depth rule still comes first for a very long path.
        let detail = rejected(&parse("include=target.a.b.c").expect_err("deep"), "include");
        assert!(detail.contains("at most 3"), "{detail}");
    }

    // ---- fields ----

    #[test]
    fn fields_are_stored_per_type() {
        let q = ok("fields[user]=name,email,teams,name&fields[team]=");
        let user: BTreeSet<String> = ["email", "name", "teams"].map(String::from).into();
        assert_eq!(q.fields.get("user"), Some(&user));
        assert!(q.fields.wants("user", "name"));
        assert!(q.fields.wants("user", "teams"));
        assert!(!q.fields.wants("user", "status"));
        // Empty value: nothing of that type.
        assert_eq!(q.fields.get("team"), Some(&BTreeSet::new()));
        assert!(!q.fields.wants("team", "name"));
        // No fieldset: everything.
        assert_eq!(q.fields.get("account"), None);
        assert!(q.fields.wants("account", "slug"));
        assert_eq!(q.fields.iter().count(), 2);
    }

    #[test]
    fn fields_reject_unknown_types_and_fields() {
        let detail = assert_rejected("fields[usr]=name", "fields[usr]");
        assert!(detail.contains("unknown resource type `usr`"), "{detail}");
        assert!(
            detail.contains("user, team, account, team_membership"),
            "{detail}"
        );

        let detail = assert_rejected("fields[user]=name,nme", "fields[user]");
        assert!(detail.contains("unknown field `nme` on `user`"), "{detail}");
        assert!(
            detail.contains("allowed: name, email, status, created_at, account, teams"),
            "{detail}"
        );
        // Write-only attributes are never shown, so they are not fields.
        let detail = assert_rejected("fields[user]=password", "fields[user]");
        assert!(!detail.contains("password,"), "{detail}");
        // Fields of another type are checked against that type.
        assert_rejected("fields[team]=email", "fields[team]");
        assert_rejected("fields[user]=name,,email", "fields[user]");
        assert_rejected("fields[user]=,", "fields[user]");
        assert_rejected("fields[user]=id", "fields[user]");
    }

    // ---- sort ----

    #[test]
    fn sort_keeps_order_and_direction() {
        let q = ok("sort=-created_at,name");
        assert_eq!(
            q.sort,
            vec![
                SortKey {
                    field: "created_at",
                    descending: true
                },
                SortKey {
                    field: "name",
                    descending: false
                },
            ]
        );
    }

    #[test]
    fn sort_rejects_bad_lists() {
        for raw in [
            "sort=",
            "sort",
            "sort=name,,email",
            "sort=name,",
            "sort=-",
            "sort=--name",
            "sort=nme",
            "sort=status",
            "sort=name,-name",
            "sort=email,email",
            "sort=id",
            "sort=%2Bname",
        ] {
            assert_rejected(raw, "sort");
        }
        let detail = assert_rejected("sort=nme", "sort");
        assert!(
            detail.contains("allowed: name, email, created_at"),
            "{detail}"
        );
    }

    #[test]
    fn sort_on_id_only_where_declared() {
        let q = ok_with("sort=-id", &TEAM, COLLECTION);
        assert_eq!(q.sort.len(), 1);
        assert_eq!(q.sort[0].field, "id");
        assert!(q.sort[0].descending);
    }

    // ---- filter ----

    #[test]
    fn filter_exact_splits_on_commas() {
        let q = ok("filter[email]=a@example.com,b@example.com");
        assert_eq!(
            q.filters,
            vec![FilterClause {
                name: "email",
                op: FilterOp::Eq,
                values: vec![text("a@example.com"), text("b@example.com")],
            }]
        );
        assert_rejected("filter[email]=", "filter[email]");
        assert_rejected("filter[email]=a@example.com,", "filter[email]");
    }

    #[test]
    fn filter_one_of_checks_each_value() {
        let q = ok("filter[status]=active,pending");
        assert_eq!(q.filters[0].values, vec![text("active"), text("pending")]);
        let detail = assert_rejected("filter[status]=active,gone", "filter[status]");
        assert!(detail.contains("`gone`"), "{detail}");
        assert!(
            detail.contains("allowed: active, suspended, pending"),
            "{detail}"
        );
        assert_rejected("filter[status]=", "filter[status]");
        assert_rejected("filter[status]=Active", "filter[status]");
    }

    #[test]
    fn filter_text_commas_mean_or() {
        let q = ok("filter[name]=Doe,+John");
        assert_eq!(q.filters[0].values, vec![text("Doe"), text("John")]);
        assert_rejected("filter[name]=", "filter[name]");
        assert_rejected("filter[name]=Doe,", "filter[name]");
    }

    #[test]
    fn filter_id_requires_uuids() {
        let q = ok(
            "filter[id]=0190A3E2-7C4B-7D2A-9F1E-3B5C6D7E8F90,{0190a3e2-7c4b-7d2a-9f1e-3b5c6d7e8f91}",
        );
        assert_eq!(
            q.filters[0].values,
            vec![
                text("0190a3e2-7c4b-7d2a-9f1e-3b5c6d7e8f90"),
                text("0190a3e2-7c4b-7d2a-9f1e-3b5c6d7e8f91"),
            ]
        );
        // Any version, including v4.
        ok("filter[id]=9b2e4a8c-1d3f-4e5a-8b6c-7d8e9f0a1b2c");
        let detail = assert_rejected(
            "filter[id]=0190a3e2-7c4b-7d2a-9f1e-3b5c6d7e8f90,42",
            "filter[id]",
        );
        assert!(detail.contains("`42`"), "{detail}");
        assert_rejected("filter[id]=", "filter[id]");
    }

    #[test]
    fn filter_date_equality_and_operators() {
        let q = ok("filter[created_at]=2024-05-01T12:00:00Z,2024-05-02T00:00:00.5-01:00");
        assert_eq!(q.filters[0].op, FilterOp::Eq);
        assert_eq!(q.filters[0].values[0], time("2024-05-01 12:00:00"));
        let FilterValue::Time(second) = &q.filters[0].values[1] else {
            panic!("a date filter gives times: {q:?}");
        };
        assert_eq!(second.to_string(), "2024-05-02 01:00:00.500");

        // `%2B` is how a `+` offset survives form-encoding; converted to UTC.
        let q = ok(
            "filter[created_at][gte]=2024-05-01T12:00:00%2B02:00&filter[created_at][lt]=2024-06-01T00:00:00Z",
        );
        assert_eq!(q.filters.len(), 2);
        assert_eq!(
            q.filters[0],
            FilterClause {
                name: "created_at",
                op: FilterOp::Gte,
                values: vec![time("2024-05-01 10:00:00")],
            }
        );
        assert_eq!(q.filters[1].op, FilterOp::Lt);
        assert_eq!(q.filter("created_at").count(), 2);
        assert_eq!(q.filter("email").count(), 0);

        for (name, op) in [
            ("gt", FilterOp::Gt),
            ("gte", FilterOp::Gte),
            ("lt", FilterOp::Lt),
            ("lte", FilterOp::Lte),
        ] {
            let q = ok(&format!("filter[created_at][{name}]=2024-05-01T00:00:00Z"));
            assert_eq!(q.filters[0].op, op);
        }
    }

    #[test]
    fn filter_date_rejections() {
        let detail = assert_rejected("filter[created_at]=yesterday", "filter[created_at]");
        assert!(detail.contains("`yesterday`"), "{detail}");
        assert_rejected("filter[created_at]=", "filter[created_at]");
        assert_rejected("filter[created_at]=2024-05-01", "filter[created_at]");
        assert_rejected(
            "filter[created_at]=2024-05-01T00:00:00Z,",
            "filter[created_at]",
        );
        // An unencoded `+` became a space: the detail says what happened.
        let detail = assert_rejected(
            "filter[created_at][gte]=2024-05-01T12:00:00+02:00",
            "filter[created_at][gte]",
        );
        assert!(detail.contains("%2B"), "{detail}");
        // One value with an operator.
        let detail = assert_rejected(
            "filter[created_at][gte]=2024-05-01T00:00:00Z,2024-06-01T00:00:00Z",
            "filter[created_at][gte]",
        );
        assert!(detail.contains("exactly one"), "{detail}");
        // Unknown operators, including a spelled-out `eq`.
        for op in ["eq", "ne", "GT", "between"] {
            let param = format!("filter[created_at][{op}]");
            let detail = assert_rejected(&format!("{param}=2024-05-01T00:00:00Z"), &param);
            assert!(detail.contains("allowed: gt, gte, lt, lte"), "{detail}");
        }
    }

    #[test]
    fn filter_rejects_unknown_names_operators_on_non_dates_and_repeats() {
        let detail = assert_rejected("filter[nme]=x", "filter[nme]");
        assert!(
            detail.contains("allowed: email, status, name, id, created_at"),
            "{detail}"
        );
        assert_rejected("filter[email][gt]=x", "filter[email][gt]");
        assert_rejected("filter[name][gte]=x", "filter[name][gte]");
        assert_rejected("filter[nme][gte]=x", "filter[nme][gte]");
        assert_rejected("filter[email]=a&filter[email]=b", "filter[email]");
        assert_rejected(
            "filter[created_at][gte]=2024-05-01T00:00:00Z&filter%5Bcreated_at%5D%5Bgte%5D=2024-05-01T00:00:00Z",
            "filter[created_at][gte]",
        );
    }

    // ---- page ----

    #[test]
    fn offset_pagination() {
        let q = ok("page[number]=3&page[size]=10");
        assert_eq!(
            q.page,
            Page::Offset {
                number: 3,
                size: 10
            }
        );
        assert_eq!(q.page_size(), 10);
        assert_eq!(ok("page[size]=100").page_size(), 100);
        assert_eq!(ok("page[size]=1").page_size(), 1);
        assert_eq!(
            ok("page[number]=2").page,
            Page::Offset {
                number: 2,
                size: 25
            }
        );
    }

    #[test]
    fn page_number_must_be_a_positive_integer() {
        for value in [
            "0",
            "-1",
            "abc",
            "",
            "1.5",
            "%2B2",
            "+2",
            "99999999999",
            "1e3",
        ] {
            let e = err(&format!("page[number]={value}"));
            rejected(&e, "page[number]");
            assert_eq!(e.errors[0].links, None);
        }
    }

    #[test]
    fn page_size_bad_values_are_plain_errors() {
        for value in ["0", "000", "-1", "abc", "", "1.5", "%2B10", " 10", "10abc"] {
            let e = err(&format!("page[size]={value}"));
            rejected(&e, "page[size]");
            assert_eq!(e.errors[0].links, None, "{value}");
            assert_eq!(e.errors[0].meta, None, "{value}");
        }
    }

    #[test]
    fn page_size_over_the_maximum_has_the_profile_error() {
        for (raw, options) in [
            ("page[size]=101", COLLECTION),
            ("page[size]=99999999999999999999", COLLECTION),
            ("page[size]=500", CURSOR),
            ("page[after]=abc&page[size]=101", COLLECTION),
        ] {
            let e = err_with(raw, &USER, options);
            let detail = rejected(&e, "page[size]");
            assert!(detail.contains("100"), "{detail}");
            assert_eq!(
                e.errors[0].meta,
                Some(serde_json::json!({"page": {"maxSize": 100}}))
            );
            assert_eq!(
                e.errors[0].links.as_ref().map(|l| l.kind.as_str()),
                Some(
                    "https://jsonapi.org/profiles/ethanresnick/cursor-pagination/max-size-exceeded"
                )
            );
        }
        // The serialized form a client sees.
        let doc: serde_json::Value =
            serde_json::from_str(&err("page[size]=101").to_document()).unwrap();
        assert_eq!(doc["errors"][0]["status"], "400");
        assert_eq!(doc["errors"][0]["code"], "invalid_parameter");
        assert_eq!(doc["errors"][0]["source"]["parameter"], "page[size]");
        assert_eq!(doc["errors"][0]["meta"]["page"]["maxSize"], 100);
        assert_eq!(
            doc["errors"][0]["links"]["type"],
            "https://jsonapi.org/profiles/ethanresnick/cursor-pagination/max-size-exceeded"
        );
    }

    #[test]
    fn cursor_pagination() {
        let q = ok("page[after]=abc&page[size]=5");
        assert_eq!(
            q.page,
            Page::Cursor {
                after: Some("abc".into()),
                before: None,
                size: 5
            }
        );
        assert!(q.is_cursor());
        assert_eq!(q.page_size(), 5);

        let q = ok("page[before]=x%3D%3D");
        assert_eq!(
            q.page,
            Page::Cursor {
                after: None,
                before: Some("x==".into()),
                size: 25
            }
        );

        // The profile alone selects cursor mode for the first page.
        let q = ok_with("", &USER, CURSOR);
        assert_eq!(
            q.page,
            Page::Cursor {
                after: None,
                before: None,
                size: 25
            }
        );
        let q = ok_with("page[after]=c1", &USER, CURSOR);
        assert_eq!(q.page_size(), 25);
        assert!(q.is_cursor());

        assert_rejected("page[after]=", "page[after]");
        assert_rejected("page[before]=", "page[before]");
    }

    #[test]
    fn range_pagination_is_not_supported() {
        for raw in [
            "page[after]=a&page[before]=b",
            "page[before]=b&page[after]=a",
        ] {
            let e = err(raw);
            rejected(&e, "page[before]");
            assert_eq!(
                e.errors[0].links.as_ref().map(|l| l.kind.as_str()),
                Some(
                    "https://jsonapi.org/profiles/ethanresnick/cursor-pagination/range-pagination-not-supported"
                )
            );
        }
    }

    #[test]
    fn page_number_does_not_mix_with_cursors() {
        assert_rejected("page[number]=2&page[after]=a", "page[number]");
        assert_rejected("page[before]=a&page[number]=2", "page[number]");
        let e = err_with("page[number]=2", &USER, CURSOR);
        rejected(&e, "page[number]");
    }

    #[test]
    fn unknown_and_malformed_page_parameters() {
        let detail = assert_rejected("page[offset]=10", "page[offset]");
        assert!(
            detail.contains("page[number], page[size], page[after], page[before]"),
            "{detail}"
        );
        assert_rejected("page[limit]=10", "page[limit]");
        assert_rejected("page=2", "page");
        assert_rejected("page[size=2", "page[size");
        assert_rejected("page[]=2", "page[]");
        assert_rejected("page[size][x]=2", "page[size][x]");
    }

    // ---- collection-only parameters ----

    #[test]
    fn single_resources_reject_sort_filter_and_page() {
        for (raw, param) in [
            ("sort=name", "sort"),
            ("filter[email]=a", "filter[email]"),
            (
                "filter[created_at][gte]=2024-05-01T00:00:00Z",
                "filter[created_at][gte]",
            ),
            ("page[size]=10", "page[size]"),
            ("page[after]=abc", "page[after]"),
        ] {
            let e = err_with(raw, &USER, SINGLE);
            let detail = rejected(&e, param);
            assert!(detail.contains("only allowed on collections"), "{detail}");
        }
        // Even with the cursor profile in Accept, a single resource has no page.
        let q = ok_with(
            "",
            &USER,
            ParseOptions {
                collection: false,
                cursor_profile_requested: true,
            },
        );
        assert!(!q.is_cursor());
        assert_eq!(q.page, Page::default());
    }

    // ---- unknown, implementation-specific, malformed and repeated names ----

    #[test]
    fn unknown_lower_case_parameters_are_rejected() {
        for (raw, param) in [
            ("foo=1", "foo"),
            ("fields=name", "fields"),
            ("filter=x", "filter"),
            ("page=2", "page"),
            ("includes=teams", "includes"),
            ("q", "q"),
            ("foo]", "foo]"),
            ("foo[bar]=1", "foo[bar]"),
            ("include[user]=teams", "include[user]"),
            ("sort[x]=name", "sort[x]"),
        ] {
            assert_rejected(raw, param);
        }
        let detail = assert_rejected("foo=1", "foo");
        assert!(detail.contains("unknown query parameter `foo`"), "{detail}");
    }

    #[test]
    fn implementation_specific_parameters_are_ignored() {
        let q = ok(
            "fooBar=1&foo_bar=2&x-y=3&Include=nope&camelCase[x]=1&_=123&foo1=1&%C3%A9t%C3%A9=1&=x&fooBar=again&[x]=1",
        );
        assert_eq!(q, Query::default());
    }

    #[test]
    fn malformed_families_name_the_parameter_as_written() {
        for param in [
            "fields[",
            "fields[]",
            "fields]",
            "fields[user",
            "fields[user]]",
            "fields[user][x]",
            "fields[user]x",
            "fields[[user]]",
            "filter[]",
            "filter[",
            "filter[created_at][gte][x]",
            "filter[created_at][]",
            "page[size",
            "include[",
        ] {
            let raw = format!("{param}=x");
            let e = err(&raw);
            rejected(&e, param);
        }
        let detail = assert_rejected("fields%5B=x", "fields[");
        assert!(detail.contains("malformed"), "{detail}");
    }

    #[test]
    fn repeated_parameters_are_rejected() {
        for (raw, param) in [
            ("include=teams&include=account", "include"),
            ("include=&include=", "include"),
            ("page[size]=10&page[size]=10", "page[size]"),
            ("page%5Bsize%5D=10&page[size]=20", "page[size]"),
            ("sort=name&sort=email", "sort"),
            ("fields[user]=name&fields[user]=email", "fields[user]"),
        ] {
            let detail = assert_rejected(raw, param);
            assert!(detail.contains("more than once"), "{detail}");
        }
    }

    #[test]
    fn first_error_wins() {
        assert_rejected("sort=nope&include=nope", "sort");
        assert_rejected("include=nope&sort=nope", "include");
    }

    // ---- percent-encoding ----

    #[test]
    fn names_and_values_are_form_decoded() {
        let q = ok(
            "fields%5Buser%5D=name%2Cemail&filter%5Bname%5D=Jane+Doe%21&include=teams%2Eusers&sort=%2Dname&page%5Bsize%5D=%31%30",
        );
        let fields: BTreeSet<String> = ["email", "name"].map(String::from).into();
        assert_eq!(q.fields.get("user"), Some(&fields));
        assert_eq!(
            q.filter("name").next().map(|c| c.values.clone()),
            Some(vec![text("Jane Doe!")])
        );
        assert_eq!(q.include.paths(), vec!["teams", "teams.users"]);
        assert!(q.sort[0].descending);
        assert_eq!(q.page_size(), 10);

        // The parameter is named as decoded.
        assert_rejected(
            "filter%5Bcreated_at%5D%5Bgte%5D=nope",
            "filter[created_at][gte]",
        );
        // Invalid escapes and invalid UTF-8 do not break anything.
        assert_rejected("filter[name]=%ZZ&sort=%FF", "sort");
    }

    // ---- robustness ----

    /// A tiny deterministic generator (xorshift) so the test needs no extra crate.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn parse_never_panics_on_junk() {
        const PIECES: &[&str] = &[
            "include",
            "fields",
            "filter",
            "page",
            "sort",
            "[",
            "]",
            "=",
            "&",
            ",",
            ".",
            "-",
            "+",
            "%",
            "%5B",
            "%5D",
            "%2C",
            "%2B",
            "%ZZ",
            "%FF",
            "%C3%A9",
            "é",
            "\u{0}",
            "user",
            "team",
            "account",
            "teams",
            "users",
            "created_at",
            "gte",
            "lt",
            "eq",
            "status",
            "active",
            "id",
            "name",
            "email",
            "number",
            "size",
            "after",
            "before",
            "0",
            "1",
            "25",
            "100",
            "101",
            "99999999999999999999",
            "-1",
            "2024-05-01T00:00:00Z",
            "2024-13-45T99:99:99+99:99",
            "0190a3e2-7c4b-7d2a-9f1e-3b5c6d7e8f90",
            "x",
            "fooBar",
            " ",
            ";",
            "#",
            "?",
        ];
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        const ONLY_USER: Registry = Registry { schemas: &[&USER] };
        const EMPTY: Registry = Registry { schemas: &[] };
        let registries = [REGISTRY, ONLY_USER, EMPTY];
        for i in 0..30_000 {
            let mut raw = String::new();
            for _ in 0..rng.below(24) {
                raw.push_str(PIECES[rng.below(PIECES.len())]);
            }
            // Now and then, arbitrary characters.
            if i % 7 == 0 {
                for _ in 0..rng.below(12) {
                    raw.push(char::from_u32((rng.next() % 0x3000) as u32).unwrap_or('?'));
                }
            }
            let schema: &'static ResourceSchema = match rng.below(3) {
                0 => &USER,
                1 => &TEAM,
                _ => &ACCOUNT,
            };
            let options = ParseOptions {
                collection: rng.below(2) == 0,
                cursor_profile_requested: rng.below(2) == 0,
            };
            let registry = &registries[rng.below(registries.len())];
            if let Ok(q) = Query::parse(&raw, schema, registry, options) {
                // Whatever parses respects the invariants the engine relies on.
                assert!((1..=MAX_PAGE_SIZE).contains(&q.page_size()), "{raw}");
                assert!(
                    q.include
                        .paths()
                        .iter()
                        .all(|p| p.split('.').count() <= MAX_INCLUDE_DEPTH)
                );
                if !options.collection {
                    assert!(q.sort.is_empty() && q.filters.is_empty(), "{raw}");
                }
            }
        }
    }
}
