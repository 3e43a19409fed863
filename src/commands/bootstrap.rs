//! `envctl bootstrap [--plan [--detailed-exitcode]]`

use crate::cli::BootstrapArgs;
use crate::error::{exit, Error, Result};
use crate::ops::{bootstrap, Session};

pub async fn run(session: &Session, args: BootstrapArgs) -> Result<i32> {
    if args.plan {
        let plan = bootstrap::plan(session).await?;
        let p = &session.printer;
        if p.is_json() {
            p.json(&plan);
        } else {
            p.text(plan.text().trim_end());
        }
        // Like `envctl plan`: conflicts fail it (bootstrap would refuse), `--detailed-exitcode`
        // tells changes (2) from none (0).
        if !plan.conflicts.is_empty() {
            return Err(Error::Conflicts(plan.conflicts));
        }
        return Ok(if args.detailed_exitcode && !plan.is_empty() {
            exit::CHANGES
        } else {
            exit::OK
        });
    }
    let report = bootstrap::bootstrap(session).await?;
    let p = &session.printer;
    if p.is_json() {
        p.json(&report);
    } else {
        let state = |created: bool| if created { "created" } else { "exists" };
        p.text(p.table(
            &["RESOURCE", "NAME", "STATE"],
            vec![
                vec![
                    "ECS cluster".into(),
                    report.cluster.clone(),
                    state(report.cluster_created).into(),
                ],
                vec![
                    "execution role".into(),
                    report.execution_role.clone(),
                    state(report.execution_role_created).into(),
                ],
                vec![
                    "scheduler role".into(),
                    report
                        .scheduler_role
                        .clone()
                        .unwrap_or_else(|| "(schedules disabled)".into()),
                    state(report.scheduler_role_created).into(),
                ],
                vec![
                    "task role".into(),
                    report
                        .task_role
                        .clone()
                        .unwrap_or_else(|| "(exec disabled or roles.task_role_arn set)".into()),
                    state(report.task_role_created).into(),
                ],
            ],
        ));
    }
    if let (false, Some(alb)) = (p.is_json(), &report.preview) {
        p.status(format!(
            "Preview URLs: point a wildcard DNS record (*.your-preview-domain) at {} (docs/preview.md).",
            alb.dns_name
        ));
    }
    Ok(exit::OK)
}
