//! One widget model: what it is (module, name, version), its JSON state,
//! its binary buffers, and who listens to it.

use super::Call;
use rhai::{Dynamic, FnPtr};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Which front-end model and view render a model: `_model_module`,
/// `_model_name`, `_model_module_version` and the `_view_*` keys.
#[derive(Debug, Clone, Copy)]
pub struct ModelKind {
    pub module: &'static str,
    pub name: &'static str,
    pub version: &'static str,
    pub view_module: &'static str,
    /// None for models without a view (layouts, styles that use `StyleView`
    /// set it explicitly).
    pub view_name: Option<&'static str>,
    pub view_version: &'static str,
    /// How the script's `value` maps to the state (most models: the key
    /// `value` as it is).
    pub value: ValueCodec,
}

/// A model's JSON state, or changes to it.
pub type State = Map<String, Value>;

/// A state as sent: JSON, buffer paths, buffers in the paths' order.
pub type WireState = (State, Vec<Vec<Value>>, Vec<Vec<u8>>);

/// The script's `value` of a model and the state key it lives in: a
/// dropdown syncs `index`, a date picker `{year, month, date}`.
#[derive(Debug, Clone, Copy)]
pub struct ValueCodec {
    /// The synchronised key a change of `value` arrives in.
    pub key: &'static str,
    /// The script value from the state.
    pub read: fn(&Model) -> Dynamic,
    /// The state changes that set the script value, or why it cannot be.
    pub write: fn(&Model, &Dynamic) -> Result<State, String>,
}

impl ValueCodec {
    /// `value` as it is in the state, checked against its current type
    /// (an integer slider takes integers, a text box strings).
    pub const PLAIN: ValueCodec = ValueCodec {
        key: "value",
        read: |model| to_dynamic(model.state.get("value").unwrap_or(&Value::Null)),
        write: plain_write,
    };
}

fn plain_write(model: &Model, value: &Dynamic) -> Result<Map<String, Value>, String> {
    let json: Value = rhai::serde::from_dynamic(value).map_err(|e| e.to_string())?;
    let current = model.state.get("value").unwrap_or(&Value::Null);
    let fits = match current {
        Value::Null => true,
        Value::Bool(_) => json.is_boolean(),
        Value::String(_) => json.is_string(),
        Value::Number(n) if n.is_i64() || n.is_u64() => json.is_i64() || json.is_u64(),
        Value::Number(_) => json.is_number(),
        Value::Array(_) => json.is_array(),
        Value::Object(_) => json.is_object(),
    };
    if !fits {
        return Err(format!(
            "this {} holds {}, not {}",
            model.short_name(),
            json_kind(current),
            json_kind(&json)
        ));
    }
    // A float slider given an integer keeps a float.
    let json = match (current, json) {
        (Value::Number(n), Value::Number(m)) if n.is_f64() => m
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Number(m), Value::Number),
        (_, json) => json,
    };
    let mut changes = Map::new();
    changes.insert("value".into(), json);
    Ok(changes)
}

/// A JSON value's kind in script words.
pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a true/false value",
        Value::String(_) => "text",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a decimal number",
        Value::Array(_) => "an array",
        Value::Object(_) => "a map",
    }
}

impl ModelKind {
    /// A model whose view has the same module and version, named
    /// `<Name>View` for a `<Name>Model` (the ipywidgets convention).
    pub const fn new(module: &'static str, name: &'static str, version: &'static str) -> Self {
        Self {
            module,
            name,
            version,
            view_module: module,
            view_name: None,
            view_version: version,
            value: ValueCodec::PLAIN,
        }
    }

    /// The same kind with another mapping of the script's `value`.
    pub const fn with_value(mut self, value: ValueCodec) -> Self {
        self.value = value;
        self
    }

    /// The same kind with view `name` (of `module` at `version`).
    pub const fn with_view(
        mut self,
        module: &'static str,
        name: &'static str,
        version: &'static str,
    ) -> Self {
        self.view_module = module;
        self.view_name = Some(name);
        self.view_version = version;
        self
    }

    /// The identifying keys every state carries.
    fn keys(&self) -> Map<String, Value> {
        let text = |s: &str| Value::String(s.to_string());
        let mut keys = Map::new();
        keys.insert("_model_module".into(), text(self.module));
        keys.insert("_model_name".into(), text(self.name));
        keys.insert("_model_module_version".into(), text(self.version));
        keys.insert("_view_module".into(), text(self.view_module));
        keys.insert(
            "_view_name".into(),
            self.view_name.map_or(Value::Null, text),
        );
        keys.insert("_view_module_version".into(), text(self.view_version));
        keys
    }
}

