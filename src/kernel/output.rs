//! The iopub channel: everything the kernel broadcasts goes through one
//! queue to one task, so messages leave in the order they were made
//! (busy, execute_input, output, result, idle). The session's display sink
//! puts the cell's output on the same queue.

use super::messages::{broadcast, display_content};
use super::stdin::StdinBridge;
use crate::runtime::display::{DisplayItem, DisplaySink, Stream};
use crate::runtime::widgets::CommSink;
use jupyter_protocol::{
    ClearOutput, CommClose, CommId, CommMsg, CommOpen, IoPubWelcome, JupyterMessage,
    JupyterMessageContent, Status, Stdio, StreamContent,
};
use jupyter_zmq_client::{KernelIoPubXPubConnection, SubscriptionEvent};
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::Mutex;
use tokio::sync::{mpsc, oneshot};

/// Consecutive stream text is merged into one message up to this size, so a
/// loop printing thousands of lines does not flood the front-end.
const MAX_MERGED_STREAM_BYTES: usize = 64 * 1024;

enum Outgoing {
    Message(Box<JupyterMessage>),
    /// Answered once everything queued before it has been sent.
    Flush(oneshot::Sender<()>),
}

/// Puts broadcasts on the iopub queue. Also the session's display sink:
/// output goes out as a child of the request being executed, and input is
/// asked for through `stdin`.
pub struct Broadcaster {
    queue: mpsc::UnboundedSender<Outgoing>,
    executing: Arc<Mutex<Option<JupyterMessage>>>,
    /// The widgets' comms, sending on the same queue.
    comms: Arc<KernelComms>,
    /// The display ids the executing cell has shown (see `display`).
    shown_ids: Mutex<HashSet<String>>,
    stdin: StdinBridge,
}

impl Broadcaster {
    /// A broadcaster, and the task that sends what it queues on `iopub`.
    pub fn new(
        iopub: KernelIoPubXPubConnection,
        stdin: StdinBridge,
    ) -> (Self, impl Future<Output = ()>) {
        let (queue, outgoing) = mpsc::unbounded_channel();
        let executing = Arc::new(Mutex::new(None));
        let comms = Arc::new(KernelComms {
            queue: queue.clone(),
            executing: Arc::clone(&executing),
        });
        let broadcaster = Self {
            queue,
            executing,
            comms,
            shown_ids: Mutex::new(HashSet::new()),
            stdin,
        };
        (broadcaster, publish(iopub, outgoing))
    }

    /// Ends a wait for input: the cell is being interrupted.
    pub fn cancel_input(&self) {
        self.stdin.cancel();
    }

    /// Broadcasts a message made elsewhere (a comm message with metadata or
    /// buffers).
    pub fn send_message(&self, message: JupyterMessage) {
        let _ = self.queue.send(Outgoing::Message(Box::new(message)));
    }

    /// Broadcasts `content` about `parent`.
    pub fn send(&self, parent: &JupyterMessage, content: impl Into<JupyterMessageContent>) {
        let message = broadcast(parent, content);
        // The publisher only stops when the kernel does.
        let _ = self.queue.send(Outgoing::Message(Box::new(message)));
    }

    /// `status: busy` or `idle` about `parent`.
    pub fn status(&self, parent: &JupyterMessage, busy: bool) {
        let status = if busy { Status::busy() } else { Status::idle() };
        self.send(parent, status);
    }

    /// Makes `request` the parent of the session's output (None: no cell runs).
    pub fn set_executing(&self, request: Option<JupyterMessage>) {
        *self.executing.lock().unwrap_or_else(|e| e.into_inner()) = request;
        self.forget_shown_ids();
    }

    /// True the first time the executing cell shows the display `id`.
    fn first_shown(&self, id: &str) -> bool {
        let mut shown = self.shown_ids.lock().unwrap_or_else(|e| e.into_inner());
        shown.insert(id.to_string())
    }

    fn forget_shown_ids(&self) {
        self.shown_ids
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Waits until everything queued so far has been sent.
    pub async fn flush(&self) {
        let (done, sent) = oneshot::channel();
        if self.queue.send(Outgoing::Flush(done)).is_ok() {
            let _ = sent.await;
        }
    }

    fn send_output(&self, content: impl Into<JupyterMessageContent>) {
        let executing = self.executing.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(parent) = executing.as_ref() {
            self.send(parent, content);
        }
    }
}

impl DisplaySink for Broadcaster {
    fn stream(&self, stream: Stream, text: &str) {
        let name = match stream {
            Stream::Stdout => Stdio::Stdout,
            Stream::Stderr => Stdio::Stderr,
        };
        self.send_output(StreamContent {
            name,
            text: text.to_string(),
        });
    }

