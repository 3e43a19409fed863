//! How many hours an env runs in a window: its stop/start schedules played forward from its
//! current state with the same cron and time-zone arithmetic the schedules are checked with
//! (`crate::schedule`), DST gaps and folds included.

use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::schedule::{self, AwsCron};

/// A stop/start pair as the env's schedules fire them.
#[derive(Debug, Clone)]
pub struct StopStart {
    pub stop: AwsCron,
    pub start: AwsCron,
    pub timezone: String,
    tz: TimeZone,
}

impl StopStart {
    /// From the expressions and zone the rendered schedules carry.
    pub fn new(stop: &str, start: &str, timezone: &str) -> Result<StopStart, String> {
        Ok(StopStart {
            stop: schedule::parse_cron(stop)?,
            start: schedule::parse_cron(start)?,
            timezone: timezone.to_string(),
            tz: schedule::timezone(timezone)?,
        })
    }
}

/// Running hours in a window, and the firings that bound the current state.
#[derive(Debug, Clone, PartialEq)]
pub struct RunningHours {
    pub hours: f64,
    pub window_hours: f64,
    /// The first start in the window (what ends a stopped env's free time).
    pub next_start: Option<Timestamp>,
    pub next_stop: Option<Timestamp>,
}

/// Hours running in `[from, to)`, starting `running_now` and switching at each firing. Without
/// schedules the current state holds for the whole window: a stopped env costs nothing until
/// something starts it.
pub fn running_hours(
    schedules: Option<&StopStart>,
    running_now: bool,
    from: Timestamp,
    to: Timestamp,
) -> RunningHours {
    let window_hours = hours_between(from, to);
    let Some(s) = schedules else {
        return RunningHours {
            hours: if running_now { window_hours } else { 0.0 },
            window_hours,
            next_start: None,
            next_stop: None,
        };
    };
    let (mut next_start, mut next_stop) = (None, None);
    let mut running = running_now;
    let mut at = from;
    let mut hours = 0.0;
    loop {
        let stop = s.stop.next_after(at, &s.tz).filter(|t| *t < to);
        let start = s.start.next_after(at, &s.tz).filter(|t| *t < to);
        // A stop and a start at the same instant: the start was meant to win the day (AWS
        // fires both; the order is not defined, so envctl assumes the env ends up running).
        let (when, starts) = match (stop, start) {
            (None, None) => break,
            (Some(p), Some(s)) if s <= p => (s, true),
            (Some(p), _) => (p, false),
            (None, Some(s)) => (s, true),
        };
        if starts {
            next_start.get_or_insert(when);
        } else {
            next_stop.get_or_insert(when);
        }
        if running {
            hours += hours_between(at, when);
        }
        running = starts;
        at = when;
    }
    if running {
        hours += hours_between(at, to);
    }
    RunningHours {
        hours,
        window_hours,
        next_start,
        next_stop,
    }
}

fn hours_between(from: Timestamp, to: Timestamp) -> f64 {
    to.duration_since(from).as_secs_f64().max(0.0) / 3600.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn weekdays_8_to_20(tz: &str) -> StopStart {
        StopStart::new("cron(0 20 ? * MON-FRI *)", "cron(0 8 ? * MON-FRI *)", tz).expect("valid")
    }

    #[test]
    fn a_week_of_the_default_schedule_is_sixty_hours() {
        // Monday 2026-12-07 00:00 UTC, stopped (the evening stop fired on Friday).
        let s = weekdays_8_to_20("UTC");
        let h = running_hours(
            Some(&s),
            false,
            at("2026-12-07T00:00:00Z"),
            at("2026-12-14T00:00:00Z"),
        );
        assert_eq!(h.hours, 60.0);
        assert_eq!(h.window_hours, 168.0);
        assert_eq!(h.next_start, Some(at("2026-12-07T08:00:00Z")));
        assert_eq!(h.next_stop, Some(at("2026-12-07T20:00:00Z")));
    }

    #[test]
    fn a_stopped_env_costs_nothing_until_the_next_start() {
        let s = weekdays_8_to_20("UTC");
        // Friday 21:00, stopped: nothing until Monday 08:00.
        let h = running_hours(
            Some(&s),
            false,
            at("2026-12-11T21:00:00Z"),
            at("2026-12-14T08:00:00Z"),
        );
        assert_eq!(h.hours, 0.0);
        // Started by hand on Saturday: it runs until the next stop, Monday 20:00.
        let h = running_hours(
            Some(&s),
            true,
            at("2026-12-12T10:00:00Z"),
            at("2026-12-15T00:00:00Z"),
        );
        assert_eq!(h.hours, 58.0);
        // No schedules: the state holds.
        let from = at("2026-12-12T10:00:00Z");
        let to = at("2026-12-13T10:00:00Z");
        assert_eq!(running_hours(None, false, from, to).hours, 0.0);
        assert_eq!(running_hours(None, true, from, to).hours, 24.0);
    }

    #[test]
    fn the_schedule_is_read_in_its_time_zone() {
        // 08:00-20:00 in Sydney (UTC+11 in December) is 21:00-09:00 UTC the day before.
        let s = weekdays_8_to_20("Australia/Sydney");
        let h = running_hours(
            Some(&s),
            false,
            at("2026-12-07T00:00:00Z"),
            at("2026-12-14T00:00:00Z"),
        );
        // The window is Monday 11:00 to Monday 11:00 in Sydney. Stopped at first, the env
        // misses Monday's 11:00-20:00 (9 h) and gets next Monday's 08:00-11:00 (3 h).
        assert_eq!(h.next_stop, Some(at("2026-12-07T09:00:00Z")));
        assert_eq!(h.hours, 51.0);
        let h = running_hours(
            Some(&s),
            true,
            at("2026-12-07T00:00:00Z"),
            at("2026-12-14T00:00:00Z"),
        );
        // Running at first: exactly one week of the schedule.
        assert_eq!(h.hours, 60.0);
    }

    #[test]
    fn daylight_saving_days_are_23_and_25_hours_long() {
        // Daily 01:00-22:00 local.
        let s = StopStart::new("cron(0 22 * * ? *)", "cron(0 1 * * ? *)", "Europe/Berlin")
            .expect("valid");
        // 2026-03-29 Berlin springs forward at 02:00: 01:00 -> 22:00 local is 20 real hours.
        let h = running_hours(
            Some(&s),
            false,
            at("2026-03-28T23:00:00Z"),
            at("2026-03-29T22:00:00Z"),
        );
        assert_eq!(h.next_start, Some(at("2026-03-29T00:00:00Z")));
        assert_eq!(h.hours, 20.0);
        // 2026-10-25 falls back at 03:00: 01:00 -> 22:00 local is 22 real hours.
        let h = running_hours(
            Some(&s),
            false,
            at("2026-10-24T22:00:00Z"),
            at("2026-10-25T23:00:00Z"),
        );
        assert_eq!(h.hours, 22.0);
    }

    #[test]
    fn a_start_time_that_does_not_exist_is_skipped_that_day() {
        // 02:30 does not exist in Berlin on 2026-03-29: no start that day (AWS skips it).
        let s = StopStart::new("cron(0 20 * * ? *)", "cron(30 2 * * ? *)", "Europe/Berlin")
            .expect("valid");
        let h = running_hours(
            Some(&s),
            false,
            at("2026-03-28T22:00:00Z"),
            at("2026-03-29T22:00:00Z"),
        );
        assert_eq!(h.hours, 0.0);
        assert_eq!(h.next_start, None);
    }
}
