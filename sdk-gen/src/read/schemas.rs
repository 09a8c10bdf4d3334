//! JSON Schemas into the model's types.
//!
//! The reader understands the handful of shapes the documents use and
//! refuses everything else by name and place, so that a new kind of
//! schema is met by a clear error here rather than by wrong code in an SDK.

use std::collections::BTreeMap;

use anyhow::{Context, bail, ensure};
use serde_json::{Map, Value};

use super::documents::{Doc, Documents};
use crate::model::{EnumValue, Field, IntegerFormat, Shape, TypeDef, TypeRef, Variant};

/// Named types collected from every document, each defined once.
#[derive(Default)]
pub struct TypeTable {
    types: BTreeMap<String, TypeDef>,
}

impl TypeTable {
    /// Adds `def`; a second definition of a name must be the same type.
    pub fn add(&mut self, def: TypeDef) -> anyhow::Result<()> {
        match self.types.get(&def.name) {
            None => {
                self.types.insert(def.name.clone(), def);
                Ok(())
            }
            Some(existing) if existing.shape == def.shape => Ok(()),
            Some(existing) => bail!(
                "`{}` is defined differently in {} and {}",
                def.name,
                existing.document,
                def.document
            ),
        }
    }

    pub fn contains(&self, name: &str) -> bool {
        self.types.contains_key(name)
    }

    pub fn into_sorted(self) -> Vec<TypeDef> {
        self.types.into_values().collect()
    }
}

/// Reads schemas of one document into a [`TypeTable`].
pub struct SchemaReader<'a> {
    pub docs: &'a Documents,
    pub doc: Doc,
}

