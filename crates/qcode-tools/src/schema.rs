//! Declarative parameter tables for the built-in tools: each table produces the JSON schema the
//! model sees and validates a call's arguments against that same schema, so the two can never
//! disagree. Validation errors name the parameter, the expected type and what was received.

use serde_json::{Map, Value, json};

use crate::error::ToolError;

/// Whether a parameter must be present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Presence {
    Required,
    Optional,
}

/// The type of one parameter.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Ty {
    Str,
    /// A non-negative integer within `min..=max`.
    Int {
        min: u64,
        max: u64,
    },
    Bool,
    /// An array of strings.
    StrArray,
    /// A string from a fixed set.
    Enum(&'static [&'static str]),
    /// An array of objects with the given fields.
    ObjArray(&'static [Param]),
}

/// One parameter of a tool.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Param {
    pub name: &'static str,
    pub ty: Ty,
    pub presence: Presence,
    pub description: &'static str,
}

impl Ty {
    fn type_name(self) -> String {
        match self {
            Ty::Str => "string".into(),
            Ty::Int { .. } => "integer".into(),
            Ty::Bool => "boolean".into(),
            Ty::StrArray => "array of strings".into(),
            Ty::Enum(values) => format!("one of {}", quoted_list(values)),
            Ty::ObjArray(_) => "array of objects".into(),
        }
    }

    fn schema(self, description: &str) -> Value {
        let mut schema = match self {
            Ty::Str => json!({"type": "string"}),
            Ty::Int { min, max } => json!({"type": "integer", "minimum": min, "maximum": max}),
            Ty::Bool => json!({"type": "boolean"}),
            Ty::StrArray => json!({"type": "array", "items": {"type": "string"}}),
            Ty::Enum(values) => json!({"type": "string", "enum": values}),
            Ty::ObjArray(fields) => json!({"type": "array", "items": object_schema(fields)}),
        };
        if !description.is_empty()
            && let Some(obj) = schema.as_object_mut()
        {
            obj.insert("description".into(), Value::String(description.into()));
        }
        schema
    }
}

