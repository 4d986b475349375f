//! Jupyter messages in and out: checking signatures, decoding requests
//! leniently, and building replies and broadcasts.

use super::history::Query;
use jupyter_protocol::{
    CodeMirrorMode, DisplayData, ErrorOutput, ExecuteResult, ExecutionCount, Header, HelpLink,
    JupyterMessage, JupyterMessageContent, KernelInfoReply, LanguageInfo, Media, MediaType,
    ReplyStatus, Transient, UnknownMessage, UpdateDisplayData,
};
use jupyter_zmq_client::{Connection, RawMessage, RuntimeError};
use serde_json::Value;

use crate::runtime::ScriptError;
use crate::runtime::display::DisplayItem;

/// The messaging protocol version the kernel speaks.
pub const PROTOCOL_VERSION: &str = "5.3";

/// The Rhai release cleope embeds (kept in step with Cargo.toml by a test).
pub const RHAI_VERSION: &str = "1.27";

/// Why an incoming message was dropped.
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    #[error("its signature does not match the connection key")]
    BadSignature,
    #[error("it is not a Jupyter message: {0}")]
    Malformed(String),
    #[error("the socket failed: {0}")]
    Socket(String),
}

/// Receives the next message on a kernel socket, checking its HMAC-SHA256
/// signature (in constant time, by `ring`) before reading anything else.
pub async fn receive<S: zeromq::SocketRecv>(
    connection: &mut Connection<S>,
) -> Result<JupyterMessage, ReceiveError> {
    let multipart = connection
        .socket
        .recv()
        .await
        .map_err(|e| ReceiveError::Socket(e.to_string()))?;
    let raw = RawMessage::from_multipart(multipart, &connection.mac).map_err(|e| match e {
        RuntimeError::VerifyError(_) | RuntimeError::DecodeError(_) => ReceiveError::BadSignature,
        other => ReceiveError::Malformed(other.to_string()),
    })?;
    decode(raw)
}

