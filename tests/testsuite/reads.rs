//! What envctl reads (issue 12): per-env commands address the env's resources by the names the
//! config derives and never list the shared cluster, a converged `up` writes nothing and asks
//! nothing twice, `ls` describes services ten at a time and pages by 100.
//!
//! moto ignores `maxResults`/`nextToken` and adds no latency, so these tests assert what envctl
//! *sent* (moto's recorder). How many round trips that takes, with AWS-style paging and latency,
//! is measured by scripts/bench-rounds.sh (docs/architecture.md, "Round trips").

use std::collections::BTreeMap;

use aws_sdk_ecs::types::{ContainerDefinition, Tag};
use serde_json::Value;

use crate::support::{App, Recorded};

const PREVIEW: &str = "\n[preview]\nenabled = true\ndomain = \"preview.example.test\"\n";

/// `init`, `web` public with `[preview]` on (schedules and exec are on by default), `bootstrap`.
fn app_with_preview() -> App {
    let app = App::init();
    app.edit(
        "envctl.toml",
        "\n[services.web]\n",
        "\n[services.web]\npublic = true\n",
    );
    let path = app.path().join("envctl.toml");
    let text = std::fs::read_to_string(&path).expect("envctl.toml");
    std::fs::write(&path, format!("{text}{PREVIEW}")).expect("write envctl.toml");
    app.ok(&["bootstrap"]);
    app
}

/// Services of `n` other envs in the shared cluster, tagged as envctl tags them.
async fn other_envs(app: &App, n: usize) {
    let ecs = app.ecs();
    let td = ecs
        .register_task_definition()
        .family("shop-fleet")
        .container_definitions(
            ContainerDefinition::builder()
                .name("app")
                .image("public.ecr.aws/nginx/nginx:1.27-alpine")
                .memory(128)
                .build(),
        )
        .send()
        .await
        .expect("register the fleet's task definition");
    let td = td
        .task_definition()
        .and_then(|t| t.task_definition_arn())
        .expect("arn")
        .to_string();
    for i in 0..n {
        let env = format!("other{i}");
        let tags = [
            ("envctl:managed-by", "envctl"),
            ("envctl:app", "shop"),
            ("envctl:env", env.as_str()),
        ];
        ecs.create_service()
            .cluster("envctl-shop")
            .service_name(format!("shop-{env}-web"))
            .task_definition(&td)
            .desired_count(0)
            .set_tags(Some(
                tags.iter()
                    .map(|(k, v)| Tag::builder().key(*k).value(*v).build())
                    .collect(),
            ))
            .send()
            .await
            .expect("create a fleet service");
    }
}

/// The AWS requests moto recorded since the last clear.
fn aws_requests(app: &App) -> Vec<Recorded> {
    app.moto
        .requests()
        .into_iter()
        .filter(|r| !r.url.contains("/moto-api/"))
        .collect()
}

fn count(reqs: &[Recorded], op: &str) -> usize {
    reqs.iter().filter(|r| r.operation == op).count()
}

/// Each DescribeServices names at most 10 services (AWS's limit) and at least one.
fn assert_describe_batches(reqs: &[Recorded]) {
    for r in reqs.iter().filter(|r| r.operation == "DescribeServices") {
        let n = r.json()["services"].as_array().map_or(0, Vec::len);
        assert!(
            (1..=10).contains(&n),
            "DescribeServices with {n} services: {}",
            r.body
        );
    }
}

/// Every ECS list call asks for 100 items a page (ECS's default is 10 for ListServices).
fn assert_ecs_pages_of_100(reqs: &[Recorded]) {
    for r in reqs
        .iter()
        .filter(|r| r.service == "ecs" && r.operation.starts_with("List"))
    {
        assert_eq!(
            r.json()["maxResults"],
            Value::from(100),
            "{} {}",
            r.operation,
            r.body
        );
    }
}

