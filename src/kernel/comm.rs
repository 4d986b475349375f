//! Comms (Jupyter's custom messages) on the shell channel: the widget
//! models of the session (target `jupyter.widget`) and the widget
//! manager's control comm (`jupyter.widget.control`), which restores every
//! widget when a notebook page is reloaded. A comm opened for any other
//! target is closed at once, as the protocol asks.
//!
//! Comm messages are handled in order with the cells: a slider moved during
//! a long cell is applied (and its callbacks run) when the cell ends.

use super::handlers::Kernel;
use super::messages::{broadcast, error_output};
use crate::runtime::Session;
use crate::runtime::widgets::{CONTROL_TARGET, WIDGET_TARGET};
use jupyter_protocol::{
    CommClose, CommId, CommInfo, CommInfoReply, CommInfoRequest, CommMsg, CommOpen, JupyterMessage,
};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// The comms the front-end opened and the kernel accepted.
#[derive(Default)]
pub struct Comms {
    /// Control comms of widget managers (one per open notebook view).
    control: HashSet<String>,
}

impl Comms {
    /// `comm_open` from the front-end: a widget manager's control comm is
    /// kept; anything else is closed at once.
    pub fn open(&mut self, kernel: &Kernel, request: &JupyterMessage, open: &CommOpen) {
        if open.target_name == CONTROL_TARGET {
            self.control.insert(open.comm_id.0.clone());
            return;
        }
        let reason = format!(
            "cleope has no comm target \"{}\" (it offers {WIDGET_TARGET} models, opened by the kernel)",
            open.target_name
        );
        eprintln!("cleope kernel: closing comm {}: {reason}", open.comm_id.0);
        let close = CommClose {
            comm_id: open.comm_id.clone(),
            data: crate::runtime::widgets::as_map(serde_json::json!({ "reason": reason })),
        };
        kernel.iopub.send(request, close);
    }

    /// `comm_close` from the front-end.
    pub async fn close(&mut self, kernel: &Kernel, close: &CommClose) {
        if self.control.remove(&close.comm_id.0) {
            return;
        }
        let id = close.comm_id.0.clone();
        let _ = kernel
            .code
            .call(move |session| session.host().widgets.forget(&id))
            .await;
    }

    /// `comm_msg` from the front-end: the control comm's `request_states`,
    /// or a message to a widget model (whose callbacks then run).
    pub async fn message(&self, kernel: &Kernel, request: &JupyterMessage, message: &CommMsg) {
        let id = message.comm_id.0.clone();
        if self.control.contains(&id) {
            return self.answer_control(kernel, request, message).await;
        }
        let data = message.data.clone();
        let buffers: Vec<Vec<u8>> = request.buffers.iter().map(|b| b.to_vec()).collect();
        let iopub = Arc::clone(&kernel.iopub);
        let parent = request.clone();
        let work = move |session: &mut Session| {
            iopub.set_executing(Some(parent.clone()));
            let widgets = Arc::clone(&session.host().widgets);
            for call in widgets.receive(&id, &data, &buffers) {
                let source = "widget callback";
                if let Err(error) = session.call_back(source, &call.callback, call.args) {
                    iopub.send(&parent, error_output(&error));
                }
            }
            iopub.set_executing(None);
        };
        if let Err(reason) = kernel.code.call(work).await {
            eprintln!("cleope kernel: a widget message could not be handled: {reason:?}");
        }
    }

    /// Answers `request_states` with every model's state (`update_states`).
    async fn answer_control(&self, kernel: &Kernel, request: &JupyterMessage, message: &CommMsg) {
        let method = message.data.get("method").and_then(|m| m.as_str());
        if method != Some("request_states") {
            return;
        }
        let states = kernel
            .code
            .call(|session| session.host().widgets.all_states())
            .await;
        // A session that could not start has no widgets.
        let (data, buffers) =
            states.unwrap_or_else(|_| crate::runtime::widgets::Widgets::new(None).all_states());
        let reply = CommMsg {
            comm_id: message.comm_id.clone(),
            data,
        };
        let mut reply = broadcast(request, reply);
        reply.buffers = buffers.into_iter().map(Into::into).collect();
        kernel.iopub.send_message(reply);
    }

    /// `comm_info_request`: the open comms, of one target when asked.
    pub async fn info(&self, kernel: &Kernel, request: &CommInfoRequest) -> CommInfoReply {
        let models = kernel
            .code
            .call(|session| session.host().widgets.ids())
            .await
            .unwrap_or_default();
        let widget_comms = models.into_iter().map(|id| (id, WIDGET_TARGET));
        let control_comms = self.control.iter().map(|id| (id.clone(), CONTROL_TARGET));
        let wanted = request.target_name.as_deref();
        let comms: HashMap<CommId, CommInfo> = widget_comms
            .chain(control_comms)
            .filter(|(_, target)| wanted.is_none_or(|w| w == *target))
            .map(|(id, target)| {
                let info = CommInfo {
                    target_name: target.to_string(),
                };
                (CommId(id), info)
            })
            .collect();
        CommInfoReply {
            comms,
            ..Default::default()
        }
    }
}