/// Logs a message dropped on `channel`; after a socket failure, waits a
/// little so that a socket that keeps failing does not spin the kernel.
pub async fn dropped(channel: &str, error: &ReceiveError) {
    eprintln!("cleope kernel: dropped a {channel} message: {error}");
    if matches!(error, ReceiveError::Socket(_)) {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Builds a message from its verified parts. Content that the typed
/// decoder rejects (e.g. a `history_request` without the optional `unique`)
/// is kept as raw JSON, so that every request can still be answered.
fn decode(raw: RawMessage) -> Result<JupyterMessage, ReceiveError> {
    let malformed = |e: serde_json::Error| ReceiveError::Malformed(e.to_string());
    let header: Header = serde_json::from_slice(&raw.jparts[0]).map_err(malformed)?;
    let parent_header = serde_json::from_slice::<Header>(&raw.jparts[1]).ok();
    let metadata: Value = serde_json::from_slice(&raw.jparts[2]).map_err(malformed)?;
    let content: Value = serde_json::from_slice(&raw.jparts[3]).map_err(malformed)?;
    let content = JupyterMessageContent::from_type_and_content(&header.msg_type, content.clone())
        .unwrap_or_else(|_| {
            JupyterMessageContent::UnknownMessage(UnknownMessage {
                msg_type: header.msg_type.clone(),
                content,
            })
        });
    Ok(JupyterMessage {
        zmq_identities: raw.zmq_identities,
        header,
        parent_header,
        metadata,
        content,
        buffers: raw.jparts[4..].to_vec(),
        channel: None,
    })
}

/// A message caused by `parent`: a reply (same routing identities) or a
/// broadcast about it.
pub fn child_of(
    parent: &JupyterMessage,
    content: impl Into<JupyterMessageContent>,
) -> JupyterMessage {
    let mut message = JupyterMessage::new(content, Some(parent));
    message.header.username = parent.header.username.clone();
    message
}

/// A message for the iopub channel: parented, without routing identities
/// (on a PUB socket they would be read as a topic).
pub fn broadcast(
    parent: &JupyterMessage,
    content: impl Into<JupyterMessageContent>,
) -> JupyterMessage {
    let mut message = child_of(parent, content);
    message.zmq_identities.clear();
    message
}

/// A reply whose content has no typed form in `jupyter-protocol`.
pub fn raw_reply(parent: &JupyterMessage, msg_type: &str, content: Value) -> JupyterMessage {
    child_of(
        parent,
        UnknownMessage {
            msg_type: msg_type.to_string(),
            content,
        },
    )
}

/// The message type of a request (also for requests kept as raw JSON).
pub fn message_type(message: &JupyterMessage) -> &str {
    &message.header.msg_type
}

/// The description of the kernel a front-end asks for first.
pub fn kernel_info() -> KernelInfoReply {
    let link = |text: &str, url: &str| HelpLink {
        text: text.to_string(),
        url: url.to_string(),
    };
    KernelInfoReply {
        status: ReplyStatus::Ok,
        protocol_version: PROTOCOL_VERSION.to_string(),
        implementation: "cleope".to_string(),
        implementation_version: env!("CARGO_PKG_VERSION").to_string(),
        language_info: LanguageInfo {
            name: "rhai".to_string(),
            version: RHAI_VERSION.to_string(),
            mimetype: Some("text/x-rhai".to_string()),
            file_extension: Some(".rhai".to_string()),
            // No highlighter knows Rhai; its syntax is closest to JavaScript's.
            pygments_lexer: Some("javascript".to_string()),
            codemirror_mode: Some(CodeMirrorMode::Simple("javascript".to_string())),
            nbconvert_exporter: Some("script".to_string()),
        },
        banner: format!(
            "cleope {}: Rhai {RHAI_VERSION} for Earth-observation teaching.\n\
             Shift-Tab on a function name shows its documentation and an example.{}",
            env!("CARGO_PKG_VERSION"),
            crate::sandbox::wall::status()
                .and_then(|status| status.warning())
                .map(|warning| format!("\n{warning}"))
                .unwrap_or_default()
        ),
        help_links: vec![
            link("Rhai language book", "https://rhai.rs/book/"),
            link(
                "Rhai language reference",
                "https://rhai.rs/book/language/index.html",
            ),
        ],
        debugger: false,
        error: None,
    }
}

/// The MIME bundle of a display: plain text always, HTML and PNG when present.
pub fn media_of(item: &DisplayItem) -> Media {
    let mut content = vec![MediaType::Plain(item.plain.clone())];
    if let Some(html) = &item.html {
        content.push(MediaType::Html(html.clone()));
    }
    if let Some(png) = &item.png {
        content.push(MediaType::Png(data_encoding::BASE64.encode(png)));
    }
    if let Some(id) = &item.widget {
        content.push(MediaType::WidgetView(Value::Object(
            crate::runtime::widgets::view_json(id),
        )));
    }
    Media::new(content)
}

/// `display_data`, or `update_display_data` when `update` is set.
pub fn display_content(item: &DisplayItem, update: bool) -> JupyterMessageContent {
    let transient = Transient {
        display_id: item.display_id.clone(),
    };
    if update {
        UpdateDisplayData {
            data: media_of(item),
            metadata: Default::default(),
            transient,
        }
        .into()
    } else {
        DisplayData {
            data: media_of(item),
            metadata: Default::default(),
            transient: item.display_id.is_some().then_some(transient),
        }
        .into()
    }
}

/// The value of a cell, as `execute_result`.
pub fn execute_result(count: usize, item: &DisplayItem) -> ExecuteResult {
    ExecuteResult {
        execution_count: ExecutionCount::new(count),
        data: media_of(item),
        metadata: Default::default(),
        // Serialised as `{}`: validators reject a `null` transient.
        transient: Some(Transient::default()),
    }
}

/// A script error as Jupyter shows it: the report with the source line and
/// caret, one traceback line per report line, the first in red.
pub fn error_output(error: &ScriptError) -> ErrorOutput {
    let report = error.to_string();
    let mut lines = report.lines().map(str::to_string);
    let first = lines.next().unwrap_or_default();
    let traceback = std::iter::once(format!("\x1b[1;31m{first}\x1b[0m"))
        .chain(lines)
        .collect();
    ErrorOutput {
        ename: error.name.clone(),
        evalue: error.message.clone(),
        traceback,
    }
}

/// Reads a `history_request`, with IPython's defaults for missing fields.
pub fn history_query(message: &JupyterMessage) -> Option<(Query, bool)> {
    let content = serde_json::to_value(&message.content).ok()?;
    let number = |key: &str| content.get(key).and_then(Value::as_i64);
    let output = content
        .get("output")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let query = match content.get("hist_access_type").and_then(Value::as_str)? {
        "tail" => Query::Tail {
            n: number("n").unwrap_or(10).max(0) as usize,
        },
        "range" => Query::Range {
            session: number("session").unwrap_or(0),
            start: number("start").unwrap_or(0),
            stop: number("stop"),
        },
        "search" => Query::Search {
            pattern: content
                .get("pattern")
                .and_then(Value::as_str)
                .unwrap_or("*")
                .to_string(),
            unique: content
                .get("unique")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            n: number("n").and_then(|n| usize::try_from(n).ok()),
        },
        _ => return None,
    };
    Some((query, output))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rhai_version_matches_the_dependency() {
        let manifest = include_str!("../../Cargo.toml");
        let rhai = manifest
            .lines()
            .find(|line| line.starts_with("rhai = "))
            .expect("rhai dependency");
        assert!(
            rhai.contains(&format!("version = \"{RHAI_VERSION}\"")),
            "{rhai}"
        );
    }

    #[test]
    fn a_png_travels_base64_encoded_beside_the_text() {
        let item = DisplayItem::text("[image]").with_png(vec![0x89, b'P', b'N', b'G']);
        let json = serde_json::to_value(media_of(&item)).unwrap();
        assert_eq!(json["image/png"], "iVBORw==");
        assert_eq!(json["text/plain"], "[image]");
    }

    #[test]
    fn history_requests_without_optional_fields_get_defaults() {
        let request = JupyterMessage::new(
            UnknownMessage {
                msg_type: "history_request".into(),
                content: serde_json::json!({
                    "hist_access_type": "search", "pattern": "1 +*", "output": false, "raw": true
                }),
            },
            None,
        );
        let (query, output) = history_query(&request).unwrap();
        assert!(!output);
        assert_eq!(
            query,
            Query::Search {
                pattern: "1 +*".into(),
                unique: false,
                n: None
            }
        );
    }
}
