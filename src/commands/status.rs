//! `envctl status`

use std::io::IsTerminal;
use std::time::Duration;

use crate::cli::StatusWatchArgs;
use crate::commands::views::status::status_text;
use crate::error::{exit, Result};
use crate::naming::EnvName;
use crate::ops::{self, inspect, Session};

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
    p.text(status_text(&status, p.paint()));
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
            Ok(status) => status_text(status, p.paint()),
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
