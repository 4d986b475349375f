//! Jupyter widgets, independent of the front-end: a registry of widget
//! models (JSON state, child models, listeners), the ipywidgets v2 message
//! protocol on top of comms, and the script value that names a model.
//!
//! The registry lives in the session's host. A front-end that has comms
//! (the Jupyter kernel) gives a [`CommSink`] through its display sink; then
//! every model is opened as a comm when it is made and kept in step both
//! ways. Without one (`cleope run`, the REPL) models still hold their
//! values, run their listeners when a script sets a value, and show as text.
//! See README.md here for how another module adds a model family.

pub mod controls;
mod model;

pub use model::{
    Incoming, Listener, Model, ModelKind, RustHook, Trigger, ValueCodec, json_kind, to_dynamic,
};

use rhai::{Dynamic, FnPtr};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// The ipywidgets message protocol version (sent in `comm_open` metadata).
pub const PROTOCOL_VERSION: &str = "2.1.0";
/// The comm target of widget models.
pub const WIDGET_TARGET: &str = "jupyter.widget";
/// The comm target the widget manager opens to restore widgets on reload.
pub const CONTROL_TARGET: &str = "jupyter.widget.control";
/// Version of the widget-view MIME bundle (`version_major`, `version_minor`).
pub const VIEW_VERSION: (u32, u32) = (2, 0);

/// The front-end's end of the comms; the Jupyter kernel implements it.
/// Messages go out as children of the request being handled (a cell, or
/// the front-end message that triggered a callback).
pub trait CommSink: Send + Sync {
    /// `comm_open` from the kernel.
    fn open(&self, comm_id: &str, target: &str, data: Map<String, Value>, metadata: Value);
    /// `comm_msg` from the kernel, with binary buffers as extra frames.
    fn message(&self, comm_id: &str, data: Map<String, Value>, buffers: Vec<Vec<u8>>);
    /// `comm_close` from the kernel.
    fn close(&self, comm_id: &str);
    /// The id of the request output is parented to now (an Output widget
    /// captures the messages of that id).
    fn parent_id(&self) -> Option<String>;
}

/// A script function to call because of a widget event, with its arguments.
pub struct Call {
    pub callback: FnPtr,
    pub args: Vec<Dynamic>,
}

/// The session's widget models by id (the comm id).
pub struct Widgets {
    models: Mutex<BTreeMap<String, Model>>,
    comms: Option<Arc<dyn CommSink>>,
}

impl Widgets {
    /// A registry whose models are mirrored through `comms` (None: no
    /// front-end can show widgets; they are text).
    pub fn new(comms: Option<Arc<dyn CommSink>>) -> Self {
        Self {
            models: Mutex::new(BTreeMap::new()),
            comms,
        }
    }

    /// The id of the request output is parented to now (None without a
    /// front-end, or outside a request).
    pub fn parent_id(&self) -> Option<String> {
        self.comms.as_ref()?.parent_id()
    }

