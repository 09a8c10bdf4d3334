//! JSON Schemas of the protocol types: the one way every document gets them.
//!
//! schemars describes each type with the contract of the direction it
//! travels. What the server sends is described as it is serialised, so an
//! `Option` field, always present as `null`, is required; what clients send
//! is described as it is deserialised, so a field with a default may be
//! left out. A type is described once for one direction: adding it again
//! with a different shape is an error, not a silent overwrite.
//!
//! A few rewrites then make the schemas read right in stock generators:
//! integer formats outside the JSON Schema and OpenAPI registries become
//! plain bounds, and the branches of a `type`-tagged union are made whole
//! objects with a title (schemars leaves a newtype variant as a `$ref` with
//! sibling keywords, which draft-07 readers ignore and typify cannot tag).

use std::collections::BTreeSet;

use anyhow::{Context, bail};
use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

/// Which way a type travels, which decides its contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Responses and server frames: described as serialised.
    ToClient,
    /// Request bodies, client frames, token claims: described as parsed.
    ToServer,
}

/// Named schemas, as `$defs` or `components.schemas`, with `#/$defs/` refs.
#[derive(Debug, Default, Clone)]
pub struct Definitions {
    defs: Map<String, Value>,
}

impl Definitions {
    /// Adds `T` and every type it refers to; returns `T`'s name.
    pub fn add<T: JsonSchema>(&mut self, direction: Direction) -> anyhow::Result<String> {
        let settings = match direction {
            Direction::ToClient => SchemaSettings::draft2020_12().for_serialize(),
            Direction::ToServer => SchemaSettings::draft2020_12().for_deserialize(),
        };
        let mut generator = settings.into_generator();
        let reference = generator.subschema_for::<T>();
        let name = reference
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
            .map(str::to_owned)
            .unwrap_or_else(|| T::schema_name().into_owned());
        let mut found = generator.take_definitions(true);
        if !found.contains_key(&name) {
            // A type schemars inlines (no `$ref`) still gets its own name.
            found.insert(name.clone(), reference.to_value());
        }
        for (key, mut schema) in found {
            normalize_formats(&mut schema);
            self.insert(key, schema)?;
        }
        Ok(name)
    }

    /// Adds a schema under `name`, refusing a different one already there.
    pub fn insert(&mut self, name: String, schema: Value) -> anyhow::Result<()> {
        match self.defs.get(&name) {
            Some(existing) if *existing != schema => bail!(
                "schema {name} is described differently in two places (is it both sent and received?)"
            ),
            _ => {
                self.defs.insert(name, schema);
                Ok(())
            }
        }
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.defs.get(name)
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut Value> {
        self.defs.get_mut(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &String> {
        self.defs.keys()
    }

    /// The definitions, sorted by name so documents read (and diff) well.
    pub fn into_map(self) -> Map<String, Value> {
        let mut sorted: Vec<(String, Value)> = self.defs.into_iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        sorted.into_iter().collect()
    }

    /// Makes every branch of the `type`-tagged union `union` a whole
    /// object titled `title(type)`, inlining the struct a
    /// newtype variant refers to. Structs no longer referenced go.
    pub fn complete_tagged_union(
        &mut self,
        union: &str,
        title: impl Fn(&str) -> String,
    ) -> anyhow::Result<()> {
        let branches = self
            .defs
            .get(union)
            .and_then(|schema| schema.get("oneOf"))
            .and_then(Value::as_array)
            .cloned()
            .with_context(|| format!("{union} is not a oneOf union"))?;
        let mut inlined = BTreeSet::new();
        let mut complete = Vec::new();
        for branch in branches {
            let tag = branch
                .pointer("/properties/type/const")
                .and_then(Value::as_str)
                .with_context(|| format!("a branch of {union} has no `type` constant"))?
                .to_owned();
            let referenced = branch
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
                .map(str::to_owned);
            let mut whole = match &referenced {
                Some(name) => {
                    let target = self
                        .defs
                        .get(name)
                        .with_context(|| format!("{union} refers to missing {name}"))?;
                    inlined.insert(name.clone());
                    merge_tagged(&branch, target)
                }
                None => branch,
            };
            let object = whole
                .as_object_mut()
                .with_context(|| format!("a branch of {union} is not an object"))?;
            object.insert("title".into(), title(&tag).into());
            complete.push(whole);
        }
        if let Some(schema) = self.defs.get_mut(union) {
            schema["oneOf"] = Value::Array(complete);
        }
        for name in inlined {
            if !self.is_referenced(&name) {
                self.defs.remove(&name);
            }
        }
        Ok(())
    }

    /// Moves each titled branch of the completed union `union` into its own
    /// definition and adds the OpenAPI `discriminator` that maps each
    /// `type` to it: OpenAPI generators name variants from `$ref`s.
    pub fn hoist_union_branches(&mut self, union: &str) -> anyhow::Result<()> {
        let branches = self
            .defs
            .get_mut(union)
            .and_then(|schema| schema.get_mut("oneOf"))
            .and_then(Value::as_array_mut)
            .map(std::mem::take)
            .with_context(|| format!("{union} is not a oneOf union"))?;
        let mut references = Vec::new();
        let mut mapping = Map::new();
        for branch in branches {
            let title = branch["title"]
                .as_str()
                .with_context(|| format!("a branch of {union} has no title"))?
                .to_owned();
            let tag = branch
                .pointer("/properties/type/const")
                .and_then(Value::as_str)
                .with_context(|| format!("a branch of {union} has no `type` constant"))?
                .to_owned();
            let target = format!("#/$defs/{title}");
            references.push(json!({"$ref": target}));
            mapping.insert(tag, target.into());
            self.insert(title, branch)?;
        }
        if let Some(schema) = self.defs.get_mut(union) {
            schema["oneOf"] = Value::Array(references);
            schema["discriminator"] = json!({"propertyName": "type", "mapping": mapping});
        }
        Ok(())
    }

    fn is_referenced(&self, name: &str) -> bool {
        let target = format!("#/$defs/{name}");
        self.defs.values().any(|schema| refers_to(schema, &target))
    }
}

/// A newtype branch (`type` constant plus `$ref`) merged with the struct
/// it refers to: `type` first, then the struct's own properties.
fn merge_tagged(branch: &Value, target: &Value) -> Value {
    let mut properties = Map::new();
    if let Some(tag) = branch.pointer("/properties/type") {
        properties.insert("type".into(), tag.clone());
    }
    if let Some(own) = target.get("properties").and_then(Value::as_object) {
        properties.extend(own.clone());
    }
    let mut required = vec![Value::from("type")];
    if let Some(own) = target.get("required").and_then(Value::as_array) {
        required.extend(own.iter().cloned());
    }
    let mut merged = json!({"type": "object"});
    if let Some(description) = target.get("description") {
        merged["description"] = description.clone();
    }
    merged["properties"] = Value::Object(properties);
    merged["required"] = Value::Array(required);
    if let Some(additional) = target.get("additionalProperties") {
        merged["additionalProperties"] = additional.clone();
    }
    merged
}

fn refers_to(value: &Value, target: &str) -> bool {
    match value {
        Value::Object(map) => map.iter().any(|(key, child)| {
            (key == "$ref" && child.as_str() == Some(target)) || refers_to(child, target)
        }),
        Value::Array(items) => items.iter().any(|item| refers_to(item, target)),
        _ => false,
    }
}

/// Replaces schemars' unsigned formats (`uint32`, `uint64`, ...), which
/// are in neither the JSON Schema nor the OpenAPI format registry, with the
/// bounds they stand for.
fn normalize_formats(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let unsigned = map
                .get("format")
                .and_then(Value::as_str)
                .and_then(|format| format.strip_prefix("uint"))
                .map(str::to_owned);
            if let Some(bits) = unsigned {
                map.remove("format");
                map.insert("minimum".into(), 0.into());
                let maximum = match bits.as_str() {
                    "8" => Some(u64::from(u8::MAX)),
                    "16" => Some(u64::from(u16::MAX)),
                    "32" => Some(u64::from(u32::MAX)),
                    _ => None,
                };
                if let Some(maximum) = maximum {
                    map.insert("maximum".into(), maximum.into());
                }
            }
            map.values_mut().for_each(normalize_formats);
        }
        Value::Array(items) => items.iter_mut().for_each(normalize_formats),
        _ => {}
    }
}

/// Rewrites every `#/$defs/X` reference with `to(X)`.
pub fn rewrite_refs(value: &mut Value, to: &impl Fn(&str) -> String) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                match child.as_str().and_then(|r| r.strip_prefix("#/$defs/")) {
                    Some(name) if key == "$ref" => *child = Value::String(to(name)),
                    _ => rewrite_refs(child, to),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| rewrite_refs(item, to)),
        _ => {}
    }
}

