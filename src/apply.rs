//! Runs a plan: phase by phase (each phase only depends on earlier ones), the actions of a phase
//! concurrently up to a bound, reporting each step. Every action is safe to repeat, so a crashed
//! `up` or `down` converges when run again. A create that finds its name taken since the plan
//! was made (another `up` of the same env ran at the same time) reads the resource's tags: ours
//! counts as done, anything else is a conflict. Once Ctrl-C is pressed nothing new starts.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::Duration;

use futures::stream::{self, StreamExt};
use serde::Serialize;

use crate::aws::elbv2::CreateRuleError;
use crate::aws::{Aws, AwsError, AwsResult};
use crate::error::{Error, Result};
use crate::interrupt;
use crate::model::{ownership_for, LoadBalancerAttachment, Ownership, RouteMatch};
use crate::model::{
    ServiceDefinition, ServiceState, Tags, TAG_SERVICE, TAG_SPEC_HASH, TAG_STOPPED_COUNT,
};
use crate::model::{
    TAG_AFTER_CREATE_PENDING, TAG_APP, TAG_BRANCH, TAG_CREATED_AT, TAG_ENV, TAG_MANAGED_BY,
    TAG_OWNER,
};
use crate::plan::{
    next_free_priority, route_text, Action, Conflict, LbAttach, Plan, TargetGroupRef, TaskDefRef,
};

pub mod bootstrap;
pub mod builds;

/// At most this many calls in flight: enough for a phase of a 3-service env to go out in one
/// round trip (a fresh env's first phase has 10 actions). ECS's burst quotas cover that (50
/// service writes, 20 task definition registrations); client-side pacing (`aws::pacing`) and
/// retries absorb throttling beyond them.
pub const DEFAULT_CONCURRENCY: usize = 16;

/// Receives progress as actions start and finish (drawn on stderr by `output`).
pub trait Observer: Send + Sync {
    fn started(&self, action: &Action);
    fn finished(&self, action: &Action, error: Option<&Error>);
}

/// The terminal printer's progress knows step names, not actions.
impl Observer for crate::output::Progress {
    fn started(&self, action: &Action) {
        self.step_started(action.describe());
    }

    fn finished(&self, action: &Action, error: Option<&Error>) {
        self.step_finished(
            action.describe(),
            error.map(|e| e as &dyn std::fmt::Display),
        );
    }
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
    /// Services another run of this env created between this run's observe and its create:
    /// this run updated them instead, and leaves their `after_create` hooks to that run.
    pub created_elsewhere: Vec<String>,
}

