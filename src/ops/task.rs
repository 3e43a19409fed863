//! One-off tasks, for `envctl run` and hooks: start a task of a service's task definition with
//! another command, stream its log lines while it runs, and report the container's exit code.
//! Ctrl-C (or a timeout) stops the task rather than leaving it running unattended.
//!
//! The calls go through `TaskBackend` so the orchestration is tested with a fake: the emulator
//! starts no container, writes no log line and reports every task as exiting 0.

use std::future::Future;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::aws::{Aws, AwsResult};
use crate::error::{Error, Result};
use crate::model::{LogSource, TaskLaunch, TaskStatus};

/// Lines of a failed task's log shown with the error.
pub const LOG_TAIL_LINES: usize = 30;

/// The calls a one-off task needs.
pub trait TaskBackend: Sync {
    fn start(&self, launch: &TaskLaunch) -> impl Future<Output = AwsResult<String>> + Send;
    fn status(
        &self,
        cluster: &str,
        task_arn: &str,
    ) -> impl Future<Output = AwsResult<Option<TaskStatus>>> + Send;
    fn stop(
        &self,
        cluster: &str,
        task_arn: &str,
        reason: &str,
    ) -> impl Future<Output = AwsResult<()>> + Send;
    /// Events of one log stream after `token`, and the token to continue from.
    fn read_log(
        &self,
        group: &str,
        stream: &str,
        token: Option<&str>,
    ) -> impl Future<Output = AwsResult<(Vec<String>, Option<String>)>> + Send;
}

impl TaskBackend for Aws {
    async fn start(&self, launch: &TaskLaunch) -> AwsResult<String> {
        self.run_task(launch).await
    }
    async fn status(&self, cluster: &str, task_arn: &str) -> AwsResult<Option<TaskStatus>> {
        self.describe_task(cluster, task_arn).await
    }
    async fn stop(&self, cluster: &str, task_arn: &str, reason: &str) -> AwsResult<()> {
        self.stop_task(cluster, task_arn, reason).await
    }
    async fn read_log(
        &self,
        group: &str,
        stream: &str,
        token: Option<&str>,
    ) -> AwsResult<(Vec<String>, Option<String>)> {
        self.read_log_stream(group, stream, token).await
    }
}

/// How a one-off task ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskOutcome {
    pub task_arn: String,
    /// The container's exit code; `None` when it never ran (image pull failure, Spot
    /// interruption before start, ...).
    pub exit_code: Option<i32>,
    pub stopped_reason: Option<String>,
    pub stop_code: Option<String>,
    /// The last lines of its log (at most `LOG_TAIL_LINES`).
    pub tail: Vec<String>,
}

impl TaskOutcome {
    pub fn succeeded(&self) -> bool {
        self.exit_code == Some(0)
    }

    /// "exited with code 3" / "stopped before its container ran: CannotPullContainerError ...".
    pub fn describe(&self) -> String {
        match self.exit_code {
            Some(code) => format!("exited with code {code}"),
            None => format!(
                "stopped without an exit code: {}",
                self.stopped_reason
                    .as_deref()
                    .or(self.stop_code.as_deref())
                    .unwrap_or("no reason given")
            ),
        }
    }
}

impl TaskOutcome {
    /// The error message of a one-off task that did not exit 0: what it was, how it ended, and
    /// the end of its log.
    pub fn failure_message(&self, what: &str) -> String {
        let mut message = format!("{what} failed: task {} {}", self.task_arn, self.describe());
        if self.tail.is_empty() {
            message.push_str(" (it wrote no log lines)");
        } else {
            message.push_str(&format!(
                "; the last {} log line(s):\n{}",
                self.tail.len(),
                self.tail.join("\n")
            ));
        }
        message
    }
}

#[derive(Debug, Clone)]
pub struct Watch {
    pub poll: Duration,
    pub timeout: Duration,
}

/// Why the task was stopped from this side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    Interrupted,
    TimedOut,
}

