//! What `envctl logs` and `envctl exec` read from AWS, in envctl's own terms: log events of an
//! env's group, and the running tasks (with their containers' runtime ids) of a service.

use serde::Serialize;

use super::SecretString;

/// One CloudWatch Logs event as FilterLogEvents returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEvent {
    /// Milliseconds since the epoch, UTC (the time the container wrote the line).
    pub timestamp_ms: i64,
    /// Unique within the group: the key `--follow` de-duplicates on.
    pub event_id: String,
    /// `<awslogs-stream-prefix>/<container>/<task id>` for awslogs.
    pub stream: String,
    pub message: String,
}

/// One FilterLogEvents search (all its pages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogQuery {
    pub group: String,
    /// `logStreamNamePrefix`; `None` searches every stream of the group.
    pub stream_prefix: Option<String>,
    /// `startTime`, inclusive, in milliseconds since the epoch.
    pub start_ms: i64,
    /// `filterPattern` (CloudWatch Logs filter syntax).
    pub pattern: Option<String>,
}

/// A task of a service that ECS wants running.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunningTask {
    pub arn: String,
    /// PROVISIONING, PENDING, ACTIVATING, RUNNING, ...
    pub last_status: String,
    /// RFC 3339, when the task started running.
    pub started_at: Option<String>,
    /// Whether the task was started with ECS Exec (decided when it started, not later).
    pub enable_execute_command: bool,
    pub containers: Vec<RunningContainer>,
}

impl RunningTask {
    /// The task's id, the last segment of its ARN.
    pub fn id(&self) -> &str {
        self.arn.rsplit('/').next().unwrap_or(&self.arn)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunningContainer {
    pub name: String,
    /// The container runtime's id: the last part of ECS Exec's Session Manager target. `None`
    /// until the container has started.
    pub runtime_id: Option<String>,
}

/// What ECS ExecuteCommand answers: the Session Manager session to hand to the plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecSession {
    pub session_id: String,
    pub stream_url: String,
    /// Lets whoever holds it join the session: never logged or printed.
    pub token_value: SecretString,
}
