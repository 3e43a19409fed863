//! `envctl rollback`: show which service goes from which revision to which, deploy, wait.

use crate::cli::RollbackArgs;
use crate::commands::views::services_table;
use crate::error::{exit, Result};
use crate::ops::rollback::{self, RevisionTargets, RollbackOptions};
use crate::ops::{self, Session};

pub async fn run(session: &Session, args: RollbackArgs) -> Result<i32> {
    let env = ops::resolve_env(args.env.as_deref())?;
    let targets = RevisionTargets::parse(&args.to)?;
    let plan = rollback::plan(session, &env, &targets).await?;
    let p = &session.printer;
    for step in &plan.steps {
        if step.changes() {
            p.status(format!(
                "  ~ {}: {} -> {}",
                step.service, step.from, step.to
            ));
        } else {
            p.status(format!("    {}: already on {}", step.service, step.to));
        }
    }
    let moving = plan.steps.iter().filter(|s| s.changes()).count();
    crate::interrupt::resume_with(format!("envctl rollback {}", env.raw));
    let report = rollback::apply(
        session,
        plan,
        &RollbackOptions {
            wait: !args.no_wait,
            wait_timeout: args.wait_timeout,
            poll_interval: ops::poll_interval(),
        },
    )
    .await?;
    if p.is_json() {
        p.json(&report);
    } else {
        p.text(services_table(&report.services));
        p.status(format!(
            "env `{}`: {moving} service(s) rolled back; the next `envctl up {}` rolls forward again",
            report.plan.env, env.raw
        ));
    }
    Ok(exit::OK)
}
