//! `envctl exec`: a shell (or a command) in a running container of an env's service, through ECS
//! Exec. envctl picks the task, calls ECS ExecuteCommand and hands the session to AWS's
//! `session-manager-plugin` the way the AWS CLI's `aws ecs execute-command` does; the plugin
//! owns the terminal from then on and its exit code becomes envctl's.
//!
//! The ECS calls go through `ExecBackend` so the hand-off is tested with a fake: the emulator
//! neither runs containers (no runtime ids) nor implements ExecuteCommand.

use std::ffi::OsStr;
use std::future::Future;
use std::path::{Path, PathBuf};

use crate::aws::{Aws, AwsResult};
use crate::error::{Error, Result};
use crate::model::{ExecSession, RunningContainer, RunningTask};

/// The program the AWS CLI hands ECS Exec sessions to.
pub const PLUGIN: &str = "session-manager-plugin";
/// What runs without `-- CMD`.
pub const DEFAULT_COMMAND: &str = "/bin/sh";
/// AWS's install instructions for the plugin.
pub const PLUGIN_INSTALL_URL: &str =
    "https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html";

/// The ECS calls `exec` needs.
pub trait ExecBackend: Sync {
    fn running_tasks(
        &self,
        cluster: &str,
        service: &str,
    ) -> impl Future<Output = AwsResult<Vec<RunningTask>>> + Send;
    fn execute_command(
        &self,
        cluster: &str,
        task_arn: &str,
        container: &str,
        command: &str,
    ) -> impl Future<Output = AwsResult<ExecSession>> + Send;
}

impl ExecBackend for Aws {
    async fn running_tasks(&self, cluster: &str, service: &str) -> AwsResult<Vec<RunningTask>> {
        Aws::running_tasks(self, cluster, service).await
    }
    async fn execute_command(
        &self,
        cluster: &str,
        task_arn: &str,
        container: &str,
        command: &str,
    ) -> AwsResult<ExecSession> {
        Aws::execute_command(self, cluster, task_arn, container, command).await
    }
}

/// `session-manager-plugin` on `path` (the value of PATH), if any.
pub fn find_plugin(path: Option<&OsStr>) -> Option<PathBuf> {
    std::env::split_paths(path?)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(PLUGIN))
        .find(|p| is_executable(p))
}

#[cfg(unix)]
fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(p: &Path) -> bool {
    p.is_file()
}

/// Exit 4 with how to install the plugin; raised before any AWS call.
pub fn plugin_missing() -> Error {
    Error::Precondition {
        message: format!("`{PLUGIN}` is not on PATH: envctl exec hands the ECS Exec session to it"),
        hint: format!(
            "install AWS's Session Manager plugin ({PLUGIN_INSTALL_URL}): on Debian/Ubuntu the \
             session-manager-plugin.deb package (`sudo dpkg -i session-manager-plugin.deb`), on \
             macOS the session-manager-plugin.pkg installer; then check `{PLUGIN} --version`"
        ),
    }
}

/// What to open a session in.
#[derive(Debug, Clone)]
pub struct ExecRequest {
    pub cluster: String,
    /// The ECS service name (`<app>-<slug>-<key>`).
    pub service: String,
    /// The service key, the default container's name in the default template.
    pub service_key: String,
    /// The env as the user typed it, for hints.
    pub env: String,
    pub container: Option<String>,
    pub task: Option<String>,
    pub command: String,
    pub region: String,
    /// `--profile` / `AWS_PROFILE`; the plugin gets an empty string without one, as from the
    /// AWS CLI.
    pub profile: Option<String>,
}

/// Where the session goes and the plugin's arguments.
#[derive(Debug, Clone)]
pub struct Handoff {
    pub task_id: String,
    pub container: String,
    /// Everything after the program name. The first one holds the session token: never print it.
    pub args: Vec<String>,
}

