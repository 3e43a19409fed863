//! What commands show: plans, env lists, statuses and tables built from envctl's own types,
//! handed to the terminal printer (`output`) as text. Views are plain functions of their input
//! (plus a `Paint` and, for `ls`, a width) so their output can be snapshot-tested without AWS.

pub mod ls;
pub mod plan;
pub mod status;

use std::time::Duration;

use crate::aws::CallStats;
use crate::model::{ServiceReport, Stability};
use crate::output::{table, Printer};

pub use plan::plan_text;

/// The per-service table `up` and `status` print.
pub fn services_table(services: &[ServiceReport]) -> String {
    let rows = services
        .iter()
        .map(|s| {
            vec![
                s.name.clone(),
                s.desired.to_string(),
                s.running.to_string(),
                s.pending.to_string(),
                s.task_definition.clone(),
                s.capacity.clone(),
                match &s.stability {
                    Stability::Stable => "stable".to_string(),
                    Stability::InProgress(_) => "deploying".to_string(),
                    Stability::Failed(_) => "failed".to_string(),
                },
            ]
        })
        .collect();
    table(
        &[
            "SERVICE",
            "DESIRED",
            "RUNNING",
            "PENDING",
            "TASK DEFINITION",
            "CAPACITY",
            "STATE",
        ],
        rows,
    )
}

/// `--stats`: API calls per service and operation, and the wall time, on stderr.
pub fn print_stats(printer: &Printer, stats: &CallStats, elapsed: Duration) {
    let calls = stats.snapshot();
    let total: u64 = calls.iter().map(|c| c.calls).sum();
    let writes: u64 = calls.iter().filter(|c| c.write).map(|c| c.calls).sum();
    if printer.is_json() {
        let v = serde_json::json!({
            "stats": { "calls": calls, "total_calls": total, "write_calls": writes, "wall_ms": elapsed.as_millis() as u64 }
        });
        printer.stderr_line(v.to_string());
        return;
    }
    let rows = calls
        .iter()
        .map(|c| {
            vec![
                c.service.clone(),
                c.operation.clone(),
                c.calls.to_string(),
                if c.write { "write" } else { "read" }.into(),
            ]
        })
        .collect();
    printer.stderr_line(table(&["SERVICE", "OPERATION", "CALLS", "KIND"], rows));
    printer.stderr_line(format!(
        "stats: {total} API calls ({writes} writes) in {:.2}s",
        elapsed.as_secs_f64()
    ));
}

/// A time for people: RFC 3339 (as JSON carries it) shown as `2026-12-02 20:00 +01:00` in the
/// offset it was written with, or `… UTC`. Text that is not a time is shown as it is.
pub fn human_time(rfc3339: &str) -> String {
    use jiff::fmt::temporal::{Pieces, PiecesOffset};
    let Ok(at) = rfc3339.parse::<jiff::Timestamp>() else {
        return rfc3339.to_string();
    };
    let offset = Pieces::parse(rfc3339)
        .ok()
        .and_then(|p| p.offset())
        .and_then(|o| match o {
            PiecesOffset::Numeric(n) => Some(n.offset()),
            _ => None,
        });
    match offset {
        Some(o) if o != jiff::tz::Offset::UTC => at
            .to_zoned(jiff::tz::TimeZone::fixed(o))
            .strftime("%Y-%m-%d %H:%M %:z")
            .to_string(),
        _ => at.strftime("%Y-%m-%d %H:%M UTC").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::human_time;

    #[test]
    fn human_time_keeps_the_offset_and_names_utc() {
        assert_eq!(
            human_time("2026-12-02T20:00:00+01:00"),
            "2026-12-02 20:00 +01:00"
        );
        assert_eq!(human_time("2026-12-02T20:00:00Z"), "2026-12-02 20:00 UTC");
        assert_eq!(
            human_time("2026-12-02T20:00:00+00:00"),
            "2026-12-02 20:00 UTC"
        );
        assert_eq!(human_time("never"), "never");
    }
}
