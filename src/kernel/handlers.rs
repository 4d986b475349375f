//! What the kernel answers on its shell and control channels. Every request
//! is wrapped in `status: busy` / `idle` broadcasts; shell requests are
//! handled one at a time, in order, while control (interrupt, shutdown)
//! is answered at once, even during a long cell.

use super::comm::Comms;
use super::execute::{CellOutcome, help_page, help_request, run_cell, unavailable};
use super::executor::CodeThread;
use super::history::History;
use super::messages::{
    child_of, dropped, error_output, execute_result, history_query, kernel_info, message_type,
    raw_reply,
};
use super::output::Broadcaster;
use crate::runtime::{Completeness, ScriptError};
use jupyter_protocol::{
    CompleteReply, CompleteRequest, ExecuteInput, ExecuteReply, ExecuteRequest, ExecutionCount,
    HistoryReply, InspectReply, InspectRequest, InterruptReply, IsCompleteReply, JupyterMessage,
    JupyterMessageContent, Media, MediaType, ReplyError, ReplyStatus, ShutdownReply,
};
use jupyter_zmq_client::Connection;
use std::sync::Arc;
use tokio::sync::{Notify, mpsc};

/// How long after a failed cell the execute requests sent before the
/// failure may still arrive and be aborted (see `Shell::abort_queued`).
const STOP_ON_ERROR_GRACE: std::time::Duration = std::time::Duration::from_millis(200);

/// What the shell loop does after a request.
#[derive(Debug, PartialEq, Eq)]
enum Flow {
    Continue,
    /// A cell failed with `stop_on_error`: the execute requests already
    /// queued are answered `aborted` (as in ipykernel, "Run All" stops there).
    AbortQueued,
    Stop,
}

/// Shared by both channels: the code thread, iopub, and the shutdown signal.
pub struct Kernel {
    /// The thread that owns the session.
    pub code: CodeThread,
    /// Broadcasts, and the session's output.
    pub iopub: Arc<Broadcaster>,
    /// Notified once a shutdown has been answered; the process then exits.
    pub shutdown: Notify,
}

impl Kernel {
    /// Stops the running cell (also one waiting for input); variables stay.
    pub fn interrupt(&self) {
        self.code.interrupt();
        self.iopub.cancel_input();
    }

    /// Answers a shutdown request (restart or not: a restart is the client
    /// starting a new process, which is a fresh session) and stops the kernel.
    async fn shut_down<S: zeromq::SocketSend>(
        &self,
        request: &JupyterMessage,
        restart: bool,
        replies: &mut Connection<S>,
    ) {
        self.interrupt();
        send(
            replies,
            child_of(
                request,
                ShutdownReply {
                    restart,
                    status: ReplyStatus::Ok,
                    error: None,
                },
            ),
        )
        .await;
        self.iopub.status(request, false);
        self.iopub.flush().await;
        self.shutdown.notify_one();
    }
}

async fn send<S: zeromq::SocketSend>(replies: &mut Connection<S>, reply: JupyterMessage) {
    if let Err(error) = replies.send(reply).await {
        eprintln!("cleope kernel: cannot send a reply: {error}");
    }
}

/// The shell channel: code, completion, help, history.
pub struct Shell<S> {
    kernel: Arc<Kernel>,
    replies: Connection<S>,
    history: History,
    execution_count: usize,
    comms: Comms,
}

impl<S: zeromq::SocketSend> Shell<S> {
    /// A shell handler answering through `replies`, recording in `history`.
    pub fn new(kernel: Arc<Kernel>, replies: Connection<S>, history: History) -> Self {
        Self {
            kernel,
            replies,
            history,
            execution_count: 0,
            comms: Comms::default(),
        }
    }

    /// Handles requests in the order they arrived until a shutdown.
    pub async fn serve(mut self, mut requests: mpsc::UnboundedReceiver<JupyterMessage>) {
        while let Some(request) = requests.recv().await {
            let mut flow = self.dispatch(&request).await;
            while flow == Flow::AbortQueued {
                flow = self.abort_queued(&mut requests).await;
            }
            if flow == Flow::Stop {
                return;
            }
        }
    }

    async fn dispatch(&mut self, request: &JupyterMessage) -> Flow {
        self.kernel.iopub.status(request, true);
        let flow = self.handle(request).await;
        if flow != Flow::Stop {
            self.kernel.iopub.status(request, false);
        }
        flow
    }

