//! `plan(desired, actual) -> Plan`: the pure heart of envctl. Both sides are normalized first, so
//! a converged env plans to nothing; resources that exist are never created again (the emulator
//! would silently replace them, real AWS would fail), and nothing without envctl's ownership tags
//! is ever updated or deleted.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::database::{self, DbOp};
use crate::model::{
    ownership, ActualEnv, AwsVpcConfiguration, CapacityProviderStrategyItem, DesiredDatabase,
    DesiredEnv, DesiredService, ExpirySpec, HookKind, ListenerRuleState, LoadBalancerAttachment,
    LogSource, Ownership, PreviewRoute, RouteMatch, ScheduleSpec, ServiceDefinition, ServiceState,
    Tags, TargetGroupSpec, TaskDefinition, TaskDefinitionState, AFTER_CREATE_PENDING,
    TAG_AFTER_CREATE_PENDING, TAG_ENV, TAG_EXPIRES_AT, TAG_PROTECTED, TAG_SERVICE, TAG_SPEC_HASH,
    TAG_TTL,
};
use crate::normalize;

pub mod bootstrap;
pub mod builds;

/// A preview target group, existing or created by this plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "kebab-case")]
pub enum TargetGroupRef {
    Existing(String),
    /// The ARN the plan's `CreateTargetGroup` with this name produces.
    Created(String),
}

/// How a service registers with its preview target group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LbAttach {
    pub target_group: TargetGroupRef,
    pub container_name: String,
    pub container_port: i32,
}

/// Which task definition revision a service action points at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "kebab-case")]
pub enum TaskDefRef {
    /// A revision that already exists.
    Existing(String),
    /// The revision the plan's `RegisterTaskDefinition` for this family produces.
    Registered(String),
}

/// The phase that creates and updates services: `before_deploy` hooks run just before it.
pub const SERVICES_PHASE: u8 = 2;

/// A hook this run starts, resolved to the revision, container and network it runs with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HookRun {
    pub kind: HookKind,
    pub service_key: String,
    /// The ECS service (and task definition family).
    pub service: String,
    pub task_definition: TaskDefRef,
    pub container: String,
    pub command: Vec<String>,
    pub network: AwsVpcConfiguration,
    pub log: Option<LogSource>,
    pub timeout_secs: u64,
    /// Why it runs in this plan.
    pub reason: String,
}

impl HookRun {
    /// One line for humans: `run hook before_deploy on api: bin/rails db:migrate (new revision)`.
    pub fn describe(&self) -> String {
        format!(
            "run hook {} on {}: {} ({})",
            self.kind,
            self.service_key,
            self.command.join(" "),
            self.reason
        )
    }
}

/// The env's database task in this run: `create` in `up` (after new revisions are registered,
/// before `before_deploy` hooks), `drop` in `down` (after `before_destroy` hooks, before any
/// delete).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DatabaseRun {
    pub op: DbOp,
    /// Database and role name.
    pub database: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    pub task_definition: TaskDefRef,
    pub network: AwsVpcConfiguration,
    pub log: Option<LogSource>,
    pub url_param: String,
    pub admin_param: String,
    /// `DATABASE_URL` is stored already (an earlier run was cut off): its password is kept.
    pub url_stored: bool,
    pub timeout_secs: u64,
    pub reason: String,
}

