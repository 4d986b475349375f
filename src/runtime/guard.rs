//! The script guard: operation budget, wall clock, interrupt and the RSS
//! backstop, checked between script operations.
//!
//! Time, operation and memory breaches are *soft* first: the guard raises a
//! catchable error at the script's next variable access, so
//! `try { } catch (e) { }` can react (print a message, save partial results).
//! If the script keeps going past a grace allowance (10 % of the limit), the
//! run is terminated for good. An interrupt terminates at once.
//!
//! Memory is what the process holds (`sandbox::process_bytes`): the heap
//! counted by the crate's allocator, read on every operation, plus the rest
//! of the process as last measured; the resident set is measured every
//! 65,536 operations. Calls that allocate in proportion to their input
//! charge the budget before allocating; what a single operation allocates
//! without asking (a script value copied when it is read) is watched here:
//! an operation that took a large step is not allowed a second one that
//! would pass the quota.

use super::config::Quota;
use crate::sandbox::{
    Breach, Cancel, QuotaKind, approved_bytes, human_bytes, measure_process, process_bytes,
    reclaim_and_measure, time_breach,
};
use rhai::{Dynamic, Engine, EvalAltResult, Map, Position};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const NO_BREACH: u8 = 0;
const TIME_BREACH: u8 = 1;
const OPERATIONS_BREACH: u8 = 2;
const MEMORY_BREACH: u8 = 3;
const MEMORY_STEP_BREACH: u8 = 4;

/// How often (in operations) the clock is read and the process measured.
const CLOCK_EVERY: u64 = 512;
const MEASURE_EVERY: u64 = 1 << 16;

/// At most one reclaim-and-measure (see [`Guard::confirmed`]) per this
/// many operations, so a script hovering at the quota is not slowed down.
const RECLAIM_EVERY: u64 = 1 << 10;