    /// Answers `aborted` to the execute requests sent before a cell failed
    /// ("Run All" sends every cell at once, as ipykernel aborts them), also
    /// those still on their way from the socket on a loaded machine: for
    /// [`STOP_ON_ERROR_GRACE`], a request created before the failure (its
    /// header's date) is aborted. One created after it (the learner read
    /// the error and runs a cell) runs, and its flow is returned; other
    /// requests are served as usual.
    async fn abort_queued(
        &mut self,
        requests: &mut mpsc::UnboundedReceiver<JupyterMessage>,
    ) -> Flow {
        let failed_at = chrono::Utc::now();
        let until = tokio::time::Instant::now() + STOP_ON_ERROR_GRACE;
        while let Ok(Some(request)) = tokio::time::timeout_at(until, requests.recv()).await {
            let sent_before_the_failure = request.header.date <= failed_at;
            if message_type(&request) == "execute_request" && sent_before_the_failure {
                self.kernel.iopub.status(&request, true);
                let reply = ExecuteReply {
                    status: ReplyStatus::Aborted,
                    execution_count: ExecutionCount::new(self.execution_count),
                    ..Default::default()
                };
                self.reply(&request, reply).await;
                self.kernel.iopub.status(&request, false);
                continue;
            }
            let flow = self.dispatch(&request).await;
            if flow != Flow::Continue || message_type(&request) == "execute_request" {
                return flow;
            }
        }
        Flow::Continue
    }

    async fn handle(&mut self, request: &JupyterMessage) -> Flow {
        use JupyterMessageContent as C;
        match &request.content {
            C::ExecuteRequest(execute) => return self.execute(request, execute).await,
            C::KernelInfoRequest(_) => self.reply(request, kernel_info()).await,
            C::CompleteRequest(complete) => self.complete(request, complete).await,
            C::InspectRequest(inspect) => self.inspect(request, inspect).await,
            C::IsCompleteRequest(check) => self.is_complete(request, check.code.clone()).await,
            C::CommInfoRequest(info) => {
                let reply = self.comms.info(&self.kernel, info).await;
                self.reply(request, reply).await;
            }
            C::ShutdownRequest(shutdown) => {
                let kernel = Arc::clone(&self.kernel);
                kernel
                    .shut_down(request, shutdown.restart, &mut self.replies)
                    .await;
                return Flow::Stop;
            }
            _ if message_type(request) == "history_request" => self.history(request).await,
            C::CommOpen(open) => self.comms.open(&self.kernel, request, open),
            C::CommMsg(message) => self.comms.message(&self.kernel, request, message).await,
            C::CommClose(close) => self.comms.close(&self.kernel, close).await,
            _ => self.unsupported(request).await,
        }
        Flow::Continue
    }

    async fn reply(&mut self, request: &JupyterMessage, content: impl Into<JupyterMessageContent>) {
        send(&mut self.replies, child_of(request, content)).await;
    }

    async fn execute(&mut self, request: &JupyterMessage, execute: &ExecuteRequest) -> Flow {
        let stored = execute.store_history && !execute.silent;
        if stored {
            self.execution_count += 1;
        }
        let count = self.execution_count;
        if !execute.silent {
            let input = ExecuteInput {
                code: execute.code.clone(),
                execution_count: ExecutionCount::new(count),
            };
            self.kernel.iopub.send(request, input);
        }
        let outcome = self.run(request, execute, count).await;
        if stored {
            let shown = outcome.result.as_ref().ok().and_then(Option::as_ref);
            let output = shown.map(|item| item.plain.clone());
            self.history.record(count, &execute.code, output);
        }
        match outcome.result {
            Ok(item) => {
                if let Some(item) = item.filter(|_| !execute.silent) {
                    let result = execute_result(count, &item);
                    self.kernel.iopub.send(request, result);
                }
                let reply = ExecuteReply {
                    status: ReplyStatus::Ok,
                    execution_count: ExecutionCount::new(count),
                    payload: outcome.payload,
                    user_expressions: Some(outcome.user_expressions),
                    error: None,
                };
                self.reply(request, reply).await;
                Flow::Continue
            }
            Err(error) => {
                self.report_error(request, count, &error).await;
                if execute.stop_on_error {
                    Flow::AbortQueued
                } else {
                    Flow::Continue
                }
            }
        }
    }