    /// Shows `item`. A display id the cell has shown already is updated in
    /// place instead: Jupyter would show a second output under the same id
    /// and update both (a download's progress bar, started again for each
    /// file or retry, appeared twice).
    fn display(&self, item: &DisplayItem) {
        let again = item
            .display_id
            .as_deref()
            .is_some_and(|id| !self.first_shown(id));
        self.send_output(display_content(item, again));
    }

    fn shows_images(&self) -> bool {
        true
    }

    fn update_display(&self, item: &DisplayItem) {
        if item.display_id.is_some() {
            self.send_output(display_content(item, true));
        } else {
            self.display(item);
        }
    }

    fn clear_output(&self, wait: bool) {
        // The cleared displays are gone: their ids are shown anew.
        self.forget_shown_ids();
        self.send_output(ClearOutput { wait });
    }

    fn input(&self, prompt: &str, password: bool) -> Option<String> {
        let executing = self
            .executing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()?;
        self.stdin.ask(&executing, prompt, password)
    }

    fn comms(&self) -> Option<Arc<dyn CommSink>> {
        Some(Arc::clone(&self.comms) as Arc<dyn CommSink>)
    }
}

/// The kernel's end of the widgets' comms: comm messages on iopub, children
/// of the request being handled (a cell, or the front-end's message that
/// triggered a callback), in order with the cell's other output.
struct KernelComms {
    queue: mpsc::UnboundedSender<Outgoing>,
    executing: Arc<Mutex<Option<JupyterMessage>>>,
}

impl KernelComms {
    fn send(&self, content: JupyterMessageContent, metadata: Option<Value>, buffers: Vec<Vec<u8>>) {
        let parent = self
            .executing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut message = match &parent {
            Some(parent) => broadcast(parent, content),
            None => JupyterMessage::new(content, None),
        };
        if let Some(metadata) = metadata {
            message.metadata = metadata;
        }
        message.buffers = buffers.into_iter().map(Into::into).collect();
        let _ = self.queue.send(Outgoing::Message(Box::new(message)));
    }
}

impl CommSink for KernelComms {
    fn open(&self, comm_id: &str, target: &str, data: Map<String, Value>, metadata: Value) {
        let open = CommOpen {
            comm_id: CommId(comm_id.to_string()),
            target_name: target.to_string(),
            data,
            target_module: None,
        };
        self.send(open.into(), Some(metadata), Vec::new());
    }

    fn message(&self, comm_id: &str, data: Map<String, Value>, buffers: Vec<Vec<u8>>) {
        let message = CommMsg {
            comm_id: CommId(comm_id.to_string()),
            data,
        };
        self.send(message.into(), None, buffers);
    }

    fn close(&self, comm_id: &str) {
        let close = CommClose {
            comm_id: CommId(comm_id.to_string()),
            data: Map::new(),
        };
        self.send(close.into(), None, Vec::new());
    }

