//! Response documents, written straight into one byte buffer (no intermediate
//! `serde_json::Value` tree: large compound documents stay cheap).
//!
//! A response is a [`Graph`] of resource [`Node`]s — each resource once, whatever paths
//! led to it — plus which of them are primary data. Resources enter the graph as
//! [`ResourceView`] trait objects, so this module knows nothing of any resource type.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use serde::Serialize;

use super::query::Fieldsets;
use super::schema::ResourceSchema;

/// What the document writer needs from a loaded resource.
pub trait ResourceView: Send {
    fn schema(&self) -> &'static ResourceSchema;
    fn id(&self) -> &str;
    /// Writes the shown attributes through `w`, which drops those the fieldset excludes.
    fn write_attributes(&self, w: &mut AttributeWriter<'_>);
    /// The id a to-one relationship points at; `None` for null.
    fn to_one(&self, relationship: &str) -> Option<&str>;
    /// The type of a to-one target; only polymorphic relationships need to say.
    fn to_one_type(&self, relationship: &super::schema::Relationship) -> &str {
        relationship.target
    }
}

/// One resource in a response.
pub struct Node {
    pub object: Box<dyn ResourceView>,
    /// `meta.permissions.actions`, computed by the policy for the caller.
    pub actions: Vec<(&'static str, bool)>,
    /// Linkage of to-many relationships that were included, by relationship name.
    pub to_many: Vec<(&'static str, Vec<String>)>,
    /// `meta.page.cursor` under cursor pagination.
    pub cursor: Option<String>,
}

impl Node {
    pub fn new(object: Box<dyn ResourceView>, actions: Vec<(&'static str, bool)>) -> Self {
        Node {
            object,
            actions,
            to_many: Vec::new(),
            cursor: None,
        }
    }

    pub fn type_name(&self) -> &'static str {
        self.object.schema().type_name
    }

    /// Records `target_id` in the linkage of an included to-many relationship (creating
    /// an empty linkage when `target_id` is `None`), without duplicates.
    pub fn link(&mut self, relationship: &'static str, target_id: Option<&str>) {
        let slot = match self
            .to_many
            .iter()
            .position(|(name, _)| *name == relationship)
        {
            Some(i) => &mut self.to_many[i].1,
            None => {
                self.to_many.push((relationship, Vec::new()));
                &mut self.to_many.last_mut().expect("just pushed").1
            }
        };
        if let Some(id) = target_id
            && !slot.iter().any(|existing| existing == id)
        {
            slot.push(id.to_owned());
        }
    }
}

/// Every resource of a response, each once.
#[derive(Default)]
pub struct Graph {
    pub nodes: Vec<Node>,
    /// foldhash rather than SipHash: hashing every (type, id) of a 500 KB include page
    /// with SipHash was a twentieth of its instructions. The keys are ids the database
    /// gave, and the hasher's seed is still random per process.
    index: HashMap<(&'static str, String), usize, foldhash::fast::RandomState>,
}

impl Graph {
    /// Adds a node, or returns the index of the node already there for the same
    /// (type, id).
    pub fn insert(&mut self, node: Node) -> usize {
        let key = (node.type_name(), node.object.id().to_owned());
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        self.nodes.push(node);
        self.index.insert(key, self.nodes.len() - 1);
        self.nodes.len() - 1
    }

    pub fn find(&self, type_name: &'static str, id: &str) -> Option<usize> {
        self.index.get(&(type_name, id.to_owned())).copied()
    }
}

/// The primary data of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Primary {
    One(usize),
    Many(Vec<usize>),
    /// A to-one related endpoint whose target is absent.
    Null,
}

/// Everything besides the graph that shapes a document.
pub struct DocumentOptions<'a> {
    /// `ROSTER_PUBLIC_URL` + `/api/v1`, the prefix of every link.
    pub base: &'a str,
    pub fields: &'a Fieldsets,
    /// `include` was given: the document has `included`, even empty.
    pub include_given: bool,
    /// Top-level links (`self`, pagination); `None` values are written as `null`.
    pub links: Vec<(&'static str, Option<String>)>,
    /// Top-level meta, already serialized members (e.g. `"total":12`).
    pub meta: Option<serde_json::Value>,
}

/// Timestamps on the wire: RFC 3339, UTC with `Z`, to the microsecond. Written digit by
/// digit: chrono's `format` re-parses its pattern on every call, and even `format!` cost
/// 3,000 instructions a timestamp — a tenth of `GET /users/{id}`, which shows three.
pub fn format_time(t: &NaiveDateTime) -> String {
    use chrono::{Datelike, Timelike};
    let year = t.year();
    if !(0..=9999).contains(&year) {
        return t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    }
    let mut out = *b"0000-00-00T00:00:00.000000Z";
    let mut put = |at: usize, width: usize, mut value: u32| {
        for i in (at..at + width).rev() {
            out[i] = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    put(0, 4, year as u32);
    put(5, 2, t.month());
    put(8, 2, t.day());
    put(11, 2, t.hour());
    put(14, 2, t.minute());
    put(17, 2, t.second());
    put(20, 6, t.and_utc().timestamp_subsec_micros().min(999_999));
    // Only ASCII digits and separators were written.
    String::from_utf8_lossy(&out).into_owned()
}

fn push_json<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Serializing strings, numbers and `Value`s into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, value);
}

/// A timestamp as a JSON string: only digits and separators, so nothing to escape.
fn push_time(out: &mut Vec<u8>, t: &NaiveDateTime) {
    out.push(b'"');
    out.extend_from_slice(format_time(t).as_bytes());
    out.push(b'"');
}

/// Writes the members of an `attributes` object, honouring the sparse fieldset.
pub struct AttributeWriter<'a> {
    out: &'a mut Vec<u8>,
    fields: Option<&'a std::collections::BTreeSet<String>>,
    first: bool,
}

impl AttributeWriter<'_> {
    pub fn wants(&self, name: &str) -> bool {
        self.fields.is_none_or(|set| set.contains(name))
    }

