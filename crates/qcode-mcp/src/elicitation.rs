//! Answering a server's `elicitation/create`: the form is parsed into fields
//! ([`qcode_protocol::elicitation`]), then the session's [`ElicitationPolicy`] decides —
//! decline (headless runs: a notice names the server), accept with the schema's defaults
//! (`qcode mcp probe --elicitation accept-defaults`), or ask the user (the TUI's dialog). An
//! answer is validated against the fields before it is sent; an invalid one is declined.
//! URL-mode elicitations are declined (qcode does not open links a server chose).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use qcode_protocol::elicitation::{self, ElicitationAnswer, Field, clean_text};
use rmcp::model::{ElicitRequestParams, ElicitResult, ElicitationAction};

/// A server's request as the user is shown it (texts already free of control characters).
#[derive(Debug, Clone, PartialEq)]
pub struct ElicitationRequest {
    /// The server's configured name (who is asking).
    pub server: String,
    pub message: String,
    pub fields: Vec<Field>,
}

/// Something that asks the user (the TUI): resolves to their answer.
pub type Elicitor = Arc<
    dyn Fn(ElicitationRequest) -> Pin<Box<dyn Future<Output = ElicitationAnswer> + Send>>
        + Send
        + Sync,
>;

/// What a session does with an elicitation.
#[derive(Clone, Default)]
pub enum ElicitationPolicy {
    /// Decline, with a notice naming the server ([`crate::McpManager::take_notices`]).
    #[default]
    Decline,
    /// Accept with the schema's defaults (SEP-1034); declined (with a notice) when a required
    /// field has none.
    AcceptDefaults,
    /// Ask the user.
    Ask(Elicitor),
}

/// Notices for the user that happened outside any call's result (declined elicitations).
pub(crate) type Notices = Arc<Mutex<Vec<String>>>;

fn push(notices: &Notices, text: String) {
    if let Ok(mut n) = notices.lock() {
        n.push(text);
    }
}

fn answer(action: ElicitationAction) -> ElicitResult {
    ElicitResult::new(action)
}