impl DatabaseRun {
    /// `create database shop__x (from template shop_seed)`; never a URL or password.
    pub fn describe(&self) -> String {
        match self.op {
            DbOp::Create => format!(
                "create database {}{} ({})",
                self.database,
                self.template
                    .as_deref()
                    .map(|t| format!(" (from template {t})"))
                    .unwrap_or_default(),
                self.reason
            ),
            DbOp::Drop => format!("drop database {} and its role", self.database),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    CreateLogGroup {
        name: String,
        retention_days: i32,
        tags: Tags,
    },
    SetLogRetention {
        name: String,
        from: Option<i32>,
        to: i32,
    },
    CreateRepository {
        name: String,
        tags: Tags,
    },
    PutLifecyclePolicy {
        repository: String,
        policy: String,
    },
    RegisterTaskDefinition {
        service: String,
        family: String,
        definition: TaskDefinition,
        tags: Tags,
        /// Unified diff against the revision in use, when there is one.
        #[serde(skip_serializing_if = "Option::is_none")]
        diff: Option<String>,
    },
    CreateService {
        service: String,
        name: String,
        cluster: String,
        task_definition: TaskDefRef,
        definition: ServiceDefinition,
        tags: Tags,
        /// The preview target group the service registers with.
        #[serde(skip_serializing_if = "Option::is_none")]
        load_balancer: Option<LbAttach>,
    },
    UpdateService {
        service: String,
        name: String,
        cluster: String,
        arn: String,
        task_definition: TaskDefRef,
        definition: ServiceDefinition,
        #[serde(skip_serializing_if = "Option::is_none")]
        load_balancer: Option<LbAttach>,
        /// The new `envctl:spec-hash` tag, when it differs from the service's.
        #[serde(skip_serializing_if = "Option::is_none")]
        spec_hash: Option<String>,
        changes: Vec<String>,
        /// Why the update is sent with `forceNewDeployment`: ECS rejects some changes (a new
        /// capacity provider strategy) unless the update starts a new deployment.
        #[serde(skip_serializing_if = "Option::is_none")]
        force_new_deployment: Option<String>,
    },
    /// Expiry / protection tags on an existing service.
    TagService {
        name: String,
        arn: String,
        set: Tags,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        remove: Vec<String>,
    },
    CreateScheduleGroup {
        name: String,
        tags: Tags,
    },
    CreateSchedule {
        schedule: ScheduleSpec,
    },
    UpdateSchedule {
        schedule: ScheduleSpec,
        changes: Vec<String>,
    },
    DeleteSchedule {
        group: String,
        name: String,
    },
    /// Deleting a group deletes its schedules.
    DeleteScheduleGroup {
        name: String,
    },
    CreateTargetGroup {
        service: String,
        spec: TargetGroupSpec,
    },
    CreateListenerRule {
        service: String,
        listener_arn: String,
        /// The lowest priority free when planned; apply moves on when another `up` took it.
        priority: i32,
        route: RouteMatch,
        target_group: TargetGroupRef,
        tags: Tags,
    },
    ModifyListenerRule {
        service: String,
        arn: String,
        route: RouteMatch,
        target_group_arn: String,
    },
    DeleteListenerRule {
        arn: String,
        route: String,
    },
    DeleteTargetGroup {
        arn: String,
        name: String,
    },
    DeleteService {
        name: String,
        cluster: String,
    },
    DeregisterTaskDefinition {
        arn: String,
    },
    DeleteRepository {
        name: String,
        images: usize,
    },
    DeleteParameters {
        names: Vec<String>,
    },
    DeleteLogGroup {
        name: String,
    },
    /// The env's Cloud Map HTTP namespace (ECS Service Connect).
    CreateNamespace {
        name: String,
        tags: Tags,
    },
    /// Retried while ECS is still removing the namespace's services (apply).
    DeleteNamespace {
        id: String,
        name: String,
    },
}

impl Action {
    /// Apply runs phases in order and the actions of one phase concurrently: each phase only
    /// depends on earlier ones (a service needs its log group and task definition; a log group
    /// goes last so draining tasks can still write).
    pub fn phase(&self) -> u8 {
        match self {
            Action::CreateLogGroup { .. }
            | Action::SetLogRetention { .. }
            | Action::CreateRepository { .. }
            | Action::RegisterTaskDefinition { .. }
            | Action::CreateScheduleGroup { .. }
            | Action::CreateTargetGroup { .. }
            // Services name the namespace in their Service Connect settings: it exists first.
            | Action::CreateNamespace { .. } => 0,
            // ECS only attaches a service to a target group that a listener rule uses. Schedules
            // need only their group (they name services, but fire hours later), so they go
            // here too rather than beside the services: a fresh `up` is a round trip shorter.
            Action::PutLifecyclePolicy { .. }
            | Action::CreateListenerRule { .. }
            | Action::ModifyListenerRule { .. }
            | Action::CreateSchedule { .. }
            | Action::UpdateSchedule { .. } => 1,
            Action::CreateService { .. }
            | Action::UpdateService { .. }
            | Action::TagService { .. } => SERVICES_PHASE,
            Action::DeleteService { .. }
            | Action::DeleteSchedule { .. }
            | Action::DeleteScheduleGroup { .. }
            | Action::DeleteListenerRule { .. } => 3,
            // A target group can go once no rule forwards to it and no service uses it.
            Action::DeregisterTaskDefinition { .. }
            | Action::DeleteRepository { .. }
            | Action::DeleteParameters { .. }
            | Action::DeleteTargetGroup { .. }
            // Only after the env's ECS services are deleted (phase 3).
            | Action::DeleteNamespace { .. } => 4,
            Action::DeleteLogGroup { .. } => 5,
        }
    }

    pub fn verb(&self) -> Verb {
        match self {
            Action::CreateLogGroup { .. }
            | Action::CreateRepository { .. }
            | Action::RegisterTaskDefinition { .. }
            | Action::CreateService { .. }
            | Action::CreateScheduleGroup { .. }
            | Action::CreateSchedule { .. }
            | Action::CreateTargetGroup { .. }
            | Action::CreateListenerRule { .. }
            | Action::CreateNamespace { .. } => Verb::Create,
            Action::SetLogRetention { .. }
            | Action::PutLifecyclePolicy { .. }
            | Action::UpdateService { .. }
            | Action::TagService { .. }
            | Action::UpdateSchedule { .. }
            | Action::ModifyListenerRule { .. } => Verb::Update,
            Action::DeleteService { .. }
            | Action::DeleteSchedule { .. }
            | Action::DeleteScheduleGroup { .. }
            | Action::DeleteListenerRule { .. }
            | Action::DeleteTargetGroup { .. }
            | Action::DeregisterTaskDefinition { .. }
            | Action::DeleteRepository { .. }
            | Action::DeleteParameters { .. }
            | Action::DeleteLogGroup { .. }
            | Action::DeleteNamespace { .. } => Verb::Delete,
        }
    }

    /// One line for humans; never contains a secret (plans hold only parameter ARNs).
    pub fn describe(&self) -> String {
        match self {
            Action::CreateTargetGroup { spec, .. } => {
                format!("create target group {} (port {})", spec.name, spec.port)
            }
            Action::CreateListenerRule {
                route, priority, ..
            } => {
                format!(
                    "create listener rule {} (priority {priority})",
                    route_text(route)
                )
            }
            Action::ModifyListenerRule { route, .. } => {
                format!("update listener rule {}", route_text(route))
            }
            Action::DeleteListenerRule { route, .. } => format!("delete listener rule {route}"),
            Action::DeleteTargetGroup { name, .. } => format!("delete target group {name}"),
            Action::TagService {
                name, set, remove, ..
            } => {
                let mut parts: Vec<String> = set.iter().map(|(k, v)| format!("{k}={v}")).collect();
                parts.extend(remove.iter().map(|k| format!("remove {k}")));
                format!("tag service {name}: {}", parts.join(", "))
            }
            Action::CreateScheduleGroup { name, .. } => format!("create schedule group {name}"),
            Action::CreateSchedule { schedule: s } => format!(
                "create schedule {}/{}: {} {} (window {}m)",
                s.group, s.name, s.expression, s.timezone, s.flexible_window_minutes
            ),
            Action::UpdateSchedule {
                schedule: s,
                changes,
            } => {
                format!(
                    "update schedule {}/{}: {}",
                    s.group,
                    s.name,
                    changes.join("; ")
                )
            }
            Action::DeleteSchedule { group, name } => format!("delete schedule {group}/{name}"),
            Action::DeleteScheduleGroup { name } => {
                format!("delete schedule group {name} and its schedules")
            }
            Action::CreateLogGroup {
                name,
                retention_days,
                ..
            } => {
                format!("create log group {name} (retention {retention_days} days)")
            }
            Action::SetLogRetention { name, from, to } => format!(
                "set retention of log group {name}: {} → {to} days",
                from.map(|d| d.to_string())
                    .unwrap_or_else(|| "never expire".into())
            ),
            Action::CreateRepository { name, .. } => format!("create ECR repository {name}"),
            Action::PutLifecyclePolicy { repository, .. } => {
                format!("put lifecycle policy on ECR repository {repository}")
            }
            Action::RegisterTaskDefinition { family, .. } => {
                format!("register task definition {family} (new revision)")
            }
            Action::CreateService {
                name, definition, ..
            } => format!(
                "create service {name} (desired {}, {})",
                definition.desired_count,
                capacity_summary(
                    &definition.capacity_provider_strategy,
                    definition.launch_type.as_deref()
                )
            ),
            Action::UpdateService {
                name,
                changes,
                force_new_deployment,
                ..
            } => match force_new_deployment {
                Some(why) => format!(
                    "update service {name}: {}; new deployment forced ({why})",
                    changes.join("; ")
                ),
                None => format!("update service {name}: {}", changes.join("; ")),
            },
            Action::DeleteService { name, .. } => format!("delete service {name}"),
            Action::DeregisterTaskDefinition { arn } => {
                format!("deregister task definition {}", short_td(arn))
            }
            Action::DeleteRepository { name, images } => {
                format!("delete ECR repository {name} and its {images} image(s)")
            }
            Action::DeleteParameters { names } => format!(
                "delete {} SSM parameter(s): {}",
                names.len(),
                names.join(", ")
            ),
            Action::DeleteLogGroup { name } => format!("delete log group {name}"),
            Action::CreateNamespace { name, .. } => {
                format!("create Cloud Map namespace {name} (Service Connect)")
            }
            Action::DeleteNamespace { name, .. } => format!("delete Cloud Map namespace {name}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verb {
    Create,
    Update,
    Delete,
}

/// A name envctl needs that belongs to someone else: never overwritten, always reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    pub kind: String,
    pub name: String,
    pub owner: Ownership,
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.owner {
            Ownership::Foreign => write!(
                f,
                "{} `{}` exists and is not managed by envctl (no envctl:managed-by tag)",
                self.kind, self.name
            ),
            Ownership::OtherEnv { app, env } => {
                write!(
                    f,
                    "{} `{}` belongs to envctl app `{app}` env `{env}`",
                    self.kind, self.name
                )
            }
            Ownership::Ours => write!(f, "{} `{}`", self.kind, self.name),
        }
    }
}

/// What `up` or `down` would do.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub app: String,
    pub env: String,
    pub actions: Vec<Action>,
    /// One-off tasks this run starts: `before_deploy` after the new revisions are registered
    /// and before any service changes, `after_create` after the services, `before_destroy`
    /// before `down` deletes anything.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<HookRun>,
    /// The database task this run starts, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<DatabaseRun>,
    /// Names taken by resources envctl does not own; `up` refuses to apply while any exist.
    pub conflicts: Vec<Conflict>,
    /// Resources `down` found under the env's names but leaves alone (not ours).
    pub skipped: Vec<Conflict>,
    /// Why the env would not fit on the shared ALB; `up` refuses before any write.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub capacity: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub delete: usize,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty() && self.hooks.is_empty() && self.database.is_none()
    }

    /// The plan's hooks of one kind, in order.
    pub fn hooks_of(&self, kind: HookKind) -> impl Iterator<Item = &HookRun> {
        self.hooks.iter().filter(move |h| h.kind == kind)
    }

    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for a in &self.actions {
            match a.verb() {
                Verb::Create => s.create += 1,
                Verb::Update => s.update += 1,
                Verb::Delete => s.delete += 1,
            }
        }
        s
    }
}

