//! `envctl status`

use crate::cli::StatusArgs;
use crate::error::{exit, Result};
use crate::ops::wait::Stability;
use crate::ops::{self, inspect, Session};
use crate::output::services_table;

pub async fn run(session: &Session, args: StatusArgs) -> Result<i32> {
    let env = ops::resolve_env(args.env.as_deref())?;
    let status = inspect::status(session, &env).await?;
    let p = &session.printer;
    if p.is_json() {
        p.json(&status);
        return Ok(exit::OK);
    }
    let summaries: Vec<_> = status.services.iter().map(|s| s.summary.clone()).collect();
    let mut out = services_table(p, &summaries);
    for s in &status.services {
        out.push_str(&format!("\n\n{}:", s.summary.name));
        if let Stability::InProgress(d) | Stability::Failed(d) = &s.summary.stability {
            out.push_str(&format!("\n  deployment: {d}"));
        }
        if s.events.is_empty() {
            out.push_str("\n  no recent events");
        }
        for e in &s.events {
            out.push_str(&format!("\n  {}  {}", e.at, e.message));
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
    out.push_str(&format!(
        "\n\nexpires: {}{}",
        status.expires_at.as_deref().unwrap_or("never"),
        if status.protected { " (protected)" } else { "" }
    ));
    if status.schedules.is_empty() {
        out.push_str("\nschedules: none (always on)");
    }
    for s in &status.schedules {
        out.push_str(&format!(
            "\nschedule {}: {} {} — next {}",
            s.name,
            s.expression,
            s.timezone,
            s.next.as_deref().unwrap_or("-")
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
    p.text(out);
    Ok(exit::OK)
}