/// Starts the task, hands each log line to `on_line` as it arrives, and returns when the task
/// has stopped. If `cancel` resolves first (Ctrl-C), or `watch.timeout` passes, the task is
/// stopped and an error says so.
pub async fn run_to_completion<B: TaskBackend>(
    backend: &B,
    launch: &TaskLaunch,
    log: Option<&LogSource>,
    watch: &Watch,
    on_start: &(dyn Fn(&str) + Sync),
    on_line: &(dyn Fn(&str) + Sync),
    cancel: impl Future<Output = ()>,
) -> Result<TaskOutcome> {
    let task_arn = backend.start(launch).await?;
    on_start(&task_arn);
    let task_id = task_arn.rsplit('/').next().unwrap_or(&task_arn).to_string();
    let stream = log.map(|l| l.stream(&task_id));
    let mut token: Option<String> = None;
    let mut tail: Vec<String> = Vec::new();
    let deadline = Instant::now() + watch.timeout;
    tokio::pin!(cancel);

    let read_more = |lines: Vec<String>, tail: &mut Vec<String>| {
        for line in lines {
            on_line(&line);
            tail.push(line);
        }
        let excess = tail.len().saturating_sub(LOG_TAIL_LINES);
        tail.drain(..excess);
    };

    loop {
        let cut = tokio::select! {
            _ = &mut cancel => Some(Cut::Interrupted),
            _ = tokio::time::sleep(watch.poll) => {
                (Instant::now() >= deadline).then_some(Cut::TimedOut)
            }
        };
        if let Some(cut) = cut {
            let reason = match cut {
                Cut::Interrupted => "envctl: interrupted (Ctrl-C)",
                Cut::TimedOut => "envctl: timed out",
            };
            backend.stop(&launch.cluster, &task_arn, reason).await?;
            let (message, hint) = match cut {
                Cut::Interrupted => (
                    format!("interrupted: stopped task {task_arn}"),
                    "the task was asked to stop (SIGTERM, then SIGKILL after its stopTimeout)"
                        .to_string(),
                ),
                Cut::TimedOut => (
                    format!(
                        "task {task_arn} did not finish within {}s: stopped it",
                        watch.timeout.as_secs()
                    ),
                    "raise the timeout (`--timeout`, or `timeout` of the hook)".to_string(),
                ),
            };
            return Err(match cut {
                Cut::Interrupted => Error::Interrupted { message, hint },
                Cut::TimedOut => Error::TaskFailed { message, hint },
            });
        }
        if let (Some(l), Some(stream)) = (log, &stream) {
            let (lines, next) = backend.read_log(&l.group, stream, token.as_deref()).await?;
            read_more(lines, &mut tail);
            token = next.or(token);
        }
        let status = backend.status(&launch.cluster, &task_arn).await?;
        let Some(status) = status else {
            continue;
        };
        if status.is_stopped() {
            // Lines written just before the stop arrive after it: read until nothing is new.
            if let (Some(l), Some(stream)) = (log, &stream) {
                for _ in 0..10 {
                    let (lines, next) =
                        backend.read_log(&l.group, stream, token.as_deref()).await?;
                    let done = lines.is_empty();
                    read_more(lines, &mut tail);
                    token = next.or(token);
                    if done {
                        break;
                    }
                }
            }
            let exit_code = status
                .containers
                .iter()
                .find(|c| c.name == launch.container)
                .and_then(|c| c.exit_code);
            return Ok(TaskOutcome {
                task_arn,
                exit_code,
                stopped_reason: status.stopped_reason.clone(),
                stop_code: status.stop_code.clone(),
                tail,
            });
        }
    }
}

/// Resolves on the first Ctrl-C, which it claims from the process's handler
/// (`crate::interrupt`): the caller stops what it started. Never resolves when no handler runs.
pub async fn ctrl_c() {
    crate::interrupt::ctrl_c().await
}

#[cfg(test)]
pub(crate) mod fake {
    //! A `TaskBackend` that plays a task's life from a script.

    use std::sync::Mutex;

    use super::*;
    use crate::model::ContainerStatus;