/// The answer to one `elicitation/create` from `server`.
pub(crate) async fn respond(
    server: &str,
    params: ElicitRequestParams,
    policy: &ElicitationPolicy,
    notices: &Notices,
) -> ElicitResult {
    let (message, schema) = match params {
        ElicitRequestParams::FormElicitationParams {
            message,
            requested_schema,
            ..
        } => (message, serde_json::to_value(&requested_schema)),
        ElicitRequestParams::UrlElicitationParams { .. } => {
            push(
                notices,
                format!(
                    "MCP server `{server}` asked to open a link for input; qcode declined (URL elicitations are not supported)"
                ),
            );
            return answer(ElicitationAction::Decline);
        }
        // A mode newer than this SDK knows (the enum is non-exhaustive).
        _ => {
            push(
                notices,
                format!(
                    "MCP server `{server}` asked for input in a form qcode does not know; declined"
                ),
            );
            return answer(ElicitationAction::Decline);
        }
    };
    let fields = match schema
        .map_err(|e| e.to_string())
        .and_then(|s| elicitation::parse_schema(&s))
    {
        Ok(f) => f,
        Err(why) => {
            push(
                notices,
                format!(
                    "MCP server `{server}` asked for input qcode cannot show ({why}); declined"
                ),
            );
            return answer(ElicitationAction::Decline);
        }
    };
    let request = ElicitationRequest {
        server: server.to_string(),
        message: clean_text(&message),
        fields,
    };
    let given = match policy {
        ElicitationPolicy::Decline => {
            push(
                notices,
                format!(
                    "MCP server `{server}` asked for input (\"{}\"); declined: nobody can answer in this mode",
                    request.message
                ),
            );
            return answer(ElicitationAction::Decline);
        }
        ElicitationPolicy::AcceptDefaults => {
            ElicitationAnswer::Accept(elicitation::defaults(&request.fields))
        }
        ElicitationPolicy::Ask(ask) => ask(request.clone()).await,
    };
    match given {
        ElicitationAnswer::Accept(values) => {
            match elicitation::validate(&request.fields, &values) {
                Ok(content) => answer(ElicitationAction::Accept)
                    .with_content(serde_json::Value::Object(content)),
                Err(why) => {
                    push(
                        notices,
                        format!("MCP server `{server}` asked for input; declined: {why}"),
                    );
                    answer(ElicitationAction::Decline)
                }
            }
        }
        ElicitationAnswer::Decline => answer(ElicitationAction::Decline),
        ElicitationAnswer::Cancel => answer(ElicitationAction::Cancel),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmcp::model::ElicitationSchema;
    use serde_json::json;

    fn form(schema: serde_json::Value) -> ElicitRequestParams {
        ElicitRequestParams::FormElicitationParams {
            meta: None,
            message: "Your\u{1b}[2J details".into(),
            requested_schema: serde_json::from_value::<ElicitationSchema>(schema).unwrap(),
        }
    }

    fn wire(r: &ElicitResult) -> serde_json::Value {
        serde_json::to_value(r).unwrap()
    }

    #[tokio::test]
    async fn defaults_are_sent_declines_are_noticed_and_answers_validated() {
        let schema = json!({"type": "object", "properties": {
            "name": {"type": "string", "default": "John Doe"},
            "age": {"type": "integer", "default": 30}}});
        let notices = Notices::default();
        let r = respond(
            "srv",
            form(schema.clone()),
            &ElicitationPolicy::AcceptDefaults,
            &notices,
        )
        .await;
        assert_eq!(
            wire(&r),
            json!({"action": "accept", "content": {"name": "John Doe", "age": 30}})
        );

        let r = respond(
            "srv",
            form(schema.clone()),
            &ElicitationPolicy::Decline,
            &notices,
        )
        .await;
        assert_eq!(wire(&r), json!({"action": "decline"}));
        let n = notices.lock().unwrap().clone();
        assert_eq!(n.len(), 1);
        assert!(
            n[0].starts_with("MCP server `srv` asked for input (\"Your [2J details\")"),
            "{n:?}"
        );

        // What the user sees, and an answer of the wrong type is never sent.
        let seen = Arc::new(Mutex::new(None));
        let s = seen.clone();
        let ask: Elicitor = Arc::new(move |req| {
            *s.lock().unwrap() = Some(req);
            Box::pin(async {
                ElicitationAnswer::Accept(json!({"age": "old"}).as_object().unwrap().clone())
            })
        });
        let r = respond(
            "srv",
            form(schema.clone()),
            &ElicitationPolicy::Ask(ask),
            &notices,
        )
        .await;
        assert_eq!(wire(&r), json!({"action": "decline"}));
        let req = seen.lock().unwrap().clone().unwrap();
        assert_eq!(req.server, "srv");
        assert_eq!(req.message, "Your [2J details");
        assert_eq!(req.fields.len(), 2);
        assert!(notices.lock().unwrap()[1].contains("age must be a whole number"));

        let cancel: Elicitor = Arc::new(|_| Box::pin(async { ElicitationAnswer::Cancel }));
        let r = respond(
            "srv",
            form(schema),
            &ElicitationPolicy::Ask(cancel),
            &notices,
        )
        .await;
        assert_eq!(wire(&r), json!({"action": "cancel"}));
    }

    #[tokio::test]
    async fn a_required_field_without_default_cannot_be_accepted_by_default() {
        let schema = json!({"type": "object", "properties": {"token": {"type": "string"}},
                            "required": ["token"]});
        let notices = Notices::default();
        let r = respond(
            "srv",
            form(schema),
            &ElicitationPolicy::AcceptDefaults,
            &notices,
        )
        .await;
        assert_eq!(wire(&r), json!({"action": "decline"}));
        assert!(notices.lock().unwrap()[0].contains("token is required"));
    }

    #[tokio::test]
    async fn url_elicitations_are_declined() {
        let notices = Notices::default();
        let params = ElicitRequestParams::UrlElicitationParams {
            meta: None,
            message: "log in".into(),
            url: "https://evil.example/".into(),
            elicitation_id: "1".into(),
        };
        let r = respond("srv", params, &ElicitationPolicy::AcceptDefaults, &notices).await;
        assert_eq!(wire(&r), json!({"action": "decline"}));
        assert!(notices.lock().unwrap()[0].contains("URL elicitations are not supported"));
    }
}
