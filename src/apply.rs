//! Runs a plan: phase by phase (each phase only depends on earlier ones), the actions of a phase
//! concurrently up to a bound, reporting each step. Every action is safe to repeat, so a crashed
//! `up` or `down` converges when run again.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use futures::stream::{self, StreamExt};
use serde::Serialize;

use crate::aws::elbv2::CreateRuleError;
use crate::aws::{Aws, AwsError, AwsResult};
use crate::model::{LoadBalancerAttachment, RouteMatch, ServiceDefinition, ServiceState};
use crate::model::{Tags, TAG_SPEC_HASH};
use crate::plan::{next_free_priority, Action, LbAttach, Plan, TargetGroupRef, TaskDefRef};

/// At most this many calls in flight: enough for a phase of a 3-service env to go out in one
/// round trip (a fresh env's first phase has 10 actions). ECS's burst quotas cover that (50
/// service writes, 20 task definition registrations), and the SDK's adaptive retry absorbs
/// throttling beyond them.
pub const DEFAULT_CONCURRENCY: usize = 16;

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
    /// Those services as the create/update replies described them: the wait's first look.
    #[serde(skip)]
    pub replies: BTreeMap<String, ServiceState>,
}

pub async fn apply(
    aws: &Aws,
    plan: &Plan,
    concurrency: usize,
    observer: &dyn Observer,
) -> AwsResult<Applied> {
    apply_phases(
        aws,
        plan,
        concurrency,
        observer,
        &|_| true,
        &Applied::default(),
    )
    .await
}

