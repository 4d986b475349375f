//! What a session uses of its quotas, and the warning a student gets before
//! a limit is reached.
//!
//! One reading ([`QuotaUse`]) feeds `quota()`, the kernel's answer to a
//! front-end's `usage_request` (JupyterLab's resource meter) and the
//! warnings shown after a run: a memory or disk quota crossing 80 % (and
//! again 95 %) of its limit, or a run that took most of its time limit.
//! A warning comes once per crossing: it comes again only after the use
//! fell back below 70 % and rose again, so a student working near a
//! limit is not told after every cell. `quota_meter()` shows the same
//! reading as progress bars in a notebook, updated after every run.

use super::widgets::{Widget, Widgets, as_map, controls, reference};
use crate::sandbox::{human_bytes, human_disk_bytes};
use serde_json::json;
use std::sync::Mutex;
use std::time::Duration;

/// Shares of a limit at which a student is warned, lowest first.
const WARN_AT: [f64; 2] = [0.80, 0.95];
/// The share under which a quota is calm again (the next crossing warns).
const CALM_BELOW: f64 = 0.70;

/// A session's use of its quotas at one moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuotaUse {
    /// Bytes the session holds (the process measured, native values included).
    pub memory_used: u64,
    pub memory_limit: u64,
    /// Bytes in the workspace, as its ledger accounts them.
    pub disk_used: u64,
    pub disk_limit: u64,
    /// How long the current (or last) run has taken, and its limit.
    pub run_elapsed: Duration,
    pub time_limit: Duration,
    /// Threads native work may use.
    pub cpus: usize,
}

impl QuotaUse {
    /// The quota use as a JSON object (bytes and seconds), for front-ends.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "memory": { "used": self.memory_used, "limit": self.memory_limit },
            "disk": { "used": self.disk_used, "limit": self.disk_limit },
            "time": {
                "elapsed": self.run_elapsed.as_secs_f64(),
                "limit": self.time_limit.as_secs_f64(),
            },
            "cpus": self.cpus,
        })
    }
}

/// The level each watched quota has reached, so that a crossing is told once.
#[derive(Debug, Default)]
pub struct QuotaWatch {
    levels: Mutex<Levels>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Levels {
    memory: usize,
    disk: usize,
}

impl QuotaWatch {
    /// The warnings a run that ended with `usage` deserves (none most of the time).
    pub fn after_run(&self, usage: &QuotaUse) -> Vec<String> {
        let mut levels = self.levels.lock().unwrap_or_else(|e| e.into_inner());
        let mut warnings = Vec::new();
        let memory = share(usage.memory_used, usage.memory_limit);
        if let Some(level) = crossed(&mut levels.memory, memory) {
            warnings.push(format!(
                "Memory: {} of {} used ({:.0} %) after this run. Free values you no longer need \
                 (`big = ();`), or work on a smaller area or fewer dates{}",
                human_bytes(usage.memory_used),
                human_bytes(usage.memory_limit),
                memory * 100.0,
                near_limit_suffix(level),
            ));
        }
        let disk = share(usage.disk_used, usage.disk_limit);
        if let Some(level) = crossed(&mut levels.disk, disk) {
            warnings.push(format!(
                "Disk: {} of {} used in the workspace ({:.0} %). Delete files you no longer \
                 need in the file browser (`list_files(\"local_files\")` lists the downloads){}",
                human_disk_bytes(usage.disk_used),
                human_disk_bytes(usage.disk_limit),
                disk * 100.0,
                near_limit_suffix(level),
            ));
        }
        let time = usage.run_elapsed.as_secs_f64() / usage.time_limit.as_secs_f64().max(1e-9);
        if time >= WARN_AT[0] {
            warnings.push(format!(
                "Time: this run took {:.0} s of its {:.0} s limit ({:.0} %). Split the work \
                 into smaller steps, or work on a smaller area, before it grows",
                usage.run_elapsed.as_secs_f64(),
                usage.time_limit.as_secs_f64(),
                time * 100.0,
            ));
        }
        warnings
    }
}

/// Progress bars for the memory and disk quotas (a `VBox` of two
/// `FloatProgress` widgets), coloured as the warnings: plain, then
/// "warning" past 80 %, "danger" past 95 %.
#[derive(Debug, Clone)]
pub struct QuotaMeter {
    memory: Widget,
    disk: Widget,
    /// The box holding both bars: what a script displays.
    pub shown: Widget,
}

impl QuotaMeter {
    /// Makes the bars, showing `usage`.
    pub fn new(widgets: &Widgets, usage: &QuotaUse) -> QuotaMeter {
        let [memory, disk] = bar_states(usage).map(|state| {
            let style = widgets.create(
                &controls::PROGRESS_STYLE,
                // Room for the whole label ("memory 152.3 MiB / 2.0 GiB").
                as_map(json!({ "description_width": "initial" })),
            );
            let mut full = as_map(json!({
                "min": 0.0, "max": 100.0, "orientation": "horizontal",
                "description_allow_html": false, "style": reference(&style),
            }));
            full.extend(state);
            controls::dom_widget(widgets, &controls::FLOAT_PROGRESS, None, full)
        });
        let shown = controls::dom_widget(
            widgets,
            &controls::VBOX,
            None,
            as_map(json!({ "children": [reference(&memory), reference(&disk)], "box_style": "" })),
        );
        QuotaMeter {
            memory,
            disk,
            shown,
        }
    }

