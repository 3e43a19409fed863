//! One-off tasks (`envctl run`, hooks): what to start, and what ECS says about it.

use serde::Serialize;

use super::{AwsVpcConfiguration, Tags, TaskDefinition};

/// A task to start from an existing task definition revision, with one container's command
/// replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskLaunch {
    pub cluster: String,
    pub task_definition_arn: String,
    pub container: String,
    pub command: Vec<String>,
    pub network: AwsVpcConfiguration,
    /// FARGATE_SPOT instead of on-demand FARGATE (a Spot interruption kills the task).
    pub spot: bool,
    /// `startedBy` (at most 36 characters): `envctl-run` or `envctl-hook`.
    pub started_by: String,
    pub tags: Tags,
}

/// A task as DescribeTasks reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TaskStatus {
    pub arn: String,
    /// PROVISIONING, PENDING, RUNNING, ..., STOPPED.
    pub last_status: String,
    pub stopped_reason: Option<String>,
    /// e.g. `EssentialContainerExited`, `SpotInterruption`, `UserInitiated`.
    pub stop_code: Option<String>,
    pub containers: Vec<ContainerStatus>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ContainerStatus {
    pub name: String,
    pub exit_code: Option<i32>,
    pub reason: Option<String>,
}

/// Where a container's awslogs lines go: `<prefix>/<container>/<task id>` in `group`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogSource {
    pub group: String,
    pub stream_prefix: String,
    pub container: String,
}

impl LogSource {
    /// The container's awslogs settings in the task definition; `None` for other log drivers
    /// (then nothing is streamed).
    pub fn of(td: &TaskDefinition, container: &str) -> Option<LogSource> {
        let c = td
            .container_definitions
            .iter()
            .find(|c| c.name == container)?;
        let lc = c.log_configuration.as_ref()?;
        if lc.log_driver != "awslogs" {
            return None;
        }
        Some(LogSource {
            group: lc.options.get("awslogs-group")?.clone(),
            stream_prefix: lc.options.get("awslogs-stream-prefix")?.clone(),
            container: container.to_string(),
        })
    }

    pub fn stream(&self, task_id: &str) -> String {
        format!("{}/{}/{task_id}", self.stream_prefix, self.container)
    }
}

impl TaskStatus {
    pub fn is_stopped(&self) -> bool {
        self.last_status == "STOPPED"
    }

    /// The task's id, the last segment of its ARN (also the end of its log stream names).
    pub fn id(&self) -> &str {
        self.arn.rsplit('/').next().unwrap_or(&self.arn)
    }
}
