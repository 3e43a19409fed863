//! `envctl plan`

use crate::cli::PlanArgs;
use crate::commands::views::plan_text;
use crate::error::{exit, Error, Result};
use crate::ops::up::EnvRequest;
use crate::ops::{up, Session};

pub async fn run(session: &Session, args: PlanArgs) -> Result<i32> {
    let prepared = up::prepare(session, &EnvRequest::from(&args.env))?;
    let (_, plan) = up::plan(session, &prepared).await?;
    let p = &session.printer;
    if p.is_json() {
        p.json(&plan);
    } else {
        p.text(plan_text(&plan, true, p.paint()).trim_end());
    }
    // Like a failing Terraform plan: `up` would refuse, so the plan is not a success.
    if !plan.conflicts.is_empty() {
        return Err(Error::Conflicts(plan.conflicts));
    }
    if !plan.capacity.is_empty() {
        return Err(up::capacity_error(&plan));
    }
    Ok(if args.detailed_exitcode && !plan.is_empty() {
        exit::CHANGES
    } else {
        exit::OK
    })
}
