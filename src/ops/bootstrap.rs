//! `bootstrap`: the app-wide pieces every env shares (ECS cluster with Fargate and Fargate Spot,
//! task execution role, scheduler role, the task role ECS Exec needs, the preview ALB, the build
//! bucket, cache repositories and role) as desired → observe → plan → apply. The planning is
//! `plan::bootstrap` (pure), the reads `observe::bootstrap`, the writes `apply::bootstrap`;
//! `--plan` stops after the plan. Nothing is written while a name is someone else's.

use serde::Serialize;

use crate::apply::bootstrap::{apply_bootstrap, BootstrapApplied};
use crate::aws::sts::partition;
use crate::aws::Aws;
use crate::error::{Error, Result};
use crate::model::app_tags;
use crate::observe::bootstrap::observe_bootstrap;
use crate::ops::{self, Session};
use crate::plan::bootstrap::{
    self as planner, BootstrapDesired, BootstrapObserved, BootstrapPlan, Place, RoleKind,
};
use crate::plan::Verb;

pub use crate::plan::bootstrap::{exec_policy, EXEC_POLICY_NAME};

#[derive(Debug, Clone, Serialize)]
pub struct BootstrapReport {
    pub app: String,
    pub region: String,
    pub cluster: String,
    pub cluster_created: bool,
    pub execution_role: String,
    pub execution_role_created: bool,
    /// The role stop/start schedules run as (absent with `schedule.enabled = false`).
    pub scheduler_role: Option<String>,
    pub scheduler_role_created: bool,
    /// The role the env's tasks run as for ECS Exec (absent with `[exec] enabled = false` or
    /// `roles.task_role_arn` set).
    pub task_role: Option<String>,
    pub task_role_created: bool,
    /// The preview listener (`[preview]` enabled without a listener ARN of the user's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview: Option<PreviewAlb>,
    /// The build bucket and role, when a service has a `build` table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub builds: Option<BuildInfra>,
    /// How many writes the run made (0 on a bootstrapped account).
    pub changes: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct PreviewAlb {
    pub load_balancer: String,
    pub dns_name: String,
    pub listener_arn: String,
    pub created: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct BuildInfra {
    pub bucket: String,
    pub bucket_created: bool,
    pub role: String,
}

/// Everything a plan was made from, kept for the apply and the report.
struct Prepared<'s> {
    aws: &'s Aws,
    desired: BootstrapDesired,
    observed: BootstrapObserved,
    plan: BootstrapPlan,
}

async fn prepare(session: &Session) -> Result<Prepared<'_>> {
    let cfg = session.load_config(&[])?;
    let aws = session.aws(Some(&cfg)).await?;
    let app = cfg.config.app.as_str();
    let place = Place {
        partition: partition(&aws.region).to_string(),
        region: aws.region.clone(),
        account: aws.account_id().await?,
    };
    let tags = app_tags(app, &ops::owner(), &ops::now_rfc3339());
    let desired = planner::desired(&cfg, &place, tags);
    let observed = observe_bootstrap(aws, &cfg, &desired).await?;
    if desired.cluster_existing && observed.cluster.is_none() {
        return Err(Error::Precondition {
            message: format!(
                "cluster.existing is set, but the ECS cluster `{}` does not exist",
                desired.cluster
            ),
            hint: "fix cluster.name, or remove cluster.existing to let bootstrap create it".into(),
        });
    }
    let plan = planner::plan_bootstrap(&desired, &observed);
    Ok(Prepared {
        aws,
        desired,
        observed,
        plan,
    })
}

/// What `bootstrap` would do; reads only.
pub async fn plan(session: &Session) -> Result<BootstrapPlan> {
    Ok(prepare(session).await?.plan)
}

pub async fn bootstrap(session: &Session) -> Result<BootstrapReport> {
    let Prepared {
        aws,
        desired,
        observed,
        plan,
    } = prepare(session).await?;
    let printer = &session.printer;
    let started = |a: &planner::BootstrapAction| {
        let mark = if a.verb() == Verb::Create { '+' } else { '~' };
        printer.status(format!("  {mark} {}", a.describe()));
    };
    let applied = apply_bootstrap(aws, &plan, &observed, &started).await?;
    if plan.is_empty() {
        printer.status(format!(
            "Nothing to do: app `{}` is already bootstrapped in {}.",
            plan.app, plan.region
        ));
    }
    report(&desired, &observed, &plan, &applied)
}

/// The resources and their ARNs after the plan was applied.
fn report(
    d: &BootstrapDesired,
    o: &BootstrapObserved,
    plan: &BootstrapPlan,
    applied: &BootstrapApplied,
) -> Result<BootstrapReport> {
    let role = |kind: RoleKind| {
        d.roles.iter().find(|r| r.kind == kind).map(|spec| {
            // The ARN IAM gave in this run, or reported; the one it gives that name otherwise.
            let arn = applied
                .roles
                .iter()
                .find(|(name, _)| *name == spec.name)
                .map(|(_, arn)| arn.clone())
                .or_else(|| o.roles.get(&spec.name).map(|r| r.state.arn.clone()))
                .unwrap_or_else(|| spec.arn.clone());
            (arn, plan.creates_role(&spec.name))
        })
    };
    let (execution_role, execution_role_created) = match &d.own_execution_role {
        Some(arn) => (arn.clone(), false),
        None => role(RoleKind::Execution).unwrap_or_default(),
    };
    let scheduler = role(RoleKind::Scheduler);
    let task = role(RoleKind::Task);
    let preview = match &d.load_balancer {
        None => None,
        Some(name) => {
            let dns_name = o
                .load_balancer
                .as_ref()
                .map(|lb| lb.dns_name.clone())
                .or_else(|| applied.load_balancer.as_ref().map(|(_, dns)| dns.clone()));
            let listener_arn = o
                .load_balancer
                .as_ref()
                .and_then(|lb| lb.listener.clone())
                .or_else(|| applied.listener.clone());
            match (dns_name, listener_arn) {
                (Some(dns_name), Some(listener_arn)) => Some(PreviewAlb {
                    load_balancer: name.clone(),
                    dns_name,
                    listener_arn,
                    created: plan.creates_load_balancer(),
                }),
                _ => {
                    return Err(crate::aws::AwsError::unexpected(
                        "bootstrap",
                        name,
                        "the preview ALB or its listener was neither found nor created",
                    )
                    .into())
                }
            }
        }
    };
    let builds = d.build.as_ref().map(|b| BuildInfra {
        bucket: b.bucket.clone(),
        bucket_created: plan.creates_bucket(),
        role: role(RoleKind::Build).unwrap_or_default().0,
    });
    Ok(BootstrapReport {
        app: d.app.clone(),
        region: d.region.clone(),
        cluster: d.cluster.clone(),
        cluster_created: plan.creates_cluster(),
        execution_role,
        execution_role_created,
        scheduler_role_created: scheduler.as_ref().is_some_and(|s| s.1),
        scheduler_role: scheduler.map(|s| s.0),
        task_role_created: task.as_ref().is_some_and(|t| t.1),
        task_role: task.map(|t| t.0),
        preview,
        builds,
        changes: plan.actions.len(),
    })
}
