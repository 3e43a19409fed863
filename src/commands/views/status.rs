//! `envctl status` for people: a header saying which env this is (env, branch, owner, expiry,
//! URL), the services table, then each service's deployment, events and stopped tasks, the
//! schedules and the preview targets.

use crate::commands::views::{human_time, services_table};
use crate::model::Stability;
use crate::ops::inspect::EnvStatus;
use crate::output::Paint;

pub fn status_text(status: &EnvStatus, paint: Paint) -> String {
    let mut out = header(status, paint);
    out.push_str("\n\n");
    let summaries: Vec<_> = status.services.iter().map(|s| s.summary.clone()).collect();
    out.push_str(&services_table(&summaries));
    for s in &status.services {
        out.push_str(&format!("\n\n{}:", paint.bold(&s.summary.name)));
        match &s.summary.stability {
            Stability::InProgress(d) => {
                out.push_str(&format!("\n  deployment: {}", paint.update(d)))
            }
            Stability::Failed(d) => out.push_str(&format!("\n  deployment: {}", paint.error(d))),
            Stability::Stable => {}
        }
        if s.events.is_empty() {
            out.push_str("\n  no recent events");
        }
        for e in &s.events {
            out.push_str(&format!("\n  {}  {}", paint.dim(&e.at), e.message));
        }
        if s.spot_interruptions > 0 {
            out.push_str(&format!(
                "\n  {} task(s) stopped by Fargate Spot interruptions",
                s.spot_interruptions
            ));
        }
        for t in &s.stopped_tasks {
            let spot = if t.is_spot_interruption() {
                " [spot interruption]"
            } else {
                ""
            };
            out.push_str(&format!(
                "\n  stopped {} {}{}: {}",
                t.stopped_at.as_deref().unwrap_or("-"),
                t.task_arn.rsplit('/').next().unwrap_or(&t.task_arn),
                spot,
                t.reason
            ));
        }
    }
    out.push('\n');
    if status.schedules.is_empty() {
        out.push_str("\nschedules: none (always on)");
    }
    for s in &status.schedules {
        out.push_str(&format!(
            "\nschedule {}: {} {} — next {}",
            s.name,
            s.expression,
            s.timezone,
            s.next
                .as_deref()
                .map(human_time)
                .unwrap_or_else(|| "-".into())
        ));
    }
    for v in &status.previews {
        out.push_str(&format!("\npreview {}: {}", v.service, v.url));
        if v.targets.is_empty() {
            out.push_str(" (no targets registered yet)");
        }
        for t in &v.targets {
            out.push_str(&format!(
                "\n  target {}:{} {}{}",
                t.target,
                t.port.map(|p| p.to_string()).unwrap_or_default(),
                t.state,
                t.reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            ));
        }
    }
    out
}

/// `env:`, `branch:`, `owner:`, `expires:` and `url:` lines, aligned.
fn header(status: &EnvStatus, paint: Paint) -> String {
    let or_dash = |s: &str| {
        if s.is_empty() {
            "-".to_string()
        } else {
            s.to_string()
        }
    };
    let expires = format!(
        "{}{}",
        status
            .expires_at
            .as_deref()
            .map(human_time)
            .unwrap_or_else(|| "never".into()),
        if status.protected { " (protected)" } else { "" }
    );
    let urls: Vec<&str> = status.previews.iter().map(|v| v.url.as_str()).collect();
    let lines = [
        (
            "env",
            format!(
                "{} (app {}, cluster {})",
                paint.bold(&status.env),
                status.app,
                status.cluster
            ),
        ),
        ("branch", or_dash(&status.branch)),
        ("owner", or_dash(&status.owner)),
        ("expires", expires),
        ("url", or_dash(&urls.join(" "))),
    ];
    lines
        .iter()
        .map(|(k, v)| format!("{:<8} {v}", format!("{k}:")))
        .collect::<Vec<_>>()
        .join("\n")
}