/// The same request (operation, URL and body) sent twice.
fn repeated(reqs: &[Recorded]) -> Vec<String> {
    let mut seen: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for r in reqs {
        *seen
            .entry((r.operation.clone(), r.url.clone(), r.body.clone()))
            .or_default() += 1;
    }
    seen.into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|((op, url, body), n)| format!("{op} x{n}: {url} {body}"))
        .collect()
}

#[tokio::test]
async fn no_op_up_writes_nothing_asks_nothing_twice_and_never_lists_the_cluster() {
    let app = app_with_preview();
    app.ok(&["up", "feat"]);
    other_envs(&app, 12).await;
    app.moto.clear_recording();

    let r = app.ok(&["--stats", "--output", "json", "up", "feat"]);
    let reqs = aws_requests(&app);
    assert_eq!(app.moto.write_ops(), Vec::<String>::new(), "{r}");
    assert_eq!(r.stats()["write_calls"], Value::from(0), "{r}");
    for op in [
        "ListServices",
        "ListSchedules",
        "ListImages",
        "DescribeLoadBalancers",
    ] {
        assert_eq!(count(&reqs, op), 0, "{op} sent by a no-op up");
    }
    // The three services in one call, read once: observe saw them stable, so no wait reads them
    // again.
    assert_eq!(count(&reqs, "DescribeServices"), 1);
    assert_describe_batches(&reqs);
    assert_ecs_pages_of_100(&reqs);
    // One DescribeTaskDefinition per service: the latest revision is the one it runs.
    assert_eq!(count(&reqs, "DescribeTaskDefinition"), 1);
    assert_eq!(repeated(&reqs), Vec::<String>::new());
    // The schedules are read by the names the config derives.
    assert_eq!(count(&reqs, "GetSchedule"), 2);
}

#[tokio::test]
async fn ls_describes_ten_services_a_call_and_lists_100_a_page() {
    let app = App::bootstrapped();
    app.ok(&["up", "feat"]);
    other_envs(&app, 24).await;
    app.moto.clear_recording();

    let r = app.ok(&["--output", "json", "ls"]);
    assert_eq!(r.json().as_array().map(Vec::len), Some(25), "{r}");
    let reqs = aws_requests(&app);
    assert_eq!(count(&reqs, "ListServices"), 1);
    assert_ecs_pages_of_100(&reqs);
    assert_describe_batches(&reqs);
    assert_eq!(
        count(&reqs, "DescribeServices"),
        3,
        "25 services, 10 a call"
    );
    assert_eq!(repeated(&reqs), Vec::<String>::new());
}

#[tokio::test]
async fn status_stop_start_extend_and_down_address_the_env_by_name_not_by_listing_the_cluster() {
    let app = App::bootstrapped();
    app.ok(&["up", "feat"]);
    other_envs(&app, 3).await;
    for args in [
        &["status", "feat"][..],
        &["stop", "feat"],
        &["start", "feat"],
        &["extend", "feat", "48h"],
        &["down", "feat", "--yes"],
    ] {
        app.moto.clear_recording();
        app.ok(args);
        let reqs = aws_requests(&app);
        assert_eq!(
            count(&reqs, "ListServices"),
            0,
            "{args:?} listed the cluster"
        );
        // `down` lists the env's own schedule group (whatever the config says now), never
        // another's; the others read schedules by name.
        for r in reqs.iter().filter(|r| r.operation == "ListSchedules") {
            assert_eq!(args[0], "down", "{args:?} listed schedules");
            assert!(
                r.url.contains("ScheduleGroup=envctl-shop-feat")
                    && r.url.contains("MaxResults=100"),
                "{}",
                r.url
            );
        }
        assert_ecs_pages_of_100(&reqs);
        assert_describe_batches(&reqs);
        assert!(count(&reqs, "DescribeServices") > 0, "{args:?}");
    }
    // down found and deleted the env's service, and only it.
    let gone = app
        .ecs()
        .describe_services()
        .cluster("envctl-shop")
        .services("shop-feat-web")
        .services("shop-other0-web")
        .send()
        .await
        .expect("describe");
    let status: BTreeMap<&str, &str> = gone
        .services()
        .iter()
        .map(|s| (s.service_name().unwrap_or(""), s.status().unwrap_or("")))
        .collect();
    assert_ne!(status.get("shop-feat-web"), Some(&"ACTIVE"), "{status:?}");
    assert_eq!(status.get("shop-other0-web"), Some(&"ACTIVE"), "{status:?}");
}

