//! Runs a plan: phase by phase (each phase only depends on earlier ones), the actions of a phase
//! concurrently up to a bound, reporting each step. Every action is safe to repeat, so a crashed
//! `up` or `down` converges when run again.

use std::collections::BTreeMap;
use std::sync::Mutex;

use futures::stream::{self, StreamExt};
use serde::Serialize;

use crate::aws::{Aws, AwsError, AwsResult};
use crate::model::{Tags, TAG_SPEC_HASH};
use crate::plan::{Action, Plan, TaskDefRef};

/// At most this many calls in flight: ECS allows 5 service writes per second sustained, and the
/// SDK's adaptive retry absorbs bursts beyond that.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// Receives progress as actions start and finish (drawn on stderr by `output`).
pub trait Observer: Send + Sync {
    fn started(&self, action: &Action);
    fn finished(&self, action: &Action, error: Option<&AwsError>);
}

/// What apply did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Applied {
    pub completed: usize,
    /// New task definition revisions, by family.
    pub registered: BTreeMap<String, String>,
    /// Services created or updated, to wait for.
    pub services: Vec<String>,
}

pub async fn apply(
    aws: &Aws,
    plan: &Plan,
    concurrency: usize,
    observer: &dyn Observer,
) -> AwsResult<Applied> {
    let registered = Mutex::new(BTreeMap::<String, String>::new());
    let mut applied = Applied::default();
    let mut phases: Vec<u8> = plan.actions.iter().map(Action::phase).collect();
    phases.sort();
    phases.dedup();
    for phase in phases {
        let results: Vec<AwsResult<()>> =
            stream::iter(plan.actions.iter().filter(|a| a.phase() == phase))
                .map(|action| {
                    let registered = &registered;
                    async move {
                        observer.started(action);
                        let result = run(aws, action, registered).await;
                        observer.finished(action, result.as_ref().err());
                        result
                    }
                })
                .buffer_unordered(concurrency.max(1))
                .collect()
                .await;
        let mut first_error = None;
        for r in results {
            match r {
                Ok(()) => applied.completed += 1,
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        // Later phases depend on this one: stop here; a re-run picks up from what exists.
        if let Some(e) = first_error {
            return Err(e);
        }
    }
    applied.registered = registered.into_inner().unwrap_or_else(|e| e.into_inner());
    applied.services = plan
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::CreateService { name, .. } | Action::UpdateService { name, .. } => {
                Some(name.clone())
            }
            _ => None,
        })
        .collect();
    Ok(applied)
}

async fn run(
    aws: &Aws,
    action: &Action,
    registered: &Mutex<BTreeMap<String, String>>,
) -> AwsResult<()> {
    match action {
        Action::CreateLogGroup {
            name,
            retention_days,
            tags,
        } => {
            aws.create_log_group(name, tags).await?;
            aws.put_retention(name, *retention_days).await
        }
        Action::SetLogRetention { name, to, .. } => aws.put_retention(name, *to).await,
        Action::CreateRepository { name, tags } => aws.create_repository(name, tags).await,
        Action::PutLifecyclePolicy { repository, policy } => {
            aws.put_lifecycle_policy(repository, policy).await
        }
        Action::RegisterTaskDefinition {
            family,
            definition,
            tags,
            ..
        } => {
            let arn = aws.register_task_definition(definition, tags).await?;
            registered
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(family.clone(), arn);
            Ok(())
        }
        Action::CreateService {
            name,
            cluster,
            task_definition,
            definition,
            tags,
            ..
        } => {
            let td = resolve(task_definition, registered, name)?;
            aws.create_service(cluster, name, &td, definition, tags)
                .await
        }
        Action::UpdateService {
            name,
            cluster,
            arn,
            task_definition,
            definition,
            spec_hash,
            ..
        } => {
            let td = resolve(task_definition, registered, name)?;
            aws.update_service(cluster, name, &td, definition).await?;
            match spec_hash {
                Some(hash) => {
                    let mut t = Tags::new();
                    t.insert(TAG_SPEC_HASH.into(), hash.clone());
                    aws.tag_resource(arn, &t).await
                }
                None => Ok(()),
            }
        }
        Action::TagService {
            arn, set, remove, ..
        } => {
            aws.tag_resource(arn, set).await?;
            aws.untag_resource(arn, remove).await
        }
        Action::CreateScheduleGroup { name, tags } => aws.create_schedule_group(name, tags).await,
        Action::CreateSchedule { schedule } => aws.create_schedule(schedule).await,
        Action::UpdateSchedule { schedule, .. } => aws.update_schedule(schedule).await,
        Action::DeleteSchedule { group, name } => aws.delete_schedule(group, name).await,
        Action::DeleteScheduleGroup { name } => aws.delete_schedule_group(name).await,
        Action::DeleteService { name, cluster } => aws.delete_service(cluster, name).await,
        Action::DeregisterTaskDefinition { arn } => aws.deregister_task_definition(arn).await,
        Action::DeleteRepository { name, .. } => {
            // Lifecycle rules act within 24 hours, not now: delete the images ourselves.
            aws.delete_all_images(name).await?;
            aws.delete_repository(name).await
        }
        Action::DeleteParameters { names } => aws.delete_parameters(names).await,
        Action::DeleteLogGroup { name } => aws.delete_log_group(name).await,
    }
}

fn resolve(
    r: &TaskDefRef,
    registered: &Mutex<BTreeMap<String, String>>,
    service: &str,
) -> AwsResult<String> {
    match r {
        TaskDefRef::Existing(arn) => Ok(arn.clone()),
        TaskDefRef::Registered(family) => registered
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(family)
            .cloned()
            .ok_or_else(|| {
                AwsError::unexpected(
                    "ecs:RegisterTaskDefinition",
                    service,
                    format!("no revision was registered for {family}"),
                )
            }),
    }
}