    fn parent_id(&self) -> Option<String> {
        let executing = self.executing.lock().unwrap_or_else(|e| e.into_inner());
        executing.as_ref().map(|m| m.header.msg_id.clone())
    }
}

/// Sends queued messages in order, merging runs of stream text.
async fn publish(
    mut iopub: KernelIoPubXPubConnection,
    mut queue: mpsc::UnboundedReceiver<Outgoing>,
) {
    let mut held: Option<Outgoing> = None;
    loop {
        let next = match held.take() {
            Some(next) => next,
            None => tokio::select! {
                subscription = iopub.recv_subscription() => {
                    welcome(&mut iopub, subscription).await;
                    continue;
                }
                next = queue.recv() => match next {
                    Some(next) => next,
                    None => return,
                },
            },
        };
        match next {
            Outgoing::Flush(done) => {
                let _ = done.send(());
            }
            Outgoing::Message(message) => {
                let (message, after) = merge_streams(*message, &mut queue);
                held = after;
                if let Err(error) = iopub.send(message).await {
                    eprintln!("cleope kernel: cannot publish on iopub: {error}");
                }
            }
        }
    }
}

/// Answers a client's subscription with `iopub_welcome` (JEP 65), so the
/// client knows its subscription is live and no output can be missed.
async fn welcome(
    iopub: &mut KernelIoPubXPubConnection,
    subscription: Result<SubscriptionEvent, jupyter_zmq_client::RuntimeError>,
) {
    match subscription {
        Ok(SubscriptionEvent::Subscribe(topic)) => {
            let mut message = JupyterMessage::new(IoPubWelcome::new(topic.clone()), None);
            // The topic goes first, as the subscriber's prefix filter needs
            // (an empty topic matches everything and needs no frame).
            if !topic.is_empty() {
                message.zmq_identities = vec![topic.into_bytes().into()];
            }
            if let Err(error) = iopub.send(message).await {
                eprintln!("cleope kernel: cannot welcome an iopub subscriber: {error}");
            }
        }
        Ok(SubscriptionEvent::Unsubscribe(_)) => {}
        Err(error) => eprintln!("cleope kernel: unreadable iopub subscription: {error}"),
    }
}

/// Appends the stream messages already queued behind `first` (same stream,
/// same parent) to it; returns the merged message and the first one that
/// did not fit.
fn merge_streams(
    mut first: JupyterMessage,
    queue: &mut mpsc::UnboundedReceiver<Outgoing>,
) -> (JupyterMessage, Option<Outgoing>) {
    let JupyterMessageContent::StreamContent(stream) = &mut first.content else {
        return (first, None);
    };
    let parent_id = first.parent_header.as_ref().map(|h| h.msg_id.clone());
    while stream.text.len() < MAX_MERGED_STREAM_BYTES {
        let Ok(next) = queue.try_recv() else { break };
        let same_stream = match &next {
            Outgoing::Message(message) => match &message.content {
                JupyterMessageContent::StreamContent(more)
                    if same_name(&more.name, &stream.name)
                        && message.parent_header.as_ref().map(|h| &h.msg_id)
                            == parent_id.as_ref() =>
                {
                    Some(more.text.clone())
                }
                _ => None,
            },
            Outgoing::Flush(_) => None,
        };
        match same_stream {
            Some(text) => stream.text.push_str(&text),
            None => return (first, Some(next)),
        }
    }
    (first, None)
}

fn same_name(a: &Stdio, b: &Stdio) -> bool {
    matches!(
        (a, b),
        (Stdio::Stdout, Stdio::Stdout) | (Stdio::Stderr, Stdio::Stderr)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use jupyter_protocol::ExecuteRequest;

    fn queued(parent: &JupyterMessage, content: impl Into<JupyterMessageContent>) -> Outgoing {
        Outgoing::Message(Box::new(broadcast(parent, content)))
    }

    fn text(message: &JupyterMessage) -> String {
        match &message.content {
            JupyterMessageContent::StreamContent(s) => s.text.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn runs_of_one_stream_merge_and_anything_else_stops_the_run() {
        let cell = JupyterMessage::new(ExecuteRequest::new("x".into()), None);
        let (tx, mut rx) = mpsc::unbounded_channel();
        for content in [
            StreamContent::stdout("b\n"),
            StreamContent::stdout("c\n"),
            StreamContent::stderr("oops\n"),
        ] {
            tx.send(queued(&cell, content)).unwrap();
        }
        let first = broadcast(&cell, StreamContent::stdout("a\n"));
        let (merged, held) = merge_streams(first, &mut rx);
        assert_eq!(text(&merged), "a\nb\nc\n");
        match held {
            Some(Outgoing::Message(m)) => assert_eq!(text(&m), "oops\n"),
            _ => panic!("the stderr message is held for the next send"),
        }
    }

    #[test]
    fn output_of_another_request_is_not_merged() {
        let one = JupyterMessage::new(ExecuteRequest::new("1".into()), None);
        let two = JupyterMessage::new(ExecuteRequest::new("2".into()), None);
        let (tx, mut rx) = mpsc::unbounded_channel();
        tx.send(queued(&two, StreamContent::stdout("two"))).unwrap();
        let (merged, held) = merge_streams(broadcast(&one, StreamContent::stdout("one")), &mut rx);
        assert_eq!(text(&merged), "one");
        assert!(held.is_some());
    }
}
