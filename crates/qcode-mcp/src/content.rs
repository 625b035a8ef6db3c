//! A `tools/call` result as text for the model: text parts joined, `structuredContent` as JSON
//! (when the server sent no text saying the same), images and audio as a placeholder naming
//! type and size (until image input exists), embedded resources as their text (or a placeholder
//! for binary ones), resource links as URIs. `isError` makes it a tool error.

use rmcp::model::{CallToolResult, ContentBlock, ResourceContents};

/// What a tool call produced, for the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolOutput {
    pub text: String,
    /// The server said the call failed (`isError`): report it to the model as a tool error.
    pub is_error: bool,
}

/// Approximate decoded size of base64 data.
fn decoded_len(b64: &str) -> usize {
    let trimmed = b64.trim_end_matches('=').len();
    trimmed * 3 / 4
}

fn size(bytes: usize) -> String {
    if bytes < 1024 {
        format!("{bytes} B")
    } else if bytes < 1024 * 1024 {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
    }
}

pub(crate) fn block_text(block: &ContentBlock) -> String {
    match block {
        ContentBlock::Text(t) => t.text.clone(),
        ContentBlock::Image(i) => {
            format!("[image: {}, {}]", i.mime_type, size(decoded_len(&i.data)))
        }
        ContentBlock::Audio(a) => {
            format!("[audio: {}, {}]", a.mime_type, size(decoded_len(&a.data)))
        }
        ContentBlock::Resource(r) => match &r.resource {
            ResourceContents::TextResourceContents { uri, text, .. } => {
                format!("[resource {uri}]\n{text}")
            }
            ResourceContents::BlobResourceContents {
                uri,
                mime_type,
                blob,
                ..
            } => format!(
                "[resource {uri}: {}, {}]",
                mime_type.as_deref().unwrap_or("binary"),
                size(decoded_len(blob))
            ),
            other => unknown(other),
        },
        ContentBlock::ResourceLink(link) => match &link.description {
            Some(d) => format!("[resource link: {} — {}]", link.uri, d),
            None => format!("[resource link: {}]", link.uri),
        },
        other => unknown(other),
    }
}

/// A content kind newer than this client: named by its `type`, never dropped silently.
fn unknown(value: &impl serde::Serialize) -> String {
    let kind = serde_json::to_value(value)
        .ok()
        .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(String::from))
        .unwrap_or_else(|| "unknown".into());
    format!("[{kind} content]")
}

/// Converts a result (see the module docs).
pub fn to_output(result: &CallToolResult) -> ToolOutput {
    let mut parts: Vec<String> = result.content.iter().map(block_text).collect();
    if let Some(structured) = &result.structured_content {
        let json = serde_json::to_string(structured).unwrap_or_else(|_| "null".into());
        // Servers are asked to repeat structured content as text; do not send it twice.
        let repeated = parts
            .iter()
            .any(|p| serde_json::from_str::<serde_json::Value>(p).is_ok_and(|v| &v == structured));
        if !repeated {
            parts.push(json);
        }
    }
    let is_error = result.is_error.unwrap_or(false);
    let text = if parts.is_empty() {
        if is_error {
            "the tool reported an error without details".into()
        } else {
            "(the tool returned no content)".into()
        }
    } else {
        parts.join("\n")
    };
    ToolOutput { text, is_error }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: serde_json::Value) -> CallToolResult {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn every_kind_of_content_becomes_text() {
        let r = parse(json!({
            "content": [
                {"type": "text", "text": "hello"},
                {"type": "image", "data": "iVBORw0KGgo=", "mimeType": "image/png"},
                {"type": "audio", "data": "AAAA", "mimeType": "audio/wav"},
                {"type": "resource", "resource": {"uri": "file:///a.txt", "text": "body"}},
                {"type": "resource", "resource": {"uri": "file:///b.bin", "blob": "AAAAAAAA", "mimeType": "application/octet-stream"}},
                {"type": "resource_link", "uri": "file:///c", "name": "c"}
            ],
            "structuredContent": {"sum": 3}
        }));
        assert_eq!(
            to_output(&r),
            ToolOutput {
                text: "hello\n[image: image/png, 8 B]\n[audio: audio/wav, 3 B]\n[resource file:///a.txt]\nbody\n[resource file:///b.bin: application/octet-stream, 6 B]\n[resource link: file:///c]\n{\"sum\":3}".into(),
                is_error: false
            }
        );
    }

    #[test]
    fn structured_content_repeated_as_text_is_sent_once_and_errors_stay_errors() {
        let r = parse(json!({
            "content": [{"type": "text", "text": "{\"sum\": 3}"}],
            "structuredContent": {"sum": 3}
        }));
        assert_eq!(to_output(&r).text, "{\"sum\": 3}");
        let e =
            parse(json!({"content": [{"type": "text", "text": "no such file"}], "isError": true}));
        assert_eq!(
            to_output(&e),
            ToolOutput {
                text: "no such file".into(),
                is_error: true
            }
        );
        let empty = parse(json!({"content": [], "isError": true}));
        assert_eq!(
            to_output(&empty).text,
            "the tool reported an error without details"
        );
    }
}