    /// Shows `usage` on the bars.
    pub fn update(&self, widgets: &Widgets, usage: &QuotaUse) {
        let [memory, disk] = bar_states(usage);
        widgets.set(&self.memory.id, memory);
        widgets.set(&self.disk.id, disk);
    }
}

/// The changing keys of the memory and the disk bar: the share used in
/// percent, the label with the figures, the colour.
fn bar_states(usage: &QuotaUse) -> [serde_json::Map<String, serde_json::Value>; 2] {
    let bar = |name: &str, share: f64, used: String, limit: String| {
        let style = match WARN_AT.iter().filter(|&&at| share >= at).count() {
            0 => "",
            1 => "warning",
            _ => "danger",
        };
        as_map(json!({
            "value": ((share * 1000.0).round() / 10.0).min(100.0),
            "description": format!("{name} {used} / {limit}"),
            "bar_style": style,
        }))
    };
    [
        bar(
            "memory",
            share(usage.memory_used, usage.memory_limit),
            human_bytes(usage.memory_used),
            human_bytes(usage.memory_limit),
        ),
        bar(
            "disk",
            share(usage.disk_used, usage.disk_limit),
            human_disk_bytes(usage.disk_used),
            human_disk_bytes(usage.disk_limit),
        ),
    ]
}

/// `used / limit`, 0 when there is no limit.
fn share(used: u64, limit: u64) -> f64 {
    if limit == 0 {
        0.0
    } else {
        used as f64 / limit as f64
    }
}

/// Moves `level` (how many warning shares were passed) to where `share`
/// stands; returns the new level when it rose, which deserves a warning.
fn crossed(level: &mut usize, share: f64) -> Option<usize> {
    if share < CALM_BELOW {
        *level = 0;
        return None;
    }
    let reached = WARN_AT.iter().filter(|&&at| share >= at).count();
    if reached > *level {
        *level = reached;
        Some(reached)
    } else {
        None
    }
}

fn near_limit_suffix(level: usize) -> &'static str {
    if level >= WARN_AT.len() {
        ": the next step may stop at the limit."
    } else {
        "."
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;

    fn usage(memory_used: u64, disk_used: u64, elapsed: u64) -> QuotaUse {
        QuotaUse {
            memory_used,
            memory_limit: 2 * GIB,
            disk_used,
            disk_limit: 20_000_000_000,
            run_elapsed: Duration::from_secs(elapsed),
            time_limit: Duration::from_secs(300),
            cpus: 2,
        }
    }

    #[test]
    fn a_calm_session_gets_no_warning() {
        let watch = QuotaWatch::default();
        assert!(watch.after_run(&usage(200 << 20, 1_000_000, 3)).is_empty());
    }

    #[test]
    fn memory_warns_once_per_crossing_and_again_after_calming_down() {
        let watch = QuotaWatch::default();
        let at_85 = usage(GIB * 17 / 10, 0, 1);
        let warnings = watch.after_run(&at_85);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].starts_with("Memory: 1.7 GiB of 2.0 GiB used (85 %)"),
            "{warnings:?}"
        );
        assert!(watch.after_run(&at_85).is_empty(), "told once");
        let at_96 = usage(GIB * 192 / 100, 0, 1);
        let warnings = watch.after_run(&at_96);
        assert!(
            warnings[0].ends_with("the next step may stop at the limit."),
            "{warnings:?}"
        );
        assert!(
            watch.after_run(&at_85).is_empty(),
            "still high: no new warning"
        );
        assert!(
            watch.after_run(&usage(GIB, 0, 1)).is_empty(),
            "calm at 50 %"
        );
        assert_eq!(watch.after_run(&at_85).len(), 1, "a new crossing is told");
    }

    #[test]
    fn disk_and_time_warnings_say_what_to_do() {
        let watch = QuotaWatch::default();
        let warnings = watch.after_run(&usage(0, 17_000_000_000, 250));
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            warnings[0].starts_with("Disk: 17.0 GB of 20.0 GB"),
            "{warnings:?}"
        );
        assert!(warnings[0].contains("Delete files"), "{warnings:?}");
        assert!(warnings[1].starts_with("Time: this run took 250 s of its 300 s limit (83 %)"));
    }

    #[test]
    fn the_meter_shows_each_quota_and_turns_amber_then_red() {
        let widgets = Widgets::new(None);
        let meter = QuotaMeter::new(&widgets, &usage(GIB / 2, 1_000_000_000, 1));
        assert_eq!(
            widgets.text(&meter.shown.id),
            "[VBox]\n  [FloatProgress memory 512.0 MiB / 2.0 GiB: 25.0]\n  \
             [FloatProgress disk 1.0 GB / 20.0 GB: 5.0]"
        );
        let bar_style = |meter: &QuotaMeter| {
            widgets
                .with_model(&meter.memory.id, |m| m.state["bar_style"].clone())
                .unwrap()
        };
        assert_eq!(bar_style(&meter), "");
        meter.update(&widgets, &usage(GIB * 17 / 10, 0, 1));
        assert_eq!(bar_style(&meter), "warning");
        meter.update(&widgets, &usage(GIB * 196 / 100, 0, 1));
        assert_eq!(bar_style(&meter), "danger");
    }

    #[test]
    fn the_json_form_gives_bytes_and_seconds() {
        let json = usage(5, 6, 7).to_json();
        assert_eq!(json["memory"]["used"], 5);
        assert_eq!(json["disk"]["limit"], 20_000_000_000u64);
        assert_eq!(json["time"]["elapsed"], 7.0);
        assert_eq!(json["cpus"], 2);
    }
}
