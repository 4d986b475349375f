//! The script guard: operation budget, wall clock, interrupt and the RSS
//! backstop, checked between script operations.
//!
//! Time, operation and memory breaches are *soft* first: the guard raises a
//! catchable error at the script's next variable access, so
//! `try { } catch (e) { }` can react (print a message, save partial results).
//! If the script keeps going past a grace allowance (10 % of the limit), the
//! run is terminated for good. An interrupt terminates at once.
//!
//! Memory is the heap counted by the crate's allocator, read on every
//! operation (one atomic load); the resident set size, which also sees C
//! libraries, is read every 65,536 operations as a backstop.

use super::config::Quota;
use crate::sandbox::{
    Breach, Cancel, QuotaKind, heap_bytes, human_bytes, process_rss_bytes, time_breach,
};
use rhai::{Dynamic, Engine, EvalAltResult, Map, Position};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

const NO_BREACH: u8 = 0;
const TIME_BREACH: u8 = 1;
const OPERATIONS_BREACH: u8 = 2;
const MEMORY_BREACH: u8 = 3;

/// How often (in operations) the clock and the process RSS are read.
const CLOCK_EVERY: u64 = 512;
const RSS_EVERY: u64 = 1 << 16;

/// What a run may add on top of what the session holds when the run starts
/// above the memory quota (see [`Guard::start_run`]).
const OVER_QUOTA_ALLOWANCE: u64 = 64 * 1024 * 1024;

pub struct Guard {
    cancel: Arc<Cancel>,
    quota: Quota,
    pending: AtomicU8,
    raised: AtomicBool,
    /// The memory the current run may reach before a soft breach.
    run_memory_limit: AtomicU64,
}

impl Guard {
    pub fn new(cancel: Arc<Cancel>, quota: Quota) -> Arc<Self> {
        let quota_memory = quota.memory;
        Arc::new(Self {
            cancel,
            quota,
            pending: AtomicU8::new(NO_BREACH),
            raised: AtomicBool::new(false),
            run_memory_limit: AtomicU64::new(quota_memory),
        })
    }

    /// Hooks the guard into an engine and sets its hard operation limit.
    pub fn install(self: &Arc<Self>, engine: &mut Engine) {
        engine.set_max_operations(self.hard_operations());
        let guard = Arc::clone(self);
        engine.on_progress(move |ops| guard.on_progress(ops));
        let guard = Arc::clone(self);
        #[allow(deprecated)] // `on_var` is stable in practice, marked volatile by Rhai.
        engine.on_var(move |_, _, _| match guard.take_pending() {
            Some(breach) => {
                Err(EvalAltResult::ErrorRuntime(breach_value(&breach), Position::NONE).into())
            }
            None => Ok(None),
        });
    }

    /// Starts a run: resets the clock, the operation count and any breach.
    ///
    /// A run stopped by the memory quota leaves its values in the variables
    /// (nothing is lost). So that the next run can still look at them and
    /// free them (`big = ();`), a run that starts above the quota may hold
    /// what it starts with plus a small allowance, but may not grow further.
    pub fn start_run(&self) {
        self.pending.store(NO_BREACH, Ordering::SeqCst);
        self.raised.store(false, Ordering::SeqCst);
        let limit = self.quota.memory.max(heap_bytes() + OVER_QUOTA_ALLOWANCE);
        self.run_memory_limit.store(limit, Ordering::SeqCst);
        self.cancel.start_run(self.quota.time_limit);
    }

    fn hard_operations(&self) -> u64 {
        self.quota.operations + self.quota.operations / 10
    }

    fn soft_memory(&self) -> u64 {
        self.run_memory_limit.load(Ordering::Relaxed)
    }

    fn hard_memory(&self) -> u64 {
        self.soft_memory() + self.quota.memory / 10
    }

    fn time_grace(&self) -> Duration {
        (self.quota.time_limit / 10).clamp(Duration::from_millis(200), Duration::from_secs(10))
    }

    fn on_progress(&self, ops: u64) -> Option<Dynamic> {
        if self.cancel.is_interrupted() {
            return Some(interrupted_value());
        }
        if ops > self.quota.operations {
            self.signal(OPERATIONS_BREACH);
        }
        let heap = heap_bytes();
        if heap > self.soft_memory() {
            if heap > self.hard_memory() {
                return Some(breach_value(&self.memory_breach(heap)));
            }
            self.signal(MEMORY_BREACH);
        }
        if ops.is_multiple_of(CLOCK_EVERY) {
            let elapsed = self.cancel.elapsed();
            if elapsed > self.quota.time_limit + self.time_grace() {
                return Some(breach_value(&hard(time_breach(self.quota.time_limit))));
            }
            if elapsed > self.quota.time_limit {
                self.signal(TIME_BREACH);
            }
        }
        if ops.is_multiple_of(RSS_EVERY)
            && let Some(rss) = process_rss_bytes().filter(|&rss| rss > self.hard_memory())
        {
            return Some(breach_value(&self.memory_breach(rss)));
        }
        None
    }

    fn signal(&self, breach: u8) {
        if !self.raised.load(Ordering::Relaxed) {
            self.pending.store(breach, Ordering::Relaxed);
        }
    }

    fn take_pending(&self) -> Option<Breach> {
        if self.pending.load(Ordering::Relaxed) == NO_BREACH {
            return None;
        }
        let breach = self.pending.swap(NO_BREACH, Ordering::AcqRel);
        if breach == NO_BREACH || self.raised.swap(true, Ordering::AcqRel) {
            return None;
        }
        Some(match breach {
            TIME_BREACH => time_breach(self.quota.time_limit),
            MEMORY_BREACH => self.memory_breach(heap_bytes()),
            _ => self.operations_breach(),
        })
    }

    fn operations_breach(&self) -> Breach {
        Breach {
            kind: QuotaKind::Operations,
            message: format!(
                "the run used more than its budget of {} operations",
                self.quota.operations
            ),
            hint: "a loop probably never ends: check its condition; for long teaching jobs, \
                   raise the budget with --operations or CLEOPE_OPERATIONS"
                .into(),
        }
    }

    fn memory_breach(&self, used: u64) -> Breach {
        Breach {
            kind: QuotaKind::Memory,
            message: format!(
                "the session holds {} of memory, more than its {} quota",
                human_bytes(used),
                human_bytes(self.quota.memory)
            ),
            hint: "keep fewer large values alive at once: reassign variables you no longer \
                   need (e.g. `big = ();`), or work on a smaller area"
                .into(),
        }
    }
}

fn hard(mut breach: Breach) -> Breach {
    breach
        .message
        .push_str(", and the script kept running after the error was caught");
    breach
}

/// The value a host error carries: `#{kind, message, hint}`.
pub fn error_value(kind: &str, message: &str, hint: &str) -> Dynamic {
    let mut map = Map::new();
    map.insert("kind".into(), kind.into());
    map.insert("message".into(), message.into());
    map.insert("hint".into(), hint.into());
    map.into()
}

pub fn breach_value(breach: &Breach) -> Dynamic {
    error_value(breach.kind.error_name(), &breach.message, &breach.hint)
}

pub fn interrupted_value() -> Dynamic {
    error_value(
        "Interrupted",
        "the run was interrupted",
        "variables defined before the interrupt are kept; run the rest again when ready",
    )
}
