//! `envctl down`: asks first on a terminal; needs `--yes` otherwise.

use std::io::{BufRead, IsTerminal, Write};

use crate::cli::DownArgs;
use crate::commands::views::plan_text;
use crate::error::{exit, Error, Result};
use crate::ops::{self, down, Session};

pub async fn run(session: &Session, args: DownArgs) -> Result<i32> {
    let env = ops::resolve_env(args.env.as_deref())?;
    let plan = down::plan(session, &env, args.force).await?;

    let p = &session.printer;
    if plan.is_empty() {
        if p.is_json() {
            p.json(&serde_json::json!({ "app": plan.app, "env": plan.env, "deleted": 0, "skipped": plan.skipped }));
        } else {
            p.text(format!(
                "Nothing to delete: env `{}` has no resources.",
                plan.env
            ));
            for c in &plan.skipped {
                p.status(format!("  ! left alone: {c}"));
            }
        }
        return Ok(exit::OK);
    }
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            return Err(Error::NotConfirmed {
                message: format!(
                    "`down` would delete {} resource(s) of env `{}` and needs confirmation",
                    plan.actions.len(),
                    plan.env
                ),
                hint: "pass --yes to confirm when not running in a terminal".into(),
            });
        }
        let mut err = anstream::stderr().lock();
        let _ = write!(err, "{}", plan_text(&plan, false, p.paint_stderr()));
        let _ = write!(err, "Delete these resources of env `{}`? [y/N] ", plan.env);
        let _ = err.flush();
        drop(err);
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            p.status("Nothing deleted.");
            return Ok(exit::NOT_CONFIRMED);
        }
    }
    let force = if args.force { " --force" } else { "" };
    crate::interrupt::resume_with(format!(
        "envctl down {}{force}",
        crate::commands::up::shell_word(&env.raw)
    ));
    p.status(format!(
        "Deleting env `{}` ({} action(s)):",
        plan.env,
        plan.actions.len()
    ));
    let report = down::apply(session, plan).await?;
    if p.is_json() {
        p.json(&report);
    } else {
        p.text(format!(
            "Deleted env `{}`: {} action(s) done.",
            report.env, report.applied.completed
        ));
        for c in &report.plan.skipped {
            p.status(format!("  ! left alone: {c}"));
        }
    }
    Ok(exit::OK)
}
