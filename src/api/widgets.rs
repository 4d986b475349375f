//! Interactive widgets (ipywidgets' controls): sliders, dropdowns, buttons,
//! check boxes, text boxes, date pickers, boxes, and `interact`.
//!
//! In Jupyter they render through the ipywidgets front-end
//! (`jupyterlab-widgets`); elsewhere they show as text and keep their value,
//! and listeners run when a script sets a value.

use crate::runtime::Host;
use crate::runtime::widgets::{Call, Listener, ModelKind, Trigger, Widget, Widgets, controls};
use rhai::plugin::*;
use rhai::{Array, FnPtr, Map};
use serde_json::{Value, json};
use std::sync::Arc;

pub fn module() -> Module {
    let mut module = exported_module!(widgets_api);
    module.set_custom_type::<Widget>("Widget");
    module
}

/// The session's widget registry (the maps functions use it too).
pub(crate) fn registry(ctx: &NativeCallContext) -> Result<Arc<Widgets>, Box<EvalAltResult>> {
    Ok(Arc::clone(&Host::of(ctx)?.widgets))
}

fn closed(widget: &Widget) -> Box<EvalAltResult> {
    crate::api::script_error(
        "WidgetClosed",
        &format!("this widget ({}) was closed", widget.id),
        "make a new one; a closed widget cannot be shown or changed",
    )
}

/// Runs the listener calls a change triggered, inside the calling script
/// (so under its run's quotas); the first error stops and is returned.
fn run_calls(ctx: &NativeCallContext, calls: Vec<Call>) -> Result<(), Box<EvalAltResult>> {
    for call in calls {
        let _value = call
            .callback
            .call_within_context::<Dynamic>(ctx, call.args)?;
    }
    Ok(())
}

/// A number of an options map as JSON (integers stay integers).
fn number(options: &Map, key: &str) -> Result<Option<Value>, Box<EvalAltResult>> {
    let Some(value) = options.get(key) else {
        return Ok(None);
    };
    if let Ok(n) = value.as_int() {
        return Ok(Some(json!(n)));
    }
    if let Ok(x) = value.as_float() {
        return Ok(Some(json!(x)));
    }
    Err(crate::api::script_error(
        "BadOption",
        &format!("`{key}` is {value}, not a number"),
        "e.g. slider(#{ min: 0, max: 10, step: 1, value: 5 })",
    ))
}

fn text_option(options: &Map, key: &str) -> String {
    options.get(key).map(|v| v.to_string()).unwrap_or_default()
}

/// An integer slider when every number given is an integer, else a float one.
fn make_slider(ctx: &NativeCallContext, options: Map) -> Result<Widget, Box<EvalAltResult>> {
    crate::api::args::Options::check(
        &options,
        &["min", "max", "step", "value", "description", "continuous"],
    )?;
    let given: Vec<(&str, Value)> = ["min", "max", "step", "value"]
        .into_iter()
        .map(|key| Ok(number(&options, key)?.map(|v| (key, v))))
        .collect::<Result<Vec<_>, Box<EvalAltResult>>>()?
        .into_iter()
        .flatten()
        .collect();
    let is_float = given.iter().any(|(_, v)| v.is_f64());
    let get = |key: &str, default: f64| {
        given
            .iter()
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v.as_f64())
            .unwrap_or(default)
    };
    let (min, max) = (
        get("min", 0.0),
        get("max", if is_float { 10.0 } else { 100.0 }),
    );
    let step = get("step", if is_float { 0.1 } else { 1.0 });
    let value = get("value", min);
    if min > max || !(min..=max).contains(&value) || step <= 0.0 {
        return Err(crate::api::script_error(
            "BadSlider",
            &format!("a slider from {min} to {max} by {step} cannot start at {value}"),
            "give min ≤ value ≤ max and a positive step, e.g. slider(#{ min: 0, max: 10, value: 5 })",
        ));
    }
    let (kind, numbers) = if is_float {
        (
            &controls::FLOAT_SLIDER,
            json!({"min": min, "max": max, "step": step, "value": value, "readout_format": ".2f"}),
        )
    } else {
        let int = |x: f64| x.round() as i64;
        (
            &controls::INT_SLIDER,
            json!({"min": int(min), "max": int(max), "step": int(step), "value": int(value), "readout_format": "d"}),
        )
    };
    let mut state = controls::described(&text_option(&options, "description"));
    state.extend(crate::runtime::widgets::as_map(numbers));
    state.extend(crate::runtime::widgets::as_map(json!({
        "behavior": "drag-tap",
        "continuous_update": options.get("continuous").and_then(|c| c.as_bool().ok()).unwrap_or(false),
        "orientation": "horizontal",
        "readout": true,
    })));
    let widgets = registry(ctx)?;
    Ok(controls::dom_widget(
        &widgets,
        kind,
        Some(&controls::SLIDER_STYLE),
        state,
    ))
}