/// Runs the plan's actions whose phase `phases` accepts, after `earlier` (a run of the phases
/// before them, whose registered revisions later actions may point at). Lets `up` run hooks
/// between registering new revisions and changing services.
pub async fn apply_phases(
    aws: &Aws,
    plan: &Plan,
    concurrency: usize,
    observer: &dyn Observer,
    phases: &(dyn Fn(u8) -> bool + Sync),
    earlier: &Applied,
) -> AwsResult<Applied> {
    let registered = Mutex::new(earlier.registered.clone());
    let replies = Mutex::new(earlier.replies.clone());
    let mut applied = Applied {
        completed: earlier.completed,
        ..Applied::default()
    };
    let mut to_run: Vec<u8> = plan
        .actions
        .iter()
        .map(Action::phase)
        .filter(|p| phases(*p))
        .collect();
    to_run.sort();
    to_run.dedup();
    for phase in to_run {
        let results: Vec<AwsResult<()>> =
            stream::iter(plan.actions.iter().filter(|a| a.phase() == phase))
                .map(|action| {
                    let (registered, replies) = (&registered, &replies);
                    async move {
                        observer.started(action);
                        let result = run(aws, action, registered, replies).await;
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
    applied.replies = replies.into_inner().unwrap_or_else(|e| e.into_inner());
    applied.services = plan
        .actions
        .iter()
        .filter(|a| phases(a.phase()))
        .filter_map(|a| match a {
            Action::CreateService { name, .. } | Action::UpdateService { name, .. } => {
                Some(name.clone())
            }
            _ => None,
        })
        .chain(earlier.services.iter().cloned())
        .collect();
    Ok(applied)
}

async fn run(
    aws: &Aws,
    action: &Action,
    registered: &Mutex<BTreeMap<String, String>>,
    replies: &Mutex<BTreeMap<String, ServiceState>>,
) -> AwsResult<()> {
    let keep = |reply: Option<ServiceState>| {
        if let Some(s) = reply {
            replies
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(s.name.clone(), s);
        }
    };
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
            load_balancer,
            ..
        } => {
            let td = resolve(task_definition, registered, name)?;
            let definition = with_load_balancer(definition, load_balancer.as_ref(), registered)?;
            keep(
                aws.create_service(cluster, name, &td, &definition, tags)
                    .await?,
            );
            Ok(())
        }
        Action::UpdateService {
            name,
            cluster,
            arn,
            task_definition,
            definition,
            spec_hash,
            load_balancer,
            force_new_deployment,
            ..
        } => {
            let td = resolve(task_definition, registered, name)?;
            let definition = with_load_balancer(definition, load_balancer.as_ref(), registered)?;
            let force = force_new_deployment.is_some();
            keep(
                aws.update_service(cluster, name, &td, &definition, force)
                    .await?,
            );
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
        Action::CreateTargetGroup { spec, .. } => {
            let arn = aws.create_target_group(spec).await?;
            lock(registered).insert(target_group_key(&spec.name), arn);
            Ok(())
        }
        Action::CreateListenerRule {
            listener_arn,
            priority,
            route,
            target_group,
            tags,
            ..
        } => {
            let tg = resolve_target_group(target_group, registered)?;
            create_rule_with_free_priority(aws, listener_arn, *priority, route, &tg, tags).await
        }
        Action::ModifyListenerRule {
            arn,
            route,
            target_group_arn,
            ..
        } => aws.modify_listener_rule(arn, route, target_group_arn).await,
        Action::DeleteListenerRule { arn, .. } => aws.delete_listener_rule(arn).await,
        Action::DeleteTargetGroup { arn, .. } => aws.delete_target_group(arn).await,
        Action::CreateNamespace { name, tags } => {
            aws.create_http_namespace(name, tags).await.map(|_| ())
        }
        // Retries ResourceInUse with a bounded backoff: ECS removes the Cloud Map services of
        // the env's deleted ECS services asynchronously.
        Action::DeleteNamespace { id, name } => aws.delete_namespace(id, name).await,
    }
}

/// How many times a rule moves to the next free priority when another `up` took the planned one.
const PRIORITY_ATTEMPTS: usize = 10;

/// Two `up`s planning at the same moment pick the same lowest free priority; the loser sees
/// PriorityInUse, re-reads the listener and takes the next free one.
async fn create_rule_with_free_priority(
    aws: &Aws,
    listener_arn: &str,
    planned: i32,
    route: &RouteMatch,
    target_group_arn: &str,
    tags: &Tags,
) -> AwsResult<()> {
    let mut priority = planned;
    let mut tried = BTreeSet::new();
    for _ in 0..PRIORITY_ATTEMPTS {
        tried.insert(priority);
        match aws
            .create_listener_rule(listener_arn, priority, route, target_group_arn, tags)
            .await
        {
            Ok(_) => return Ok(()),
            Err(CreateRuleError::Aws(e)) => return Err(e),
            Err(CreateRuleError::PriorityInUse) => {
                let mut used: BTreeSet<i32> = aws
                    .list_listener_rules(listener_arn)
                    .await?
                    .iter()
                    .filter_map(|r| r.priority)
                    .collect();
                used.extend(tried.iter().copied());
                priority = next_free_priority(&used);
            }
        }
    }
    Err(AwsError::unexpected(
        "elasticloadbalancing:CreateRule",
        listener_arn,
        format!("no free rule priority after {PRIORITY_ATTEMPTS} attempts"),
    ))
}

fn lock(
    m: &Mutex<BTreeMap<String, String>>,
) -> std::sync::MutexGuard<'_, BTreeMap<String, String>> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Target group ARNs share the outputs map with task definition revisions, under this key.
fn target_group_key(name: &str) -> String {
    format!("target-group:{name}")
}

fn resolve_target_group(
    r: &TargetGroupRef,
    outputs: &Mutex<BTreeMap<String, String>>,
) -> AwsResult<String> {
    match r {
        TargetGroupRef::Existing(arn) => Ok(arn.clone()),
        TargetGroupRef::Created(name) => lock(outputs)
            .get(&target_group_key(name))
            .cloned()
            .ok_or_else(|| {
                AwsError::unexpected(
                    "elasticloadbalancing:CreateTargetGroup",
                    name,
                    "the target group was not created",
                )
            }),
    }
}

/// The service definition with the preview target group attached (its ARN known only now).
fn with_load_balancer(
    def: &ServiceDefinition,
    lb: Option<&LbAttach>,
    outputs: &Mutex<BTreeMap<String, String>>,
) -> AwsResult<ServiceDefinition> {
    let mut def = def.clone();
    if let Some(lb) = lb {
        def.load_balancers.push(LoadBalancerAttachment {
            target_group_arn: resolve_target_group(&lb.target_group, outputs)?,
            container_name: lb.container_name.clone(),
            container_port: lb.container_port,
        });
    }
    Ok(def)
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