/// Steps (growth in one operation) smaller than this share of the quota are
/// not projected: ordinary operations take small steps.
const LARGE_STEP_SHARE: u64 = 8;

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
    /// The memory in use and the bytes charges had approved at the previous
    /// operation, and the last large step.
    previous_memory: AtomicU64,
    previous_approved: AtomicU64,
    last_step: AtomicU64,
    /// The operation count of the last reclaim-and-measure.
    reclaimed_at: AtomicU64,
    /// Whether a stop was decided in this run, and which (see
    /// [`Guard::stop`]); the flag spares every operation a lock.
    stopping: AtomicBool,
    stop: Mutex<Option<Dynamic>>,
    /// Operations in this run, counted here: Rhai counts afresh inside a
    /// script function that one of its native functions calls (a `sort`
    /// comparer, a `map` closure), so its count can stay small while the
    /// run goes on for minutes.
    ticks: AtomicU64,
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
            previous_memory: AtomicU64::new(0),
            previous_approved: AtomicU64::new(0),
            last_step: AtomicU64::new(0),
            reclaimed_at: AtomicU64::new(0),
            stopping: AtomicBool::new(false),
            stop: Mutex::new(None),
            ticks: AtomicU64::new(0),
        })
    }

    /// Hooks the guard into an engine and sets its hard operation limit.
    pub fn install(self: &Arc<Self>, engine: &mut Engine) {
        engine.set_max_operations(self.hard_operations());
        let guard = Arc::clone(self);
        engine.on_progress(move |_| guard.on_progress());
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
        let mut in_use = measure_process();
        if in_use > self.quota.memory {
            in_use = reclaim_and_measure();
        }
        let limit = self.quota.memory.max(in_use + OVER_QUOTA_ALLOWANCE);
        self.run_memory_limit.store(limit, Ordering::SeqCst);
        self.previous_memory.store(in_use, Ordering::SeqCst);
        self.previous_approved
            .store(approved_bytes(), Ordering::SeqCst);
        self.reclaimed_at.store(0, Ordering::SeqCst);
        *self.lock_stop() = None;
        self.stopping.store(false, Ordering::SeqCst);
        self.ticks.store(0, Ordering::SeqCst);
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

    /// Where a projected step must stop: halfway into the grace, leaving
    /// room for what the books do not see exactly (allocator overheads).
    fn step_limit(&self) -> u64 {
        self.soft_memory() + self.quota.memory / 20
    }

    fn time_grace(&self) -> Duration {
        (self.quota.time_limit / 10).clamp(Duration::from_millis(200), Duration::from_secs(10))
    }

    /// Called by Rhai before every operation. Counts the operation (see
    /// `ticks`) and decides whether the run must stop. Once it must, every
    /// later operation stops it again: some of Rhai's functions ignore the
    /// errors of the script functions they call (`sort` and `dedup` with a
    /// comparer, in Rhai's versions).
    fn on_progress(&self) -> Option<Dynamic> {
        if self.stopping.load(Ordering::Relaxed) {
            return self.stop();
        }
        // Only the script's thread runs operations: a load and a store, not
        // an atomic increment.
        let ops = self.ticks.load(Ordering::Relaxed) + 1;
        self.ticks.store(ops, Ordering::Relaxed);
        let stop = self.next_stop(ops);
        if let Some(stop) = &stop {
            *self.lock_stop() = Some(stop.clone());
            self.stopping.store(true, Ordering::Relaxed);
        }
        stop
    }

    /// The stop a run that ended without an error should have had: a
    /// function that ignored the stop's error let the run finish.
    pub fn stop(&self) -> Option<Dynamic> {
        self.lock_stop().clone()
    }

    fn lock_stop(&self) -> std::sync::MutexGuard<'_, Option<Dynamic>> {
        self.stop.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn next_stop(&self, ops: u64) -> Option<Dynamic> {
        if self.cancel.is_interrupted() {
            return Some(interrupted_value());
        }
        if ops > self.quota.operations {
            self.signal(OPERATIONS_BREACH);
        }
        if let Some(stop) = self.check_memory(ops) {
            return Some(stop);
        }
        if ops.is_multiple_of(CLOCK_EVERY) || self.cancel.time_is_up() {
            let elapsed = self.cancel.elapsed();
            if elapsed > self.quota.time_limit + self.time_grace() {
                return Some(breach_value(&self.hard(time_breach(self.quota.time_limit))));
            }
            if elapsed > self.quota.time_limit {
                self.signal(TIME_BREACH);
            }
        }
        None
    }

    /// The memory checks of one operation: over the quota (soft, then hard
    /// past the grace), or a large step nothing asked for (a copy of a
    /// large value) that, taken once more, would pass the hard limit (soft,
    /// then hard once a breach was raised). Growth a charge approved was
    /// checked before it happened, and is not projected.
    fn check_memory(&self, ops: u64) -> Option<Dynamic> {
        let in_use = if ops.is_multiple_of(MEASURE_EVERY) {
            measure_process()
        } else {
            process_bytes()
        };
        let previous = self.previous_memory.load(Ordering::Relaxed);
        self.previous_memory.store(in_use, Ordering::Relaxed);
        let approved = approved_bytes();
        let asked = approved.saturating_sub(self.previous_approved.load(Ordering::Relaxed));
        self.previous_approved.store(approved, Ordering::Relaxed);
        let step = in_use.saturating_sub(previous).saturating_sub(asked);
        let large_step = step >= self.quota.memory / LARGE_STEP_SHARE
            && in_use.saturating_add(step) > self.step_limit();
        if in_use <= self.soft_memory() && !large_step {
            return None;
        }
        let in_use = self.confirmed(in_use, ops);
        if in_use > self.hard_memory() {
            return Some(breach_value(&self.memory_breach(in_use)));
        }
        if in_use > self.soft_memory() {
            self.signal(MEMORY_BREACH);
        } else if large_step && in_use.saturating_add(step) > self.step_limit() {
            if self.raised.load(Ordering::Relaxed) {
                return Some(breach_value(&self.step_breach(step)));
            }
            self.last_step.store(step, Ordering::Relaxed);
            self.signal(MEMORY_STEP_BREACH);
        }
        None
    }

    /// `in_use` checked against a fresh measurement, after `malloc` gave
    /// back what it kept of freed memory (an older measurement may count
    /// memory that was kept then and is reused since). Rate-limited: a
    /// script hovering at the quota keeps its speed.
    fn confirmed(&self, in_use: u64, ops: u64) -> u64 {
        let last = self.reclaimed_at.load(Ordering::Relaxed);
        if last != 0 && ops.saturating_sub(last) < RECLAIM_EVERY {
            return in_use;
        }
        self.reclaimed_at.store(ops.max(1), Ordering::Relaxed);
        reclaim_and_measure()
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
            MEMORY_BREACH => self.memory_breach(process_bytes()),
            MEMORY_STEP_BREACH => self.step_breach(self.last_step.load(Ordering::Relaxed)),
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

    fn step_breach(&self, step: u64) -> Breach {
        Breach {
            kind: QuotaKind::Memory,
            message: format!(
                "one step of the script took {} of memory; the session holds {} of its {} \
                 quota, so another step like it would pass the quota",
                human_bytes(step),
                human_bytes(process_bytes()),
                human_bytes(self.quota.memory)
            ),
            hint: "large values are copied when they are read (`let b = a;`, `[a, a]`, \
                   `#{ x: a }`): keep fewer copies of large values, or work on a smaller area"
                .into(),
        }
    }

    /// A breach that ends the run: when the script had been told (it
    /// caught the error and went on), the message says so; when it never
    /// could be (no variable was read since), the breach reads as usual.
    fn hard(&self, mut breach: Breach) -> Breach {
        if self.raised.load(Ordering::Relaxed) {
            breach
                .message
                .push_str(", and the script kept running after the error was caught");
        }
        breach
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
