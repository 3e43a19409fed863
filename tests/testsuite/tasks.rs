//! `envctl run` and hooks against the emulator: what envctl *sent* (RunTask's revision, launch
//! type, command override and network) and in what order relative to the deploy and teardown.
//! moto starts no container and writes no log line (its tasks stop after a few describes with
//! exit code 0); streaming, exit codes, failures, Ctrl-C and timeouts are unit-tested with a fake
//! `TaskBackend` (src/ops/task.rs, src/ops/hooks.rs).

use serde_json::Value;

use crate::support::{App, Recorded};

/// moto's RunTask fails with HTTP 500 for a container without a container-level `memory`
/// (real ECS needs none on Fargate): the tests' template sets it.
fn with_container_memory(app: &App) {
    app.edit(
        "templates/task-definition.json.j2",
        "\"essential\": true,",
        "\"essential\": true,\n      \"memory\": {{ memory }},",
    );
}

fn append(app: &App, text: &str) {
    let path = app.path().join("envctl.toml");
    let mut config = std::fs::read_to_string(&path).expect("envctl.toml");
    config.push_str(text);
    std::fs::write(&path, config).expect("write envctl.toml");
}

fn run_tasks(requests: &[Recorded]) -> Vec<Value> {
    requests
        .iter()
        .filter(|r| r.operation == "RunTask")
        .map(Recorded::json)
        .collect()
}

fn command_of(run_task: &Value) -> Value {
    run_task["overrides"]["containerOverrides"][0]["command"].clone()
}

fn position(requests: &[Recorded], pred: impl Fn(&Recorded) -> bool) -> usize {
    requests
        .iter()
        .position(pred)
        .unwrap_or_else(|| panic!("request not sent: {:?}", crate::support::ops(requests)))
}

#[tokio::test]
async fn run_starts_the_services_revision_on_demand_with_the_command_and_its_network() {
    let app = App::bootstrapped();
    with_container_memory(&app);
    app.ok(&["up", "feature-x"]);
    let service = app.service("shop-feature-x-web").await;
    let network = app.moto.default_network().await;

    app.moto.clear_recording();
    let r = app.ok(&["run", "feature-x", "web", "--", "bin/rails", "db:seed"]);
    assert!(r.stderr.contains("exited with code 0"), "{r}");
    let requests = app.moto.requests();
    let sent = run_tasks(&requests);
    assert_eq!(sent.len(), 1, "{r}");
    let task = &sent[0];
    assert_eq!(
        task["taskDefinition"].as_str(),
        service.task_definition(),
        "the revision the service runs"
    );
    assert_eq!(
        task["launchType"], "FARGATE",
        "on-demand, never Spot by default"
    );
    assert!(task.get("capacityProviderStrategy").is_none(), "{task}");
    assert_eq!(task["overrides"]["containerOverrides"][0]["name"], "web");
    assert_eq!(
        command_of(task),
        serde_json::json!(["bin/rails", "db:seed"])
    );
    assert_eq!(
        task["networkConfiguration"]["awsvpcConfiguration"]["subnets"],
        serde_json::json!(network.subnets)
    );
    assert_eq!(
        task["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"],
        serde_json::json!([network.security_group])
    );
    assert_eq!(task["startedBy"], "envctl-run");
    // The config renders the revision the service runs: nothing is registered or changed.
    assert_eq!(app.moto.write_ops(), ["RunTask"]);

    // --spot and --detach: the ARN on stdout, no waiting.
    app.moto.clear_recording();
    let r = app.ok(&[
        "run",
        "feature-x",
        "web",
        "--spot",
        "--detach",
        "--",
        "true",
    ]);
    assert!(r.stdout.trim().starts_with("arn:aws:ecs:"), "{r}");
    let sent = run_tasks(&app.moto.requests());
    assert_eq!(
        sent[0]["capacityProviderStrategy"],
        serde_json::json!([{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}])
    );
    assert!(sent[0].get("launchType").is_none());
    assert!(
        !app.moto
            .requests()
            .iter()
            .any(|r| r.operation == "DescribeTasks"),
        "--detach does not wait"
    );
}

#[tokio::test]
async fn run_refuses_unknown_services_before_any_request_and_envs_that_are_not_up() {
    let app = App::bootstrapped();
    app.moto.clear_recording();
    let r = app.expect(&["run", "feature-x", "api", "--", "true"], 3);
    assert!(r.stderr.contains("service `api` is not defined"), "{r}");
    assert!(r.stderr.contains("services are: web"), "{r}");
    assert_eq!(app.moto.aws_operations(), Vec::<String>::new());

    let r = app.expect(&["run", "feature-x", "web", "--", "true"], 4);
    assert!(r.stderr.contains("run `envctl up feature-x` first"), "{r}");
    assert!(app.moto.writes().is_empty(), "{:?}", app.moto.write_ops());

    let r = app.expect(&["run", "feature-x", "web"], 64);
    assert!(r.stderr.contains("COMMAND"), "{r}");
}