    fn key(&mut self, name: &str) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        push_json(self.out, name);
        self.out.push(b':');
    }

    pub fn value<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) -> &mut Self {
        if self.wants(name) {
            self.key(name);
            push_json(self.out, value);
        }
        self
    }

    pub fn time(&mut self, name: &str, value: &NaiveDateTime) -> &mut Self {
        if self.wants(name) {
            self.key(name);
            push_time(self.out, value);
        }
        self
    }

    pub fn opt_time(&mut self, name: &str, value: Option<&NaiveDateTime>) -> &mut Self {
        if self.wants(name) {
            self.key(name);
            match value {
                Some(t) => push_time(self.out, t),
                None => self.out.extend_from_slice(b"null"),
            }
        }
        self
    }

    /// A member whose value is already JSON text (stored JSON such as preferences).
    pub fn raw_json(&mut self, name: &str, json: &str) -> &mut Self {
        if self.wants(name) {
            self.key(name);
            self.out.extend_from_slice(json.as_bytes());
        }
        self
    }
}

/// The attributes a resource shows, as a JSON object (to compare what a client sent
/// back with the current values).
pub fn attributes_of(view: &dyn ResourceView) -> serde_json::Map<String, serde_json::Value> {
    let mut out = vec![b'{'];
    view.write_attributes(&mut AttributeWriter {
        out: &mut out,
        fields: None,
        first: true,
    });
    out.push(b'}');
    serde_json::from_slice(&out).unwrap_or_default()
}

fn write_identifier(out: &mut Vec<u8>, type_name: &str, id: &str) {
    out.extend_from_slice(b"{\"type\":");
    push_json(out, type_name);
    out.extend_from_slice(b",\"id\":");
    push_json(out, id);
    out.push(b'}');
}

/// The URL of one resource.
pub fn resource_url(base: &str, schema: &ResourceSchema, id: &str) -> String {
    format!("{base}/{}/{id}", schema.path)
}

/// JSON string contents (without quotes) for `text`: escaped once and reused, because
/// the links of a large page repeat the same prefix thousands of times.
fn escaped(text: &str) -> String {
    let quoted = serde_json::to_string(text).unwrap_or_default();
    quoted
        .get(1..quoted.len().saturating_sub(1))
        .unwrap_or("")
        .to_owned()
}

fn write_resource(out: &mut Vec<u8>, node: &Node, options: &DocumentOptions<'_>, base: &str) {
    let object = &*node.object;
    let schema = object.schema();
    let id = object.id();
    // `base/path/id`, escaped for a JSON string: every link of this resource starts so.
    let self_url = format!("{base}/{}/{}", schema.path, escaped(id));
    let fields = options.fields.get(schema.type_name);

    out.extend_from_slice(b"{\"type\":");
    push_json(out, schema.type_name);
    out.extend_from_slice(b",\"id\":");
    push_json(out, id);

    out.extend_from_slice(b",\"attributes\":{");
    object.write_attributes(&mut AttributeWriter {
        out,
        fields,
        first: true,
    });
    out.push(b'}');

    let mut first = true;
    for rel in schema.relationships {
        if !fields.is_none_or(|set| set.contains(rel.name)) {
            continue;
        }
        out.extend_from_slice(if first { b",\"relationships\":{" } else { b"," });
        first = false;
        // Relationship names are program constants: no escaping needed.
        out.push(b'"');
        out.extend_from_slice(rel.name.as_bytes());
        out.extend_from_slice(b"\":{\"links\":{\"self\":\"");
        out.extend_from_slice(self_url.as_bytes());
        out.extend_from_slice(b"/relationships/");
        out.extend_from_slice(rel.name.as_bytes());
        out.extend_from_slice(b"\",\"related\":\"");
        out.extend_from_slice(self_url.as_bytes());
        out.push(b'/');
        out.extend_from_slice(rel.name.as_bytes());
        out.extend_from_slice(b"\"}");
        if rel.is_to_many() {
            if let Some((_, ids)) = node.to_many.iter().find(|(name, _)| *name == rel.name) {
                out.extend_from_slice(b",\"data\":[");
                for (i, target) in ids.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_identifier(out, rel.target, target);
                }
                out.push(b']');
            }
        } else {
            out.extend_from_slice(b",\"data\":");
            match object.to_one(rel.name) {
                Some(target) => write_identifier(out, object.to_one_type(rel), target),
                None => out.extend_from_slice(b"null"),
            }
        }
        out.push(b'}');
    }
    if !first {
        out.push(b'}');
    }

    out.extend_from_slice(b",\"links\":{\"self\":\"");
    out.extend_from_slice(self_url.as_bytes());
    out.extend_from_slice(b"\"},\"meta\":{\"permissions\":{\"actions\":{");
    for (i, (action, allowed)) in node.actions.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_json(out, action);
        out.extend_from_slice(if *allowed { b":true" } else { b":false" });
    }
    out.extend_from_slice(b"}}");
    if let Some(cursor) = &node.cursor {
        out.extend_from_slice(b",\"page\":{\"cursor\":");
        push_json(out, cursor);
        out.push(b'}');
    }
    out.extend_from_slice(b"}}");
}