    /// True when a front-end renders the widgets.
    pub fn rendered(&self) -> bool {
        self.comms.is_some()
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Model>> {
        self.models.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes a model of `kind` with `state` (merged over the kind's
    /// identifying keys) and opens its comm. Child models (layout, style)
    /// must be made first and referenced with [`reference`].
    pub fn create(&self, kind: &ModelKind, state: Map<String, Value>) -> Widget {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let mut model = Model::new(kind, state);
        model.id = id.clone();
        if let Some(comms) = &self.comms {
            let (state, buffer_paths, _buffers) = model.wire_state();
            let data = json!({"state": state, "buffer_paths": buffer_paths});
            let metadata = json!({"version": PROTOCOL_VERSION});
            comms.open(&id, WIDGET_TARGET, as_map(data), metadata);
        }
        self.lock().insert(id.clone(), model);
        Widget { id }
    }

    /// The value of `key` in the state of model `id`.
    pub fn get(&self, id: &str, key: &str) -> Option<Value> {
        self.lock().get(id)?.state.get(key).cloned()
    }

    /// Runs `read` on model `id` (None when it was closed).
    pub fn with_model<R>(&self, id: &str, read: impl FnOnce(&Model) -> R) -> Option<R> {
        self.lock().get(id).map(read)
    }

    /// Sets keys of model `id` from the kernel side, sends them to the
    /// front-end, and returns the listener calls the change triggers.
    pub fn set(&self, id: &str, changes: Map<String, Value>) -> Vec<Call> {
        let mut models = self.lock();
        let Some(model) = models.get_mut(id) else {
            return Vec::new();
        };
        let changed = model.apply(&changes);
        if let Some(comms) = &self.comms
            && !changed.is_empty()
        {
            let delta: Map<String, Value> = changed
                .iter()
                .filter_map(|k| Some((k.clone(), model.state.get(k)?.clone())))
                .collect();
            comms.message(id, update_data("update", delta), Vec::new());
        }
        model.calls_for_changes(&changed)
    }

    /// Sets binary buffer `key` of model `id` (e.g. an image's bytes).
    pub fn set_buffer(&self, id: &str, key: &str, bytes: Vec<u8>) {
        let mut models = self.lock();
        let Some(model) = models.get_mut(id) else {
            return;
        };
        model.buffers.insert(key.to_string(), bytes.clone());
        if let Some(comms) = &self.comms {
            let data = json!({"method": "update", "state": {}, "buffer_paths": [[key]]});
            comms.message(id, as_map(data), vec![bytes]);
        }
    }

    /// Sends a `custom` message to the front-end view of model `id`.
    pub fn send_custom(&self, id: &str, content: Value) {
        if let Some(comms) = &self.comms {
            let data = json!({"method": "custom", "content": content});
            comms.message(id, as_map(data), Vec::new());
        }
    }

    /// Adds a script listener to model `id`; false when there is no such model.
    pub fn listen(&self, id: &str, listener: Listener) -> bool {
        self.lock()
            .get_mut(id)
            .map(|model| model.listeners.push(listener))
            .is_some()
    }

    /// Adds a Rust hook that sees every message the front-end sends to model
    /// `id` before the script listeners run (a map turning a drawn shape into
    /// an area, say). False when there is no such model.
    pub fn hook(&self, id: &str, hook: RustHook) -> bool {
        self.lock()
            .get_mut(id)
            .map(|model| model.hooks.push(hook))
            .is_some()
    }

    /// Closes model `id` (its views disappear).
    pub fn close(&self, id: &str) {
        if self.lock().remove(id).is_some()
            && let Some(comms) = &self.comms
        {
            comms.close(id);
        }
    }

    /// Forgets model `id` because the front-end closed its comm.
    pub fn forget(&self, id: &str) {
        self.lock().remove(id);
    }

    /// The ids of the open models.
    pub fn ids(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    /// The plain-text form of model `id`.
    pub fn text(&self, id: &str) -> String {
        self.with_model(id, Model::text)
            .unwrap_or_else(|| "[closed widget]".into())
    }

    /// Handles a `comm_msg` the front-end sent to model `id`: applies an
    /// `update` (echoing it), answers `request_state`, passes `custom`
    /// content to the hooks. Returns the script calls it triggers.
    pub fn receive(&self, id: &str, data: &Map<String, Value>, buffers: &[Vec<u8>]) -> Vec<Call> {
        let mut models = self.lock();
        let Some(model) = models.get_mut(id) else {
            return Vec::new();
        };
        match data.get("method").and_then(Value::as_str) {
            Some("update") => {
                let mut state = data
                    .get("state")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                let paths = data.get("buffer_paths").cloned().unwrap_or(json!([]));
                take_buffers(&mut state, &paths, buffers, &mut model.buffers);
                let before = model.state.clone();
                model.apply(&state);
                // Hooks may derive other keys from the update.
                for hook in model.hooks.clone() {
                    hook(model, &Incoming::Update(&state));
                }
                let changed = changed_keys(&before, &model.state);
                if let Some(comms) = &self.comms {
                    // ipywidgets ≥ 8 echoes updates so that other views of the
                    // model (and the sender's pending changes) agree.
                    comms.message(id, update_data("echo_update", state.clone()), Vec::new());
                }
                model.calls_for_changes(&changed)
            }
            Some("request_state") => {
                if let Some(comms) = &self.comms {
                    let (state, buffer_paths, buffers) = model.wire_state();
                    let data =
                        json!({"method": "update", "state": state, "buffer_paths": buffer_paths});
                    comms.message(id, as_map(data), buffers);
                }
                Vec::new()
            }
            Some("custom") => {
                let content = data.get("content").cloned().unwrap_or(Value::Null);
                for hook in model.hooks.clone() {
                    hook(model, &Incoming::Custom(&content));
                }
                model.calls_for_custom(&content)
            }
            _ => Vec::new(),
        }
    }

    /// The answer to the control comm's `request_states`: every model's
    /// state, with buffer paths prefixed by the model id.
    pub fn all_states(&self) -> (Map<String, Value>, Vec<Vec<u8>>) {
        let models = self.lock();
        let mut states = Map::new();
        let mut all_paths = Vec::new();
        let mut all_buffers = Vec::new();
        for (id, model) in models.iter() {
            let (state, paths, buffers) = model.wire_state();
            for path in paths {
                let mut full = vec![Value::String(id.clone())];
                full.extend(path);
                all_paths.push(Value::Array(full));
            }
            all_buffers.extend(buffers);
            let entry = json!({
                "model_name": model.state.get("_model_name"),
                "model_module": model.state.get("_model_module"),
                "model_module_version": model.state.get("_model_module_version"),
                "state": state,
            });
            states.insert(id.clone(), entry);
        }
        let data = json!({"method": "update_states", "states": states, "buffer_paths": all_paths});
        (as_map(data), all_buffers)
    }
}

/// How a model is referenced from another model's state.
pub fn reference(widget: &Widget) -> Value {
    Value::String(format!("IPY_MODEL_{}", widget.id))
}

/// The widget-view MIME bundle's JSON for model `id`.
pub fn view_json(id: &str) -> Map<String, Value> {
    as_map(json!({
        "model_id": id,
        "version_major": VIEW_VERSION.0,
        "version_minor": VIEW_VERSION.1,
    }))
}

fn changed_keys(before: &Map<String, Value>, after: &Map<String, Value>) -> Vec<String> {
    after
        .iter()
        .filter(|(key, value)| before.get(*key) != Some(value))
        .map(|(key, _)| key.clone())
        .collect()
}

fn update_data(method: &str, state: Map<String, Value>) -> Map<String, Value> {
    as_map(json!({"method": method, "state": state, "buffer_paths": []}))
}

/// The object of a JSON value built with `json!({...})`.
pub fn as_map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Moves the buffers an update carries out of its frames: a top-level key
/// of the state becomes a model buffer (nested paths are kept in the state
/// as null, which no core model uses).
fn take_buffers(
    state: &mut Map<String, Value>,
    paths: &Value,
    buffers: &[Vec<u8>],
    into: &mut BTreeMap<String, Vec<u8>>,
) {
    let paths = paths.as_array().map(Vec::as_slice).unwrap_or_default();
    for (path, bytes) in paths.iter().zip(buffers) {
        if let Some([Value::String(key)]) = path.as_array().map(Vec::as_slice) {
            state.remove(key);
            into.insert(key.clone(), bytes.clone());
        }
    }
}

/// A widget in a script: the id of its model in the session's registry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Widget {
    pub id: String,
}