fn make_dropdown(
    ctx: &NativeCallContext,
    choices: Array,
    options: Map,
) -> Result<Widget, Box<EvalAltResult>> {
    crate::api::args::Options::check(&options, &["value", "description"])?;
    let labels: Vec<String> = choices.iter().map(|c| c.to_string()).collect();
    if labels.is_empty() {
        return Err(crate::api::script_error(
            "BadDropdown",
            "a dropdown needs at least one option",
            "e.g. dropdown([\"B04\", \"B08\"], #{ description: \"band\" })",
        ));
    }
    let index = match options.get("value") {
        None => 0,
        Some(value) => labels
            .iter()
            .position(|l| *l == value.to_string())
            .ok_or_else(|| {
                crate::api::script_error(
                    "BadDropdown",
                    &format!("the value {value} is not one of the options"),
                    &format!("choose one of {}", labels.join(", ")),
                )
            })?,
    };
    let mut state = controls::described(&text_option(&options, "description"));
    state.extend(crate::runtime::widgets::as_map(
        json!({"_options_labels": labels, "index": index}),
    ));
    let widgets = registry(ctx)?;
    Ok(controls::dom_widget(
        &widgets,
        &controls::DROPDOWN,
        Some(&controls::DESCRIPTION_STYLE),
        state,
    ))
}

