//! The ECS calls of `envctl exec`: a service's running tasks with their containers' runtime ids,
//! and ExecuteCommand. A part of the ECS module kept apart because only exec needs it.

use aws_sdk_ecs::types as ecs;
use aws_smithy_types::date_time::Format;

use crate::aws::{Aws, AwsError, AwsResult};
use crate::model::{ExecSession, RunningContainer, RunningTask, SecretString};

impl Aws {
    /// The tasks of `service` that ECS wants RUNNING (ListTasks desiredStatus=RUNNING, then
    /// DescribeTasks). A missing cluster or service has none.
    pub async fn running_tasks(&self, cluster: &str, service: &str) -> AwsResult<Vec<RunningTask>> {
        let tasks = self
            .service_tasks(cluster, service, ecs::DesiredStatus::Running)
            .await?;
        Ok(tasks.iter().filter_map(running_task_from_sdk).collect())
    }

    /// ECS ExecuteCommand, interactive (the only mode ECS offers): the Session Manager session
    /// the plugin connects to.
    pub async fn execute_command(
        &self,
        cluster: &str,
        task_arn: &str,
        container: &str,
        command: &str,
    ) -> AwsResult<ExecSession> {
        const ACTION: &str = "ecs:ExecuteCommand";
        let out = self
            .ecs
            .execute_command()
            .cluster(cluster)
            .task(task_arn)
            .container(container)
            .command(command)
            .interactive(true)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(ACTION, task_arn, e))?;
        let session = out
            .session()
            .ok_or_else(|| AwsError::unexpected(ACTION, task_arn, "reply has no session"))?;
        let field = |v: Option<&str>, name: &str| {
            v.map(str::to_string).ok_or_else(|| {
                AwsError::unexpected(ACTION, task_arn, format!("reply's session has no {name}"))
            })
        };
        Ok(ExecSession {
            session_id: field(session.session_id(), "sessionId")?,
            stream_url: field(session.stream_url(), "streamUrl")?,
            token_value: SecretString::new(field(session.token_value(), "tokenValue")?),
        })
    }
}

fn running_task_from_sdk(t: &ecs::Task) -> Option<RunningTask> {
    Some(RunningTask {
        arn: t.task_arn()?.to_string(),
        last_status: t.last_status().unwrap_or_default().to_string(),
        started_at: t.started_at().and_then(|d| d.fmt(Format::DateTime).ok()),
        enable_execute_command: t.enable_execute_command(),
        containers: t
            .containers()
            .iter()
            .map(|c| RunningContainer {
                name: c.name().unwrap_or_default().to_string(),
                runtime_id: c.runtime_id().filter(|r| !r.is_empty()).map(str::to_string),
            })
            .collect(),
    })
}
