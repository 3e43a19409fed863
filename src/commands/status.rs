//! `envctl status`

use std::io::IsTerminal;
use std::time::Duration;

use crate::cli::StatusWatchArgs;
use crate::error::{exit, Result};
use crate::naming::EnvName;
use crate::ops::wait::Stability;
use crate::ops::{self, inspect, Session};
use crate::output::services_table;
use crate::output::Printer;

pub async fn run(session: &Session, args: StatusWatchArgs) -> Result<i32> {
    let env = ops::resolve_env(args.status.env.as_deref())?;
    if args.watch {
        return watch(session, &env, Duration::from_secs(args.interval)).await;
    }
    let status = inspect::status(session, &env).await?;
    let p = &session.printer;
    if p.is_json() {
        p.json(&status);
        return Ok(exit::OK);
    }
    p.text(view(p, &status));
    Ok(exit::OK)
}

/// `status --watch`: on a terminal, clear the screen and redraw every `interval`; on a pipe,
/// print a snapshot only when it differs from the last one (so a log of it stays short). A
/// failed read is shown and retried. Ctrl-C ends it with exit 0: watching has nothing to undo.
async fn watch(session: &Session, env: &EnvName, interval: Duration) -> Result<i32> {
    let p = &session.printer;
    let tty = std::io::stdout().is_terminal();
    let stop = crate::interrupt::ctrl_c();
    tokio::pin!(stop);
    let mut last: Option<String> = None;
    loop {
        let snapshot = tokio::select! {
            s = inspect::status(session, env) => s,
            _ = &mut stop => return Ok(exit::OK),
        };
        let body = match &snapshot {
            Ok(status) if p.is_json() => serde_json::to_string(status).unwrap_or_default(),
            Ok(status) => view(p, status),
            Err(e) => format!("error: {e}"),
        };
        if tty {
            let now = jiff::Timestamp::now()
                .round(jiff::Unit::Second)
                .unwrap_or_default();
            // Clear the screen and home the cursor, then the snapshot under a one-line header.
            print!("\x1b[2J\x1b[H");
            p.text(format!(
                "envctl status {} — every {}s — {now} — Ctrl-C to stop\n\n{body}",
                env.raw,
                interval.as_secs()
            ));
        } else if last.as_deref() != Some(body.as_str()) {
            if last.is_some() && !p.is_json() {
                p.text("");
            }
            p.text(&body);
        }
        last = Some(body);
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = &mut stop => return Ok(exit::OK),
        }
    }
}

/// The text view of one status.
fn view(p: &Printer, status: &inspect::EnvStatus) -> String {
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
    out
}