impl SchemaReader<'_> {
    /// Reads the named schema `name`. A schema that is only a `$ref` to a
    /// type of the same name in another document adds nothing: that
    /// document defines it.
    pub fn read_named(
        &self,
        table: &mut TypeTable,
        name: &str,
        schema: &Value,
    ) -> anyhow::Result<()> {
        let context = || format!("{} schema `{name}`", self.doc.file_name());
        let object = as_object(schema).with_context(context)?;
        if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
            let (_, target) = self
                .docs
                .resolve(self.doc, reference)
                .with_context(context)?;
            if target != name {
                table.add(self.type_def(
                    name,
                    object,
                    Shape::Alias {
                        target: TypeRef::Named { name: target },
                    },
                ))?;
            }
            return Ok(());
        }
        if object.contains_key("oneOf") && !is_const_enum(object) {
            return self.read_union(table, name, object).with_context(context);
        }
        if table.contains(name) {
            // Already read as a variant of a union that names it.
            return Ok(());
        }
        let shape = self.read_shape(object).with_context(context)?;
        table.add(self.type_def(name, object, shape))
    }

    fn type_def(&self, name: &str, object: &Map<String, Value>, shape: Shape) -> TypeDef {
        TypeDef {
            name: name.to_owned(),
            doc: doc(object),
            document: self.doc.file_name().to_owned(),
            shape,
        }
    }

    fn read_shape(&self, object: &Map<String, Value>) -> anyhow::Result<Shape> {
        if is_const_enum(object) {
            return self.read_const_enum(object);
        }
        match object.get("type").and_then(Value::as_str) {
            Some("string") => {
                let values = object
                    .get("enum")
                    .and_then(Value::as_array)
                    .context("a named string schema needs `enum` or `oneOf` of `const`s")?
                    .iter()
                    .map(|value| {
                        Ok(EnumValue {
                            value: value
                                .as_str()
                                .context("an enum value is a string")?
                                .to_owned(),
                            doc: None,
                            http_status: None,
                        })
                    })
                    .collect::<anyhow::Result<_>>()?;
                Ok(Shape::Enum {
                    values,
                    open: is_open(object),
                })
            }
            Some("object") => Ok(Shape::Struct {
                fields: self.read_fields(object, None)?,
                closed: object.get("additionalProperties") == Some(&Value::Bool(false)),
                variant_of: None,
            }),
            other => bail!("unsupported named schema of type {other:?}"),
        }
    }

    /// `oneOf` string `const`s, each with its own description.
    fn read_const_enum(&self, object: &Map<String, Value>) -> anyhow::Result<Shape> {
        let values = branches(object)?
            .iter()
            .map(|branch| {
                let branch = as_object(branch)?;
                let value = branch
                    .get("const")
                    .and_then(Value::as_str)
                    .context("an enum branch's `const` is a string")?;
                let http_status = match branch.get("x-byrd-http-status") {
                    None => None,
                    Some(status) => Some(
                        status
                            .as_u64()
                            .and_then(|s| u16::try_from(s).ok())
                            .context("`x-byrd-http-status` is an HTTP status")?,
                    ),
                };
                Ok(EnumValue {
                    value: value.to_owned(),
                    doc: doc(branch),
                    http_status,
                })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Shape::Enum {
            values,
            open: is_open(object),
        })
    }

    /// A `oneOf` of objects told apart by one `const` property; each branch
    /// becomes a struct named by its `title` (or the schema it refers to).
    fn read_union(
        &self,
        table: &mut TypeTable,
        name: &str,
        object: &Map<String, Value>,
    ) -> anyhow::Result<()> {
        let mut tag_name: Option<String> = None;
        let mut variants = Vec::new();
        for (index, branch) in branches(object)?.iter().enumerate() {
            let context = || format!("branch {index} of `{name}`");
            let branch = as_object(branch).with_context(context)?;
            let (variant_name, body) = match branch.get("$ref").and_then(Value::as_str) {
                Some(reference) => {
                    let (doc, target) = self
                        .docs
                        .resolve(self.doc, reference)
                        .with_context(context)?;
                    ensure!(
                        doc == self.doc,
                        "{}: a union branch refers to another document",
                        context()
                    );
                    let body = self
                        .docs
                        .schema(doc, &target)
                        .and_then(Value::as_object)
                        .with_context(context)?;
                    (target, body)
                }
                None => (
                    branch
                        .get("title")
                        .and_then(Value::as_str)
                        .with_context(|| format!("{} has neither `title` nor `$ref`", context()))?
                        .to_owned(),
                    branch,
                ),
            };
            let (tag, tag_value) = tag_of(body).with_context(context)?;
            match &tag_name {
                None => tag_name = Some(tag.clone()),
                Some(previous) => ensure!(
                    *previous == tag,
                    "{}: tagged by `{tag}`, not `{previous}`",
                    context()
                ),
            }
            let fields = self.read_fields(body, Some(&tag)).with_context(context)?;
            table.add(TypeDef {
                name: variant_name.clone(),
                doc: doc(body),
                document: self.doc.file_name().to_owned(),
                shape: Shape::Struct {
                    fields,
                    closed: body.get("additionalProperties") == Some(&Value::Bool(false)),
                    variant_of: Some(name.to_owned()),
                },
            })?;
            variants.push(Variant {
                tag_value,
                type_name: variant_name,
            });
        }
        let tag = tag_name.with_context(|| format!("union `{name}` has no branch"))?;
        table.add(self.type_def(
            name,
            object,
            Shape::Union {
                tag,
                variants,
                open: is_open(object),
            },
        ))
    }

    /// The properties of an object schema, without `skip` (a union's tag).
    fn read_fields(
        &self,
        object: &Map<String, Value>,
        skip: Option<&str>,
    ) -> anyhow::Result<Vec<Field>> {
        let required: Vec<&str> = object
            .get("required")
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let Some(properties) = object.get("properties") else {
            return Ok(Vec::new());
        };
        let properties = as_object(properties)?;
        properties
            .iter()
            .filter(|(name, _)| Some(name.as_str()) != skip)
            .map(|(name, schema)| {
                let schema = as_object(schema).with_context(|| format!("property `{name}`"))?;
                let (ty, nullable) = self
                    .read_type(schema)
                    .with_context(|| format!("property `{name}`"))?;
                Ok(Field {
                    name: name.clone(),
                    doc: doc(schema),
                    ty,
                    required: required.contains(&name.as_str()),
                    nullable,
                    default: schema.get("default").cloned(),
                })
            })
            .collect()
    }

    /// The type of a property, parameter or body, and whether it may be
    /// `null`.
    pub fn read_type(&self, schema: &Map<String, Value>) -> anyhow::Result<(TypeRef, bool)> {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let (_, name) = self.docs.resolve(self.doc, reference)?;
            return Ok((TypeRef::Named { name }, false));
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(options) = schema.get(key).and_then(Value::as_array) {
                let (nulls, others): (Vec<&Value>, Vec<&Value>) = options
                    .iter()
                    .partition(|option| option.get("type") == Some(&Value::from("null")));
                ensure!(
                    nulls.len() == 1 && others.len() == 1,
                    "an inline `{key}` is supported only as \"something or null\""
                );
                let (ty, _) = self.read_type(as_object(others[0])?)?;
                return Ok((ty, true));
            }
        }
        ensure!(
            !schema.contains_key("const"),
            "a `const` outside a union's tag is not supported"
        );
        let (type_name, nullable) = match schema.get("type") {
            Some(Value::String(name)) => (name.as_str(), false),
            Some(Value::Array(names)) => {
                let names: Vec<&str> = names.iter().filter_map(Value::as_str).collect();
                match names.as_slice() {
                    [name, "null"] | ["null", name] => (*name, true),
                    _ => bail!("unsupported type list {names:?}"),
                }
            }
            _ => bail!("a schema without `type` or `$ref`"),
        };
        let format = schema.get("format").and_then(Value::as_str);
        let ty = match (type_name, format) {
            ("string", Some("uuid")) => TypeRef::Uuid,
            ("string", Some("date-time")) => TypeRef::DateTime,
            ("string", None) => TypeRef::String,
            ("boolean", None) => TypeRef::Boolean,
            ("integer", Some("int32")) => TypeRef::Integer {
                format: IntegerFormat::Int32,
            },
            ("integer", Some("int64")) => TypeRef::Integer {
                format: IntegerFormat::Int64,
            },
            ("integer", None) => {
                let unsigned = schema
                    .get("minimum")
                    .and_then(Value::as_f64)
                    .is_some_and(|min| min >= 0.0);
                TypeRef::Integer {
                    format: if unsigned {
                        IntegerFormat::Unsigned
                    } else {
                        IntegerFormat::Int64
                    },
                }
            }
            ("array", None) => {
                let items = schema.get("items").context("an array without `items`")?;
                let (items, items_nullable) = self.read_type(as_object(items)?)?;
                ensure!(
                    !items_nullable,
                    "arrays of nullable items are not supported"
                );
                TypeRef::Array {
                    items: Box::new(items),
                }
            }
            (name, format) => bail!("unsupported type {name:?} with format {format:?}"),
        };
        Ok((ty, nullable))
    }
}