    pub struct FakeTasks {
        /// Log lines the task writes, one batch per poll.
        pub batches: Mutex<Vec<Vec<String>>>,
        /// Polls before the task stops; `None`: it never stops by itself.
        pub stops_after: Option<usize>,
        pub exit_code: Option<i32>,
        pub stopped_reason: Option<String>,
        pub started: Mutex<Vec<TaskLaunch>>,
        pub stopped: Mutex<Vec<String>>,
        polls: Mutex<usize>,
    }

    impl FakeTasks {
        pub fn new(batches: Vec<Vec<&str>>, stops_after: Option<usize>, exit: Option<i32>) -> Self {
            FakeTasks {
                batches: Mutex::new(
                    batches
                        .into_iter()
                        .map(|b| b.into_iter().map(String::from).collect())
                        .collect(),
                ),
                stops_after,
                exit_code: exit,
                stopped_reason: exit
                    .is_none()
                    .then(|| "CannotPullContainerError: pull access denied".to_string()),
                started: Mutex::new(vec![]),
                stopped: Mutex::new(vec![]),
                polls: Mutex::new(0),
            }
        }
    }

    pub const TASK_ARN: &str = "arn:aws:ecs:eu-west-1:123456789012:task/envctl-shop/0123abcd";

    impl TaskBackend for FakeTasks {
        async fn start(&self, launch: &TaskLaunch) -> AwsResult<String> {
            self.started.lock().unwrap().push(launch.clone());
            Ok(TASK_ARN.to_string())
        }
        async fn status(&self, _c: &str, arn: &str) -> AwsResult<Option<TaskStatus>> {
            let mut polls = self.polls.lock().unwrap();
            *polls += 1;
            let stopped = self.stops_after.is_some_and(|n| *polls > n)
                || !self.stopped.lock().unwrap().is_empty();
            let container = self.started.lock().unwrap()[0].container.clone();
            Ok(Some(TaskStatus {
                arn: arn.to_string(),
                last_status: if stopped { "STOPPED" } else { "RUNNING" }.into(),
                stopped_reason: stopped.then(|| self.stopped_reason.clone()).flatten(),
                stop_code: stopped.then(|| "EssentialContainerExited".to_string()),
                containers: vec![ContainerStatus {
                    name: container,
                    exit_code: if stopped { self.exit_code } else { None },
                    reason: None,
                }],
            }))
        }
        async fn stop(&self, _c: &str, arn: &str, _r: &str) -> AwsResult<()> {
            self.stopped.lock().unwrap().push(arn.to_string());
            Ok(())
        }
        async fn read_log(
            &self,
            _g: &str,
            stream: &str,
            token: Option<&str>,
        ) -> AwsResult<(Vec<String>, Option<String>)> {
            assert_eq!(stream, "ecs/api/0123abcd", "awslogs stream name");
            let mut batches = self.batches.lock().unwrap();
            let n: usize = token.map_or(0, |t| t.parse().unwrap());
            if batches.is_empty() {
                return Ok((vec![], Some(n.to_string())));
            }
            Ok((batches.remove(0), Some((n + 1).to_string())))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::fake::{FakeTasks, TASK_ARN};
    use super::*;
    use crate::model::{AwsVpcConfiguration, Tags, TaskDefinition};

    fn launch() -> TaskLaunch {
        TaskLaunch {
            cluster: "envctl-shop".into(),
            task_definition_arn: "arn:aws:ecs:eu-west-1:1:task-definition/shop-x-api:3".into(),
            container: "api".into(),
            command: vec!["bin/rails".into(), "db:migrate".into()],
            network: AwsVpcConfiguration {
                subnets: vec!["subnet-1".into()],
                security_groups: vec!["sg-1".into()],
                assign_public_ip: Some("ENABLED".into()),
            },
            spot: false,
            started_by: "envctl-run".into(),
            tags: Tags::new(),
        }
    }

    fn log() -> LogSource {
        LogSource {
            group: "/envctl/shop/x".into(),
            stream_prefix: "ecs".into(),
            container: "api".into(),
        }
    }

    fn watch() -> Watch {
        Watch {
            poll: Duration::from_millis(1),
            timeout: Duration::from_secs(5),
        }
    }

    async fn run(
        fake: &FakeTasks,
        cancel: impl Future<Output = ()>,
    ) -> (Result<TaskOutcome>, Vec<String>) {
        let lines = Mutex::new(Vec::new());
        let result = run_to_completion(
            fake,
            &launch(),
            Some(&log()),
            &watch(),
            &|_| {},
            &|l| lines.lock().unwrap().push(l.to_string()),
            cancel,
        )
        .await;
        (result, lines.into_inner().unwrap())
    }

    #[tokio::test]
    async fn streams_every_line_in_order_and_reports_the_exit_code() {
        let fake = FakeTasks::new(
            vec![vec!["migrating"], vec![], vec!["20 migrations", "done"]],
            Some(2),
            Some(3),
        );
        let (outcome, lines) = run(&fake, std::future::pending()).await;
        let outcome = outcome.expect("the task ran");
        assert_eq!(lines, ["migrating", "20 migrations", "done"]);
        assert_eq!(outcome.exit_code, Some(3));
        assert_eq!(outcome.task_arn, TASK_ARN);
        assert_eq!(outcome.describe(), "exited with code 3");
        assert!(!outcome.succeeded());
        assert_eq!(outcome.tail, ["migrating", "20 migrations", "done"]);
        assert!(
            fake.stopped.lock().unwrap().is_empty(),
            "a finished task is not stopped"
        );
        assert_eq!(
            fake.started.lock().unwrap()[0].command,
            ["bin/rails", "db:migrate"]
        );
    }

    #[tokio::test]
    async fn a_task_that_never_ran_has_no_exit_code_and_says_why() {
        let fake = FakeTasks::new(vec![], Some(1), None);
        let (outcome, _) = run(&fake, std::future::pending()).await;
        let outcome = outcome.unwrap();
        assert_eq!(outcome.exit_code, None);
        assert!(!outcome.succeeded());
        assert!(
            outcome.describe().contains("CannotPullContainerError"),
            "{}",
            outcome.describe()
        );
    }

    #[tokio::test]
    async fn ctrl_c_stops_the_task() {
        let fake = FakeTasks::new(vec![vec!["working"]], None, Some(0));
        let (result, _) = run(&fake, tokio::time::sleep(Duration::from_millis(30))).await;
        let err = result.expect_err("interrupted");
        assert!(matches!(err, Error::Interrupted { .. }), "{err}");
        assert_eq!(err.exit_code(), crate::error::exit::INTERRUPTED);
        assert_eq!(*fake.stopped.lock().unwrap(), [TASK_ARN]);
    }

    #[tokio::test]
    async fn a_timeout_stops_the_task_and_fails() {
        let fake = FakeTasks::new(vec![], None, Some(0));
        let lines = Mutex::new(Vec::<String>::new());
        let err = run_to_completion(
            &fake,
            &launch(),
            Some(&log()),
            &Watch {
                poll: Duration::from_millis(1),
                timeout: Duration::from_millis(20),
            },
            &|_| {},
            &|l| lines.lock().unwrap().push(l.to_string()),
            std::future::pending(),
        )
        .await
        .expect_err("timed out");
        assert!(matches!(err, Error::TaskFailed { .. }), "{err}");
        assert_eq!(*fake.stopped.lock().unwrap(), [TASK_ARN]);
    }

    #[test]
    fn log_source_follows_the_awslogs_options() {
        let td: TaskDefinition = serde_json::from_value(serde_json::json!({
            "containerDefinitions": [{
                "name": "api", "image": "x",
                "logConfiguration": {"logDriver": "awslogs", "options": {
                    "awslogs-group": "/envctl/shop/x", "awslogs-stream-prefix": "ecs",
                    "awslogs-region": "eu-west-1"}}
            }, {"name": "sidecar", "image": "y"}]
        }))
        .unwrap();
        assert_eq!(LogSource::of(&td, "api"), Some(log()));
        assert_eq!(log().stream("abc"), "ecs/api/abc");
        assert_eq!(LogSource::of(&td, "sidecar"), None);
        assert_eq!(LogSource::of(&td, "nope"), None);
    }
}