/// `hello` → `Hello`, `refresh_token` → `RefreshToken`.
pub fn pascal(snake: &str) -> String {
    snake
        .split('_')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
    struct Inner {
        note: Option<String>,
        count: u32,
    }

    #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
    #[serde(tag = "type", rename_all = "snake_case")]
    enum Tagged {
        Wrapped(Inner),
        Plain { flag: bool },
    }

    #[test]
    fn a_sent_option_is_required_and_a_received_one_is_not() {
        let mut sent = Definitions::default();
        sent.add::<Inner>(Direction::ToClient).unwrap();
        let mut received = Definitions::default();
        received.add::<Inner>(Direction::ToServer).unwrap();
        assert_eq!(
            sent.get("Inner").unwrap()["required"],
            json!(["note", "count"])
        );
        assert_eq!(received.get("Inner").unwrap()["required"], json!(["count"]));
    }

    #[test]
    fn one_name_with_two_shapes_is_refused() {
        let mut defs = Definitions::default();
        defs.add::<Inner>(Direction::ToClient).unwrap();
        assert!(defs.add::<Inner>(Direction::ToServer).is_err());
    }

    #[test]
    fn unsigned_formats_become_bounds() {
        let mut defs = Definitions::default();
        defs.add::<Inner>(Direction::ToClient).unwrap();
        let count = &defs.get("Inner").unwrap()["properties"]["count"];
        assert_eq!(count.get("format"), None);
        assert_eq!(count["minimum"], 0);
        assert_eq!(count["maximum"], u32::MAX);
    }

    #[test]
    fn newtype_branches_are_inlined_with_their_fields_and_titled() {
        let mut defs = Definitions::default();
        defs.add::<Tagged>(Direction::ToClient).unwrap();
        defs.complete_tagged_union("Tagged", |tag| format!("T{}", pascal(tag)))
            .unwrap();
        let branches = defs.get("Tagged").unwrap()["oneOf"]
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(branches[0]["title"], "TWrapped");
        assert_eq!(branches[0].get("$ref"), None);
        assert_eq!(branches[0]["required"], json!(["type", "note", "count"]));
        assert_eq!(branches[1]["title"], "TPlain");
        assert!(defs.get("Inner").is_none(), "the inlined struct is gone");
    }
}
