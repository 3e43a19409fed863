//! `envctl exec` and what ECS Exec needs from `bootstrap` and `up`, against moto. moto runs no
//! containers and does not implement ExecuteCommand, so the hand-off to the Session Manager
//! plugin itself is tested with a fake ECS in `src/ops/exec.rs`; here: the inputs checked before
//! AWS, the missing plugin, the task picking up to where moto stops, and what `up` and
//! `bootstrap` send.

use std::path::{Path, PathBuf};

use aws_sdk_ecs::types::{AssignPublicIp, AwsVpcConfiguration, LaunchType, NetworkConfiguration};

use crate::janitor::policy_json;
use crate::support::{App, Run, TD_TEMPLATE};

const ENV: &str = "feature-x";
const SERVICE: &str = "shop-feature-x-web";

/// A fake `session-manager-plugin` in its own directory: records its argv, exits 7.
struct FakePlugin {
    dir: tempfile::TempDir,
}

impl FakePlugin {
    fn new() -> FakePlugin {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let script = dir.path().join("session-manager-plugin");
        let log = dir.path().join("argv");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > '{}'\nexit 7\n",
                log.display()
            ),
        )
        .expect("write plugin");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        FakePlugin { dir }
    }

    fn argv(&self) -> Option<String> {
        std::fs::read_to_string(self.dir.path().join("argv")).ok()
    }
}

/// envctl with PATH = `dirs` plus the system directories (for git), and nothing else of PATH.
fn exec_with_path(app: &App, dirs: &[&Path], args: &[&str]) -> Run {
    let mut path: Vec<PathBuf> = dirs.iter().map(|d| d.to_path_buf()).collect();
    path.extend(["/usr/bin", "/bin"].map(PathBuf::from));
    let mut cmd = app.envctl();
    cmd.env("PATH", std::env::join_paths(path).expect("PATH"));
    Run::of(cmd, args)
}

#[tokio::test]
async fn unknown_service_is_an_input_error_before_aws() {
    let app = App::init();
    let plugin = FakePlugin::new();
    app.moto.clear_recording();
    let r = exec_with_path(&app, &[plugin.dir.path()], &["exec", ENV, "db"]);
    assert_eq!(r.code, 3, "{r}");
    assert!(
        r.stderr.contains("`db`") && r.stderr.contains("services are: web"),
        "{r}"
    );
    assert_eq!(app.moto.aws_operations(), Vec::<String>::new());
    assert_eq!(plugin.argv(), None);
}

#[tokio::test]
async fn a_missing_plugin_is_a_precondition_with_install_hint_before_aws() {
    let app = App::init();
    let empty = tempfile::tempdir().expect("temp dir");
    app.moto.clear_recording();
    let r = exec_with_path(&app, &[empty.path()], &["exec", ENV, "web"]);
    assert_eq!(r.code, 4, "{r}");
    assert!(r.stderr.contains("session-manager-plugin"), "{r}");
    assert!(
        r.stderr.contains("https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html"),
        "{r}"
    );
    assert!(
        r.stderr.contains(".deb") && r.stderr.contains(".pkg"),
        "{r}"
    );
    assert_eq!(app.moto.aws_operations(), Vec::<String>::new());
}

#[tokio::test]
async fn bootstrap_creates_the_task_role_with_exactly_the_ssmmessages_actions() {
    let app = App::bootstrapped();
    let iam = app.iam();
    let role = iam
        .get_role()
        .role_name("envctl-shop-task")
        .send()
        .await
        .expect("task role exists");
    let role = role.role().expect("role");
    let trust = policy_json(role.assume_role_policy_document().expect("trust policy"));
    assert_eq!(
        trust["Statement"][0]["Principal"]["Service"],
        "ecs-tasks.amazonaws.com"
    );
    assert!(
        role.tags().iter().any(|t| t.key() == "envctl:managed-by"),
        "tagged like bootstrap's other roles: {:?}",
        role.tags()
    );
    let policy = iam
        .get_role_policy()
        .role_name("envctl-shop-task")
        .policy_name("envctl-exec")
        .send()
        .await
        .expect("inline policy");
    let doc = policy_json(policy.policy_document());
    let statements = doc["Statement"].as_array().expect("statements");
    assert_eq!(statements.len(), 1, "{doc}");
    let mut actions: Vec<&str> = statements[0]["Action"]
        .as_array()
        .expect("actions")
        .iter()
        .filter_map(|a| a.as_str())
        .collect();
    actions.sort();
    assert_eq!(
        actions,
        [
            "ssmmessages:CreateControlChannel",
            "ssmmessages:CreateDataChannel",
            "ssmmessages:OpenControlChannel",
            "ssmmessages:OpenDataChannel",
        ]
    );
}

