//! A chart's x axis. Dates are placed at their time, so that uneven
//! sampling (a gap in a satellite's revisits, a missing month) shows as
//! uneven spacing, and ticked at calendar steps (hours, days, weeks, months,
//! years) chosen for the span, as matplotlib's date locator does; other
//! labels (groups, names) get one step each.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike};

/// At most this many date ticks, so their labels do not overlap.
const MAX_TICKS: usize = 8;

/// Where a chart's rows sit along x and how the axis is ticked: in days
/// since the first label's midnight for dates, else in steps.
#[derive(Debug, Clone, PartialEq)]
pub struct XAxis {
    /// Each row's x position.
    pub positions: Vec<f64>,
    /// The visible range: the data's span with a little room on each side.
    pub range: (f64, f64),
    /// Tick positions and their labels.
    pub ticks: Vec<(f64, String)>,
}

impl XAxis {
    /// Positions in days when every label is a date, else steps.
    pub fn for_labels(labels: &[String]) -> XAxis {
        date_axis(labels).unwrap_or_else(|| XAxis::steps(labels))
    }

    /// One step per label (dates of a box plot, groups), at most 12 of
    /// them labelled.
    pub fn steps(labels: &[String]) -> XAxis {
        let every = labels.len().div_ceil(12).max(1);
        XAxis {
            positions: (0..labels.len()).map(|i| i as f64).collect(),
            range: (-0.5, labels.len() as f64 - 0.5),
            ticks: labels
                .iter()
                .enumerate()
                .step_by(every)
                .map(|(i, label)| (i as f64, label.clone()))
                .collect(),
        }
    }

    /// The label of the tick at `x` (empty between ticks).
    pub fn label_at(&self, x: f64) -> String {
        self.ticks
            .iter()
            .find(|(position, _)| (position - x).abs() < 1e-9)
            .map(|(_, label)| label.clone())
            .unwrap_or_default()
    }
}

/// The date axis of `labels`, or `None` unless every label reads as a date
/// (see [`parse_label`]).
pub fn date_axis(labels: &[String]) -> Option<XAxis> {
    let times: Vec<NaiveDateTime> = labels
        .iter()
        .map(|l| parse_label(l))
        .collect::<Option<_>>()?;
    let first = *times.iter().min()?;
    let last = *times.iter().max()?;
    let origin = first.date().and_hms_opt(0, 0, 0)?;
    let days = |t: NaiveDateTime| (t - origin).as_seconds_f64() / 86_400.0;
    let span = days(last) - days(first);
    let room = if span > 0.0 { span * 0.04 } else { 1.0 };
    let range = (days(first) - room, days(last) + room);
    let from = origin + TimeDelta::seconds((range.0 * 86_400.0).floor() as i64);
    let to = origin + TimeDelta::seconds((range.1 * 86_400.0).ceil() as i64);
    // Dates without a time of day are not ticked by the hour.
    let whole_days = times.iter().all(|t| t.time() == NaiveTime::MIN);
    let step = Step::for_span(from, to, whole_days);
    let ticks = step
        .ticks(from, to)
        .into_iter()
        .map(|t| (days(t), step.label(t)))
        .collect();
    Some(XAxis {
        positions: times.into_iter().map(days).collect(),
        range,
        ticks,
    })
}

/// Reads `2020-03-14`, `2020-03` (the month's first day), `2020-03-14
/// 10:56`, `2020-03-14T10:56:31` and RFC 3339 times such as
/// `2020-03-14T10:56:31.5Z` (converted to UTC).
pub fn parse_label(label: &str) -> Option<NaiveDateTime> {
    let label = label.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(label) {
        return Some(time.naive_utc());
    }
    const TIMES: [&str; 4] = [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ];
    if let Some(time) = TIMES
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(label, format).ok())
    {
        return Some(time);
    }
    let date = NaiveDate::parse_from_str(label, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(&format!("{label}-01"), "%Y-%m-%d"))
        .ok()?;
    date.and_hms_opt(0, 0, 0)
}

/// A calendar step between ticks.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Step {
    Hours(u32),
    Days(u32),
    Months(u32),
    Years(i32),
}

impl Step {
    /// The candidates, finest first.
    const ALL: [Step; 20] = [
        Step::Hours(1),
        Step::Hours(2),
        Step::Hours(3),
        Step::Hours(6),
        Step::Hours(12),
        Step::Days(1),
        Step::Days(2),
        Step::Days(7),
        Step::Days(14),
        Step::Months(1),
        Step::Months(2),
        Step::Months(3),
        Step::Months(6),
        Step::Years(1),
        Step::Years(2),
        Step::Years(5),
        Step::Years(10),
        Step::Years(20),
        Step::Years(50),
        Step::Years(100),
    ];

    /// The finest step (a day at least, for `whole_days`) that puts at most
    /// [`MAX_TICKS`] ticks between `from` and `to`.
    fn for_span(from: NaiveDateTime, to: NaiveDateTime, whole_days: bool) -> Step {
        let days = (to - from).as_seconds_f64() / 86_400.0;
        Step::ALL
            .into_iter()
            .filter(|step| !(whole_days && matches!(step, Step::Hours(_))))
            // Skip steps far too fine before counting their ticks one by one.
            .filter(|step| days / step.nominal_days() <= 2.0 * MAX_TICKS as f64)
            .find(|step| step.ticks(from, to).len() <= MAX_TICKS)
            .unwrap_or(Step::Years(100))
    }