    /// Runs the cell on the code thread, its output parented to `request`.
    async fn run(
        &self,
        request: &JupyterMessage,
        execute: &ExecuteRequest,
        count: usize,
    ) -> CellOutcome {
        let source = if count > 0 {
            format!("cell[{count}]")
        } else {
            "cell".to_string()
        };
        let code = execute.code.clone();
        let expressions = execute.user_expressions.clone().unwrap_or_default();
        let iopub = Arc::clone(&self.kernel.iopub);
        let parent = request.clone();
        let work = move |session: &mut crate::runtime::Session| {
            if let Some(name) = help_request(&code) {
                return help_page(session, name);
            }
            iopub.set_executing(Some(parent));
            let outcome = run_cell(session, &source, &code, &expressions);
            iopub.set_executing(None);
            outcome
        };
        self.kernel
            .code
            .call(work)
            .await
            .unwrap_or_else(unavailable)
    }

    async fn report_error(&mut self, request: &JupyterMessage, count: usize, error: &ScriptError) {
        let output = error_output(error);
        let reply = ExecuteReply {
            status: ReplyStatus::Error,
            execution_count: ExecutionCount::new(count),
            payload: Vec::new(),
            user_expressions: Some(Default::default()),
            error: Some(Box::new(ReplyError {
                ename: output.ename.clone(),
                evalue: output.evalue.clone(),
                traceback: output.traceback.clone(),
            })),
        };
        self.kernel.iopub.send(request, output);
        self.reply(request, reply).await;
    }

    async fn complete(&mut self, request: &JupyterMessage, complete: &CompleteRequest) {
        let code = complete.code.clone();
        let cursor = byte_offset(&code, complete.cursor_pos);
        let completion = self
            .kernel
            .code
            .call(move |session| {
                let completion = session.completions(&code, cursor);
                let word = &code[completion.start..cursor];
                let mut candidates = completion.candidates;
                // Names the cell itself declares, before it has run.
                for name in declared_names(&code[..completion.start]) {
                    if name.starts_with(word) && !candidates.contains(&name) {
                        candidates.push(name);
                    }
                }
                candidates.sort();
                let start = code[..completion.start].chars().count();
                (start, candidates)
            })
            .await;
        let (cursor_start, matches) = completion.unwrap_or((complete.cursor_pos, Vec::new()));
        let reply = CompleteReply {
            matches,
            cursor_start,
            cursor_end: complete.cursor_pos,
            metadata: Default::default(),
            status: ReplyStatus::Ok,
            error: None,
        };
        self.reply(request, reply).await;
    }

    async fn inspect(&mut self, request: &JupyterMessage, inspect: &InspectRequest) {
        let name = name_at(&inspect.code, inspect.cursor_pos);
        // JupyterLab's inspector renders the Markdown; the plain text is for
        // consoles and pagers.
        let help = self
            .kernel
            .code
            .call(move |session| {
                let plain = session.help(&name)?;
                Some((plain, session.help_markdown(&name)))
            })
            .await
            .ok()
            .flatten();
        let data = match &help {
            Some((plain, markdown)) => std::iter::once(MediaType::Plain(plain.clone()))
                .chain(markdown.clone().map(MediaType::Markdown))
                .collect(),
            None => Vec::new(),
        };
        let reply = InspectReply {
            found: help.is_some(),
            data: Media::new(data),
            metadata: Default::default(),
            status: ReplyStatus::Ok,
            error: None,
        };
        self.reply(request, reply).await;
    }

    async fn is_complete(&mut self, request: &JupyterMessage, code: String) {
        let indent = next_indent(&code);
        let answer = self
            .kernel
            .code
            .call(move |session| session.is_complete(&code))
            .await;
        let reply = match answer {
            Ok(Completeness::Complete) => IsCompleteReply::complete(),
            Ok(Completeness::Incomplete) => IsCompleteReply::incomplete(indent),
            Ok(Completeness::Invalid(_)) => IsCompleteReply::invalid(),
            Err(_) => IsCompleteReply::unknown(),
        };
        self.reply(request, reply).await;
    }

    async fn history(&mut self, request: &JupyterMessage) {
        let history = history_query(request)
            .map(|(query, output)| self.history.answer(&query, output))
            .unwrap_or_default();
        self.reply(request, HistoryReply::new(history)).await;
    }

    async fn unsupported(&mut self, request: &JupyterMessage) {
        if let Some(reply) = unsupported_reply(request) {
            send(&mut self.replies, reply).await;
        }
    }
}

