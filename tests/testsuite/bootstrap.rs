//! `bootstrap` through plan → apply against moto: `--plan` reads only and exits 2 with changes,
//! a bootstrapped account plans and writes nothing (also with previews and builds), a drifted
//! policy is rewritten with exactly one write, and a foreign role is a conflict before any write.

use serde_json::json;

use crate::support::{ops, App};

/// Appends previews and a built `web` service (no `image`: envctl deploys what it builds) to the
/// envctl.toml `init` wrote.
fn with_previews_and_builds(app: &App) {
    let path = app.path().join("envctl.toml");
    let text = std::fs::read_to_string(&path).expect("envctl.toml from init");
    assert!(text.contains("\n[services.web]\n"), "{text}");
    let text = text.replacen(
        "\n[services.web]\n",
        "\n[services.web.build]\npreset = \"npm\"\nrepository_url = \"https://github.com/acme/shop.git\"\n\n[services.web]\npublic = true\n",
        1,
    );
    let text: String = text
        .lines()
        .filter(|l| !l.starts_with("image = \"public.ecr.aws/nginx"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(
        &path,
        format!("{text}\n[preview]\nenabled = true\ndomain = \"preview.example.test\"\n"),
    )
    .expect("write envctl.toml");
}

#[tokio::test]
async fn bootstrap_plan_lists_the_steps_writes_nothing_and_tells_changes_by_exit_code() {
    let app = App::init();
    let plan = app.expect(&["bootstrap", "--plan", "--detailed-exitcode"], 2);
    assert!(
        plan.stdout.contains("+ create ECS cluster envctl-shop"),
        "{plan}"
    );
    assert!(
        plan.stdout
            .contains("+ put inline policy envctl-params on IAM role envctl-shop-execution"),
        "{plan}"
    );
    assert_eq!(ops(&app.moto.writes()), Vec::<&str>::new());
    // Without --detailed-exitcode a plan with changes is still a success.
    app.ok(&["bootstrap", "--plan"]);

    let json = app.ok(&["bootstrap", "--plan", "--output", "json"]).json();
    let actions: Vec<&str> = json["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter_map(|a| a["action"].as_str())
        .collect();
    assert_eq!(actions.first(), Some(&"create_cluster"), "{json}");
    assert_eq!(ops(&app.moto.writes()), Vec::<&str>::new());

    app.ok(&["bootstrap"]);
    app.moto.clear_recording();
    let again = app.ok(&["bootstrap", "--plan", "--detailed-exitcode"]);
    assert!(again.stdout.contains("No changes"), "{again}");
    assert_eq!(ops(&app.moto.writes()), Vec::<&str>::new());
}

#[tokio::test]
async fn bootstrap_with_previews_and_builds_writes_nothing_the_second_time() {
    let app = App::init();
    with_previews_and_builds(&app);
    let first = app.ok(&["bootstrap", "--output", "json"]).json();
    assert_eq!(first["preview"]["created"], true, "{first}");
    assert_eq!(first["builds"]["bucket_created"], true, "{first}");
    let writes = app.moto.write_ops();
    for op in [
        "CreateCluster",
        "CreateLoadBalancer",
        "CreateListener",
        "CreateRepository",
        "TagResource",
    ] {
        assert!(writes.iter().any(|w| w == op), "{op} in {writes:?}");
    }
    // S3's REST calls are recorded by method and URL: CreateBucket is the PUT on the bucket.
    assert!(
        writes
            .iter()
            .any(|w| w.starts_with("PUT ") && w.ends_with("/envctl-shop-123456789012-us-east-1/")),
        "CreateBucket in {writes:?}"
    );
    // The recorded listener is the one created.
    let cluster = app
        .ecs()
        .describe_clusters()
        .clusters("envctl-shop")
        .include(aws_sdk_ecs::types::ClusterField::Tags)
        .send()
        .await
        .expect("describe cluster");
    let recorded = cluster.clusters()[0]
        .tags()
        .iter()
        .find(|t| t.key() == Some("envctl:preview-listener"))
        .and_then(|t| t.value())
        .map(str::to_string);
    assert_eq!(
        recorded.as_deref(),
        first["preview"]["listener_arn"].as_str()
    );

    app.moto.clear_recording();
    let second = app.ok(&["bootstrap", "--stats", "--output", "json"]);
    assert_eq!(app.moto.write_ops(), Vec::<String>::new());
    assert_eq!(second.stats()["write_calls"], 0, "{second}");
    let report = second.json();
    assert_eq!(report["changes"], 0);
    assert_eq!(report["preview"]["created"], false);
    assert_eq!(
        report["preview"]["listener_arn"],
        first["preview"]["listener_arn"]
    );
    assert_eq!(report["builds"]["role"], first["builds"]["role"]);
}

/// Someone widened the scheduler role's policy in the console: `--plan` shows the diff, and
/// bootstrap writes that one policy back and nothing else.
#[tokio::test]
async fn a_drifted_role_policy_is_rewritten_with_one_write() {
    let app = App::bootstrapped();
    let widened = json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "ecs:*", "Resource": "*"}],
    });
    app.iam()
        .put_role_policy()
        .role_name("envctl-shop-scheduler")
        .policy_name("envctl-stop-start")
        .policy_document(widened.to_string())
        .send()
        .await
        .expect("someone edits the policy");
    app.moto.clear_recording();

    let plan = app.expect(&["bootstrap", "--plan", "--detailed-exitcode"], 2);
    assert!(
        plan.stdout
            .contains("~ update inline policy envctl-stop-start of IAM role envctl-shop-scheduler")
            && plan.stdout.contains("-      \"Action\": \"ecs:*\","),
        "{plan}"
    );
    assert!(
        plan.stdout.contains("Plan: 0 to create, 1 to update"),
        "{plan}"
    );

    app.ok(&["bootstrap"]);
    assert_eq!(app.moto.write_ops(), ["PutRolePolicy"]);
    app.moto.clear_recording();
    app.ok(&["bootstrap"]);
    assert_eq!(app.moto.write_ops(), Vec::<String>::new());
}

#[tokio::test]
async fn a_foreign_role_under_bootstraps_name_is_a_conflict_and_nothing_is_written() {
    let app = App::init();
    app.iam()
        .create_role()
        .role_name("envctl-shop-task")
        .assume_role_policy_document(
            json!({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}],
            })
            .to_string(),
        )
        .send()
        .await
        .expect("someone else's role");
    app.moto.clear_recording();

    let plan = app.expect(&["bootstrap", "--plan"], 4);
    assert!(
        plan.stdout
            .contains("! conflict: IAM role `envctl-shop-task` exists and is not managed"),
        "{plan}"
    );
    let r = app.expect(&["bootstrap"], 4);
    assert!(r.stderr.contains("envctl-shop-task"), "{r}");
    assert_eq!(ops(&app.moto.writes()), Vec::<&str>::new());
}