fn make_box(
    ctx: &NativeCallContext,
    kind: &ModelKind,
    children: Array,
) -> Result<Widget, Box<EvalAltResult>> {
    let children = children
        .into_iter()
        .map(|child| {
            child.try_cast::<Widget>().ok_or_else(|| {
                crate::api::script_error(
                    "NotAWidget",
                    "a box holds widgets only",
                    "e.g. hbox([slider(#{ max: 10 }), button(\"Run\")])",
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let references: Vec<Value> = children
        .iter()
        .map(crate::runtime::widgets::reference)
        .collect();
    let state = crate::runtime::widgets::as_map(json!({"children": references, "box_style": ""}));
    let widgets = registry(ctx)?;
    Ok(controls::dom_widget(&widgets, kind, None, state))
}

fn make_checkbox(
    ctx: &NativeCallContext,
    description: &str,
    value: bool,
) -> Result<Widget, Box<EvalAltResult>> {
    let mut state = controls::described(description);
    state.insert("value".into(), json!(value));
    state.insert("indent".into(), json!(true));
    let widgets = registry(ctx)?;
    Ok(controls::dom_widget(
        &widgets,
        &controls::CHECKBOX,
        Some(&controls::CHECKBOX_STYLE),
        state,
    ))
}

fn make_text(
    ctx: &NativeCallContext,
    description: &str,
    value: &str,
) -> Result<Widget, Box<EvalAltResult>> {
    let mut state = controls::described(description);
    state.extend(crate::runtime::widgets::as_map(json!({
        "value": value,
        "placeholder": "",
        "continuous_update": false,
    })));
    let widgets = registry(ctx)?;
    Ok(controls::dom_widget(
        &widgets,
        &controls::TEXT,
        Some(&controls::TEXT_STYLE),
        state,
    ))
}

/// Reads the script value of a widget.
fn value_of(ctx: &NativeCallContext, widget: &Widget) -> Result<Dynamic, Box<EvalAltResult>> {
    let widgets = registry(ctx)?;
    widgets
        .with_model(&widget.id, |model| model.has_value().then(|| model.value()))
        .ok_or_else(|| closed(widget))?
        .ok_or_else(|| {
            crate::api::script_error(
                "NoValue",
                &format!("a {} has no value", widget_name(&widgets, widget)),
                "controls (sliders, dropdowns, check boxes, text boxes, date pickers) have values",
            )
        })
}

fn widget_name(widgets: &Widgets, widget: &Widget) -> String {
    widgets
        .with_model(&widget.id, |m| m.short_name().to_string())
        .unwrap_or_else(|| "closed widget".into())
}

/// Sets the script value of a widget and runs its `value` listeners.
fn set_value(
    ctx: &NativeCallContext,
    widget: &Widget,
    value: Dynamic,
) -> Result<(), Box<EvalAltResult>> {
    let widgets = registry(ctx)?;
    let changes = widgets
        .with_model(&widget.id, |model| {
            model
                .has_value()
                .then(|| (model.kind.value.write)(model, &value))
        })
        .ok_or_else(|| closed(widget))?
        .unwrap_or_else(|| Err(format!("a {} has no value", widget_name(&widgets, widget))))
        .map_err(|message| {
            crate::api::script_error(
                "BadWidgetValue",
                &message,
                "read w.value to see what the widget holds",
            )
        })?;
    run_calls(ctx, widgets.set(&widget.id, changes))
}

/// Sets any synchronised key of a widget (for keys without a property).
fn set_key(
    ctx: &NativeCallContext,
    widget: &Widget,
    key: &str,
    value: Dynamic,
) -> Result<(), Box<EvalAltResult>> {
    let widgets = registry(ctx)?;
    if widgets.with_model(&widget.id, |_| ()).is_none() {
        return Err(closed(widget));
    }
    let json: Value = rhai::serde::from_dynamic(&value)?;
    let mut changes = serde_json::Map::new();
    changes.insert(key.to_string(), json);
    run_calls(ctx, widgets.set(&widget.id, changes))
}

/// The callback's argument for a button click: the button.
fn the_button(model: &crate::runtime::widgets::Model, _content: &Value) -> Dynamic {
    Dynamic::from(Widget {
        id: model.id.clone(),
    })
}

/// The names of the parameters `callback` is called with (a closure's
/// captured variables come first and are not named by the caller).
fn parameter_names(ctx: &NativeCallContext, callback: &FnPtr) -> Option<Vec<String>> {
    let curried = callback.curry().len();
    ctx.iter_namespaces()
        .flat_map(|module| module.iter_script_fn_info())
        .find(|(_, _, name, params, _)| *name == callback.fn_name() && *params >= curried)
        .map(|(_, _, _, _, def)| {
            def.params[curried..]
                .iter()
                .map(|p| p.to_string())
                .collect()
        })
}

/// A control from `interact`'s shorthand: a widget as it is, `[min, max]`
/// or `[min, max, step]` a slider, an array of texts a dropdown, true or
/// false a check box, a text a text box.
fn interact_control(
    ctx: &NativeCallContext,
    name: &str,
    value: Dynamic,
) -> Result<Widget, Box<EvalAltResult>> {
    if let Some(widget) = value.clone().try_cast::<Widget>() {
        return Ok(widget);
    }
    let mut options = Map::new();
    options.insert("description".into(), name.into());
    if let Ok(on) = value.as_bool() {
        return make_checkbox(ctx, name, on);
    }
    if value.is_string() {
        return make_text(ctx, name, &value.to_string());
    }
    if let Some(items) = value.read_lock::<Array>().map(|a| a.clone()) {
        let numeric = items.iter().all(|i| i.is_int() || i.is_float());
        if numeric && (2..=3).contains(&items.len()) {
            for (key, item) in ["min", "max", "step"].into_iter().zip(items) {
                options.insert(key.into(), item);
            }
            return make_slider(ctx, options);
        }
        if !items.is_empty() && !numeric {
            return make_dropdown(ctx, items, options);
        }
    }
    Err(crate::api::script_error(
        "BadControl",
        &format!("interact cannot make a control for `{name}` from {value}"),
        "give a widget, [min, max] or [min, max, step] for a slider, an array of texts for a dropdown, true/false for a check box, or a text",
    ))
}

/// How `interact` calls the function: the controls' values in the order of
/// its parameters when they name the controls, else one map of values.
fn interact_arguments(
    widgets: &Widgets,
    controls: &[(String, Widget)],
    parameters: &Option<Vec<String>>,
) -> Vec<Dynamic> {
    let value = |id: &str| {
        widgets
            .with_model(id, |m| m.value())
            .unwrap_or(Dynamic::UNIT)
    };
    let find = |name: &str| controls.iter().find(|(n, _)| n == name);
    if let Some(names) = parameters
        && !names.is_empty()
        && names.iter().all(|n| find(n).is_some())
    {
        return names
            .iter()
            .filter_map(|n| find(n))
            .map(|(_, w)| value(&w.id))
            .collect();
    }
    let map: Map = controls
        .iter()
        .map(|(name, w)| (name.as_str().into(), value(&w.id)))
        .collect();
    vec![map.into()]
}

/// Runs `callback` with the controls' values, its output captured by the
/// Output widget `output` (replacing what it showed before).
fn run_interactive(
    ctx: &NativeCallContext,
    widgets: &Widgets,
    output: Option<&Widget>,
    callback: &FnPtr,
    arguments: Vec<Dynamic>,
) -> Result<(), Box<EvalAltResult>> {
    let Some(output) = output else {
        return callback
            .call_within_context::<Dynamic>(ctx, arguments)
            .map(|_| ());
    };
    let capture = |msg_id: String| {
        let mut state = serde_json::Map::new();
        state.insert("msg_id".into(), Value::String(msg_id));
        widgets.set(&output.id, state);
    };
    capture(widgets.parent_id().unwrap_or_default());
    let host = Host::of(ctx)?;
    host.display.clear_output(true);
    let result = callback.call_within_context::<Dynamic>(ctx, arguments);
    capture(String::new());
    result.map(|_| ())
}

#[export_module]
mod widgets_api {
    use super::*;

    /// A slider for choosing a number between `min` and `max` (an integer
    /// slider when every number given is an integer, else a decimal one).
    /// Options: `min` (0), `max` (100, or 10 for decimals), `step` (1 or
    /// 0.1), `value` (`min`), `description` (its label), `continuous`
    /// (false: the value changes when the handle is let go; true: while it
    /// moves).
    ///
    /// In a notebook the slider is shown where it is displayed (as a cell's
    /// value or with `display`); elsewhere it prints as text.
    ///
    /// ```rhai
    /// let threshold = slider(#{ min: 0, max: 10, value: 3, description: "threshold" });
    /// display(threshold);
    /// print(threshold.value);        // 3
    /// let ratio = slider(#{ min: 0.0, max: 1.0, step: 0.05, value: 0.5 });
    /// ratio.value = 0.25;
    /// ```
    #[rhai_fn(return_raw)]
    pub fn slider(ctx: NativeCallContext, options: Map) -> Result<Widget, Box<EvalAltResult>> {
        make_slider(&ctx, options)
    }

    /// A dropdown list for choosing one of `choices` (shown as text).
    /// Options: `value` (the first choice), `description`. Its `value` is
    /// the chosen text.
    ///
    /// ```rhai
    /// let band = dropdown(["B02", "B03", "B04", "B08"], #{ value: "B04", description: "band" });
    /// band.value = "B08";
    /// print(band.value);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn dropdown(
        ctx: NativeCallContext,
        choices: Array,
        options: Map,
    ) -> Result<Widget, Box<EvalAltResult>> {
        make_dropdown(&ctx, choices, options)
    }

    /// A dropdown list of `choices`, the first chosen.
    ///
    /// ```rhai
    /// let mission = dropdown(["Sentinel-1", "Sentinel-2"]);
    /// print(mission.value);
    /// ```
    #[rhai_fn(name = "dropdown", return_raw)]
    pub fn dropdown_plain(
        ctx: NativeCallContext,
        choices: Array,
    ) -> Result<Widget, Box<EvalAltResult>> {
        make_dropdown(&ctx, choices, Map::new())
    }

    /// A button labelled `label`; `on_click(b, fn)` runs `fn` when it is
    /// clicked.
    ///
    /// ```rhai
    /// let search = button("Search");
    /// on_click(search, |b| print("clicked " + b.description));
    /// display(search);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn button(ctx: NativeCallContext, label: &str) -> Result<Widget, Box<EvalAltResult>> {
        let state = crate::runtime::widgets::as_map(json!({
            "description": label,
            "disabled": false,
            "button_style": "",
            "icon": "",
        }));
        let widgets = registry(&ctx)?;
        Ok(controls::dom_widget(
            &widgets,
            &controls::BUTTON,
            Some(&controls::BUTTON_STYLE),
            state,
        ))
    }

    /// A check box labelled `description`, ticked when `value` is true.
    ///
    /// ```rhai
    /// let cloudy = checkbox("include cloudy scenes", false);
    /// cloudy.value = true;
    /// print(cloudy.value);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn checkbox(
        ctx: NativeCallContext,
        description: &str,
        value: bool,
    ) -> Result<Widget, Box<EvalAltResult>> {
        make_checkbox(&ctx, description, value)
    }

    /// A one-line text box labelled `description`, holding `value`.
    ///
    /// ```rhai
    /// let name = text("tile", "T33SVB");
    /// print(name.value);
    /// ```
    #[rhai_fn(name = "text", return_raw)]
    pub fn text_box(
        ctx: NativeCallContext,
        description: &str,
        value: &str,
    ) -> Result<Widget, Box<EvalAltResult>> {
        make_text(&ctx, description, value)
    }

    /// A date picker labelled `description`, showing `date` (written
    /// `"YYYY-MM-DD"`); its `value` is the chosen date in that form.
    ///
    /// ```rhai
    /// let start = date_picker("from", "2020-08-18");
    /// start.value = "2020-09-01";
    /// print(start.value);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn date_picker(
        ctx: NativeCallContext,
        description: &str,
        date: &str,
    ) -> Result<Widget, Box<EvalAltResult>> {
        let value = controls::parse_date(date).map_err(|message| {
            crate::api::script_error(
                "BadDate",
                &message,
                "e.g. date_picker(\"from\", \"2020-08-18\")",
            )
        })?;
        let mut state = controls::described(description);
        state.extend(crate::runtime::widgets::as_map(
            json!({"value": value, "step": 1}),
        ));
        let widgets = registry(&ctx)?;
        Ok(controls::dom_widget(
            &widgets,
            &controls::DATE_PICKER,
            Some(&controls::DESCRIPTION_STYLE),
            state,
        ))
    }

    /// Widgets side by side, in a row.
    ///
    /// ```rhai
    /// let row = hbox([slider(#{ max: 10 }), button("Run")]);
    /// display(row);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn hbox(ctx: NativeCallContext, children: Array) -> Result<Widget, Box<EvalAltResult>> {
        make_box(&ctx, &controls::HBOX, children)
    }

    /// Widgets one above the other, in a column.
    ///
    /// ```rhai
    /// let form = vbox([dropdown(["B04", "B08"]), checkbox("mask clouds", true)]);
    /// display(form);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn vbox(ctx: NativeCallContext, children: Array) -> Result<Widget, Box<EvalAltResult>> {
        make_box(&ctx, &controls::VBOX, children)
    }

    /// The widget's value: a slider's number, a dropdown's chosen text, a
    /// check box's true/false, a text box's text, a date picker's date.
    ///
    /// ```rhai
    /// let s = slider(#{ max: 10, value: 4 });
    /// print(s.value * 2);
    /// ```
    #[rhai_fn(get = "value", pure, return_raw)]
    pub fn get_value(
        ctx: NativeCallContext,
        widget: &mut Widget,
    ) -> Result<Dynamic, Box<EvalAltResult>> {
        value_of(&ctx, widget)
    }

    /// Sets the widget's value: the notebook shows it at once, and the
    /// functions given to `observe` run.
    ///
    /// ```rhai
    /// let s = slider(#{ max: 10 });
    /// s.value = 7;
    /// ```
    #[rhai_fn(set = "value", return_raw)]
    pub fn set_value_property(
        ctx: NativeCallContext,
        widget: &mut Widget,
        value: Dynamic,
    ) -> Result<(), Box<EvalAltResult>> {
        set_value(&ctx, widget, value)
    }

    /// The widget's label.
    ///
    /// ```rhai
    /// let b = button("Go");
    /// print(b.description);
    /// ```
    #[rhai_fn(get = "description", pure, return_raw)]
    pub fn get_description(
        ctx: NativeCallContext,
        widget: &mut Widget,
    ) -> Result<String, Box<EvalAltResult>> {
        let value = registry(&ctx)?.get(&widget.id, "description");
        Ok(value
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default())
    }

    /// Changes the widget's label.
    ///
    /// ```rhai
    /// let b = button("Go");
    /// b.description = "Searching…";
    /// ```
    #[rhai_fn(set = "description", return_raw)]
    pub fn set_description(
        ctx: NativeCallContext,
        widget: &mut Widget,
        label: &str,
    ) -> Result<(), Box<EvalAltResult>> {
        set_key(&ctx, widget, "description", label.into())
    }

    /// Greys the widget out (true) or makes it usable again (false).
    ///
    /// ```rhai
    /// let b = button("Download");
    /// b.disabled = true;
    /// ```
    #[rhai_fn(set = "disabled", return_raw)]
    pub fn set_disabled(
        ctx: NativeCallContext,
        widget: &mut Widget,
        disabled: bool,
    ) -> Result<(), Box<EvalAltResult>> {
        set_key(&ctx, widget, "disabled", disabled.into())
    }

    /// Runs `callback` with the new value each time the widget's value
    /// changes: moved in the notebook, or set by the script. In a notebook,
    /// as with ipywidgets, what a callback prints goes to JupyterLab's log
    /// console (View → Show Log Console), since its cell has finished; to
    /// show results under the controls, use `interact`.
    ///
    /// ```rhai
    /// let s = slider(#{ max: 10 });
    /// let seen = [];
    /// observe(s, |v| seen.push(v));
    /// s.value = 4;
    /// print(seen);            // [4]
    /// ```
    #[rhai_fn(return_raw)]
    pub fn observe(
        ctx: NativeCallContext,
        widget: Widget,
        callback: FnPtr,
    ) -> Result<(), Box<EvalAltResult>> {
        let widgets = registry(&ctx)?;
        let key = widgets
            .with_model(&widget.id, |m| m.kind.value.key)
            .ok_or_else(|| closed(&widget))?;
        let listener = Listener {
            trigger: Trigger::Change(key.to_string()),
            callback,
        };
        widgets.listen(&widget.id, listener);
        Ok(())
    }

    /// Runs `callback` with the button each time it is clicked.
    ///
    /// ```rhai
    /// let count = button("Count");
    /// let clicks = 0;
    /// on_click(count, |b| clicks += 1);
    /// display(count);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn on_click(
        ctx: NativeCallContext,
        button: Widget,
        callback: FnPtr,
    ) -> Result<(), Box<EvalAltResult>> {
        let widgets = registry(&ctx)?;
        if widgets.with_model(&button.id, |_| ()).is_none() {
            return Err(closed(&button));
        }
        let listener = Listener {
            trigger: Trigger::Custom {
                event: "click".into(),
                argument: the_button,
            },
            callback,
        };
        widgets.listen(&button.id, listener);
        Ok(())
    }

    /// Makes a control for each entry of `controls` and calls `callback`
    /// with their values, again each time one changes, its output replacing
    /// the previous one (like ipywidgets' `interact`). An entry is a widget,
    /// `[min, max]` or `[min, max, step]` (a slider), an array of texts (a
    /// dropdown), true/false (a check box) or a text (a text box). When the
    /// function's parameters are named like the controls it gets their
    /// values in its parameters' order; otherwise one map of the values.
    /// Outside a notebook it runs once, with the starting values.
    ///
    /// ```rhai
    /// interact(|threshold, band| print(`${band} above ${threshold}`),
    ///          #{ threshold: [0, 10], band: ["B04", "B08"] });
    /// interact(|p| print(p.scale * 2), #{ scale: slider(#{ min: 1, max: 5, value: 2 }) });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn interact(
        ctx: NativeCallContext,
        callback: FnPtr,
        controls: Map,
    ) -> Result<(), Box<EvalAltResult>> {
        let widgets = registry(&ctx)?;
        let parameters = parameter_names(&ctx, &callback);
        let mut named = Vec::new();
        for (name, value) in controls {
            named.push((name.to_string(), interact_control(&ctx, &name, value)?));
        }
        // Controls in the order of the function's parameters when it names them.
        if let Some(order) = &parameters {
            named.sort_by_key(|(n, _)| order.iter().position(|p| p == n).unwrap_or(usize::MAX));
        }
        let output = widgets.rendered().then(|| {
            let state = crate::runtime::widgets::as_map(json!({"msg_id": "", "outputs": []}));
            controls::dom_widget(&widgets, &controls::OUTPUT, None, state)
        });
        let mut children: Array = named
            .iter()
            .map(|(_, w)| Dynamic::from(w.clone()))
            .collect();
        children.extend(output.clone().map(Dynamic::from));
        let panel = make_box(&ctx, &controls::VBOX, children)?;
        if widgets.rendered() {
            let item = crate::runtime::display::DisplayItem {
                widget: Some(panel.id.clone()),
                ..crate::runtime::display::DisplayItem::text(widgets.text(&panel.id))
            };
            Host::of(&ctx)?.display.display(&item);
        }
        let arguments = interact_arguments(&widgets, &named, &parameters);
        run_interactive(&ctx, &widgets, output.as_ref(), &callback, arguments)?;
        // Each change re-runs the function with every control's value.
        let rerun = {
            let widgets = Arc::clone(&widgets);
            let named = named.clone();
            let callback = callback.clone();
            move |ctx: NativeCallContext, _args: &mut [&mut Dynamic]| {
                let arguments = interact_arguments(&widgets, &named, &parameters);
                run_interactive(&ctx, &widgets, output.as_ref(), &callback, arguments)?;
                Ok(Dynamic::UNIT)
            }
        };
        #[allow(deprecated)] // rhai marks native function pointers as volatile API
        let rerun = FnPtr::from_fn("interact_rerun", rerun)?;
        for (_, control) in &named {
            let key = widgets
                .with_model(&control.id, |m| m.kind.value.key)
                .unwrap_or("value");
            let listener = Listener {
                trigger: Trigger::Change(key.to_string()),
                callback: rerun.clone(),
            };
            widgets.listen(&control.id, listener);
        }
        Ok(())
    }

    /// Removes the widget from the notebook; it cannot be used afterwards.
    ///
    /// ```rhai
    /// let b = button("Once");
    /// b.close();
    /// ```
    #[rhai_fn(return_raw)]
    pub fn close(ctx: NativeCallContext, widget: &mut Widget) -> Result<(), Box<EvalAltResult>> {
        registry(&ctx)?.close(&widget.id);
        Ok(())
    }

    /// The widget as text: `[IntSlider threshold: 3]`.
    ///
    /// ```rhai
    /// let s = slider(#{ max: 10, value: 3, description: "threshold" });
    /// print(s.to_string());
    /// ```
    #[rhai_fn(name = "to_string", name = "to_debug", pure, return_raw)]
    pub fn to_string(
        ctx: NativeCallContext,
        widget: &mut Widget,
    ) -> Result<String, Box<EvalAltResult>> {
        Ok(registry(&ctx)?.text(&widget.id))
    }
}