    fn nominal_days(self) -> f64 {
        match self {
            Step::Hours(h) => f64::from(h) / 24.0,
            Step::Days(d) => f64::from(d),
            Step::Months(m) => f64::from(m) * 30.44,
            Step::Years(y) => f64::from(y) * 365.25,
        }
    }

    /// The ticks from `from` to `to`, both included: whole hours divisible
    /// by the step; days 1, 8, 15, 22 (weeks) or 1, 15 of each month; the
    /// first day of every m-th month; the first of January of years
    /// divisible by the step.
    fn ticks(self, from: NaiveDateTime, to: NaiveDateTime) -> Vec<NaiveDateTime> {
        let mut ticks = Vec::new();
        let mut candidate = match self {
            Step::Hours(_) => from.with_minute(0).and_then(|t| t.with_second(0)),
            Step::Days(_) => from.date().and_hms_opt(0, 0, 0),
            Step::Months(_) | Step::Years(_) => {
                from.date().with_day(1).and_then(|d| d.and_hms_opt(0, 0, 0))
            }
        }
        .and_then(|t| t.with_nanosecond(0));
        while let Some(time) = candidate.filter(|t| *t <= to) {
            if time >= from && self.accepts(time) {
                ticks.push(time);
            }
            candidate = self.next_candidate(time);
        }
        ticks
    }

    fn accepts(self, time: NaiveDateTime) -> bool {
        match self {
            Step::Hours(h) => time.hour().is_multiple_of(h),
            Step::Days(1) => true,
            Step::Days(d) => time.day() <= 28 && (time.day() - 1).is_multiple_of(d),
            Step::Months(m) => time.day() == 1 && time.month0().is_multiple_of(m),
            Step::Years(y) => time.ordinal() == 1 && time.year().rem_euclid(y) == 0,
        }
    }

    /// The next time worth testing: the next hour, day or month.
    fn next_candidate(self, time: NaiveDateTime) -> Option<NaiveDateTime> {
        match self {
            Step::Hours(_) => time.checked_add_signed(TimeDelta::hours(1)),
            Step::Days(_) => time.checked_add_signed(TimeDelta::days(1)),
            Step::Months(_) | Step::Years(_) => time.checked_add_months(chrono::Months::new(1)),
        }
    }

    fn label(self, time: NaiveDateTime) -> String {
        let format = match self {
            Step::Hours(_) => "%Y-%m-%d %H:%M",
            Step::Days(_) => "%Y-%m-%d",
            Step::Months(_) => "%Y-%m",
            Step::Years(_) => "%Y",
        };
        time.format(format).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn rows_sit_at_their_time_so_a_gap_shows() {
        let axis = date_axis(&labels(&["2020-01-01", "2020-01-02", "2020-03-01"])).unwrap();
        assert_eq!(axis.positions, vec![0.0, 1.0, 60.0]);
        assert!(axis.range.0 < 0.0 && axis.range.1 > 60.0);
        let names: Vec<&str> = axis.ticks.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(
            names,
            [
                "2020-01-01",
                "2020-01-15",
                "2020-02-01",
                "2020-02-15",
                "2020-03-01"
            ]
        );
        assert_eq!(axis.ticks[2].0, 31.0);
    }

    #[test]
    fn ticks_follow_the_span() {
        let tick_names = |items: &[&str]| -> Vec<String> {
            date_axis(&labels(items))
                .unwrap()
                .ticks
                .into_iter()
                .map(|(_, l)| l)
                .collect()
        };
        assert_eq!(
            tick_names(&["2019-03-01", "2020-03-01"]),
            [
                "2019-03", "2019-05", "2019-07", "2019-09", "2019-11", "2020-01", "2020-03"
            ]
        );
        assert_eq!(
            tick_names(&["2010-01", "2020-01"]),
            ["2010", "2012", "2014", "2016", "2018", "2020"]
        );
        assert_eq!(
            tick_names(&["2020-07-22 10:00", "2020-07-22 16:00"]),
            [
                "2020-07-22 10:00",
                "2020-07-22 11:00",
                "2020-07-22 12:00",
                "2020-07-22 13:00",
                "2020-07-22 14:00",
                "2020-07-22 15:00",
                "2020-07-22 16:00"
            ]
        );
        assert_eq!(
            tick_names(&["2020-08-01", "2020-08-31"]),
            [
                "2020-08-01",
                "2020-08-08",
                "2020-08-15",
                "2020-08-22",
                "2020-09-01"
            ]
        );
        assert_eq!(
            tick_names(&["2020-07-22"]),
            ["2020-07-21", "2020-07-22", "2020-07-23"],
            "one date, ticked by the day"
        );
    }

    #[test]
    fn labels_read_as_dates_or_not_at_all() {
        let at = |s| parse_label(s).map(|t| t.to_string());
        assert_eq!(at("2020-03-14").as_deref(), Some("2020-03-14 00:00:00"));
        assert_eq!(at("2020-03").as_deref(), Some("2020-03-01 00:00:00"));
        assert_eq!(
            at("2020-03-14 10:56").as_deref(),
            Some("2020-03-14 10:56:00")
        );
        assert_eq!(
            at("2020-03-14T10:56:31Z").as_deref(),
            Some("2020-03-14 10:56:31")
        );
        assert_eq!(
            at("2020-03-14T12:56:31+02:00").as_deref(),
            Some("2020-03-14 10:56:31")
        );
        assert_eq!(at("Po valley"), None);
        assert_eq!(at("2020"), None, "a year alone is a category, not a date");
        assert!(date_axis(&labels(&["2020-03-14", "later"])).is_none());
    }
}
