//! One environment, as rendered from config (`DesiredEnv`) and as observed in AWS (`ActualEnv`).
//! `plan` compares the two; both are plain data so the planner stays pure and snapshot-testable.

use serde::Serialize;

use super::{
    AwsVpcConfiguration, CapacityProviderStrategyItem, EnvIdentity, HookSpec, ListenerRuleState,
    ListenerState, LoadBalancerAttachment, RouteMatch, ScheduleGroupState, ScheduleSpec,
    ServiceDefinition, Tags, TargetGroupSpec, TargetGroupState, TaskDefinition,
};

/// Everything an env should have, fully rendered. Built by `render`, never by AWS calls.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesiredEnv {
    pub identity: EnvIdentity,
    /// The app's shared ECS cluster (name), created by `bootstrap`.
    pub cluster: String,
    pub log_group: LogGroupSpec,
    pub services: Vec<DesiredService>,
    pub repositories: Vec<RepositorySpec>,
    /// Stop/start schedules; `None` when schedules are off or the env is always-on.
    pub schedules: Option<ScheduleGroupSpec>,
    pub expiry: ExpirySpec,
    /// Capacity pre-flight limits and the listener, when any service is public.
    pub preview: Option<PreviewListenerSpec>,
    /// One-off tasks around deploys, in the order they run within a kind.
    pub hooks: Vec<HookSpec>,
    /// `[database]`: the env's database on the shared server.
    pub database: Option<DesiredDatabase>,
    /// The env's Cloud Map HTTP namespace, which its services join with ECS Service Connect.
    pub namespace: NamespaceSpec,
}

/// The env's database, its role (same name) and the task definition that creates and drops them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesiredDatabase {
    /// Database and role name on the shared server.
    pub name: String,
    pub template: Option<String>,
    /// Task definition family of the database task.
    pub family: String,
    pub task_definition: TaskDefinition,
    /// Full name of the env's `DATABASE_URL` parameter.
    pub url_param: String,
    pub admin_param: String,
    pub network: AwsVpcConfiguration,
    pub timeout_secs: u64,
    /// The account, for parameter ARNs.
    pub account: String,
}

/// The Cloud Map HTTP namespace of an env (`naming::namespace`): one per env, so two envs never
/// see each other's services.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamespaceSpec {
    pub name: String,
}

/// A Cloud Map namespace as observed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamespaceState {
    pub id: String,
    pub arn: String,
    pub name: String,
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreviewListenerSpec {
    pub listener_arn: String,
    pub max_rules: u32,
    pub max_target_groups: u32,
}

/// The env's schedule group and every schedule in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScheduleGroupSpec {
    pub name: String,
    pub schedules: Vec<ScheduleSpec>,
}

/// Expiry and protection, kept as tags on the env's ECS services.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExpirySpec {
    /// RFC 3339; `None` when the TTL is `never`.
    pub expires_at: Option<String>,
    /// The TTL as configured (`7d`), for the `envctl:ttl` tag.
    pub ttl: Option<String>,
    /// An existing expiry earlier than this is pushed out to `expires_at`; a later one is left
    /// alone, so an `up` right after another writes nothing (half the TTL).
    pub refresh_before: Option<String>,
    /// `up --protect`: mark the env protected from `gc` and `down` without --force.
    pub protect: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogGroupSpec {
    pub name: String,
    pub retention_days: i32,
}

/// One service of the env: its ECS service and the task definition it runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesiredService {
    /// The key in `[services.<key>]`.
    pub key: String,
    /// The rendered `image` value the templates got (from `--image`, else
    /// `services.<key>.image`); empty for a built service before its build. Lets a check of the
    /// rendered model name where a bad image came from.
    #[serde(skip)]
    pub image: String,
    /// ECS service name (also the task definition family).
    pub name: String,
    pub task_definition: TaskDefinition,
    pub service: ServiceDefinition,
    /// The preview URL route, for a `public` service.
    pub preview: Option<PreviewRoute>,
}

/// A public service's target group, listener rule match and URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreviewRoute {
    pub target_group: TargetGroupSpec,
    pub route: RouteMatch,
    pub container_name: String,
    pub container_port: i32,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepositorySpec {
    /// The `[services.<key>]` this repository holds images for.
    pub service_key: String,
    pub name: String,
    /// Rendered lifecycle policy JSON text.
    pub lifecycle_policy: String,
}