#[cfg(test)]
mod tests {
    use crate::runtime::display::{Captured, Stream};
    use crate::runtime::{Chunk, Overrides, Session, Settings};
    use serde_json::json;
    use std::sync::Arc;

    fn session(dir: &std::path::Path) -> (Session, Arc<Captured>) {
        let overrides = Overrides {
            workspace: Some(dir.join("workspace")),
            ..Overrides::default()
        };
        let settings = Settings::load(&overrides).unwrap();
        let shown = Arc::new(Captured::default());
        (Session::new(settings, shown.clone()).unwrap(), shown)
    }

    fn run(s: &mut Session, code: &str) -> String {
        s.run(Chunk::new("t", code))
            .map(|v| v.to_string())
            .unwrap_or_else(|e| panic!("{code}: {e}"))
    }

    fn error(s: &mut Session, code: &str) -> String {
        s.run(Chunk::new("t", code)).unwrap_err().name
    }

    #[test]
    fn without_a_notebook_widgets_keep_their_values_and_print_as_text() {
        let dir = tempfile::tempdir().unwrap();
        let (mut s, shown) = session(dir.path());
        run(
            &mut s,
            r#"let t = slider(#{ max: 10, value: 3, description: "threshold" }); display(t);"#,
        );
        assert_eq!(shown.text(Stream::Stdout), "[IntSlider threshold: 3]\n");
        assert_eq!(run(&mut s, "t.value = 4; t.value"), "4");
        assert_eq!(
            run(
                &mut s,
                "let f = slider(#{ max: 1.0, value: 0.5 }); f.value = 1; f.value"
            ),
            "1.0"
        );
        assert_eq!(error(&mut s, "t.value = 2.5;"), "BadWidgetValue");
        assert_eq!(error(&mut s, "slider(#{ maxi: 3 })"), "BadOption");
        assert_eq!(error(&mut s, "slider(#{ min: 5, max: 1 })"), "BadSlider");
    }