fn quoted_list(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("\"{v}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The JSON schema of an object with these fields.
pub(crate) fn object_schema(fields: &[Param]) -> Value {
    let properties: Map<String, Value> = fields
        .iter()
        .map(|p| (p.name.to_string(), p.ty.schema(p.description)))
        .collect();
    let required: Vec<&str> = fields
        .iter()
        .filter(|p| p.presence == Presence::Required)
        .map(|p| p.name)
        .collect();
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// Parses the raw argument text of a call and validates it against `fields`. Returns the
/// normalised object: optional parameters given as `null` are removed, integers written as
/// `10.0` or `"10"` and booleans written as `"true"` are converted to their proper type.
pub(crate) fn parse_arguments(
    tool: &str,
    raw: &str,
    fields: &[Param],
) -> Result<Map<String, Value>, ToolError> {
    let trimmed = raw.trim();
    // Some providers send "" for a call without arguments.
    let value: Value = if trimmed.is_empty() {
        Value::Object(Map::new())
    } else {
        serde_json::from_str(trimmed).map_err(|e| ToolError::MalformedJson {
            tool: tool.to_string(),
            detail: e.to_string(),
        })?
    };
    let Value::Object(map) = value else {
        return Err(ToolError::invalid(
            tool,
            format!(
                "the arguments must be a JSON object with the parameters {}, got {}",
                field_names(fields),
                json_kind(&value)
            ),
        ));
    };
    validate_object(tool, "", map, fields)
}

fn field_names(fields: &[Param]) -> String {
    fields
        .iter()
        .map(|p| format!("`{}`", p.name))
        .collect::<Vec<_>>()
        .join(", ")
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn short_json(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        let cut: String = s.chars().take(57).collect();
        format!("{cut}...")
    } else {
        s
    }
}

fn validate_object(
    tool: &str,
    prefix: &str,
    mut map: Map<String, Value>,
    fields: &[Param],
) -> Result<Map<String, Value>, ToolError> {
    if let Some(unknown) = map
        .keys()
        .find(|k| !fields.iter().any(|p| p.name == k.as_str()))
    {
        let where_ = if prefix.is_empty() {
            String::new()
        } else {
            format!(" in `{prefix}`")
        };
        return Err(ToolError::invalid(
            tool,
            format!(
                "unknown parameter `{unknown}`{where_}; accepted parameters: {}",
                field_names(fields)
            ),
        ));
    }
    let mut out = Map::new();
    for p in fields {
        let path = if prefix.is_empty() {
            p.name.to_string()
        } else {
            format!("{prefix}.{}", p.name)
        };
        match map.remove(p.name) {
            None | Some(Value::Null) => match p.presence {
                Presence::Required => {
                    return Err(ToolError::invalid(
                        tool,
                        format!("parameter `{path}` is required ({})", p.ty.type_name()),
                    ));
                }
                Presence::Optional => {}
            },
            Some(v) => {
                let v = validate_value(tool, &path, v, p.ty)?;
                out.insert(p.name.to_string(), v);
            }
        }
    }
    Ok(out)
}

fn type_error(tool: &str, path: &str, ty: Ty, got: &Value) -> ToolError {
    ToolError::invalid(
        tool,
        format!(
            "parameter `{path}` must be {} {}, got {} ({})",
            article(ty),
            ty.type_name(),
            json_kind(got),
            short_json(got)
        ),
    )
}

fn article(ty: Ty) -> &'static str {
    match ty {
        Ty::Int { .. } | Ty::ObjArray(_) | Ty::StrArray => "an",
        Ty::Str | Ty::Bool => "a",
        Ty::Enum(_) => "",
    }
}

fn validate_value(tool: &str, path: &str, v: Value, ty: Ty) -> Result<Value, ToolError> {
    match ty {
        Ty::Str => match v {
            Value::String(_) => Ok(v),
            other => Err(type_error(tool, path, ty, &other)),
        },
        Ty::Bool => match &v {
            Value::Bool(_) => Ok(v),
            Value::String(s) if s == "true" => Ok(Value::Bool(true)),
            Value::String(s) if s == "false" => Ok(Value::Bool(false)),
            other => Err(type_error(tool, path, ty, other)),
        },
        Ty::Int { min, max } => {
            let n = match &v {
                Value::Number(n) => n.as_u64().or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                        .map(|f| f as u64)
                }),
                Value::String(s) => s.trim().parse::<u64>().ok(),
                _ => None,
            };
            let Some(n) = n else {
                if let Value::Number(num) = &v
                    && num.as_i64().is_some_and(|i| i < 0)
                {
                    return Err(ToolError::invalid(
                        tool,
                        format!("parameter `{path}` must be at least {min}, got {num}"),
                    ));
                }
                return Err(type_error(tool, path, ty, &v));
            };
            if n < min || n > max {
                return Err(ToolError::invalid(
                    tool,
                    format!("parameter `{path}` must be between {min} and {max}, got {n}"),
                ));
            }
            Ok(Value::from(n))
        }
        Ty::Enum(values) => match &v {
            Value::String(s) if values.contains(&s.as_str()) => Ok(v),
            Value::String(s) => Err(ToolError::invalid(
                tool,
                format!(
                    "parameter `{path}` must be one of {}, got \"{s}\"",
                    quoted_list(values)
                ),
            )),
            other => Err(type_error(tool, path, ty, other)),
        },
        Ty::StrArray => match v {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if !item.is_string() {
                        return Err(type_error(tool, &format!("{path}[{i}]"), Ty::Str, item));
                    }
                }
                Ok(Value::Array(items))
            }
            other => Err(type_error(tool, path, ty, &other)),
        },
        Ty::ObjArray(fields) => match v {
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.into_iter().enumerate() {
                    let item_path = format!("{path}[{i}]");
                    match item {
                        Value::Object(obj) => {
                            out.push(Value::Object(validate_object(
                                tool, &item_path, obj, fields,
                            )?));
                        }
                        other => {
                            return Err(ToolError::invalid(
                                tool,
                                format!(
                                    "`{item_path}` must be an object with {}, got {}",
                                    field_names(fields),
                                    json_kind(&other)
                                ),
                            ));
                        }
                    }
                }
                Ok(Value::Array(out))
            }
            other => Err(type_error(tool, path, ty, &other)),
        },
    }
}
