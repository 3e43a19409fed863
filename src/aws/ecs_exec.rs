//! The ECS calls of `envctl exec`: a service's running tasks with their containers' runtime ids,
//! and ExecuteCommand. Apart from `ecs.rs` because only exec needs them.

use aws_sdk_ecs::types as ecs;
use aws_smithy_types::date_time::Format;
use futures::future::try_join_all;

use super::{Aws, AwsError, AwsResult};
use crate::model::{ExecSession, RunningContainer, RunningTask, SecretString};

/// DescribeTasks accepts at most 100 tasks per call.
const DESCRIBE_TASKS_BATCH: usize = 100;

impl Aws {
    /// The tasks of `service` that ECS wants RUNNING (ListTasks desiredStatus=RUNNING, then
    /// DescribeTasks). A missing cluster or service has none.
    pub async fn running_tasks(&self, cluster: &str, service: &str) -> AwsResult<Vec<RunningTask>> {
        let listed = self
            .ecs
            .list_tasks()
            .cluster(cluster)
            .service_name(service)
            .desired_status(ecs::DesiredStatus::Running)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await;
        let arns = match listed {
            Ok(arns) => arns,
            Err(e)
                if e.as_service_error().is_some_and(|e| {
                    e.is_cluster_not_found_exception() || e.is_service_not_found_exception()
                }) =>
            {
                return Ok(Vec::new())
            }
            Err(e) => return Err(AwsError::from_sdk("ecs:ListTasks", service, e)),
        };
        let batches = arns.chunks(DESCRIBE_TASKS_BATCH).map(|batch| async move {
            self.ecs
                .describe_tasks()
                .cluster(cluster)
                .set_tasks(Some(batch.to_vec()))
                .send()
                .await
                .map(|out| out.tasks().to_vec())
                .map_err(|e| AwsError::from_sdk("ecs:DescribeTasks", service, e))
        });
        let tasks: Vec<ecs::Task> = try_join_all(batches).await?.into_iter().flatten().collect();
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