/// Plans `up`: create what is missing, update what differs, delete services dropped from config.
pub fn plan_up(desired: &DesiredEnv, actual: &ActualEnv) -> Plan {
    let app = desired.identity.app.as_str();
    let env = desired.identity.env.as_str();
    let tags = desired.identity.tags();
    let mut actions = Vec::new();
    let mut conflicts = Vec::new();
    let conflict = |kind: &str, name: &str, owner: Ownership| Conflict {
        kind: kind.into(),
        name: name.into(),
        owner,
    };
    let mut used_priorities: BTreeSet<i32> = actual
        .listener_rules
        .iter()
        .filter_map(|r| r.priority)
        .collect();

    match &actual.log_group {
        None => actions.push(Action::CreateLogGroup {
            name: desired.log_group.name.clone(),
            retention_days: desired.log_group.retention_days,
            tags: tags.clone(),
        }),
        Some(lg) => match ownership(&lg.tags, app, env) {
            Ownership::Ours => {
                if lg.retention_days != Some(desired.log_group.retention_days) {
                    actions.push(Action::SetLogRetention {
                        name: lg.name.clone(),
                        from: lg.retention_days,
                        to: desired.log_group.retention_days,
                    });
                }
            }
            other => conflicts.push(conflict("log group", &lg.name, other)),
        },
    }

    // Observed by exact name: one that exists (ours, say after a crashed `up`) is never created
    // again; one that is not ours is a conflict, and services never point at it.
    match &actual.namespace {
        None => actions.push(Action::CreateNamespace {
            name: desired.namespace.name.clone(),
            tags: tags.clone(),
        }),
        Some(ns) => match ownership(&ns.tags, app, env) {
            Ownership::Ours => {}
            other => conflicts.push(conflict("Cloud Map namespace", &ns.name, other)),
        },
    }

    for repo in &desired.repositories {
        match actual.repositories.iter().find(|r| r.name == repo.name) {
            None => {
                actions.push(Action::CreateRepository {
                    name: repo.name.clone(),
                    tags: tags.clone(),
                });
                actions.push(Action::PutLifecyclePolicy {
                    repository: repo.name.clone(),
                    policy: repo.lifecycle_policy.clone(),
                });
            }
            Some(r) => match ownership(&r.tags, app, env) {
                Ownership::Ours => {
                    if r.lifecycle_policy.as_deref().map(canonical_json)
                        != Some(canonical_json(&repo.lifecycle_policy))
                    {
                        actions.push(Action::PutLifecyclePolicy {
                            repository: repo.name.clone(),
                            policy: repo.lifecycle_policy.clone(),
                        });
                    }
                }
                other => conflicts.push(conflict("ECR repository", &r.name, other)),
            },
        }
    }

    let desired_names: BTreeSet<&str> = desired.services.iter().map(|s| s.name.as_str()).collect();
    for svc in &desired.services {
        let existing = actual.services.iter().find(|s| s.name == svc.name);
        if let Some(s) = existing {
            let owner = ownership(&s.tags, app, env);
            if owner != Ownership::Ours {
                conflicts.push(conflict("ECS service", &s.name, owner));
                continue;
            }
        }
        if let Some(td) = latest_revision(actual, &svc.name) {
            let owner = ownership(&td.tags, app, env);
            if owner != Ownership::Ours {
                conflicts.push(conflict("task definition family", &svc.name, owner));
                continue;
            }
        }
        let td_ref = plan_task_definition(svc, existing, actual, &tags, &mut actions);
        let lb = match &svc.preview {
            Some(route) => match plan_preview_route(
                desired,
                svc,
                route,
                actual,
                &mut used_priorities,
                &mut actions,
            ) {
                Ok(lb) => Some(lb),
                Err(c) => {
                    conflicts.push(c);
                    continue;
                }
            },
            None => None,
        };
        let hash = normalize::spec_hash(&svc.service);
        match existing {
            None => {
                let mut service_tags = tags.clone();
                service_tags.insert(TAG_SPEC_HASH.into(), hash);
                service_tags.extend(expiry_tags(&desired.expiry));
                actions.push(Action::CreateService {
                    service: svc.key.clone(),
                    name: svc.name.clone(),
                    cluster: desired.cluster.clone(),
                    task_definition: td_ref,
                    definition: svc.service.clone(),
                    tags: service_tags,
                    load_balancer: lb,
                });
            }
            Some(s) => {
                if let Some(action) = plan_expiry_tags(&desired.expiry, s) {
                    actions.push(action);
                }
                let (mut changes, force_new_deployment) = service_changes(svc, s, &td_ref, &hash);
                if !attachment_matches(lb.as_ref(), &s.load_balancers) {
                    changes.push(match &lb {
                        Some(_) => "register with the preview target group".to_string(),
                        None => "detach from the preview target group".to_string(),
                    });
                }
                if !changes.is_empty() {
                    actions.push(Action::UpdateService {
                        service: svc.key.clone(),
                        name: svc.name.clone(),
                        cluster: desired.cluster.clone(),
                        arn: s.arn.clone(),
                        task_definition: td_ref,
                        definition: svc.service.clone(),
                        load_balancer: lb,
                        spec_hash: (s.tags.get(TAG_SPEC_HASH) != Some(&hash)).then_some(hash),
                        changes,
                        force_new_deployment,
                    });
                }
            }
        }
    }

    plan_preview_removals(desired, actual, &mut actions);
    let capacity = preview_capacity(desired, actual, &actions);

    let blocked: BTreeSet<&str> = desired
        .services
        .iter()
        .filter(|s| conflicts.iter().any(|c| c.name == s.name))
        .map(|s| s.key.as_str())
        .collect();
    plan_schedules(
        desired,
        actual,
        &tags,
        &blocked,
        &mut actions,
        &mut conflicts,
    );

    // Services of this env that the config no longer has.
    for s in &actual.services {
        if desired_names.contains(s.name.as_str())
            || ownership(&s.tags, app, env) != Ownership::Ours
        {
            continue;
        }
        actions.push(Action::DeleteService {
            name: s.name.clone(),
            cluster: desired.cluster.clone(),
        });
        for td in owned_revisions(actual, app, env).filter(|t| t.family == s.name) {
            actions.push(Action::DeregisterTaskDefinition {
                arn: td.arn.clone(),
            });
        }
    }

    let database = desired
        .database
        .as_ref()
        .and_then(|db| plan_database(db, actual, &tags, app, env, &mut actions, &mut conflicts));
    let hooks = plan_up_hooks(desired, actual, &mut actions);
    Plan {
        app: app.into(),
        env: env.into(),
        actions,
        hooks,
        database,
        conflicts,
        skipped: vec![],
        capacity,
    }
}

