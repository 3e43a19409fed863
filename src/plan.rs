//! `plan(desired, actual) -> Plan`: the pure heart of envctl. Both sides are normalized first, so
//! a converged env plans to nothing; resources that exist are never created again (the emulator
//! would silently replace them, real AWS would fail), and nothing without envctl's ownership tags
//! is ever updated or deleted.

use serde::Serialize;

use crate::database::DbOp;
use crate::model::{
    ownership, ActualEnv, AwsVpcConfiguration, CapacityProviderStrategyItem, HookKind, LogSource,
    Ownership, RouteMatch, ScheduleSpec, ServiceDefinition, Tags, TargetGroupSpec, TaskDefinition,
    TaskDefinitionState,
};

mod database;
mod down;
mod hooks;
mod lifecycle;
mod preview;
mod schedules;
mod up;

pub use database::plan_drop_database;
pub use down::plan_down;
pub use hooks::plan_destroy_hooks;
pub use lifecycle::{plan_start, plan_stop, recorded_count};
pub use preview::next_free_priority;
pub use up::{plan_up, FORCE_FOR_CAPACITY};

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
    /// `stop` / `start`: a service's desiredCount alone. `record` is stored in
    /// `envctl:stopped-count` before the count changes (so a crash loses nothing);
    /// `clear_record` removes that tag only after the count is back (so a crash can retry).
    SetDesiredCount {
        cluster: String,
        name: String,
        arn: String,
        from: i32,
        to: i32,
        #[serde(skip_serializing_if = "Option::is_none")]
        record: Option<i32>,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        clear_record: bool,
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
            | Action::TagService { .. }
            | Action::SetDesiredCount { .. } => SERVICES_PHASE,
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
            | Action::SetDesiredCount { .. }
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
            Action::SetDesiredCount {
                name,
                from,
                to,
                record,
                clear_record,
                ..
            } => {
                let why = match (record, clear_record) {
                    (Some(n), _) => format!(" (records {n} for start)"),
                    (None, true) => " (clears the stop record)".to_string(),
                    (None, false) => String::new(),
                };
                if from == to {
                    format!("untag service {name}: stale stop record (desiredCount stays {to})")
                } else {
                    format!("scale service {name}: desiredCount {from} → {to}{why}")
                }
            }
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
            // App-wide resources (cluster, roles, build projects) carry no env tag.
            Ownership::OtherEnv { app, env } if env.is_empty() => write!(
                f,
                "{} `{}` belongs to envctl app `{app}`",
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

/// The env's ACTIVE task definition revisions that carry its tags.
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

/// The newest ACTIVE revision of `family`, whoever owns it.
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
