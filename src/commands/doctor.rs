//! `envctl doctor`: one line per check on stdout (it is the report), exit 1 when any failed.

use crate::error::{exit, Result};
use crate::ops::doctor::{self, DoctorOptions, Level};
use crate::ops::Session;

pub async fn run(session: &Session) -> Result<i32> {
    let report = doctor::doctor(
        session,
        &DoctorOptions {
            path: doctor::process_path(),
        },
    )
    .await;
    let p = &session.printer;
    if p.is_json() {
        p.json(&report);
    } else {
        let mut out = Vec::new();
        for c in &report.checks {
            let level = match c.level {
                Level::Ok => "ok",
                Level::Warn => "warn",
                Level::Fail => "fail",
            };
            out.push(format!("{level:<5} {:<12} {}", c.name, c.message));
            if let Some(fix) = &c.fix {
                out.push(format!("{:<18} fix: {fix}", ""));
            }
        }
        p.text(out.join("\n"));
    }
    Ok(if report.failed() {
        exit::FAILURE
    } else {
        exit::OK
    })
}
