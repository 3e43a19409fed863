//! Runs a bootstrap plan (`plan::bootstrap`): stage by stage, the steps of one stage together (at
//! most [`CONCURRENCY`] at a time), stopping after the first stage with a failure. Names taken
//! between observe and apply are handled like the planner would have: a resource found to be
//! the app's is used, anyone else's is a conflict and nothing is written to it.

use std::sync::Mutex;

use futures::stream::{self, StreamExt};

use crate::aws::{Aws, AwsError};
use crate::error::{Error, Result};
use crate::interrupt;
use crate::model::{app_ownership, Ownership, Tags, TAG_PREVIEW_LISTENER};
use crate::plan::bootstrap::{BootstrapAction, BootstrapObserved, BootstrapPlan};
use crate::plan::Conflict;

/// IAM, ECS, S3 and ELB all take a handful of writes at once well; bootstrap has at most a dozen.
pub const CONCURRENCY: usize = 4;

/// What AWS answered to the steps that create something later steps (and the report) name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BootstrapApplied {
    pub cluster_arn: Option<String>,
    /// The ARN and DNS name of the ALB created in this run.
    pub load_balancer: Option<(String, String)>,
    pub listener: Option<String>,
    /// The role ARNs IAM gave, by name.
    pub roles: Vec<(String, String)>,
}

/// Runs `plan` (whose `conflicts` must be empty: the caller refuses before the first write),
/// calling `started` as each step starts.
pub async fn apply_bootstrap(
    aws: &Aws,
    plan: &BootstrapPlan,
    observed: &BootstrapObserved,
    started: &(dyn Fn(&BootstrapAction) + Sync),
) -> Result<BootstrapApplied> {
    if !plan.conflicts.is_empty() {
        return Err(Error::Conflicts(plan.conflicts.clone()));
    }
    let applied = Mutex::new(BootstrapApplied::default());
    let mut stages: Vec<u8> = plan.actions.iter().map(BootstrapAction::stage).collect();
    stages.dedup();
    for stage in stages {
        let results: Vec<Result<()>> =
            stream::iter(plan.actions.iter().filter(|a| a.stage() == stage))
                .map(|action| {
                    let applied = &applied;
                    async move {
                        if interrupt::requested() {
                            return Err(interrupt::not_started(&action.describe()));
                        }
                        let step = interrupt::step(action.describe());
                        started(action);
                        let result = run(aws, &plan.app, action, observed, applied).await;
                        step.finish(result.is_ok());
                        result
                    }
                })
                .buffer_unordered(CONCURRENCY)
                .collect()
                .await;
        // Later stages need this one's resources: stop; a re-run plans from what exists.
        if let Some(e) = results.into_iter().find_map(Result::err) {
            return Err(e);
        }
    }
    Ok(applied.into_inner().unwrap_or_else(|e| e.into_inner()))
}

fn conflict(kind: &str, name: &str, tags: &Tags, app: &str) -> Result<()> {
    let owner = app_ownership(tags, app);
    if owner == Ownership::Ours {
        return Ok(());
    }
    Err(Error::Conflicts(vec![Conflict {
        kind: kind.into(),
        name: name.to_string(),
        owner,
    }]))
}

async fn run(
    aws: &Aws,
    app: &str,
    action: &BootstrapAction,
    observed: &BootstrapObserved,
    applied: &Mutex<BootstrapApplied>,
) -> Result<()> {
    let record = |f: &dyn Fn(&mut BootstrapApplied)| {
        f(&mut applied.lock().unwrap_or_else(|e| e.into_inner()));
    };
    match action {
        BootstrapAction::CreateCluster { name, tags } => {
            // CreateCluster succeeds for a name that exists already (it answers with that
            // cluster), so a cluster made by someone else after observe would pass unnoticed:
            // read its tags again.
            let created = aws.create_cluster(name, tags).await?;
            let cluster = aws.describe_cluster(name).await?.unwrap_or(created);
            conflict("ECS cluster", name, &cluster.tags, app)?;
            record(&|a| a.cluster_arn = Some(cluster.arn.clone()));
        }
        BootstrapAction::CreateRole { role, tags } => {
            let created = aws
                .create_role_or_ours(&role.name, role.trusted_service, &role.description, tags)
                .await?;
            record(&|a| a.roles.push((created.name.clone(), created.arn.clone())));
        }
        BootstrapAction::UpdateTrustPolicy {
            role,
            trusted_service,
            ..
        } => aws.put_trust_policy(role, trusted_service).await?,
        BootstrapAction::AttachRolePolicy {
            role, policy_arn, ..
        } => aws.attach_role_policy(role, policy_arn).await?,
        BootstrapAction::PutRolePolicy {
            role,
            policy_name,
            document,
            ..
        } => aws.put_role_policy(role, policy_name, document).await?,
        BootstrapAction::CreateLoadBalancer {
            name,
            network,
            tags,
        } => {
            let (arn, dns) = aws
                .create_load_balancer(name, &network.subnets, &network.security_groups, tags)
                .await?;
            record(&|a| a.load_balancer = Some((arn.clone(), dns.clone())));
        }
        BootstrapAction::CreateListener { port, tags, .. } => {
            let lb = load_balancer_arn(observed, applied)?;
            let arn = aws.create_http_listener(&lb, *port, tags).await?;
            record(&|a| a.listener = Some(arn.clone()));
        }
        BootstrapAction::RecordListener { cluster, listener } => {
            let listener = match listener {
                Some(l) => l.clone(),
                None => applied
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .listener
                    .clone()
                    .ok_or_else(|| missing("the preview listener", cluster))?,
            };
            let cluster_arn = observed
                .cluster
                .as_ref()
                .map(|c| c.arn.clone())
                .or_else(|| {
                    applied
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .cluster_arn
                        .clone()
                })
                .ok_or_else(|| missing("the cluster", cluster))?;
            let mut t = Tags::new();
            t.insert(TAG_PREVIEW_LISTENER.into(), listener);
            aws.tag_resource(&cluster_arn, &t).await?;
        }
        BootstrapAction::CreateBucket { name, tags } => aws.create_bucket(name, tags).await?,
        BootstrapAction::CreateRepository { name, tags } => {
            if let Err(e) = aws.create_repository(name, tags).await {
                // Created by another bootstrap after observe: fine when it is the app's.
                if !e.is_already_exists() {
                    return Err(e.into());
                }
                let Some(found) = aws.describe_repository(name).await? else {
                    return Err(e.into());
                };
                conflict("ECR repository", name, &found.tags, app)?;
            }
        }
    }
    Ok(())
}

/// The preview ALB's ARN: the one observed, or the one created in an earlier stage.
fn load_balancer_arn(
    observed: &BootstrapObserved,
    applied: &Mutex<BootstrapApplied>,
) -> Result<String> {
    observed
        .load_balancer
        .as_ref()
        .map(|lb| lb.arn.clone())
        .or_else(|| {
            applied
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .load_balancer
                .as_ref()
                .map(|(arn, _)| arn.clone())
        })
        .ok_or_else(|| missing("the preview load balancer", "listener"))
}

/// A step whose prerequisite neither existed nor was created: a planner bug, reported rather
/// than a panic.
fn missing(what: &str, for_what: &str) -> Error {
    AwsError::unexpected(
        "bootstrap",
        for_what,
        format!("neither found nor created {what}; run `envctl bootstrap` again"),
    )
    .into()
}