/// The database task definition (registered like a service's), and the create task when the
/// env's `DATABASE_URL` parameter is missing or not yet tagged ready.
fn plan_database(
    db: &DesiredDatabase,
    actual: &ActualEnv,
    tags: &Tags,
    app: &str,
    env: &str,
    actions: &mut Vec<Action>,
    conflicts: &mut Vec<Conflict>,
) -> Option<DatabaseRun> {
    let latest = latest_revision(actual, &db.family);
    if let Some(td) = latest {
        let owner = ownership(&td.tags, app, env);
        if owner != Ownership::Ours {
            conflicts.push(Conflict {
                kind: "task definition family".into(),
                name: db.family.clone(),
                owner,
            });
            return None;
        }
    }
    let param = actual.parameters.iter().find(|p| p.name == db.url_param);
    if let Some(p) = param {
        let owner = ownership(&p.tags, app, env);
        if owner != Ownership::Ours {
            conflicts.push(Conflict {
                kind: "SSM parameter".into(),
                name: p.name.clone(),
                owner,
            });
            return None;
        }
    }
    let want = normalize::task_definition(&db.task_definition);
    let td_ref = match latest.filter(|t| {
        t.definition
            .as_ref()
            .map(normalize::task_definition)
            .as_ref()
            == Some(&want)
    }) {
        Some(t) => TaskDefRef::Existing(t.arn.clone()),
        None => {
            actions.push(Action::RegisterTaskDefinition {
                service: database::CONTAINER.into(),
                family: db.family.clone(),
                definition: db.task_definition.clone(),
                tags: tags.clone(),
                diff: latest
                    .and_then(|t| t.definition.as_ref())
                    .map(|old| json_diff(&normalize::task_definition(old), &want)),
            });
            TaskDefRef::Registered(db.family.clone())
        }
    };
    let state = param.and_then(|p| p.tags.get(database::TAG_DATABASE));
    let reason = match state.map(String::as_str) {
        Some(database::READY) => return None,
        Some(_) => "an earlier run did not finish it",
        None => "new env",
    };
    Some(DatabaseRun {
        op: DbOp::Create,
        database: db.name.clone(),
        template: db.template.clone(),
        task_definition: td_ref,
        network: db.network.clone(),
        log: LogSource::of(&db.task_definition, database::CONTAINER),
        url_param: db.url_param.clone(),
        admin_param: db.admin_param.clone(),
        url_stored: param.is_some(),
        timeout_secs: db.timeout_secs,
        reason: reason.into(),
    })
}

/// `down`'s drop task: when the env's `DATABASE_URL` parameter is ours and tagged by `[database]`
/// (stored before the database was created, deleted after it is dropped), with the latest
/// revision of the env's database family. `Err` names what is missing.
pub fn plan_drop_database(
    app: &str,
    slug: &crate::naming::Slug,
    actual: &ActualEnv,
    network: AwsVpcConfiguration,
) -> Result<Option<DatabaseRun>, String> {
    let url_param = format!(
        "{}{}",
        crate::naming::env_param_path(app, slug),
        database::URL_PARAM
    );
    let Some(p) = actual.parameters.iter().find(|p| {
        p.name == url_param
            && p.tags.contains_key(database::TAG_DATABASE)
            && ownership(&p.tags, app, slug.as_str()) == Ownership::Ours
    }) else {
        return Ok(None);
    };
    let family = crate::naming::database_family(app, slug);
    let td = owned_revisions(actual, app, slug.as_str())
        .filter(|t| t.family == family)
        .max_by_key(|t| t.revision)
        .ok_or_else(|| format!("the database task definition `{family}` is gone, so the database cannot be dropped"))?;
    Ok(Some(DatabaseRun {
        op: DbOp::Drop,
        database: crate::naming::database(app, slug),
        template: None,
        task_definition: TaskDefRef::Existing(td.arn.clone()),
        log: td
            .definition
            .as_ref()
            .and_then(|d| LogSource::of(d, database::CONTAINER)),
        network,
        url_param: p.name.clone(),
        admin_param: String::new(),
        url_stored: true,
        timeout_secs: 900,
        reason: "env is going".into(),
    }))
}