pub async fn apply(
    aws: &Aws,
    plan: &Plan,
    concurrency: usize,
    observer: &dyn Observer,
) -> Result<Applied> {
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
) -> Result<Applied> {
    let registered = Mutex::new(earlier.registered.clone());
    let replies = Mutex::new(earlier.replies.clone());
    let elsewhere = Mutex::new(earlier.created_elsewhere.clone());
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
        let results: Vec<Result<()>> =
            stream::iter(plan.actions.iter().filter(|a| a.phase() == phase))
                .map(|action| {
                    let (registered, replies, elsewhere) = (&registered, &replies, &elsewhere);
                    async move {
                        // After Ctrl-C only what is in flight finishes.
                        if interrupt::requested() {
                            return Err(interrupt::not_started(&action.describe()));
                        }
                        let step = interrupt::step(action.describe());
                        observer.started(action);
                        let result = run(aws, action, registered, replies, elsewhere).await;
                        observer.finished(action, result.as_ref().err());
                        // After the progress line: the Ctrl-C report may end the process.
                        step.finish(result.is_ok());
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
    applied.created_elsewhere = elsewhere.into_inner().unwrap_or_else(|e| e.into_inner());
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
    elsewhere: &Mutex<Vec<String>>,
) -> Result<()> {
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
            if let Err(e) = aws.create_log_group(name, tags).await {
                let found = lost_race(e, || aws.describe_log_group(name)).await?;
                ensure_ours("log group", name, &found.tags, tags)?;
            }
            aws.put_retention(name, *retention_days).await?;
        }
        Action::SetLogRetention { name, to, .. } => aws.put_retention(name, *to).await?,
        Action::CreateRepository { name, tags } => {
            if let Err(e) = aws.create_repository(name, tags).await {
                let found = lost_race(e, || aws.describe_repository(name)).await?;
                ensure_ours("ECR repository", name, &found.tags, tags)?;
            }
        }
        Action::PutLifecyclePolicy { repository, policy } => {
            aws.put_lifecycle_policy(repository, policy).await?
        }
        Action::RegisterTaskDefinition {
            family,
            definition,
            tags,
            ..
        } => {
            let arn = aws.register_task_definition(definition, tags).await?;
            lock(registered).insert(family.clone(), arn);
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
            match aws
                .create_service(cluster, name, &td, &definition, tags)
                .await
            {
                Ok(reply) => keep(reply),
                Err(e) => {
                    let taken = Aws::create_service_may_have_lost_race(&e);
                    let found = lost_race_when(taken, e, || async {
                        let found = aws.describe_services(cluster, std::slice::from_ref(name));
                        Ok(found.await?.into_iter().find(|s| s.name == *name))
                    })
                    .await?;
                    ensure_ours("ECS service", name, &found.tags, tags)?;
                    // Another `up` of this env created it: converge it on this run's settings,
                    // as a re-run would; its identity tags stay as its creator set them.
                    lock_vec(elsewhere).push(name.clone());
                    keep(
                        aws.update_service(cluster, name, &td, &definition, false)
                            .await?,
                    );
                    aws.tag_resource(&found.arn, &state_tags(tags)).await?;
                }
            }
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
            if let Some(hash) = spec_hash {
                let mut t = Tags::new();
                t.insert(TAG_SPEC_HASH.into(), hash.clone());
                aws.tag_resource(arn, &t).await?;
            }
        }
        Action::SetDesiredCount {
            cluster,
            name,
            arn,
            from,
            to,
            record,
            clear_record,
        } => {
            if let Some(count) = record {
                let record = Tags::from([(TAG_STOPPED_COUNT.to_string(), count.to_string())]);
                aws.tag_resource(arn, &record).await?;
            }
            if from != to {
                aws.set_desired_count(cluster, name, *to).await?;
            }
            if *clear_record {
                aws.untag_resource(arn, &[TAG_STOPPED_COUNT.to_string()])
                    .await?;
            }
        }
        Action::TagService {
            arn, set, remove, ..
        } => {
            aws.tag_resource(arn, set).await?;
            aws.untag_resource(arn, remove).await?;
        }
        Action::CreateScheduleGroup { name, tags } => {
            if let Err(e) = aws.create_schedule_group(name, tags).await {
                let found = lost_race(e, || aws.describe_schedule_group(name)).await?;
                ensure_ours("schedule group", name, &found.tags, tags)?;
            }
        }
        Action::CreateSchedule { schedule } => {
            // Schedules carry no tags: the plan only creates them in a group that is ours, so
            // one that appeared meanwhile was made by another run of this env. Set ours.
            if let Err(e) = aws.create_schedule(schedule).await {
                if !e.is_already_exists() {
                    return Err(e.into());
                }
                aws.update_schedule(schedule).await?;
            }
        }
        Action::UpdateSchedule { schedule, .. } => aws.update_schedule(schedule).await?,
        Action::DeleteSchedule { group, name } => aws.delete_schedule(group, name).await?,
        Action::DeleteScheduleGroup { name } => aws.delete_schedule_group(name).await?,
        Action::DeleteService { name, cluster } => aws.delete_service(cluster, name).await?,
        Action::DeregisterTaskDefinition { arn } => aws.deregister_task_definition(arn).await?,
        Action::DeleteRepository { name, .. } => {
            // Lifecycle rules act within 24 hours, not now: delete the images ourselves.
            aws.delete_all_images(name).await?;
            aws.delete_repository(name).await?;
        }
        Action::DeleteParameters { names } => aws.delete_parameters(names).await?,
        Action::DeleteLogGroup { name } => aws.delete_log_group(name).await?,
        Action::CreateTargetGroup { spec, .. } => {
            let arn = match aws.create_target_group(spec).await {
                Ok(arn) => arn,
                Err(e) => {
                    let found = lost_race(e, || async {
                        let groups = aws.describe_target_groups(std::slice::from_ref(&spec.name));
                        Ok(groups.await?.into_iter().find(|g| g.name == spec.name))
                    })
                    .await?;
                    ensure_ours("target group", &spec.name, &found.tags, &spec.tags)?;
                    found.arn
                }
            };
            lock(registered).insert(target_group_key(&spec.name), arn);
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
            create_rule_with_free_priority(aws, listener_arn, *priority, route, &tg, tags).await?
        }
        Action::ModifyListenerRule {
            arn,
            route,
            target_group_arn,
            ..
        } => {
            aws.modify_listener_rule(arn, route, target_group_arn)
                .await?
        }
        Action::DeleteListenerRule { arn, .. } => aws.delete_listener_rule(arn).await?,
        Action::DeleteTargetGroup { arn, .. } => aws.delete_target_group(arn).await?,
        Action::CreateNamespace { name, tags } => {
            if let Err(e) = aws.create_http_namespace(name, tags).await {
                let found = lost_race(e, || aws.find_namespace(name)).await?;
                ensure_ours("Cloud Map namespace", name, &found.tags, tags)?;
            }
        }
        // Retries ResourceInUse with a bounded backoff: ECS removes the Cloud Map services of
        // the env's deleted ECS services asynchronously.
        Action::DeleteNamespace { id, name } => aws.delete_namespace(id, name).await?,
    }
    Ok(())
}

/// Waits between reads of a resource whose create said it exists but that cannot be read yet:
/// reads can lag a create (eventual consistency; Cloud Map creates namespaces asynchronously).
const LOST_RACE_READS: [Duration; 3] = [
    Duration::ZERO,
    Duration::from_millis(500),
    Duration::from_secs(1),
];

/// A failed create: when the service said the name is taken, the resource as it is now (read
/// with `describe`); otherwise, or when it cannot be found, the create's own error.
async fn lost_race<T, F, Fut>(err: AwsError, describe: F) -> Result<T>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = AwsResult<Option<T>>>,
{
    lost_race_when(err.is_already_exists(), err, describe).await
}

/// `lost_race` for a create whose error only says the name may be taken (`taken`).
async fn lost_race_when<T, F, Fut>(taken: bool, err: AwsError, describe: F) -> Result<T>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = AwsResult<Option<T>>>,
{
    if !taken {
        return Err(err.into());
    }
    for wait in LOST_RACE_READS {
        tokio::time::sleep(wait).await;
        if let Some(found) = describe().await? {
            return Ok(found);
        }
    }
    Err(err.into())
}

/// A resource someone created meanwhile is fine when it is ours; otherwise it is a conflict,
/// exactly as if the plan had seen it.
fn ensure_ours(kind: &str, name: &str, found: &Tags, ours: &Tags) -> Result<()> {
    match ownership_for(found, ours) {
        Ownership::Ours => Ok(()),
        owner => Err(Error::Conflicts(vec![Conflict {
            kind: kind.into(),
            name: name.into(),
            owner,
        }])),
    }
}

/// The tags of a service that follow the env's state (spec hash, expiry, protection); the
/// identity tags stay as the service's creator set them.
fn state_tags(tags: &Tags) -> Tags {
    const IDENTITY: [&str; 7] = [
        TAG_MANAGED_BY,
        TAG_APP,
        TAG_ENV,
        TAG_BRANCH,
        TAG_OWNER,
        TAG_CREATED_AT,
        // Seeding is the creating run's job.
        TAG_AFTER_CREATE_PENDING,
    ];
    tags.iter()
        .filter(|(k, _)| !IDENTITY.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn lock_vec(m: &Mutex<Vec<String>>) -> std::sync::MutexGuard<'_, Vec<String>> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// How many times a rule moves to the next free priority when another `up` took the planned one.
const PRIORITY_ATTEMPTS: usize = 10;

/// Two `up`s planning at the same moment pick the same lowest free priority; the loser sees
/// PriorityInUse and re-reads the listener. When the winner was another run of this env, its
/// rule for this service is the one to keep (pointed at this run's target group if it is not
/// already); a rule of someone else for the same host or path is a conflict; otherwise the
/// winner was another env, and this rule takes the next free priority.
async fn create_rule_with_free_priority(
    aws: &Aws,
    listener_arn: &str,
    planned: i32,
    route: &RouteMatch,
    target_group_arn: &str,
    tags: &Tags,
) -> Result<()> {
    let mut priority = planned;
    let mut tried = BTreeSet::new();
    for _ in 0..PRIORITY_ATTEMPTS {
        tried.insert(priority);
        match aws
            .create_listener_rule(listener_arn, priority, route, target_group_arn, tags)
            .await
        {
            Ok(_) => return Ok(()),
            Err(CreateRuleError::Aws(e)) => return Err(e.into()),
            Err(CreateRuleError::PriorityInUse) => {
                let rules = aws.list_listener_rules(listener_arn).await?;
                let (hosts, paths) = match route {
                    RouteMatch::Host(h) => (vec![h.clone()], vec![]),
                    RouteMatch::PathPrefix(p) => (vec![], vec![p.clone()]),
                };
                let same_route = |r: &&crate::model::ListenerRuleState| {
                    (!hosts.is_empty() && r.hosts == hosts)
                        || (!paths.is_empty() && r.paths == paths)
                };
                if let Some(rule) = rules.iter().find(same_route) {
                    let owner = ownership_for(&rule.tags, tags);
                    if owner == Ownership::Ours
                        && rule.tags.get(TAG_SERVICE) == tags.get(TAG_SERVICE)
                    {
                        if rule.target_group_arns != [target_group_arn] {
                            aws.modify_listener_rule(&rule.arn, route, target_group_arn)
                                .await?;
                        }
                        return Ok(());
                    }
                    return Err(Error::Conflicts(vec![Conflict {
                        kind: "listener rule".into(),
                        name: format!(
                            "{} (priority {})",
                            route_text(route),
                            rule.priority.unwrap_or_default()
                        ),
                        owner,
                    }]));
                }
                let mut used: BTreeSet<i32> = rules.iter().filter_map(|r| r.priority).collect();
                used.extend(tried.iter().copied());
                priority = next_free_priority(&used);
            }
        }
    }
    Err(AwsError::unexpected(
        "elasticloadbalancing:CreateRule",
        listener_arn,
        format!("no free rule priority after {PRIORITY_ATTEMPTS} attempts"),
    )
    .into())
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