/// What the front-end sent a model, as Rust hooks see it.
pub enum Incoming<'a> {
    /// New values of some keys (binary ones already moved to the buffers).
    Update(&'a Map<String, Value>),
    /// The `content` of a `custom` message.
    Custom(&'a Value),
}

/// Rust code reacting to what the front-end sends a model, before the
/// script's listeners run; it may change the model's state.
pub type RustHook = Arc<dyn Fn(&mut Model, &Incoming) + Send + Sync>;

/// When a script listener is called.
#[derive(Clone)]
pub enum Trigger {
    /// A key of the state changed (from the front-end or the script); the
    /// callback gets the new value.
    Change(String),
    /// A `custom` message whose `content.event` is this (a button's
    /// "click"); `argument` makes the callback's argument from the model
    /// and the content (e.g. the button itself, or a drawn area).
    Custom {
        event: String,
        argument: fn(&Model, &Value) -> Dynamic,
    },
}

/// A script function called on a trigger.
#[derive(Clone)]
pub struct Listener {
    pub trigger: Trigger,
    pub callback: FnPtr,
}

/// A widget model: state, buffers and listeners.
pub struct Model {
    /// The synchronised state (JSON), identifying keys included.
    pub state: Map<String, Value>,
    /// Binary state by top-level key, sent as buffers.
    pub buffers: BTreeMap<String, Vec<u8>>,
    pub listeners: Vec<Listener>,
    pub hooks: Vec<RustHook>,
    /// The id the script sees for the widget (set by the registry).
    pub id: String,
    pub kind: ModelKind,
}

impl Model {
    pub(super) fn new(kind: &ModelKind, state: Map<String, Value>) -> Self {
        let mut full = kind.keys();
        full.extend(state);
        Self {
            state: full,
            buffers: BTreeMap::new(),
            listeners: Vec::new(),
            hooks: Vec::new(),
            id: String::new(),
            kind: *kind,
        }
    }

    /// The model name without its `Model` suffix (`IntSlider`).
    pub fn short_name(&self) -> &str {
        let name = self
            .state
            .get("_model_name")
            .and_then(Value::as_str)
            .unwrap_or("Widget");
        name.strip_suffix("Model").unwrap_or(name)
    }

    /// The plain-text form shown where widgets cannot be rendered:
    /// `[IntSlider threshold: 5]`.
    pub fn text(&self) -> String {
        let description = self
            .state
            .get("description")
            .and_then(Value::as_str)
            .filter(|d| !d.is_empty());
        let value = self.has_value().then(|| {
            let value = (self.kind.value.read)(self);
            if value.is_string() {
                format!("{:?}", value.to_string())
            } else {
                value.to_string()
            }
        });
        let mut text = format!("[{}", self.short_name());
        match (description, value) {
            (Some(d), Some(v)) => text.push_str(&format!(" {d}: {v}")),
            (Some(d), None) => text.push_str(&format!(" {d}")),
            (None, Some(v)) => text.push_str(&format!(" {v}")),
            (None, None) => {}
        }
        text.push(']');
        text
    }

    /// True when the model has a script `value` (a control, not a box).
    pub fn has_value(&self) -> bool {
        self.state.contains_key(self.kind.value.key)
    }

    /// The script's `value`.
    pub fn value(&self) -> Dynamic {
        (self.kind.value.read)(self)
    }

    /// Applies `changes`; returns the keys whose value changed.
    pub fn apply(&mut self, changes: &Map<String, Value>) -> Vec<String> {
        let mut changed = Vec::new();
        for (key, value) in changes {
            if self.state.get(key) != Some(value) {
                self.state.insert(key.clone(), value.clone());
                changed.push(key.clone());
            }
        }
        changed
    }

    /// The state as sent: JSON state, buffer paths, buffers (in order).
    pub fn wire_state(&self) -> WireState {
        let paths = self
            .buffers
            .keys()
            .map(|key| vec![Value::String(key.clone())])
            .collect();
        let buffers = self.buffers.values().cloned().collect();
        (self.state.clone(), paths, buffers)
    }

    /// The listener calls for changes of `keys`.
    pub fn calls_for_changes(&self, keys: &[String]) -> Vec<Call> {
        let mut calls = Vec::new();
        for listener in &self.listeners {
            if let Trigger::Change(key) = &listener.trigger
                && keys.contains(key)
            {
                // `value` listeners get the script's value (a dropdown's
                // choice, not its index); others the key's JSON value.
                let argument = if key == self.kind.value.key {
                    self.value()
                } else {
                    to_dynamic(self.state.get(key).unwrap_or(&Value::Null))
                };
                calls.push(Call {
                    callback: listener.callback.clone(),
                    args: vec![argument],
                });
            }
        }
        calls
    }

    /// The listener calls for a `custom` message.
    pub fn calls_for_custom(&self, content: &Value) -> Vec<Call> {
        let event = content.get("event").and_then(Value::as_str);
        self.listeners
            .iter()
            .filter_map(|listener| match &listener.trigger {
                Trigger::Custom {
                    event: wanted,
                    argument,
                } if event == Some(wanted.as_str()) => Some(Call {
                    callback: listener.callback.clone(),
                    args: vec![argument(self, content)],
                }),
                _ => None,
            })
            .collect()
    }
}

/// A JSON value as a script value (`()` for null).
pub fn to_dynamic(value: &Value) -> Dynamic {
    rhai::serde::to_dynamic(value).unwrap_or(Dynamic::UNIT)
}