/// Requests this kernel does not know are logged and get an error reply,
/// so that no client waits for an answer that never comes.
fn unsupported_reply(request: &JupyterMessage) -> Option<JupyterMessage> {
    let msg_type = message_type(request);
    eprintln!("cleope kernel: no handler for {msg_type}");
    let kind = msg_type.strip_suffix("_request")?;
    let content = serde_json::json!({
        "status": "error",
        "ename": "UnsupportedRequest",
        "evalue": format!("cleope does not support {msg_type}"),
        "traceback": [],
    });
    Some(raw_reply(request, &format!("{kind}_reply"), content))
}

/// The control channel: answered at once, even while a cell runs.
pub async fn serve_control(
    kernel: Arc<Kernel>,
    mut control: jupyter_zmq_client::KernelControlConnection,
) {
    use JupyterMessageContent as C;
    loop {
        let request = match super::messages::receive(&mut control).await {
            Ok(request) => request,
            Err(error) => {
                dropped("control", &error).await;
                continue;
            }
        };
        kernel.iopub.status(&request, true);
        match &request.content {
            C::InterruptRequest(_) => {
                kernel.interrupt();
                send(&mut control, child_of(&request, InterruptReply::new())).await;
            }
            C::KernelInfoRequest(_) => send(&mut control, child_of(&request, kernel_info())).await,
            C::ShutdownRequest(shutdown) => {
                kernel
                    .shut_down(&request, shutdown.restart, &mut control)
                    .await;
                return;
            }
            _ => {
                if let Some(reply) = unsupported_reply(&request) {
                    send(&mut control, reply).await;
                }
            }
        }
        kernel.iopub.status(&request, false);
    }
}

/// Byte offset of the `chars`-th character (Jupyter counts cursor
/// positions in Unicode characters).
fn byte_offset(code: &str, chars: usize) -> usize {
    code.char_indices()
        .nth(chars)
        .map_or(code.len(), |(i, _)| i)
}

/// The name a help request is about: the identifier under or just before
/// the cursor, or the function whose call the cursor is in (`read_csv(|`).
fn name_at(code: &str, cursor_chars: usize) -> String {
    let is_name = |c: char| c.is_alphanumeric() || c == '_';
    let chars: Vec<char> = code.chars().collect();
    let mut end = cursor_chars.min(chars.len());
    while end < chars.len() && is_name(chars[end]) {
        end += 1;
    }
    // Step back over an open call to the function being called.
    while end > 0 && !is_name(chars[end - 1]) && matches!(chars[end - 1], '(' | ' ') {
        end -= 1;
    }
    let mut start = end;
    while start > 0 && is_name(chars[start - 1]) {
        start -= 1;
    }
    chars[start..end].iter().collect()
}

/// The names `let`, `const` and `fn` declare in `code` (a word scan: text
/// in strings may add a candidate, which is harmless for completion).
fn declared_names(code: &str) -> Vec<String> {
    let words: Vec<&str> = code
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    words
        .windows(2)
        .filter(|pair| matches!(pair[0], "let" | "const" | "fn"))
        .map(|pair| pair[1].to_string())
        .filter(|name| !name.starts_with(|c: char| c.is_ascii_digit()))
        .collect()
}

/// Indentation for the next line of unfinished code: that of the last
/// line, one level deeper after an opening bracket.
fn next_indent(code: &str) -> String {
    let last = code.lines().last().unwrap_or("");
    let current: String = last.chars().take_while(|c| c.is_whitespace()).collect();
    if last.trim_end().ends_with(['{', '(', '[']) {
        format!("{current}    ")
    } else {
        current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_positions_count_characters() {
        assert_eq!(byte_offset("é = 1", 1), 2);
        assert_eq!(byte_offset("ab", 9), 2);
    }

    #[test]
    fn help_is_for_the_name_at_or_before_the_cursor() {
        assert_eq!(name_at("read_csv", 3), "read_csv");
        assert_eq!(name_at("let t = read_csv(", 17), "read_csv");
        assert_eq!(name_at("x.len()", 7), "");
        assert_eq!(name_at("print(x)", 0), "print");
    }

    #[test]
    fn declared_names_are_found_before_the_cell_runs() {
        let code = "let scenes = [];\nconst MAX = 3;\nfn ndvi(r, n) { let t = 1; }";
        assert_eq!(declared_names(code), ["scenes", "MAX", "ndvi", "t"]);
    }

    #[test]
    fn unfinished_blocks_indent_one_level_deeper() {
        assert_eq!(next_indent("fn f(x) {"), "    ");
        assert_eq!(next_indent("fn f(x) {\n    let y = [1,"), "    ");
        assert_eq!(next_indent("let a = (\n        1 +"), "        ");
    }
}