#[tokio::test]
async fn a_service_dropped_from_the_config_is_found_through_its_family_and_removed() {
    let app = App::bootstrapped();
    let path = app.path().join("envctl.toml");
    let with_api = std::fs::read_to_string(&path).expect("envctl.toml")
        + "\n[services.api]\nimage = \"public.ecr.aws/nginx/nginx:1.27-alpine\"\nport = 80\n";
    std::fs::write(&path, &with_api).expect("write");
    app.ok(&["up", "feat"]);
    let without_api = with_api
        .split("\n[services.api]\n")
        .next()
        .expect("config")
        .to_string();
    std::fs::write(&path, without_api).expect("write");
    app.moto.clear_recording();

    app.ok(&["up", "feat"]);
    let reqs = aws_requests(&app);
    assert_eq!(count(&reqs, "ListServices"), 0);
    let deleted: Vec<String> = reqs
        .iter()
        .filter(|r| r.operation == "DeleteService")
        .map(|r| r.json()["service"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(deleted, ["shop-feat-api"]);
    // Its schedules, found by the names its key derives, go with it.
    let schedules: Vec<&str> = reqs
        .iter()
        .filter(|r| r.operation == "DeleteSchedule")
        .filter_map(|r| r.url.split("/schedules/").nth(1))
        .map(|rest| rest.split('?').next().unwrap_or(rest))
        .collect();
    assert_eq!(schedules.len(), 2, "{schedules:?}");
    assert!(
        schedules.iter().all(|s| s.ends_with("-api")),
        "{schedules:?}"
    );
}

#[tokio::test]
async fn a_preview_listener_tag_that_points_nowhere_falls_back_to_the_alb_by_name() {
    let app = app_with_preview();
    let cluster = app
        .ecs()
        .describe_clusters()
        .clusters("envctl-shop")
        .include(aws_sdk_ecs::types::ClusterField::Tags)
        .send()
        .await
        .expect("cluster");
    let cluster = &cluster.clusters()[0];
    let recorded = cluster
        .tags()
        .iter()
        .find(|t| t.key() == Some("envctl:preview-listener"))
        .and_then(|t| t.value())
        .expect("bootstrap records the preview listener on the cluster")
        .to_string();
    assert!(
        recorded.contains(":listener/app/envctl-shop/"),
        "{recorded}"
    );
    // The same ALB name, a listener that does not exist.
    let (head, _) = recorded.rsplit_once('/').expect("arn");
    let stale = format!("{head}/0000000000000000");
    app.ecs()
        .tag_resource()
        .resource_arn(cluster.cluster_arn().expect("arn"))
        .tags(
            Tag::builder()
                .key("envctl:preview-listener")
                .value(&stale)
                .build(),
        )
        .send()
        .await
        .expect("tag");
    app.moto.clear_recording();

    app.ok(&["up", "feat"]);
    let reqs = aws_requests(&app);
    assert_eq!(count(&reqs, "DescribeLoadBalancers"), 1);
    let rule = reqs
        .iter()
        .find(|r| r.operation == "CreateRule")
        .expect("a rule for web");
    assert!(
        rule.body.contains(&urlencode(&recorded)),
        "the rule goes on the real listener: {}",
        rule.body
    );
}

/// Query-protocol form encoding of an ARN, as the recorder keeps the body.
fn urlencode(s: &str) -> String {
    s.replace(':', "%3A").replace('/', "%2F")
}
