//! `envctl status`

use crate::cli::StatusArgs;
use crate::error::{exit, Result};
use crate::ops::wait::Stability;
use crate::ops::{self, inspect, Session};

pub async fn run(session: &Session, args: StatusArgs) -> Result<i32> {
    let env = ops::resolve_env(args.env.as_deref())?;
    let status = inspect::status(session, &env).await?;
    let p = &session.printer;
    if p.is_json() {
        p.json(&status);
        return Ok(exit::OK);
    }
    if status.services.is_empty() {
        p.text(format!(
            "env `{}` has no services (run `envctl up {}`).",
            status.env, env.raw
        ));
        return Ok(exit::OK);
    }
    let rows = status
        .services
        .iter()
        .map(|s| {
            let m = &s.summary;
            vec![
                m.name.clone(),
                m.desired.to_string(),
                m.running.to_string(),
                m.pending.to_string(),
                m.task_definition.clone(),
                m.capacity.clone(),
                match &m.stability {
                    Stability::Stable => "stable".to_string(),
                    Stability::InProgress(_) => "deploying".to_string(),
                    Stability::Failed(_) => "failed".to_string(),
                },
            ]
        })
        .collect();
    let mut out = p.table(
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
    );
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
    p.text(out);
    Ok(exit::OK)
}
