//! The stdin channel: a running cell asks the notebook for a line of text
//! (`input`, `input_password`) and waits for the answer, or for an interrupt.

use super::messages::{child_of, dropped, message_type, receive};
use jupyter_protocol::{InputRequest, JupyterMessage, JupyterMessageContent};
use jupyter_zmq_client::KernelStdinConnection;
use std::sync::{Mutex, mpsc};
use tokio::sync::mpsc as async_mpsc;

/// Carries input requests from the code thread to the stdin socket and the
/// answers back.
pub struct StdinBridge {
    requests: async_mpsc::UnboundedSender<JupyterMessage>,
    answer: mpsc::Sender<Option<String>>,
    answers: Mutex<mpsc::Receiver<Option<String>>>,
}

impl StdinBridge {
    /// A bridge, and the task that serves it on `stdin`.
    pub fn new(stdin: KernelStdinConnection) -> (Self, impl Future<Output = ()>) {
        let (requests, queued) = async_mpsc::unbounded_channel();
        let (answer, answers) = mpsc::channel();
        let bridge = Self {
            requests,
            answer: answer.clone(),
            answers: Mutex::new(answers),
        };
        (bridge, serve(stdin, queued, answer))
    }

    /// Sends an `input_request` about `execute` (routed to the client that
    /// sent it) and blocks the code thread until the answer, or an interrupt.
    pub fn ask(&self, execute: &JupyterMessage, prompt: &str, password: bool) -> Option<String> {
        let allowed = matches!(&execute.content,
            JupyterMessageContent::ExecuteRequest(request) if request.allow_stdin);
        if !allowed {
            return None;
        }
        let answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        // Forget interrupts that arrived while nothing was waiting.
        while answers.try_recv().is_ok() {}
        let request = InputRequest {
            prompt: prompt.to_string(),
            password,
        };
        self.requests.send(child_of(execute, request)).ok()?;
        answers.recv().ok().flatten()
    }

    /// Ends a pending wait without an answer (the cell is being interrupted).
    pub fn cancel(&self) {
        let _ = self.answer.send(None);
    }
}

/// Sends the requests and passes `input_reply` values back.
async fn serve(
    stdin: KernelStdinConnection,
    mut requests: async_mpsc::UnboundedReceiver<JupyterMessage>,
    answer: mpsc::Sender<Option<String>>,
) {
    let (mut outgoing, mut incoming) = stdin.split();
    let send_requests = async move {
        while let Some(request) = requests.recv().await {
            if let Err(error) = outgoing.send(request).await {
                eprintln!("cleope kernel: cannot send an input request: {error}");
            }
        }
    };
    let receive_replies = async move {
        loop {
            match receive(&mut incoming).await {
                Ok(reply) => match &reply.content {
                    JupyterMessageContent::InputReply(input) => {
                        let _ = answer.send(Some(input.value.clone()));
                    }
                    _ => eprintln!(
                        "cleope kernel: unexpected {} on stdin",
                        message_type(&reply)
                    ),
                },
                Err(error) => dropped("stdin", &error).await,
            }
        }
    };
    tokio::join!(send_requests, receive_replies);
}