#[tokio::test]
async fn up_sends_the_task_role_and_enable_execute_command() {
    let app = App::bootstrapped();
    app.moto.clear_recording();
    app.ok(&["up", ENV]);
    let writes = app.moto.writes();
    let td = writes
        .iter()
        .find(|w| w.operation == "RegisterTaskDefinition")
        .expect("RegisterTaskDefinition")
        .json();
    assert!(
        td["taskRoleArn"]
            .as_str()
            .is_some_and(|a| a.ends_with(":role/envctl-shop-task")),
        "{td}"
    );
    let svc = writes
        .iter()
        .find(|w| w.operation == "CreateService")
        .expect("CreateService")
        .json();
    assert_eq!(svc["enableExecuteCommand"], true, "{svc}");

    // Off in the config: the service is updated and new tasks get no task role.
    app.moto.clear_recording();
    app.ok(&["up", ENV, "--set", "exec.enabled=false"]);
    let writes = app.moto.writes();
    let update = writes
        .iter()
        .find(|w| w.operation == "UpdateService")
        .expect("UpdateService")
        .json();
    assert_eq!(update["enableExecuteCommand"], false, "{update}");
    let td = writes
        .iter()
        .find(|w| w.operation == "RegisterTaskDefinition")
        .expect("a revision without the task role")
        .json();
    assert!(td.get("taskRoleArn").is_none(), "{td}");
}

#[tokio::test]
async fn exec_on_before_bootstrap_made_the_task_role_hints_bootstrap() {
    let app = App::bootstrapped();
    app.iam()
        .delete_role_policy()
        .role_name("envctl-shop-task")
        .policy_name("envctl-exec")
        .send()
        .await
        .expect("delete policy");
    app.iam()
        .delete_role()
        .role_name("envctl-shop-task")
        .send()
        .await
        .expect("delete role");
    let r = app.expect(&["up", ENV], 4);
    assert!(r.stderr.contains("envctl-shop-task"), "{r}");
    assert!(
        r.stderr.contains("envctl bootstrap") && r.stderr.contains("[exec] enabled = false"),
        "{r}"
    );
    app.ok(&["up", ENV, "--set", "exec.enabled=false"]);
}

#[tokio::test]
async fn no_running_task_is_a_precondition_pointing_at_status() {
    let app = App::bootstrapped();
    app.ok(&["up", ENV]);
    let plugin = FakePlugin::new();
    let r = exec_with_path(&app, &[plugin.dir.path()], &["exec", ENV, "web"]);
    assert_eq!(r.code, 4, "{r}");
    assert!(
        r.stderr.contains("no RUNNING task") && r.stderr.contains("envctl status feature-x"),
        "{r}"
    );
    assert_eq!(plugin.argv(), None);
    assert!(!app
        .moto
        .aws_operations()
        .contains(&"ExecuteCommand".to_string()));
}

/// As far as moto goes: the task RunTask started is found with ListTasks + DescribeTasks, but
/// moto reports no task as started with ECS Exec, so envctl stops before ExecuteCommand.
#[tokio::test]
async fn a_running_task_is_found_and_checked_for_ecs_exec() {
    let app = App::bootstrapped();
    // moto's RunTask fails (HTTP 500) unless each container has its own `memory`.
    app.edit(
        TD_TEMPLATE,
        "\"essential\": true,",
        "\"essential\": true,\n      \"memory\": {{ memory }},",
    );
    app.ok(&["up", ENV]);
    // moto starts tasks RUNNING and moves them one step towards STOPPED on every DescribeTasks:
    // keep them RUNNING for the 1000 next calls.
    ureq::post(&format!(
        "{}/moto-api/state-manager/set-transition",
        app.moto.url
    ))
    .set("Content-Type", "application/json")
    .send_string(
        &serde_json::json!({
            "model_name": "ecs::task",
            "transition": {"progression": "manual", "times": 1000},
        })
        .to_string(),
    )
    .expect("moto state manager");
    let net = app.moto.default_network().await;
    let run = app
        .ecs()
        .run_task()
        .cluster("envctl-shop")
        .task_definition(SERVICE)
        .launch_type(LaunchType::Fargate)
        .network_configuration(
            NetworkConfiguration::builder()
                .awsvpc_configuration(
                    AwsVpcConfiguration::builder()
                        .set_subnets(Some(net.subnets.clone()))
                        .security_groups(net.security_group.clone())
                        .assign_public_ip(AssignPublicIp::Enabled)
                        .build()
                        .expect("awsvpc"),
                )
                .build(),
        )
        .send()
        .await
        .expect("run task");
    let task_id = run.tasks()[0]
        .task_arn()
        .and_then(|a| a.rsplit('/').next())
        .expect("task id")
        .to_string();

    let plugin = FakePlugin::new();
    app.moto.clear_recording();
    let r = exec_with_path(
        &app,
        &[plugin.dir.path()],
        &["exec", ENV, "web", "--task", "nope"],
    );
    assert_eq!(r.code, 3, "{r}");
    assert!(r.stderr.contains(&task_id), "lists the running tasks: {r}");

    let r = exec_with_path(
        &app,
        &[plugin.dir.path()],
        &["exec", ENV, "web", "--task", &task_id],
    );
    assert_eq!(r.code, 4, "{r}");
    assert!(r.stderr.contains("without ECS Exec"), "{r}");
    let ops = app.moto.aws_operations();
    assert!(
        ops.contains(&"ListTasks".to_string()) && ops.contains(&"DescribeTasks".to_string()),
        "{ops:?}"
    );
    assert!(!ops.contains(&"ExecuteCommand".to_string()), "{ops:?}");
    assert_eq!(plugin.argv(), None);
}