/// What AWS holds for one env (and the app-wide pieces it depends on). Built by `observe`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ActualEnv {
    pub cluster: Option<ClusterState>,
    /// The env's log group if a group with exactly that name exists.
    pub log_group: Option<LogGroupState>,
    /// Services with a desired name, or tagged for this env; INACTIVE ones are left out.
    pub services: Vec<ServiceState>,
    /// Task definitions with an env family: the revision each service runs, plus every ACTIVE
    /// revision (for cleanup).
    pub task_definitions: Vec<TaskDefinitionState>,
    pub repositories: Vec<RepositoryState>,
    /// Parameters under the env's own SSM path (never values of SecureStrings).
    pub parameters: Vec<ParameterState>,
    pub schedule_group: Option<ScheduleGroupState>,
    /// The schedules in the env's group.
    pub schedules: Vec<ScheduleSpec>,
    /// The shared preview listener, its rules (every env's) and the env's target groups.
    pub listener: Option<ListenerState>,
    pub listener_rules: Vec<ListenerRuleState>,
    pub target_groups: Vec<TargetGroupState>,
    /// Target groups on the listener's load balancer, all envs (for the capacity pre-flight).
    pub load_balancer_target_groups: usize,
    /// The Cloud Map namespace with the env's name, whoever owns it.
    pub namespace: Option<NamespaceState>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterState {
    pub name: String,
    pub arn: String,
    /// `ACTIVE`, `PROVISIONING`, `INACTIVE`, ...
    pub status: String,
    pub capacity_providers: Vec<String>,
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogGroupState {
    pub name: String,
    pub arn: String,
    pub retention_days: Option<i32>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ServiceState {
    pub name: String,
    pub arn: String,
    pub status: String,
    pub desired_count: i32,
    pub running_count: i32,
    pub pending_count: i32,
    pub task_definition_arn: String,
    /// Empty when the endpoint does not report it (moto drops it).
    pub capacity_provider_strategy: Vec<CapacityProviderStrategyItem>,
    pub launch_type: Option<String>,
    pub network: Option<AwsVpcConfiguration>,
    pub load_balancers: Vec<LoadBalancerAttachment>,
    pub deployments: Vec<DeploymentState>,
    /// Newest first, at most a handful.
    pub events: Vec<ServiceEvent>,
    pub created_at: Option<String>,
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeploymentState {
    pub id: String,
    /// `PRIMARY`, `ACTIVE` or `INACTIVE`.
    pub status: String,
    /// `IN_PROGRESS`, `COMPLETED` or `FAILED` when reported.
    pub rollout_state: Option<String>,
    pub task_definition_arn: String,
    pub desired_count: i32,
    pub running_count: i32,
    pub pending_count: i32,
    pub failed_tasks: i32,
    pub updated_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceEvent {
    pub at: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskDefinitionState {
    pub arn: String,
    pub family: String,
    pub revision: i32,
    /// `ACTIVE` or `INACTIVE`.
    pub status: String,
    /// Present for the revisions envctl described in full (the ones services run).
    pub definition: Option<TaskDefinition>,
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepositoryState {
    pub name: String,
    pub arn: String,
    pub uri: String,
    pub lifecycle_policy: Option<String>,
    pub image_count: usize,
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParameterState {
    pub name: String,
    pub arn: String,
    pub secure: bool,
    pub version: i64,
    /// Only for `String` parameters; a SecureString's value is never read.
    pub value: Option<String>,
    pub tags: Tags,
}

/// A stopped task of a service, for `status`: why it stopped (Spot interruptions called out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoppedTask {
    pub task_arn: String,
    pub stopped_at: Option<String>,
    pub stop_code: Option<String>,
    pub reason: String,
    pub capacity_provider: Option<String>,
}

impl StoppedTask {
    /// Fargate Spot reclaims capacity with this stop code (and a SIGTERM two minutes ahead).
    pub fn is_spot_interruption(&self) -> bool {
        self.stop_code.as_deref() == Some("SpotInterruption")
    }
}
