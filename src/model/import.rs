//! What `envctl init --from-service` reads from a live ECS service: envctl's own service and task
//! definition models, plus the settings those models cannot express (named, never dropped
//! silently), so the import can report everything that does not carry over.

use super::{ServiceState, TaskDefinition};

/// A live service and its task definition, as `aws/ecs.rs` observed them.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveService {
    pub cluster: String,
    pub service: ServiceState,
    pub task_definition_arn: String,
    pub task_definition: TaskDefinition,
    /// Service settings outside `ServiceState`.
    pub service_extras: ServiceExtras,
    /// Task definition settings outside `TaskDefinition`, as (JSON field, detail).
    pub task_extras: Vec<(String, String)>,
    /// Container settings outside `ContainerDefinition`, as (container, JSON field).
    pub container_extras: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceExtras {
    pub service_registries: Vec<String>,
    pub service_connect: bool,
    pub placement_constraints: Vec<String>,
    pub placement_strategy: Vec<String>,
    pub platform_version: Option<String>,
    pub scheduling_strategy: Option<String>,
    pub deployment_controller: Option<String>,
    pub health_check_grace_period_seconds: Option<i32>,
    pub role_arn: Option<String>,
}

/// The outcome of looking a service up for import.
#[derive(Debug, Clone, PartialEq)]
pub enum ImportLookup {
    NoCluster,
    NoService,
    /// The service names a task definition ECS no longer describes.
    NoTaskDefinition(String),
    Found(Box<LiveService>),
}