/// Which hooks this `up` runs. `before_deploy`: when the hook's service is created or moves to
/// another revision (also when an earlier run registered the revision but was cut off before
/// the service moved). `after_create`: when the service is created, or still carries the
/// pending tag from a creation whose seeding did not finish; creating it sets that tag.
fn plan_up_hooks(desired: &DesiredEnv, actual: &ActualEnv, actions: &mut [Action]) -> Vec<HookRun> {
    let mut runs = Vec::new();
    let seeded: BTreeSet<&str> = desired
        .hooks
        .iter()
        .filter(|h| h.kind == HookKind::AfterCreate)
        .map(|h| h.service.as_str())
        .collect();
    for action in actions.iter_mut() {
        if let Action::CreateService { name, tags, .. } = action {
            if seeded.contains(name.as_str()) {
                tags.insert(TAG_AFTER_CREATE_PENDING.into(), AFTER_CREATE_PENDING.into());
            }
        }
    }
    for hook in &desired.hooks {
        let Some(svc) = desired.services.iter().find(|s| s.name == hook.service) else {
            continue;
        };
        let existing = actual.services.iter().find(|s| s.name == hook.service);
        // What the service action (if any) points the service at.
        let deploying = actions.iter().find_map(|a| match a {
            Action::CreateService {
                name,
                task_definition,
                ..
            } if *name == hook.service => Some((true, task_definition.clone())),
            Action::UpdateService {
                name,
                task_definition,
                ..
            } if *name == hook.service => Some((false, task_definition.clone())),
            _ => None,
        });
        let run = match hook.kind {
            HookKind::BeforeDeploy => match (&deploying, existing) {
                (Some((true, td)), _) => Some((td.clone(), "new service".to_string())),
                (Some((false, TaskDefRef::Registered(f))), _) => Some((
                    TaskDefRef::Registered(f.clone()),
                    "new revision".to_string(),
                )),
                (Some((false, TaskDefRef::Existing(arn))), Some(s))
                    if *arn != s.task_definition_arn =>
                {
                    Some((
                        TaskDefRef::Existing(arn.clone()),
                        format!("moving to revision {}", revision_of(arn)),
                    ))
                }
                _ => None,
            },
            HookKind::AfterCreate => match (&deploying, existing) {
                (Some((true, td)), _) => Some((td.clone(), "first up of the env".to_string())),
                (_, Some(s))
                    if s.tags.get(TAG_AFTER_CREATE_PENDING).map(String::as_str)
                        == Some(AFTER_CREATE_PENDING) =>
                {
                    let td = match &deploying {
                        Some((_, td)) => td.clone(),
                        None => TaskDefRef::Existing(s.task_definition_arn.clone()),
                    };
                    Some((td, "an earlier run did not finish it".to_string()))
                }
                _ => None,
            },
            HookKind::BeforeDestroy => None,
        };
        if let Some((task_definition, reason)) = run {
            let network = svc.service.awsvpc();
            runs.push(HookRun {
                kind: hook.kind,
                service_key: hook.service_key.clone(),
                service: hook.service.clone(),
                task_definition,
                container: hook.container.clone(),
                command: hook.command.clone(),
                network,
                log: LogSource::of(&svc.task_definition, &hook.container),
                timeout_secs: hook.timeout_secs,
                reason,
            });
        }
    }
    runs
}

/// `before_destroy` hooks for `down`: each runs with the revision its service runs now, in the
/// service's network; a service that is already gone runs none.
/// A hook's empty `container` means the running definition's first essential container.
pub fn plan_destroy_hooks(hooks: &[crate::model::HookSpec], actual: &ActualEnv) -> Vec<HookRun> {
    let mut runs = Vec::new();
    for hook in hooks {
        if hook.kind != HookKind::BeforeDestroy {
            continue;
        }
        let Some(s) = actual
            .services
            .iter()
            .find(|s| s.name == hook.service && s.status == "ACTIVE")
        else {
            continue;
        };
        let td = actual
            .task_definitions
            .iter()
            .find(|t| t.arn == s.task_definition_arn)
            .and_then(|t| t.definition.as_ref());
        let configured = Some(hook.container.clone()).filter(|c| !c.is_empty());
        let container =
            configured.or_else(|| td.and_then(|td| td.container(None)).map(|c| c.name.clone()));
        let Some(container) = container else {
            continue;
        };
        runs.push(HookRun {
            kind: hook.kind,
            service_key: hook.service_key.clone(),
            service: hook.service.clone(),
            task_definition: TaskDefRef::Existing(s.task_definition_arn.clone()),
            log: td.and_then(|td| LogSource::of(td, &container)),
            container,
            command: hook.command.clone(),
            network: s.network.clone().unwrap_or_default(),
            timeout_secs: hook.timeout_secs,
            reason: format!(
                "env is going; revision {}",
                revision_of(&s.task_definition_arn)
            ),
        });
    }
    runs
}