/// The task to enter: `wanted` (an id or an ARN) among the running ones, else the newest one
/// that runs with ECS Exec.
pub fn pick_task<'a>(
    tasks: &'a [RunningTask],
    wanted: Option<&str>,
    req: &ExecRequest,
) -> Result<&'a RunningTask> {
    let running: Vec<&RunningTask> = tasks
        .iter()
        .filter(|t| t.last_status == "RUNNING")
        .collect();
    if let Some(w) = wanted {
        return running
            .iter()
            .copied()
            .find(|t| t.id() == w || t.arn == w)
            .ok_or_else(|| {
                Error::invalid(
                    format!("--task {w}: no RUNNING task of {} has that id", req.service),
                    Some(if running.is_empty() {
                        format!("it has no running task; see `envctl status {}`", req.env)
                    } else {
                        format!(
                            "running tasks: {}",
                            running
                                .iter()
                                .map(|t| t.id())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    }),
                )
            });
    }
    // Newest first; RFC 3339 times in UTC sort as text. Prefer tasks that can be entered.
    running
        .iter()
        .copied()
        .max_by(|a, b| {
            (a.enable_execute_command, &a.started_at).cmp(&(b.enable_execute_command, &b.started_at))
        })
        .ok_or_else(|| Error::Precondition {
            message: format!(
                "service `{}` of env `{}` has no RUNNING task",
                req.service_key, req.env
            ),
            hint: format!(
                "see `envctl status {}` (stopped tasks and their reasons); `envctl start {}` if the env was stopped",
                req.env, req.env
            ),
        })
}

/// The container: `wanted`, else the one named after the service key, else the task's only one.
pub fn pick_container<'a>(
    task: &'a RunningTask,
    service_key: &str,
    wanted: Option<&str>,
) -> Result<&'a RunningContainer> {
    let names = || {
        task.containers
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let found = match wanted {
        Some(w) => task.containers.iter().find(|c| c.name == w),
        None => task.containers.iter().find(|c| c.name == service_key).or(
            match task.containers.as_slice() {
                [only] => Some(only),
                _ => None,
            },
        ),
    };
    found.ok_or_else(|| match wanted {
        Some(w) => Error::invalid(
            format!("--container {w}: task {} has no such container", task.id()),
            Some(format!("containers are: {}", names())),
        ),
        None => Error::invalid(
            format!(
                "task {} has several containers and none is named `{service_key}`",
                task.id()
            ),
            Some(format!("pick one with --container ({})", names())),
        ),
    })
}

