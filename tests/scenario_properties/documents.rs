//! Arbitrary YAML documents a scenario's reader may be handed: trees of mappings, sequences and
//! hostile scalars, written in block or flow style at any indentation, with anchors and
//! aliases (some to anchors never defined), and keys mostly from the scenario's own
//! vocabulary (every property name in `schemas/scenario.json`), so that most documents get
//! past the YAML reader into the checks.

use std::sync::OnceLock;

use proptest::prelude::*;

use super::hostile;

/// A YAML node, before it is written out.
#[derive(Debug, Clone)]
pub enum Node {
    Scalar(String),
    Alias(u8),
    Anchored(u8, Box<Node>),
    Seq(Vec<Node>, Style),
    Map(Vec<(String, Node)>, Style),
}

/// How a collection is written: over lines, or `[a, b]` / `{ k: v }` on one.
#[derive(Debug, Clone, Copy)]
pub enum Style {
    Block,
    Flow,
}

/// Every property name in the committed scenario schema, the keys a checker knows.
fn vocabulary() -> &'static [String] {
    static WORDS: OnceLock<Vec<String>> = OnceLock::new();
    WORDS.get_or_init(|| {
        let text = std::fs::read_to_string(crate::support::root().join("schemas/scenario.json"))
            .expect("the committed scenario schema");
        let schema: serde_json::Value = serde_json::from_str(&text).expect("the schema is JSON");
        let mut words = Vec::new();
        collect_property_names(&schema, &mut words);
        words.sort();
        words.dedup();
        assert!(words.len() > 50, "only {} keys in the schema", words.len());
        words
    })
}

fn collect_property_names(schema: &serde_json::Value, into: &mut Vec<String>) {
    match schema {
        serde_json::Value::Object(object) => {
            if let Some(serde_json::Value::Object(properties)) = object.get("properties") {
                into.extend(properties.keys().cloned());
            }
            object.values().for_each(|value| collect_property_names(value, into));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| collect_property_names(item, into)),
        _ => {}
    }
}

/// A mapping key: a word of the vocabulary mostly, a hostile scalar sometimes.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![8 => proptest::sample::select(vocabulary()), 1 => hostile::scalar()]
}

fn style() -> impl Strategy<Value = Style> {
    prop_oneof![Just(Style::Block), Just(Style::Flow)]
}

/// A node up to six levels deep, with at most six entries a collection.
fn node() -> impl Strategy<Value = Node> {
    let leaf =
        prop_oneof![8 => hostile::scalar().prop_map(Node::Scalar), 1 => (0u8..4).prop_map(Node::Alias)];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            (prop::collection::vec(inner.clone(), 0..6), style()).prop_map(|(items, s)| Node::Seq(items, s)),
            (prop::collection::vec((key(), inner.clone()), 0..6), style())
                .prop_map(|(entries, s)| Node::Map(entries, s)),
            ((0u8..4), inner).prop_map(|(anchor, node)| Node::Anchored(anchor, Box::new(node))),
        ]
    })
}

/// A whole document: a top-level mapping of one to eight keys, indented by one to four spaces
/// a level.
pub fn document() -> impl Strategy<Value = String> {
    (prop::collection::vec((key(), node()), 1..8), 1usize..5).prop_map(|(entries, step)| {
        entries.iter().map(|(key, value)| format!("{key}:{}\n", after_key(value, step, step))).collect()
    })
}

/// What follows `key:` or `-`: a space and the value on the same line, or the block collection
/// on the next lines at `indent` spaces.
fn after_key(node: &Node, indent: usize, step: usize) -> String {
    let pad = " ".repeat(indent);
    match node {
        Node::Anchored(anchor, inner) => format!(" &a{anchor}{}", after_key(inner, indent, step)),
        Node::Seq(items, Style::Block) if !items.is_empty() => {
            items.iter().map(|item| format!("\n{pad}-{}", after_key(item, indent + step, step))).collect()
        }
        Node::Map(entries, Style::Block) if !entries.is_empty() => entries
            .iter()
            .map(|(key, value)| format!("\n{pad}{key}:{}", after_key(value, indent + step, step)))
            .collect(),
        other => format!(" {}", flow(other)),
    }
}

/// `node` on one line.
fn flow(node: &Node) -> String {
    let joined = |parts: Vec<String>| parts.join(", ");
    match node {
        Node::Scalar(text) => text.clone(),
        Node::Alias(anchor) => format!("*a{anchor}"),
        Node::Anchored(anchor, inner) => format!("&a{anchor} {}", flow(inner)),
        Node::Seq(items, _) => format!("[{}]", joined(items.iter().map(flow).collect())),
        Node::Map(entries, _) => {
            format!("{{ {} }}", joined(entries.iter().map(|(k, v)| format!("{k}: {}", flow(v))).collect()))
        }
    }
}
