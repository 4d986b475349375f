//! The ipywidgets core controls (`@jupyter-widgets/controls` 2.0.0 and
//! `@jupyter-widgets/base` 2.0.0, as ipywidgets 8 sends them): their model
//! kinds, their child layout and style models, and the codecs of the
//! controls whose `value` is not synchronised as it is.

use super::model::{Model, ModelKind, ValueCodec};
use super::{Widget, Widgets, reference};
use rhai::Dynamic;
use serde_json::{Map, Value, json};

pub const CONTROLS: &str = "@jupyter-widgets/controls";
pub const BASE: &str = "@jupyter-widgets/base";
pub const OUTPUT_MODULE: &str = "@jupyter-widgets/output";
/// The model version of the controls and base modules (ipywidgets 8).
pub const V2: &str = "2.0.0";

const fn control(name: &'static str, view: &'static str) -> ModelKind {
    ModelKind::new(CONTROLS, name, V2).with_view(CONTROLS, view, V2)
}

const fn style(name: &'static str) -> ModelKind {
    ModelKind::new(CONTROLS, name, V2).with_view(BASE, "StyleView", V2)
}

pub const LAYOUT: ModelKind =
    ModelKind::new(BASE, "LayoutModel", V2).with_view(BASE, "LayoutView", V2);
pub const SLIDER_STYLE: ModelKind = style("SliderStyleModel");
pub const DESCRIPTION_STYLE: ModelKind = style("DescriptionStyleModel");
pub const BUTTON_STYLE: ModelKind = style("ButtonStyleModel");
pub const CHECKBOX_STYLE: ModelKind = style("CheckboxStyleModel");
pub const TEXT_STYLE: ModelKind = style("TextStyleModel");

pub const INT_SLIDER: ModelKind = control("IntSliderModel", "IntSliderView");
pub const FLOAT_SLIDER: ModelKind = control("FloatSliderModel", "FloatSliderView");
pub const DROPDOWN: ModelKind = control("DropdownModel", "DropdownView").with_value(ValueCodec {
    key: "index",
    read: dropdown_read,
    write: dropdown_write,
});
pub const BUTTON: ModelKind = control("ButtonModel", "ButtonView");
pub const CHECKBOX: ModelKind = control("CheckboxModel", "CheckboxView");
pub const TEXT: ModelKind = control("TextModel", "TextView");
pub const DATE_PICKER: ModelKind =
    control("DatePickerModel", "DatePickerView").with_value(ValueCodec {
        key: "value",
        read: date_read,
        write: date_write,
    });
pub const HBOX: ModelKind = control("HBoxModel", "HBoxView");
pub const VBOX: ModelKind = control("VBoxModel", "VBoxView");
pub const OUTPUT: ModelKind = ModelKind::new(OUTPUT_MODULE, "OutputModel", "1.0.0").with_view(
    OUTPUT_MODULE,
    "OutputView",
    "1.0.0",
);

/// Makes a DOM widget: its layout model, its style model (when it has
/// one), then the widget referencing both, with the keys every
/// ipywidgets 8 DOM widget has.
pub fn dom_widget(
    widgets: &Widgets,
    kind: &ModelKind,
    style: Option<&ModelKind>,
    state: Map<String, Value>,
) -> Widget {
    let layout = widgets.create(&LAYOUT, Map::new());
    let mut full = super::as_map(json!({
        "_dom_classes": [],
        "layout": reference(&layout),
        "tabbable": null,
        "tooltip": null,
    }));
    if let Some(style) = style {
        let style = widgets.create(style, Map::new());
        full.insert("style".into(), reference(&style));
    }
    full.extend(state);
    widgets.create(kind, full)
}

/// The keys of a control with a description label.
pub fn described(description: &str) -> Map<String, Value> {
    super::as_map(json!({
        "description": description,
        "description_allow_html": false,
        "disabled": false,
    }))
}

/// The labels a dropdown offers.
pub fn dropdown_labels(model: &Model) -> Vec<String> {
    model
        .state
        .get("_options_labels")
        .and_then(Value::as_array)
        .map(|labels| {
            labels
                .iter()
                .map(|l| l.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn dropdown_read(model: &Model) -> Dynamic {
    let index = model.state.get("index").and_then(Value::as_u64);
    let labels = dropdown_labels(model);
    match index.and_then(|i| labels.get(i as usize)) {
        Some(label) => label.clone().into(),
        None => Dynamic::UNIT,
    }
}

fn dropdown_write(model: &Model, value: &Dynamic) -> Result<Map<String, Value>, String> {
    let wanted = value.to_string();
    let labels = dropdown_labels(model);
    let index = labels.iter().position(|l| *l == wanted).ok_or_else(|| {
        format!(
            "\"{wanted}\" is not one of this dropdown's options ({})",
            labels.join(", ")
        )
    })?;
    Ok(super::as_map(json!({ "index": index })))
}

/// A date picker's value: `{year, month (from 0), date}` in the state,
/// `"YYYY-MM-DD"` in scripts (`()` when none is chosen).
fn date_read(model: &Model) -> Dynamic {
    let Some(date) = model.state.get("value").and_then(Value::as_object) else {
        return Dynamic::UNIT;
    };
    let part = |key: &str| date.get(key).and_then(Value::as_i64).unwrap_or(0);
    format!(
        "{:04}-{:02}-{:02}",
        part("year"),
        part("month") + 1,
        part("date")
    )
    .into()
}

fn date_write(_model: &Model, value: &Dynamic) -> Result<Map<String, Value>, String> {
    if value.is_unit() {
        return Ok(super::as_map(json!({ "value": null })));
    }
    let text = value.to_string();
    let date = parse_date(&text)?;
    Ok(super::as_map(json!({ "value": date })))
}

/// `"YYYY-MM-DD"` as the date picker's JSON, or why it is not a date.
pub fn parse_date(text: &str) -> Result<Value, String> {
    let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("\"{text}\" is not a date written YYYY-MM-DD"))?;
    use chrono::Datelike;
    Ok(json!({"year": date.year(), "month": date.month0(), "date": date.day()}))
}