/// `shop-x-api:7` from a task definition ARN.
fn revision_of(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Creates, updates and deletes schedules so the env's group holds exactly the desired ones.
/// Schedules of services in `blocked` (whose names another owner holds) are left alone: they
/// would scale someone else's service.
fn plan_schedules(
    desired: &DesiredEnv,
    actual: &ActualEnv,
    tags: &Tags,
    blocked: &BTreeSet<&str>,
    actions: &mut Vec<Action>,
    conflicts: &mut Vec<Conflict>,
) {
    let app = desired.identity.app.as_str();
    let env = desired.identity.env.as_str();
    let owner = actual
        .schedule_group
        .as_ref()
        .map(|g| ownership(&g.tags, app, env));
    if let (Some(g), Some(o)) = (&actual.schedule_group, &owner) {
        if *o != Ownership::Ours {
            if desired.schedules.is_some() {
                conflicts.push(Conflict {
                    kind: "schedule group".into(),
                    name: g.name.clone(),
                    owner: o.clone(),
                });
            }
            return;
        }
    }
    let Some(want) = &desired.schedules else {
        if let Some(g) = &actual.schedule_group {
            actions.push(Action::DeleteScheduleGroup {
                name: g.name.clone(),
            });
        }
        return;
    };
    if actual.schedule_group.is_none() {
        actions.push(Action::CreateScheduleGroup {
            name: want.name.clone(),
            tags: tags.clone(),
        });
    }
    let is_blocked = |name: &str| {
        name.split_once('-')
            .is_some_and(|(_, key)| blocked.contains(key))
    };
    for sched in want.schedules.iter().filter(|s| !is_blocked(&s.name)) {
        match actual.schedules.iter().find(|a| a.name == sched.name) {
            None => actions.push(Action::CreateSchedule {
                schedule: sched.clone(),
            }),
            Some(have) => {
                let changes = schedule_changes(have, sched);
                if !changes.is_empty() {
                    actions.push(Action::UpdateSchedule {
                        schedule: sched.clone(),
                        changes,
                    });
                }
            }
        }
    }
    for have in actual.schedules.iter().filter(|s| !is_blocked(&s.name)) {
        if !want.schedules.iter().any(|w| w.name == have.name) {
            actions.push(Action::DeleteSchedule {
                group: have.group.clone(),
                name: have.name.clone(),
            });
        }
    }
}

fn schedule_changes(have: &ScheduleSpec, want: &ScheduleSpec) -> Vec<String> {
    let mut changes = Vec::new();
    let mut field = |name: &str, a: &str, b: &str| {
        if a != b {
            changes.push(format!("{name} {a} → {b}"));
        }
    };
    field("expression", &have.expression, &want.expression);
    field("timezone", &have.timezone, &want.timezone);
    field(
        "flexible window",
        &format!("{}m", have.flexible_window_minutes),
        &format!("{}m", want.flexible_window_minutes),
    );
    field("state", &have.state, &want.state);
    field("role", &have.role_arn, &want.role_arn);
    field("target", &have.target_arn, &want.target_arn);
    // Compared and shown canonically: the Scheduler echoes the input re-spaced.
    let (have_input, want_input) = (canonical_json(&have.input), canonical_json(&want.input));
    if have_input != want_input {
        changes.push(format!("input {have_input} → {want_input}"));
    }
    changes
}

/// Expiry and protection tags a new service starts with.
fn expiry_tags(expiry: &ExpirySpec) -> Tags {
    let mut t = Tags::new();
    if let (Some(at), Some(ttl)) = (&expiry.expires_at, &expiry.ttl) {
        t.insert(TAG_EXPIRES_AT.into(), at.clone());
        t.insert(TAG_TTL.into(), ttl.clone());
    }
    if expiry.protect {
        t.insert(TAG_PROTECTED.into(), "true".into());
    }
    t
}

/// Pushes expiry out only when less than half the TTL is left (or the TTL changed), so an `up`
/// right after another writes nothing; `--protect` is sticky.
fn plan_expiry_tags(expiry: &ExpirySpec, s: &ServiceState) -> Option<Action> {
    let mut set = Tags::new();
    let mut remove = Vec::new();
    match (&expiry.expires_at, &expiry.ttl) {
        (Some(at), Some(ttl)) => {
            let current = s.tags.get(TAG_EXPIRES_AT);
            let stale = match (current, &expiry.refresh_before) {
                (Some(c), Some(before)) => c < before,
                _ => true,
            };
            if stale || s.tags.get(TAG_TTL) != Some(ttl) {
                set.insert(TAG_EXPIRES_AT.into(), at.clone());
                set.insert(TAG_TTL.into(), ttl.clone());
            }
        }
        _ => {
            for key in [TAG_EXPIRES_AT, TAG_TTL] {
                if s.tags.contains_key(key) {
                    remove.push(key.to_string());
                }
            }
        }
    }
    if expiry.protect && s.tags.get(TAG_PROTECTED).map(String::as_str) != Some("true") {
        set.insert(TAG_PROTECTED.into(), "true".into());
    }
    (!set.is_empty() || !remove.is_empty()).then(|| Action::TagService {
        name: s.name.clone(),
        arn: s.arn.clone(),
        set,
        remove,
    })
}

/// The target group and listener rule of one public service: reuse what exists (a re-run keeps
/// its priority), create what is missing, fix a rule that routes elsewhere.
fn plan_preview_route(
    desired: &DesiredEnv,
    svc: &DesiredService,
    route: &PreviewRoute,
    actual: &ActualEnv,
    used_priorities: &mut BTreeSet<i32>,
    actions: &mut Vec<Action>,
) -> Result<LbAttach, Conflict> {
    let app = desired.identity.app.as_str();
    let env = desired.identity.env.as_str();
    let listener_arn = desired
        .preview
        .as_ref()
        .map(|p| p.listener_arn.clone())
        .unwrap_or_default();
    let tg_name = &route.target_group.name;
    let target_group = match actual.target_groups.iter().find(|t| t.name == *tg_name) {
        Some(t) => match ownership(&t.tags, app, env) {
            Ownership::Ours => TargetGroupRef::Existing(t.arn.clone()),
            owner => {
                return Err(Conflict {
                    kind: "target group".into(),
                    name: tg_name.clone(),
                    owner,
                })
            }
        },
        None => {
            actions.push(Action::CreateTargetGroup {
                service: svc.key.clone(),
                spec: route.target_group.clone(),
            });
            TargetGroupRef::Created(tg_name.clone())
        }
    };
    // A rule of someone else already answering this host or path would shadow ours or be
    // shadowed. This env's own rules are not in the way: one answering the same host for another
    // service (`public` moved from one service to another) is deleted by this plan.
    let (hosts, paths) = match &route.route {
        RouteMatch::Host(h) => (vec![h.clone()], vec![]),
        RouteMatch::PathPrefix(p) => (vec![], vec![p.clone()]),
    };
    let this_env = |r: &&ListenerRuleState| ownership(&r.tags, app, env) == Ownership::Ours;
    let ours = |r: &&ListenerRuleState| this_env(r) && r.tags.get(TAG_SERVICE) == Some(&svc.key);
    if let Some(other) = actual
        .listener_rules
        .iter()
        .filter(|r| !this_env(r))
        .find(|r| {
            (!hosts.is_empty() && r.hosts == hosts) || (!paths.is_empty() && r.paths == paths)
        })
    {
        return Err(Conflict {
            kind: "listener rule".into(),
            name: format!(
                "{} (priority {})",
                route_text(&route.route),
                other.priority.unwrap_or_default()
            ),
            owner: ownership(&other.tags, app, env),
        });
    }
    match actual.listener_rules.iter().find(ours) {
        Some(rule) => {
            let forwards_right = match &target_group {
                TargetGroupRef::Existing(arn) => rule.target_group_arns == [arn.clone()],
                TargetGroupRef::Created(_) => false,
            };
            if rule.hosts != hosts || rule.paths != paths || !forwards_right {
                if let TargetGroupRef::Existing(arn) = &target_group {
                    actions.push(Action::ModifyListenerRule {
                        service: svc.key.clone(),
                        arn: rule.arn.clone(),
                        route: route.route.clone(),
                        target_group_arn: arn.clone(),
                    });
                }
            }
        }
        None => {
            let priority = next_free_priority(used_priorities);
            used_priorities.insert(priority);
            let mut tags = route.target_group.tags.clone();
            tags.insert(TAG_SERVICE.into(), svc.key.clone());
            actions.push(Action::CreateListenerRule {
                service: svc.key.clone(),
                listener_arn,
                priority,
                route: route.route.clone(),
                target_group: target_group.clone(),
                tags,
            });
        }
    }
    Ok(LbAttach {
        target_group,
        container_name: route.container_name.clone(),
        container_port: route.container_port,
    })
}

/// The lowest priority (1..=50000) no rule holds.
pub fn next_free_priority(used: &BTreeSet<i32>) -> i32 {
    (1..=50_000).find(|p| !used.contains(p)).unwrap_or(50_000)
}

fn attachment_matches(want: Option<&LbAttach>, have: &[LoadBalancerAttachment]) -> bool {
    match want {
        None => have.is_empty(),
        Some(lb) => match &lb.target_group {
            TargetGroupRef::Created(_) => false,
            TargetGroupRef::Existing(arn) => {
                have.len() == 1
                    && have[0].target_group_arn == *arn
                    && have[0].container_name == lb.container_name
                    && have[0].container_port == lb.container_port
            }
        },
    }
}

/// Rules and target groups of services that are no longer public (or gone from the config).
fn plan_preview_removals(desired: &DesiredEnv, actual: &ActualEnv, actions: &mut Vec<Action>) {
    let app = desired.identity.app.as_str();
    let env = desired.identity.env.as_str();
    let public: BTreeSet<&str> = desired
        .services
        .iter()
        .filter(|s| s.preview.is_some())
        .map(|s| s.key.as_str())
        .collect();
    for rule in &actual.listener_rules {
        let Some(key) = rule.tags.get(TAG_SERVICE) else {
            continue;
        };
        if ownership(&rule.tags, app, env) != Ownership::Ours || public.contains(key.as_str()) {
            continue;
        }
        actions.push(Action::DeleteListenerRule {
            arn: rule.arn.clone(),
            route: rule_text(rule),
        });
    }
    for tg in &actual.target_groups {
        let Some(key) = tg.tags.get(TAG_SERVICE) else {
            continue;
        };
        if ownership(&tg.tags, app, env) == Ownership::Ours && !public.contains(key.as_str()) {
            actions.push(Action::DeleteTargetGroup {
                arn: tg.arn.clone(),
                name: tg.name.clone(),
            });
        }
    }
}

fn rule_text(rule: &ListenerRuleState) -> String {
    match (rule.hosts.first(), rule.paths.first()) {
        (Some(h), _) => format!("host {h}"),
        (None, Some(p)) => format!("path {p}"),
        _ => rule.arn.clone(),
    }
}

/// The ALB allows 100 target groups (hard) and a listener 100 rules (default quota): checked
/// before anything is created, so an env that does not fit changes nothing.
fn preview_capacity(desired: &DesiredEnv, actual: &ActualEnv, actions: &[Action]) -> Vec<String> {
    let Some(p) = &desired.preview else {
        return vec![];
    };
    let new_rules = actions
        .iter()
        .filter(|a| matches!(a, Action::CreateListenerRule { .. }))
        .count();
    let new_tgs = actions
        .iter()
        .filter(|a| matches!(a, Action::CreateTargetGroup { .. }))
        .count();
    let rules = actual
        .listener_rules
        .iter()
        .filter(|r| r.priority.is_some())
        .count();
    let envs: BTreeSet<&String> = actual
        .listener_rules
        .iter()
        .filter_map(|r| r.tags.get(TAG_ENV))
        .collect();
    let mut out = Vec::new();
    if new_rules > 0 && rules + new_rules > p.max_rules as usize {
        out.push(format!(
            "the preview listener holds {rules} of {} rules ({} envs hold slots); this env needs {new_rules} more",
            p.max_rules,
            envs.len()
        ));
    }
    if new_tgs > 0 && actual.load_balancer_target_groups + new_tgs > p.max_target_groups as usize {
        out.push(format!(
            "the preview load balancer holds {} of {} target groups; this env needs {new_tgs} more",
            actual.load_balancer_target_groups, p.max_target_groups
        ));
    }
    out
}

/// Keeps the revision in use when it already matches; reuses an identical newer revision (left by
/// an `up` that crashed before updating the service); otherwise registers a new one.
fn plan_task_definition(
    svc: &DesiredService,
    existing: Option<&ServiceState>,
    actual: &ActualEnv,
    tags: &Tags,
    actions: &mut Vec<Action>,
) -> TaskDefRef {
    let want = normalize::task_definition(&svc.task_definition);
    let current = existing.and_then(|s| {
        actual
            .task_definitions
            .iter()
            .find(|t| t.arn == s.task_definition_arn)
    });
    let matches = |t: &TaskDefinitionState| {
        t.definition
            .as_ref()
            .map(normalize::task_definition)
            .as_ref()
            == Some(&want)
    };
    if let Some(cur) = current.filter(|t| matches(t)) {
        return TaskDefRef::Existing(cur.arn.clone());
    }
    if let Some(latest) = latest_revision(actual, &svc.name).filter(|t| matches(t)) {
        return TaskDefRef::Existing(latest.arn.clone());
    }
    let diff = current
        .or_else(|| latest_revision(actual, &svc.name))
        .and_then(|t| t.definition.as_ref())
        .map(|old| json_diff(&normalize::task_definition(old), &want));
    actions.push(Action::RegisterTaskDefinition {
        service: svc.key.clone(),
        family: svc.name.clone(),
        definition: svc.task_definition.clone(),
        tags: tags.clone(),
        diff,
    });
    TaskDefRef::Registered(svc.name.clone())
}

/// Why ECS accepts a capacity provider change only with a new deployment.
pub const FORCE_FOR_CAPACITY: &str =
    "ECS changes a service's capacity providers only with a new deployment";

/// What differs between the service and its desired definition, and why the update must force
/// a new deployment, if it must.
fn service_changes(
    svc: &DesiredService,
    s: &ServiceState,
    td_ref: &TaskDefRef,
    hash: &str,
) -> (Vec<String>, Option<String>) {
    let want = normalize::service_definition(&svc.service);
    let mut changes = Vec::new();
    match td_ref {
        TaskDefRef::Registered(_) => changes.push(format!(
            "task definition {} → new revision",
            short_td(&s.task_definition_arn)
        )),
        TaskDefRef::Existing(arn) if *arn != s.task_definition_arn => changes.push(format!(
            "task definition {} → {}",
            short_td(&s.task_definition_arn),
            short_td(arn)
        )),
        TaskDefRef::Existing(_) => {}
    }
    if s.desired_count != want.desired_count {
        changes.push(format!(
            "desiredCount {} → {}",
            s.desired_count, want.desired_count
        ));
    }
    if let (Some(have), Some(nc)) = (&s.network, &want.network_configuration) {
        if normalize::network(have) != nc.awsvpc_configuration {
            changes.push("networkConfiguration".into());
        }
    }
    // Only compared when the endpoint reports it (moto does not after a create); the spec hash
    // covers the rest. AWS always reports a service's strategy, or its launch type.
    let mut have_strategy = s.capacity_provider_strategy.clone();
    have_strategy.sort();
    let want_strategy = &want.capacity_provider_strategy;
    let mut force = None;
    // A Fargate launch-type service (one imported, say) moving to capacity providers. Only
    // `FARGATE`: moto reports `EC2` for services it created with a strategy it then drops.
    let from_launch_type = s
        .launch_type
        .as_deref()
        .filter(|lt| *lt == "FARGATE" && have_strategy.is_empty() && !want_strategy.is_empty());
    if (!have_strategy.is_empty() && have_strategy != *want_strategy) || from_launch_type.is_some()
    {
        changes.push(format!(
            "capacityProviderStrategy {} → {}",
            capacity_summary(&have_strategy, from_launch_type),
            capacity_summary(want_strategy, want.launch_type.as_deref())
        ));
        force = Some(FORCE_FOR_CAPACITY.to_string());
    }
    if changes.is_empty() && s.tags.get(TAG_SPEC_HASH).map(String::as_str) != Some(hash) {
        changes.push("service settings changed since the last up".into());
    }
    (changes, force)
}

/// Plans `down`: delete everything tagged for this env, leave (and report) everything else.
pub fn plan_down(app: &str, env: &str, actual: &ActualEnv) -> Plan {
    let mut actions = Vec::new();
    let mut skipped = Vec::new();
    let mut skip = |kind: &str, name: &str, owner: Ownership| {
        skipped.push(Conflict {
            kind: kind.into(),
            name: name.into(),
            owner,
        })
    };
    let cluster = actual
        .cluster
        .as_ref()
        .map(|c| c.name.clone())
        .unwrap_or_default();
    for s in &actual.services {
        match ownership(&s.tags, app, env) {
            Ownership::Ours => actions.push(Action::DeleteService {
                name: s.name.clone(),
                cluster: cluster.clone(),
            }),
            Ownership::Foreign => skip("ECS service", &s.name, Ownership::Foreign),
            Ownership::OtherEnv { .. } => {}
        }
    }
    if let Some(g) = &actual.schedule_group {
        match ownership(&g.tags, app, env) {
            Ownership::Ours => actions.push(Action::DeleteScheduleGroup {
                name: g.name.clone(),
            }),
            other => skip("schedule group", &g.name, other),
        }
    }
    for rule in &actual.listener_rules {
        if ownership(&rule.tags, app, env) == Ownership::Ours {
            actions.push(Action::DeleteListenerRule {
                arn: rule.arn.clone(),
                route: rule_text(rule),
            });
        }
    }
    for tg in &actual.target_groups {
        match ownership(&tg.tags, app, env) {
            Ownership::Ours => actions.push(Action::DeleteTargetGroup {
                arn: tg.arn.clone(),
                name: tg.name.clone(),
            }),
            other => skip("target group", &tg.name, other),
        }
    }
    let mut families = BTreeMap::<&str, usize>::new();
    for td in owned_revisions(actual, app, env) {
        *families.entry(td.family.as_str()).or_default() += 1;
        actions.push(Action::DeregisterTaskDefinition {
            arn: td.arn.clone(),
        });
    }
    for r in &actual.repositories {
        match ownership(&r.tags, app, env) {
            Ownership::Ours => actions.push(Action::DeleteRepository {
                name: r.name.clone(),
                images: r.image_count,
            }),
            Ownership::Foreign => skip("ECR repository", &r.name, Ownership::Foreign),
            Ownership::OtherEnv { .. } => {}
        }
    }
    let mut params = Vec::new();
    for p in &actual.parameters {
        match ownership(&p.tags, app, env) {
            Ownership::Ours => params.push(p.name.clone()),
            other => skip("SSM parameter", &p.name, other),
        }
    }
    if !params.is_empty() {
        params.sort();
        actions.push(Action::DeleteParameters { names: params });
    }
    if let Some(ns) = &actual.namespace {
        match ownership(&ns.tags, app, env) {
            Ownership::Ours => actions.push(Action::DeleteNamespace {
                id: ns.id.clone(),
                name: ns.name.clone(),
            }),
            other => skip("Cloud Map namespace", &ns.name, other),
        }
    }
    if let Some(lg) = &actual.log_group {
        match ownership(&lg.tags, app, env) {
            Ownership::Ours => actions.push(Action::DeleteLogGroup {
                name: lg.name.clone(),
            }),
            other => skip("log group", &lg.name, other),
        }
    }
    Plan {
        app: app.into(),
        env: env.into(),
        actions,
        hooks: vec![],
        database: None,
        conflicts: vec![],
        skipped,
        capacity: vec![],
    }
}

fn owned_revisions<'a>(
    actual: &'a ActualEnv,
    app: &'a str,
    env: &'a str,
) -> impl Iterator<Item = &'a TaskDefinitionState> {
    actual
        .task_definitions
        .iter()
        .filter(move |t| t.status == "ACTIVE" && ownership(&t.tags, app, env) == Ownership::Ours)
}