/// ExecuteCommand takes one string: the words joined by spaces, a word with spaces or quotes
/// single-quoted so it stays one word for the agent.
pub fn command_string(words: &[String]) -> String {
    if words.is_empty() {
        return DEFAULT_COMMAND.to_string();
    }
    words
        .iter()
        .map(|w| {
            if !w.is_empty()
                && !w
                    .chars()
                    .any(|c| c.is_whitespace() || "'\"\\$`".contains(c))
            {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The Systems Manager endpoint of a region; the plugin calls it to end (or resume) the session.
pub fn ssm_endpoint(region: &str) -> String {
    let domain = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("https://ssm.{region}.{domain}")
}

/// The plugin's arguments, in the AWS CLI's order: session JSON, region, `StartSession`,
/// profile (or empty), the target JSON, the endpoint.
pub fn plugin_args(
    session: &ExecSession,
    region: &str,
    profile: Option<&str>,
    target: &str,
) -> Vec<String> {
    // The keys of SSM's StartSession reply, which is what the plugin parses.
    let session_json = serde_json::json!({
        "SessionId": session.session_id,
        "StreamUrl": session.stream_url,
        "TokenValue": session.token_value.expose(),
    });
    vec![
        session_json.to_string(),
        region.to_string(),
        "StartSession".to_string(),
        profile.unwrap_or_default().to_string(),
        serde_json::json!({ "Target": target }).to_string(),
        ssm_endpoint(region),
    ]
}

/// Picks the task and container, asks ECS for a session, and returns the plugin's arguments.
pub async fn open_session<B: ExecBackend>(backend: &B, req: &ExecRequest) -> Result<Handoff> {
    let tasks = backend.running_tasks(&req.cluster, &req.service).await?;
    let task = pick_task(&tasks, req.task.as_deref(), req)?;
    let container = pick_container(task, &req.service_key, req.container.as_deref())?;
    if !task.enable_execute_command {
        return Err(Error::Precondition {
            message: format!(
                "task {} of {} was started without ECS Exec (enableExecuteCommand)",
                task.id(),
                req.service
            ),
            hint: format!(
                "with `[exec] enabled = true` (the default) in envctl.toml, run `envctl up {}`: its tasks are replaced by ones that allow exec",
                req.env
            ),
        });
    }
    let runtime_id = container
        .runtime_id
        .as_deref()
        .ok_or_else(|| Error::Precondition {
            message: format!(
                "container `{}` of task {} has not started yet (ECS reports no runtime id)",
                container.name,
                task.id()
            ),
            hint: format!("wait a moment, or see `envctl status {}`", req.env),
        })?;
    let session = backend
        .execute_command(&req.cluster, &task.arn, &container.name, &req.command)
        .await?;
    let cluster = req.cluster.rsplit('/').next().unwrap_or(&req.cluster);
    let target = format!("ecs:{cluster}_{}_{runtime_id}", task.id());
    Ok(Handoff {
        task_id: task.id().to_string(),
        container: container.name.clone(),
        args: plugin_args(&session, &req.region, req.profile.as_deref(), &target),
    })
}

/// Runs the plugin with the terminal (stdin, stdout, stderr inherited) and returns its exit
/// code (128 + the signal if a signal ended it). Meanwhile envctl ignores Ctrl-C and Ctrl-\:
/// the terminal sends them to the plugin too, which forwards them into the session; envctl
/// must not die and leave the plugin orphaned.
pub async fn run_plugin(plugin: &Path, args: &[String]) -> Result<i32> {
    let _ignored = crate::interrupt::ignore();
    #[cfg(unix)]
    let _quit = {
        use tokio::signal::unix::{signal, SignalKind};
        signal(SignalKind::quit()).ok()
    };
    let mut child = std::process::Command::new(plugin)
        .args(args)
        .spawn()
        .map_err(|e| Error::io(format!("start {}", plugin.display()), e))?;
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .map_err(|e| Error::io(format!("wait for {PLUGIN}"), std::io::Error::other(e)))?
        .map_err(|e| Error::io(format!("wait for {PLUGIN}"), e))?;
    if let Some(code) = status.code() {
        return Ok(code);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return Ok(128 + sig);
        }
    }
    Ok(crate::error::exit::FAILURE)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::model::SecretString;

    const CLUSTER: &str = "envctl-shop";
    const TASK_ARN: &str = "arn:aws:ecs:eu-west-1:123456789012:task/envctl-shop/0123abcd";

    fn req() -> ExecRequest {
        ExecRequest {
            cluster: CLUSTER.into(),
            service: "shop-feature-x-web".into(),
            service_key: "web".into(),
            env: "feature-x".into(),
            container: None,
            task: None,
            command: "/bin/sh".into(),
            region: "eu-west-1".into(),
            profile: None,
        }
    }

    fn task(
        arn: &str,
        started: &str,
        exec: bool,
        containers: &[(&str, Option<&str>)],
    ) -> RunningTask {
        RunningTask {
            arn: arn.into(),
            last_status: "RUNNING".into(),
            started_at: Some(started.into()),
            enable_execute_command: exec,
            containers: containers
                .iter()
                .map(|(n, r)| RunningContainer {
                    name: n.to_string(),
                    runtime_id: r.map(str::to_string),
                })
                .collect(),
        }
    }

    struct FakeEcs {
        tasks: Vec<RunningTask>,
        calls: Mutex<Vec<(String, String, String, String)>>,
    }

    impl ExecBackend for FakeEcs {
        async fn running_tasks(&self, cluster: &str, service: &str) -> AwsResult<Vec<RunningTask>> {
            assert_eq!((cluster, service), (CLUSTER, "shop-feature-x-web"));
            Ok(self.tasks.clone())
        }
        async fn execute_command(
            &self,
            cluster: &str,
            task_arn: &str,
            container: &str,
            command: &str,
        ) -> AwsResult<ExecSession> {
            self.calls.lock().unwrap().push((
                cluster.into(),
                task_arn.into(),
                container.into(),
                command.into(),
            ));
            Ok(ExecSession {
                session_id: "ecs-execute-command-0abc".into(),
                stream_url: "wss://ssmmessages.eu-west-1.amazonaws.com/v1/data-channel/x".into(),
                token_value: SecretString::new("tok-en".into()),
            })
        }
    }

    fn fake(tasks: Vec<RunningTask>) -> FakeEcs {
        FakeEcs {
            tasks,
            calls: Mutex::new(vec![]),
        }
    }

    #[tokio::test]
    async fn hands_the_session_to_the_plugin_like_the_aws_cli() {
        let fake = fake(vec![task(
            TASK_ARN,
            "2025-06-01T10:00:00Z",
            true,
            &[
                ("web", Some("0123abcd-111")),
                ("sidecar", Some("0123abcd-222")),
            ],
        )]);
        let h = open_session(
            &fake,
            &ExecRequest {
                profile: Some("dev".into()),
                ..req()
            },
        )
        .await
        .expect("session");
        assert_eq!(
            *fake.calls.lock().unwrap(),
            [(
                CLUSTER.into(),
                TASK_ARN.into(),
                "web".into(),
                "/bin/sh".into()
            )]
        );
        assert_eq!(
            (h.task_id.as_str(), h.container.as_str()),
            ("0123abcd", "web")
        );
        let session: serde_json::Value = serde_json::from_str(&h.args[0]).unwrap();
        assert_eq!(
            session,
            serde_json::json!({
                "SessionId": "ecs-execute-command-0abc",
                "StreamUrl": "wss://ssmmessages.eu-west-1.amazonaws.com/v1/data-channel/x",
                "TokenValue": "tok-en",
            })
        );
        assert_eq!(h.args[1..4], ["eu-west-1", "StartSession", "dev"]);
        assert_eq!(
            h.args[4],
            r#"{"Target":"ecs:envctl-shop_0123abcd_0123abcd-111"}"#
        );
        assert_eq!(h.args[5], "https://ssm.eu-west-1.amazonaws.com");
        assert_eq!(h.args.len(), 6);
    }

    /// The plugin really is run with those arguments, and its exit code is envctl's.
    #[cfg(unix)]
    #[tokio::test]
    async fn the_plugins_exit_code_is_returned() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("argv");
        let script = dir.path().join(PLUGIN);
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > '{}'\nexit 7\n",
                log.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = std::env::join_paths([Path::new("/nonexistent"), dir.path()]).unwrap();
        let found = find_plugin(Some(&path)).expect("found on PATH");
        assert_eq!(found, script);

        let fake = fake(vec![task(TASK_ARN, "t", true, &[("web", Some("rt-1"))])]);
        let h = open_session(&fake, &req()).await.unwrap();
        assert_eq!(run_plugin(&found, &h.args).await.unwrap(), 7);
        let argv = std::fs::read_to_string(&log).unwrap();
        let argv: Vec<&str> = argv.lines().collect();
        assert_eq!(argv.len(), 6, "{argv:?}");
        assert!(argv[0].contains("\"SessionId\":\"ecs-execute-command-0abc\""));
        assert_eq!(argv[1..4], ["eu-west-1", "StartSession", ""]);
        assert_eq!(argv[4], r#"{"Target":"ecs:envctl-shop_0123abcd_rt-1"}"#);
    }

    #[test]
    fn no_plugin_on_path_is_a_precondition_with_the_install_docs() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(find_plugin(Some(dir.path().as_os_str())), None);
        assert_eq!(find_plugin(None), None);
        let e = plugin_missing();
        assert_eq!(e.exit_code(), crate::error::exit::CONFLICT);
        let hint = e.hint().unwrap();
        assert!(
            hint.contains(PLUGIN_INSTALL_URL) && hint.contains(".deb") && hint.contains(".pkg"),
            "{hint}"
        );
    }

    #[test]
    fn the_newest_exec_task_is_picked_unless_one_is_named() {
        let old = task(
            "arn:aws:ecs:r:1:task/c/old",
            "2025-06-01T09:00:00Z",
            true,
            &[("web", Some("a"))],
        );
        let new = task(
            "arn:aws:ecs:r:1:task/c/new",
            "2025-06-01T10:00:00Z",
            true,
            &[("web", Some("b"))],
        );
        let noexec = task(
            "arn:aws:ecs:r:1:task/c/noexec",
            "2025-06-01T11:00:00Z",
            false,
            &[],
        );
        let mut pending = task("arn:aws:ecs:r:1:task/c/pending", "", true, &[]);
        pending.last_status = "PENDING".into();
        let tasks = vec![old.clone(), new.clone(), noexec, pending];
        assert_eq!(pick_task(&tasks, None, &req()).unwrap().id(), "new");
        assert_eq!(pick_task(&tasks, Some("old"), &req()).unwrap().id(), "old");
        assert_eq!(
            pick_task(&tasks, Some(&old.arn), &req()).unwrap().id(),
            "old"
        );
        let e = pick_task(&tasks, Some("pending"), &req()).unwrap_err();
        assert_eq!(e.exit_code(), crate::error::exit::INVALID_INPUT);
        assert!(e.hint().unwrap().contains("old"), "{:?}", e.hint());
        let e = pick_task(&[], None, &req()).unwrap_err();
        assert_eq!(e.exit_code(), crate::error::exit::CONFLICT);
        assert!(
            e.hint().unwrap().contains("envctl status feature-x"),
            "{:?}",
            e.hint()
        );
    }

    #[test]
    fn containers_default_to_the_service_key_or_the_only_one() {
        let two = task(TASK_ARN, "t", true, &[("nginx", None), ("web", None)]);
        assert_eq!(pick_container(&two, "web", None).unwrap().name, "web");
        assert_eq!(
            pick_container(&two, "web", Some("nginx")).unwrap().name,
            "nginx"
        );
        let e = pick_container(&two, "web", Some("db")).unwrap_err();
        assert_eq!(e.exit_code(), crate::error::exit::INVALID_INPUT);
        assert!(e.hint().unwrap().contains("nginx, web"));
        let one = task(TASK_ARN, "t", true, &[("app", None)]);
        assert_eq!(pick_container(&one, "web", None).unwrap().name, "app");
        let other = task(TASK_ARN, "t", true, &[("a", None), ("b", None)]);
        assert!(pick_container(&other, "web", None)
            .unwrap_err()
            .hint()
            .unwrap()
            .contains("--container"));
    }

    #[tokio::test]
    async fn tasks_without_exec_or_a_runtime_id_are_refused_before_execute_command() {
        let f = fake(vec![task(TASK_ARN, "t", false, &[("web", Some("rt"))])]);
        let e = open_session(&f, &req()).await.unwrap_err();
        assert!(e.to_string().contains("without ECS Exec"), "{e}");
        let f2 = fake(vec![task(TASK_ARN, "t", true, &[("web", None)])]);
        let e = open_session(&f2, &req()).await.unwrap_err();
        assert!(e.to_string().contains("runtime id"), "{e}");
        assert!(f.calls.lock().unwrap().is_empty() && f2.calls.lock().unwrap().is_empty());
    }

    #[test]
    fn command_words_become_one_string() {
        assert_eq!(command_string(&[]), "/bin/sh");
        let w = |v: &[&str]| command_string(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(w(&["ls", "-la", "/tmp"]), "ls -la /tmp");
        assert_eq!(
            w(&["sh", "-c", "echo $HOME | wc"]),
            "sh -c 'echo $HOME | wc'"
        );
        assert_eq!(w(&["echo", "it's"]), r"echo 'it'\''s'");
        assert_eq!(w(&["printf", ""]), "printf ''");
    }

    #[test]
    fn ssm_endpoints_follow_the_partition() {
        assert_eq!(
            ssm_endpoint("us-east-1"),
            "https://ssm.us-east-1.amazonaws.com"
        );
        assert_eq!(
            ssm_endpoint("cn-north-1"),
            "https://ssm.cn-north-1.amazonaws.com.cn"
        );
    }
}