/// The union tag of a variant's schema: its one property with a string
/// `const`, and that value.
fn tag_of(object: &Map<String, Value>) -> anyhow::Result<(String, String)> {
    let properties = object
        .get("properties")
        .and_then(Value::as_object)
        .context("a union branch is an object with properties")?;
    let mut tags = properties.iter().filter_map(|(name, schema)| {
        schema
            .get("const")
            .and_then(Value::as_str)
            .map(|value| (name.clone(), value.to_owned()))
    });
    let tag = tags
        .next()
        .context("a union branch has no `const` property to tell it apart")?;
    ensure!(
        tags.next().is_none(),
        "a union branch has more than one `const` property"
    );
    Ok(tag)
}

fn branches(object: &Map<String, Value>) -> anyhow::Result<&Vec<Value>> {
    object
        .get("oneOf")
        .and_then(Value::as_array)
        .context("`oneOf` is a list")
}

/// A `oneOf` whose branches are all `const`s: an enum with documented values.
fn is_const_enum(object: &Map<String, Value>) -> bool {
    object
        .get("oneOf")
        .and_then(Value::as_array)
        .is_some_and(|branches| {
            branches
                .iter()
                .all(|b| b.get("const").is_some_and(Value::is_string))
        })
}

fn is_open(object: &Map<String, Value>) -> bool {
    object.get("x-byrd-open") == Some(&Value::Bool(true))
}

pub fn as_object(value: &Value) -> anyhow::Result<&Map<String, Value>> {
    value.as_object().context("expected a JSON object")
}

/// The trimmed `description`, if any.
pub fn doc(object: &Map<String, Value>) -> Option<String> {
    object
        .get("description")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}
