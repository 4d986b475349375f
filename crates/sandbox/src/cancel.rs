//! Interrupt flag and wall-clock deadline, checked by long native loops.

use super::{Breach, QuotaKind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Why native work must stop now.
#[derive(Debug, Clone, PartialEq)]
pub enum Stop {
    /// The user pressed Ctrl-C or the kernel received an interrupt request.
    Interrupted,
    /// A quota was exceeded.
    Quota(Breach),
}

impl From<Breach> for Stop {
    fn from(breach: Breach) -> Self {
        Stop::Quota(breach)
    }
}

/// Shared between the front-end (which raises the interrupt), the script
/// guard (which checks it between operations) and native loops (which check
/// it between blocks).
#[derive(Debug, Default)]
pub struct Cancel {
    interrupted: Arc<AtomicBool>,
    run: Mutex<Option<RunClock>>,
    alarm: Arc<Alarm>,
}

/// A flag raised when the run's time is up, by a thread that sleeps until
/// then. The guard looks at the flag on every script operation (a load,
/// where reading the clock costs tens of nanoseconds), so a loop of native
/// calls that each take a while is stopped on time although the clock is
/// otherwise read only every few hundred operations.
#[derive(Debug, Default)]
struct Alarm {
    rung: AtomicBool,
    state: Mutex<AlarmState>,
    wake: Condvar,
}

#[derive(Debug, Default)]
struct AlarmState {
    deadline: Option<Instant>,
    watching: bool,
    closed: bool,
}

impl Alarm {
    fn lock(&self) -> MutexGuard<'_, AlarmState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets the time at which the flag rises (and lowers it until then),
    /// starting the watching thread the first time. Without a thread (the
    /// system refused one) the flag never rises and the clock alone counts.
    fn set(self: &Arc<Self>, deadline: Instant) {
        self.rung.store(false, Ordering::SeqCst);
        let mut state = self.lock();
        state.deadline = Some(deadline);
        if !state.watching {
            let alarm = Arc::clone(self);
            state.watching = std::thread::Builder::new()
                .name("cleope-alarm".into())
                .spawn(move || alarm.watch())
                .is_ok();
        }
        self.wake.notify_all();
    }

    fn watch(&self) {
        let mut state = self.lock();
        while !state.closed {
            state = match state.deadline {
                Some(deadline) if Instant::now() >= deadline => {
                    self.rung.store(true, Ordering::SeqCst);
                    state.deadline = None;
                    state
                }
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    let waited = self.wake.wait_timeout(state, left);
                    waited.unwrap_or_else(|e| e.into_inner()).0
                }
                None => self.wake.wait(state).unwrap_or_else(|e| e.into_inner()),
            };
        }
    }

    fn close(&self) {
        self.lock().closed = true;
        self.wake.notify_all();
    }
}

impl Drop for Cancel {
    fn drop(&mut self) {
        self.alarm.close();
    }
}

#[derive(Debug, Clone, Copy)]
struct RunClock {
    started: Instant,
    limit: Duration,
}