    #[test]
    fn dropdowns_and_dates_have_script_values() {
        let dir = tempfile::tempdir().unwrap();
        let (mut s, _) = session(dir.path());
        run(
            &mut s,
            r#"let d = dropdown(["B04", "B08"], #{ value: "B08" });"#,
        );
        assert_eq!(run(&mut s, "d.value"), "B08");
        assert_eq!(error(&mut s, r#"d.value = "B99";"#), "BadWidgetValue");
        run(
            &mut s,
            r#"let p = date_picker("from", "2020-08-18"); p.value = "2021-01-31";"#,
        );
        assert_eq!(run(&mut s, "p.value"), "2021-01-31");
        let id = run(&mut s, "p.to_string()");
        assert_eq!(id, "[DatePicker from: \"2021-01-31\"]");
        assert_eq!(
            error(&mut s, r#"date_picker("x", "18/08/2020")"#),
            "BadDate"
        );
    }

    #[test]
    fn observe_and_clicks_run_the_scripts_callbacks() {
        let dir = tempfile::tempdir().unwrap();
        let (mut s, _) = session(dir.path());
        run(
            &mut s,
            "let seen = []; let w = slider(#{ max: 10 }); observe(w, |v| seen.push(v)); w.value = 2;",
        );
        assert_eq!(run(&mut s, "seen"), "[2]");
        // A front-end update, as the kernel hands it over.
        let widgets = Arc::clone(&s.host().widgets);
        let slider = s.variable("w").unwrap().cast::<super::Widget>();
        let data =
            crate::runtime::widgets::as_map(json!({"method": "update", "state": {"value": 6}}));
        for call in widgets.receive(&slider.id, &data, &[]) {
            let _value = s
                .call_back("widget callback", &call.callback, call.args)
                .unwrap();
        }
        assert_eq!(run(&mut s, "seen"), "[2, 6]");
        run(
            &mut s,
            r#"let n = 0; let b = button("Go"); on_click(b, |b| n += b.description.len());"#,
        );
        let button = s.variable("b").unwrap().cast::<super::Widget>();
        let click = crate::runtime::widgets::as_map(
            json!({"method": "custom", "content": {"event": "click"}}),
        );
        for call in widgets.receive(&button.id, &click, &[]) {
            let _value = s
                .call_back("widget callback", &call.callback, call.args)
                .unwrap();
        }
        assert_eq!(run(&mut s, "n"), "2");
    }

    #[test]
    fn interact_runs_once_with_the_starting_values_outside_a_notebook() {
        let dir = tempfile::tempdir().unwrap();
        let (mut s, shown) = session(dir.path());
        run(
            &mut s,
            r#"interact(|scale, band| print(`${band} ${scale}`), #{ band: ["B04", "B08"], scale: [1, 5] });"#,
        );
        run(&mut s, r#"interact(|p| print(p.on), #{ on: true });"#);
        assert_eq!(shown.text(Stream::Stdout), "B04 1\ntrue\n");
        assert_eq!(error(&mut s, "interact(|x| x, #{ x: 3 })"), "BadControl");
    }
}