fn write_top_links(out: &mut Vec<u8>, links: &[(&'static str, Option<String>)]) {
    out.extend_from_slice(b"\"links\":{");
    for (i, (name, href)) in links.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_json(out, name);
        out.push(b':');
        match href {
            Some(href) => push_json(out, href),
            None => out.extend_from_slice(b"null"),
        }
    }
    out.push(b'}');
}

const JSONAPI_MEMBER: &[u8] = b"\"jsonapi\":{\"version\":\"1.1\"}";

/// Writes a whole document: primary data, then every other node of the graph as
/// `included` (only when `include` was given).
pub fn write_document(graph: &Graph, primary: &Primary, options: &DocumentOptions<'_>) -> Vec<u8> {
    let base = escaped(options.base);
    let mut out = Vec::with_capacity(1024 + graph.nodes.len() * 900);
    out.extend_from_slice(b"{");
    out.extend_from_slice(JSONAPI_MEMBER);
    out.push(b',');
    write_top_links(&mut out, &options.links);
    if let Some(meta) = &options.meta {
        out.extend_from_slice(b",\"meta\":");
        push_json(&mut out, meta);
    }
    out.extend_from_slice(b",\"data\":");
    let mut is_primary = vec![false; graph.nodes.len()];
    match primary {
        Primary::One(i) => {
            is_primary[*i] = true;
            write_resource(&mut out, &graph.nodes[*i], options, &base);
        }
        Primary::Many(list) => {
            out.push(b'[');
            for (n, i) in list.iter().enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                is_primary[*i] = true;
                write_resource(&mut out, &graph.nodes[*i], options, &base);
            }
            out.push(b']');
        }
        Primary::Null => out.extend_from_slice(b"null"),
    }
    if options.include_given {
        out.extend_from_slice(b",\"included\":[");
        let mut first = true;
        for (i, node) in graph.nodes.iter().enumerate() {
            if is_primary[i] {
                continue;
            }
            if !first {
                out.push(b',');
            }
            first = false;
            write_resource(&mut out, node, options, &base);
        }
        out.push(b']');
    }
    out.push(b'}');
    out
}

/// A relationship document (`/users/{id}/relationships/teams`): resource identifiers.
pub fn write_linkage_document(
    target_type: &str,
    ids: Option<&[String]>,
    to_many: bool,
    links: &[(&'static str, Option<String>)],
    meta: Option<&serde_json::Value>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + ids.map_or(0, |i| i.len() * 64));
    out.extend_from_slice(b"{");
    out.extend_from_slice(JSONAPI_MEMBER);
    out.push(b',');
    write_top_links(&mut out, links);
    if let Some(meta) = meta {
        out.extend_from_slice(b",\"meta\":");
        push_json(&mut out, meta);
    }
    out.extend_from_slice(b",\"data\":");
    match (to_many, ids) {
        (true, ids) => {
            out.push(b'[');
            for (n, id) in ids.unwrap_or_default().iter().enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                write_identifier(&mut out, target_type, id);
            }
            out.push(b']');
        }
        (false, Some([id, ..])) => write_identifier(&mut out, target_type, id),
        (false, _) => out.extend_from_slice(b"null"),
    }
    out.push(b'}');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_are_rfc3339_utc_to_the_microsecond() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05.000006Z")
            .unwrap()
            .naive_utc();
        assert_eq!(super::format_time(&t), "2026-01-02T03:04:05.000006Z");
        let t = chrono::DateTime::parse_from_rfc3339("1999-12-31T23:59:59Z")
            .unwrap()
            .naive_utc();
        assert_eq!(super::format_time(&t), "1999-12-31T23:59:59.000000Z");
    }
}