fn latest_revision<'a>(actual: &'a ActualEnv, family: &str) -> Option<&'a TaskDefinitionState> {
    actual
        .task_definitions
        .iter()
        .filter(|t| t.family == family && t.status == "ACTIVE")
        .max_by_key(|t| t.revision)
}

/// `arn:aws:ecs:...:task-definition/shop-x-web:3` → `shop-x-web:3`.
pub fn short_td(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

pub fn capacity_summary(
    strategy: &[CapacityProviderStrategyItem],
    launch_type: Option<&str>,
) -> String {
    if strategy.is_empty() {
        return launch_type.unwrap_or("default capacity").to_string();
    }
    strategy
        .iter()
        .map(|s| {
            if s.base > 0 {
                format!(
                    "{} (base {}, weight {})",
                    s.capacity_provider, s.base, s.weight
                )
            } else {
                format!("{} (weight {})", s.capacity_provider, s.weight)
            }
        })
        .collect::<Vec<_>>()
        .join(" + ")
}

/// Compact JSON with sorted keys, so two spellings of one policy compare equal.
pub fn canonical_json(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| text.to_string())
}

fn json_diff<T: Serialize>(old: &T, new: &T) -> String {
    let a = serde_json::to_string_pretty(old).unwrap_or_default();
    let b = serde_json::to_string_pretty(new).unwrap_or_default();
    similar::TextDiff::from_lines(&a, &b)
        .unified_diff()
        .context_radius(2)
        .header("in use", "desired")
        .to_string()
}

/// `host feature-x.preview.example.com` or `path /feature-x/*`.
pub fn route_text(route: &RouteMatch) -> String {
    match route {
        RouteMatch::Host(h) => format!("host {h}"),
        RouteMatch::PathPrefix(p) => format!("path {p}"),
    }
}
