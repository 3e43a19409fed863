//! `envctl janitor install|uninstall [--plan]`

use crate::cli::{JanitorArgs, JanitorCommand};
use crate::error::{exit, Error, Result};
use crate::janitor::{JanitorPlan, JanitorReport};
use crate::ops::janitor;
use crate::ops::Session;

pub async fn run(session: &Session, command: JanitorCommand) -> Result<i32> {
    let (install, args) = match command {
        JanitorCommand::Install(args) => (true, args),
        JanitorCommand::Uninstall(args) => (false, args),
    };
    if args.plan {
        let plan = if install {
            janitor::plan_install(session, &args.overrides).await?
        } else {
            janitor::plan_uninstall(session, &args.overrides).await?
        };
        return print_plan(session, &args, plan);
    }
    let report = if install {
        janitor::install(session, &args.overrides).await?
    } else {
        janitor::uninstall(session, &args.overrides).await?
    };
    print(session, &report);
    Ok(exit::OK)
}

/// Like `envctl plan`: conflicts fail it (the command would refuse), `--detailed-exitcode`
/// tells changes (2) from none (0).
fn print_plan(session: &Session, args: &JanitorArgs, plan: JanitorPlan) -> Result<i32> {
    let p = &session.printer;
    if p.is_json() {
        p.json(&plan);
    } else {
        p.text(plan.text().trim_end());
    }
    if !plan.conflicts.is_empty() {
        return Err(Error::Conflicts(plan.conflicts));
    }
    Ok(if args.detailed_exitcode && !plan.is_empty() {
        exit::CHANGES
    } else {
        exit::OK
    })
}

fn print(session: &Session, report: &JanitorReport) {
    let p = &session.printer;
    if p.is_json() {
        p.json(report);
        return;
    }
    let rows = report
        .resources
        .iter()
        .map(|r| vec![r.resource.clone(), r.name.clone(), r.state.as_str().into()])
        .collect();
    p.text(p.table(&["RESOURCE", "NAME", "STATE"], rows));
}
