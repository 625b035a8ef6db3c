//! MCP prompts as slash commands: [`McpManager::prompts`] lists the prompts of every ready
//! server that offers them (`prompts/list`, asked afresh each time, so a server's
//! `notifications/prompts/list_changed` is honoured at the next listing), named
//! `mcp__<server>__<prompt>` like tools; [`McpManager::get_prompt`] maps what the user typed
//! after the name onto the prompt's declared arguments ([`map_arguments`]: `key=value` pairs,
//! or positional in declared order) and returns the messages of `prompts/get` as text.

use std::time::Duration;

use rmcp::model::GetPromptRequestParams;
use rmcp::service::ServiceError;

use crate::manager::McpManager;
use crate::names::qualified;
use crate::server::{ServerState, short_error};

/// How long one server may take to answer `prompts/list` or `prompts/get`.
pub const PROMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// One declared argument of a prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptArg {
    pub name: String,
    pub description: Option<String>,
    pub required: bool,
}

/// A prompt as offered to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McpPrompt {
    /// `mcp__<server>__<prompt>` (typed as `/mcp__server__prompt`).
    pub name: String,
    pub server: String,
    /// The server's own name for it.
    pub prompt: String,
    pub description: String,
    pub arguments: Vec<PromptArg>,
}

impl McpPrompt {
    /// The argument hint shown in completion: `<city> [state]`.
    pub fn argument_hint(&self) -> String {
        self.arguments
            .iter()
            .map(|a| {
                if a.required {
                    format!("<{}>", a.name)
                } else {
                    format!("[{}]", a.name)
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Who speaks a prompt message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptRole {
    User,
    Assistant,
}

/// One message of a `prompts/get` answer, as text (non-text content as the same placeholders
/// tool results use).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptMessage {
    pub role: PromptRole,
    pub text: String,
}

/// Why a prompt could not be fetched; nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PromptError {
    #[error("no MCP prompt is called `{0}`")]
    Unknown(String),
    #[error("/{name}: {reason}")]
    Arguments { name: String, reason: String },
    #[error("MCP server `{server}` is not connected")]
    NotReady { server: String },
    #[error("MCP prompt `{prompt}` of server `{server}` failed: {message}")]
    Failed {
        server: String,
        prompt: String,
        message: String,
    },
}

/// Splits the typed arguments into words: whitespace separates, `"…"` and `'…'` group.
fn words(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '"' | '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some(q) if q == c => break,
                        Some(other) => cur.push(other),
                        None => return Err(format!("a {c} quote is not closed")),
                    }
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    Ok(out)
}

/// Maps `typed` onto `declared`: a word `key=value` whose key is a declared argument sets it;
/// every other word fills the next declared argument not yet set, in declared order (quote a
/// value with spaces). Too many words, an argument given twice, or a missing required argument
/// is an error that names the arguments.
pub fn map_arguments(
    declared: &[PromptArg],
    typed: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    let usage = || {
        let names: Vec<String> = declared
            .iter()
            .map(|a| {
                if a.required {
                    a.name.clone()
                } else {
                    format!("{} (optional)", a.name)
                }
            })
            .collect();
        if names.is_empty() {
            "it takes no arguments".to_string()
        } else {
            format!("its arguments: {}", names.join(", "))
        }
    };
    let mut set: Vec<Option<String>> = vec![None; declared.len()];
    let mut positional = Vec::new();
    for word in words(typed)? {
        let named = word.split_once('=').and_then(|(k, v)| {
            declared
                .iter()
                .position(|a| a.name == k)
                .map(|i| (i, v.to_string()))
        });
        match named {
            Some((i, value)) => {
                if set[i].is_some() {
                    return Err(format!("`{}` is given twice", declared[i].name));
                }
                set[i] = Some(value);
            }
            None => positional.push(word),
        }
    }
    for word in positional {
        let Some(slot) = set.iter_mut().find(|s| s.is_none()) else {
            return Err(format!(
                "too many arguments (`{word}` is left over); {}",
                usage()
            ));
        };
        *slot = Some(word);
    }
    let mut out = serde_json::Map::new();
    for (arg, value) in declared.iter().zip(set) {
        match value {
            Some(v) => {
                out.insert(arg.name.clone(), serde_json::Value::String(v));
            }
            None if arg.required => {
                let what = arg
                    .description
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default();
                return Err(format!(
                    "the required argument `{}`{what} is missing; {}",
                    arg.name,
                    usage()
                ));
            }
            None => {}
        }
    }
    Ok(out)
}

fn service_message(e: &ServiceError) -> String {
    match e {
        ServiceError::McpError(e) => format!(
            "the server refused it: {} (code {})",
            short_error(&e.message),
            e.code.0
        ),
        other => short_error(&other.to_string()),
    }
}

impl McpManager {
    /// The prompts of every ready server that declares the prompts capability, in
    /// configuration order. A server that fails to list (or takes longer than
    /// [`PROMPT_TIMEOUT`]) is left out.
    pub async fn prompts(&self) -> Vec<McpPrompt> {
        let mut lists = tokio::task::JoinSet::new();
        for (index, s) in self.servers.iter().enumerate() {
            if s.state() != ServerState::Ready {
                continue;
            }
            let Some(peer) = s.peer.lock().ok().and_then(|p| p.clone()) else {
                continue;
            };
            let offers = peer
                .peer_info()
                .is_some_and(|i| i.capabilities.prompts.is_some());
            if !offers {
                continue;
            }
            let server = s.config.name.clone();
            lists.spawn(async move {
                let listed = tokio::time::timeout(PROMPT_TIMEOUT, peer.list_all_prompts()).await;
                let prompts: Vec<McpPrompt> = match listed {
                    Ok(Ok(prompts)) => prompts
                        .into_iter()
                        .map(|p| McpPrompt {
                            name: qualified(&server, &p.name),
                            server: server.clone(),
                            description: p.description.or(p.title).unwrap_or_default(),
                            arguments: p
                                .arguments
                                .unwrap_or_default()
                                .into_iter()
                                .map(|a| PromptArg {
                                    name: a.name,
                                    description: a.description,
                                    required: a.required.unwrap_or(false),
                                })
                                .collect(),
                            prompt: p.name,
                        })
                        .collect(),
                    Ok(Err(_)) | Err(_) => Vec::new(),
                };
                (index, prompts)
            });
        }
        let mut done: Vec<(usize, Vec<McpPrompt>)> = lists.join_all().await;
        done.sort_by_key(|(i, _)| *i);
        done.into_iter().flat_map(|(_, p)| p).collect()
    }

    /// `prompts/get` for the prompt offered as `name`, with `typed` mapped onto its declared
    /// arguments ([`map_arguments`]); its messages as text.
    pub async fn get_prompt(
        &self,
        name: &str,
        typed: &str,
    ) -> Result<Vec<PromptMessage>, PromptError> {
        let prompt = self
            .prompts()
            .await
            .into_iter()
            .find(|p| p.name == name)
            .ok_or_else(|| PromptError::Unknown(name.to_string()))?;
        let arguments =
            map_arguments(&prompt.arguments, typed).map_err(|reason| PromptError::Arguments {
                name: prompt.name.clone(),
                reason,
            })?;
        let server = self
            .servers
            .iter()
            .find(|s| s.config.name == prompt.server)
            .ok_or_else(|| PromptError::Unknown(name.to_string()))?;
        let peer = server
            .peer
            .lock()
            .ok()
            .and_then(|p| p.clone())
            .ok_or_else(|| PromptError::NotReady {
                server: prompt.server.clone(),
            })?;
        let mut params = GetPromptRequestParams::new(prompt.prompt.clone());
        if !arguments.is_empty() {
            params.arguments = Some(arguments);
        }
        let failed = |message: String| PromptError::Failed {
            server: prompt.server.clone(),
            prompt: prompt.prompt.clone(),
            message,
        };
        let result = match tokio::time::timeout(PROMPT_TIMEOUT, peer.get_prompt(params)).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => return Err(failed(service_message(&e))),
            Err(_) => {
                return Err(failed(format!(
                    "no answer within {} s",
                    PROMPT_TIMEOUT.as_secs()
                )));
            }
        };
        Ok(result
            .messages
            .iter()
            .map(|m| PromptMessage {
                role: match m.role {
                    rmcp::model::Role::User => PromptRole::User,
                    rmcp::model::Role::Assistant => PromptRole::Assistant,
                },
                text: crate::content::block_text(&m.content),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arg(name: &str, required: bool) -> PromptArg {
        PromptArg {
            name: name.into(),
            description: Some(format!("the {name}")),
            required,
        }
    }

    #[test]
    fn arguments_by_name_or_position() {
        let d = [arg("city", true), arg("state", false)];
        let m = map_arguments(&d, "Paris").unwrap();
        assert_eq!(
            serde_json::Value::Object(m),
            serde_json::json!({"city": "Paris"})
        );
        let m = map_arguments(&d, "state=TX 'San Antonio'").unwrap();
        assert_eq!(
            serde_json::Value::Object(m),
            serde_json::json!({"city": "San Antonio", "state": "TX"})
        );
        let m = map_arguments(&d, "\"New York\" NY").unwrap();
        assert_eq!(
            serde_json::Value::Object(m),
            serde_json::json!({"city": "New York", "state": "NY"})
        );
        // A `=` in a value whose key is not declared is just a value.
        let m = map_arguments(&d, "a=b").unwrap();
        assert_eq!(
            serde_json::Value::Object(m),
            serde_json::json!({"city": "a=b"})
        );
    }

    #[test]
    fn argument_errors_name_the_arguments() {
        let d = [arg("city", true), arg("state", false)];
        let e = map_arguments(&d, "").unwrap_err();
        assert_eq!(
            e,
            "the required argument `city` (the city) is missing; its arguments: city, state (optional)"
        );
        let e = map_arguments(&d, "a b c").unwrap_err();
        assert!(
            e.starts_with("too many arguments (`c` is left over)"),
            "{e}"
        );
        let e = map_arguments(&d, "city=a city=b").unwrap_err();
        assert_eq!(e, "`city` is given twice");
        assert_eq!(
            map_arguments(&[], "x").unwrap_err(),
            "too many arguments (`x` is left over); it takes no arguments"
        );
        assert!(map_arguments(&d, "'open").is_err());
        assert!(map_arguments(&[], "  ").unwrap().is_empty());
    }

    #[test]
    fn the_hint_marks_optional_arguments() {
        let p = McpPrompt {
            name: "mcp__s__p".into(),
            server: "s".into(),
            prompt: "p".into(),
            description: String::new(),
            arguments: vec![arg("city", true), arg("state", false)],
        };
        assert_eq!(p.argument_hint(), "<city> [state]");
    }
}