#[tokio::test]
async fn hooks_run_in_order_around_the_deploy_and_teardown_and_never_on_a_no_op_up() {
    let app = App::bootstrapped();
    with_container_memory(&app);
    append(
        &app,
        "\n[[hooks.before_deploy]]\nservice = \"web\"\ncommand = [\"migrate\"]\n\
         \n[[hooks.after_create]]\nservice = \"web\"\ncommand = [\"seed\"]\n\
         \n[[hooks.before_destroy]]\nservice = \"web\"\ncommand = [\"export\"]\n",
    );

    app.moto.clear_recording();
    let plan = app.ok(&["plan", "feature-x"]);
    assert!(
        plan.stdout
            .contains("> run hook before_deploy on web: migrate (new service)"),
        "{plan}"
    );
    assert!(
        plan.stdout
            .contains("> run hook after_create on web: seed (first up of the env)"),
        "{plan}"
    );
    assert!(plan.stdout.contains("2 hook(s) to run"), "{plan}");
    assert!(app.moto.writes().is_empty(), "{:?}", app.moto.write_ops());

    // First up: register → migrate (new revision) → create service → seed → clear pending tag.
    app.moto.clear_recording();
    let r = app.ok(&["up", "feature-x"]);
    let requests = app.moto.requests();
    let sent = run_tasks(&requests);
    assert_eq!(
        sent.iter().map(command_of).collect::<Vec<_>>(),
        [serde_json::json!(["migrate"]), serde_json::json!(["seed"])],
        "{r}"
    );
    let register = position(&requests, |r| r.operation == "RegisterTaskDefinition");
    let migrate = position(&requests, |r| {
        r.operation == "RunTask" && command_of(&r.json()) == serde_json::json!(["migrate"])
    });
    let create = position(&requests, |r| r.operation == "CreateService");
    let seed = position(&requests, |r| {
        r.operation == "RunTask" && command_of(&r.json()) == serde_json::json!(["seed"])
    });
    let untag = position(&requests, |r| {
        r.operation == "UntagResource" && r.body.contains("envctl:after-create")
    });
    assert!(register < migrate && migrate < create && create < seed && seed < untag);
    let service = app.service("shop-feature-x-web").await;
    assert_eq!(
        sent[0]["taskDefinition"].as_str(),
        service.task_definition(),
        "migrations run with the revision the service then gets"
    );
    let created = requests[create].json();
    assert!(
        created["tags"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t["key"] == "envctl:after-create")),
        "the service is created with the pending-seed tag: {created}"
    );

    // A no-op up starts no task and writes nothing.
    app.moto.clear_recording();
    app.ok(&["up", "feature-x"]);
    assert!(app.moto.writes().is_empty(), "{:?}", app.moto.write_ops());

    // A new image: migrate with the new revision before the service moves to it; no seed.
    app.moto.clear_recording();
    app.ok(&[
        "up",
        "feature-x",
        "--image",
        "web=public.ecr.aws/nginx/nginx:1.28",
    ]);
    let requests = app.moto.requests();
    let sent = run_tasks(&requests);
    assert_eq!(sent.len(), 1, "{:?}", crate::support::ops(&requests));
    assert_eq!(command_of(&sent[0]), serde_json::json!(["migrate"]));
    assert!(
        sent[0]["taskDefinition"]
            .as_str()
            .is_some_and(|td| td.ends_with("shop-feature-x-web:2")),
        "{}",
        sent[0]
    );
    let migrate = position(&requests, |r| r.operation == "RunTask");
    let update = position(&requests, |r| r.operation == "UpdateService");
    assert!(migrate < update);

    // Teardown: export before anything is deleted.
    app.moto.clear_recording();
    app.ok(&["down", "feature-x", "--yes"]);
    let requests = app.moto.requests();
    let export = position(&requests, |r| r.operation == "RunTask");
    assert_eq!(
        command_of(&requests[export].json()),
        serde_json::json!(["export"])
    );
    let first_delete = position(&requests, |r| {
        r.operation.starts_with("Delete") || r.operation == "DeregisterTaskDefinition"
    });
    assert!(
        export < first_delete,
        "{:?}",
        crate::support::ops(&requests)
    );
    // Nothing left to run a hook in: a second down starts no task.
    app.moto.clear_recording();
    app.ok(&["down", "feature-x", "--yes"]);
    assert!(run_tasks(&app.moto.requests()).is_empty());
}

#[tokio::test]
async fn an_unfinished_seed_runs_again_on_the_next_up() {
    let app = App::bootstrapped();
    with_container_memory(&app);
    append(
        &app,
        "\n[[hooks.after_create]]\nservice = \"web\"\ncommand = [\"seed\"]\n",
    );
    app.ok(&["up", "feature-x"]);
    // As if the first up had been cut off after creating the service: the tag is still there.
    let service = app.service("shop-feature-x-web").await;
    app.ecs()
        .tag_resource()
        .resource_arn(service.service_arn().expect("service arn"))
        .tags(
            aws_sdk_ecs::types::Tag::builder()
                .key("envctl:after-create")
                .value("pending")
                .build(),
        )
        .send()
        .await
        .expect("tag the service");

    let plan = app.ok(&["plan", "feature-x"]);
    assert!(
        plan.stdout
            .contains("> run hook after_create on web: seed (an earlier run did not finish it)"),
        "{plan}"
    );
    app.moto.clear_recording();
    app.ok(&["up", "feature-x"]);
    let sent = run_tasks(&app.moto.requests());
    assert_eq!(sent.len(), 1);
    assert_eq!(command_of(&sent[0]), serde_json::json!(["seed"]));
    // Done now: the next up is a no-op again.
    app.moto.clear_recording();
    app.ok(&["up", "feature-x"]);
    assert!(app.moto.writes().is_empty(), "{:?}", app.moto.write_ops());
}

#[test]
fn a_hook_naming_an_unknown_service_is_an_input_error_before_any_request() {
    let app = App::init();
    append(
        &app,
        "\n[[hooks.before_deploy]]\nservice = \"api\"\ncommand = [\"migrate\"]\n",
    );
    app.moto.clear_recording();
    let r = app.expect(&["plan", "feature-x"], 3);
    assert!(r.stderr.contains("hooks.before_deploy[0].service"), "{r}");
    assert!(r.stderr.contains("use one of: web"), "{r}");
    assert_eq!(app.moto.aws_operations(), Vec::<String>::new());
}