impl Cancel {
    /// The flag a signal handler or control channel sets to interrupt the run.
    pub fn interrupt_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.interrupted)
    }

    /// Asks the current run to stop as soon as it can.
    pub fn interrupt(&self) {
        self.interrupted.store(true, Ordering::SeqCst);
    }

    /// True once an interrupt was requested for the current run.
    pub fn is_interrupted(&self) -> bool {
        self.interrupted.load(Ordering::Relaxed)
    }

    /// Starts the wall clock of a new run (a file, a cell, a REPL entry) and
    /// clears any interrupt left from the previous one.
    pub fn start_run(&self, limit: Duration) {
        self.interrupted.store(false, Ordering::SeqCst);
        let started = Instant::now();
        *self.run.lock().unwrap_or_else(|e| e.into_inner()) = Some(RunClock { started, limit });
        if let Some(deadline) = started.checked_add(limit) {
            self.alarm.set(deadline);
        }
    }

    /// True once the current run's time limit has passed (a flag another
    /// thread raises: cheap enough to look at on every operation).
    pub fn time_is_up(&self) -> bool {
        self.alarm.rung.load(Ordering::Relaxed)
    }

    /// Time since the current run started.
    pub fn elapsed(&self) -> Duration {
        self.clock()
            .map(|c| c.started.elapsed())
            .unwrap_or_default()
    }

    /// The wall-clock limit of the current run.
    pub fn time_limit(&self) -> Option<Duration> {
        self.clock().map(|c| c.limit)
    }

    fn clock(&self) -> Option<RunClock> {
        *self.run.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// For a wait about to begin (a server's `Retry-After`, a backoff): the
    /// time-limit error now when the wait would end past the run's
    /// deadline, rather than a sleep that the deadline cuts anyway.
    pub fn check_wait(&self, wait: Duration) -> Result<(), Stop> {
        self.check()?;
        match self.clock() {
            Some(clock) if clock.started.elapsed() + wait > clock.limit => {
                Err(Stop::Quota(time_breach(clock.limit)))
            }
            _ => Ok(()),
        }
    }

    /// For native loops: `Err` when the run was interrupted or its time is up.
    pub fn check(&self) -> Result<(), Stop> {
        if self.is_interrupted() {
            return Err(Stop::Interrupted);
        }
        match self.clock() {
            Some(clock) if clock.started.elapsed() > clock.limit => {
                Err(Stop::Quota(time_breach(clock.limit)))
            }
            _ => Ok(()),
        }
    }
}

/// The breach reported when a run passes its wall-clock limit.
pub fn time_breach(limit: Duration) -> Breach {
    Breach {
        kind: QuotaKind::Time,
        message: format!(
            "the run took longer than its {} time limit",
            humantime::format_duration(limit)
        ),
        hint: "work on a smaller area or fewer dates, or split the work over several cells; \
               the limit applies to each run or cell"
            .into(),
    }
}

/// The longest wait a script may ask for (sleeping, waiting for an order):
/// anything longer is surely a mistake.
pub const LONGEST_WAIT: Duration = Duration::from_secs(24 * 60 * 60);

/// A script's number of seconds to wait as a duration: from 0 to a day
/// ([`LONGEST_WAIT`]); None for anything else (negative, NaN, infinite, a
/// year), which callers name `BadDuration`.
pub fn script_wait(seconds: f64) -> Option<Duration> {
    (seconds.is_finite() && (0.0..=LONGEST_WAIT.as_secs_f64()).contains(&seconds))
        .then(|| Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_wait_past_the_deadline_is_refused_before_it_starts() {
        let cancel = Cancel::default();
        assert!(
            cancel.check_wait(Duration::from_secs(3600)).is_ok(),
            "no run, no limit"
        );
        cancel.start_run(Duration::from_secs(2));
        assert!(cancel.check_wait(Duration::from_millis(500)).is_ok());
        assert!(matches!(
            cancel.check_wait(Duration::from_secs(30)),
            Err(Stop::Quota(_))
        ));
    }

    #[test]
    fn the_alarm_rises_when_the_time_is_up_and_lowers_for_the_next_run() {
        let cancel = Cancel::default();
        cancel.start_run(Duration::from_millis(30));
        assert!(!cancel.time_is_up());
        std::thread::sleep(Duration::from_millis(200));
        assert!(cancel.time_is_up());
        cancel.start_run(Duration::from_secs(60));
        assert!(!cancel.time_is_up());
    }

    use super::*;

    #[test]
    fn check_reports_interrupt_then_clears_on_the_next_run() {
        let cancel = Cancel::default();
        cancel.start_run(Duration::from_secs(60));
        assert_eq!(cancel.check(), Ok(()));
        cancel.interrupt();
        assert_eq!(cancel.check(), Err(Stop::Interrupted));
        cancel.start_run(Duration::from_secs(60));
        assert_eq!(cancel.check(), Ok(()));
    }

    #[test]
    fn check_reports_the_time_limit() {
        let cancel = Cancel::default();
        cancel.start_run(Duration::from_millis(1));
        std::thread::sleep(Duration::from_millis(5));
        match cancel.check() {
            Err(Stop::Quota(breach)) => assert_eq!(breach.kind, QuotaKind::Time),
            other => panic!("expected a time breach, got {other:?}"),
        }
    }
}
