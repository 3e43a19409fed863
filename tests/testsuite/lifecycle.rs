//! Env lifecycle against the emulator: stop/start schedules (the test plays the scheduler, which
//! moto never fires), manual stop/start, expiry and `gc`, protection, and input errors.

use serde_json::Value;

use crate::support::{ops, App};

const CLUSTER: &str = "envctl-shop";
const GROUP: &str = "envctl-shop-feature-x";
const SERVICE: &str = "shop-feature-x-web";

async fn desired(app: &App, name: &str) -> i32 {
    app.service(name).await.desired_count()
}

/// Sets one tag on a service directly, as if time had passed (backdating expiry).
async fn tag(app: &App, name: &str, key: &str, value: &str) {
    let arn = app
        .service(name)
        .await
        .service_arn()
        .expect("arn")
        .to_string();
    app.ecs()
        .tag_resource()
        .resource_arn(arn)
        .tags(
            aws_sdk_ecs::types::Tag::builder()
                .key(key)
                .value(value)
                .build(),
        )
        .send()
        .await
        .expect("tag service");
}

fn env_names(app: &App) -> Vec<String> {
    let r = app.ok(&["ls", "--output", "json"]);
    let v: Value = serde_json::from_str(&r.stdout).expect("ls json");
    v.as_array()
        .expect("array")
        .iter()
        .map(|e| e["env"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// What an EventBridge Scheduler universal target does when the schedule fires: call the target
/// API with the schedule's input. moto never fires schedules, so the test does it.
async fn fire(app: &App, schedule: &aws_sdk_scheduler::operation::get_schedule::GetScheduleOutput) {
    let target = schedule.target().expect("target");
    assert_eq!(
        target.arn(),
        "arn:aws:scheduler:::aws-sdk:ecs:updateService"
    );
    let input: Value = serde_json::from_str(target.input().expect("input")).expect("input is JSON");
    app.ecs()
        .update_service()
        .cluster(input["Cluster"].as_str().expect("Cluster"))
        .service(input["Service"].as_str().expect("Service"))
        .desired_count(input["DesiredCount"].as_i64().expect("DesiredCount") as i32)
        .send()
        .await
        .expect("UpdateService as the schedule would send it");
}

#[tokio::test]
async fn schedules_are_exact_and_playing_them_stops_and_starts_the_env() {
    let app = App::bootstrapped();
    app.ok(&[
        "up",
        "feature-x",
        "--set",
        "schedule.timezone=Europe/Berlin",
        "--set",
        "schedule.stop=19:30",
        "--set",
        "schedule.flexible_window_minutes=10",
    ]);
    let sched = app.scheduler();
    let group = sched
        .get_schedule_group()
        .name(GROUP)
        .send()
        .await
        .expect("group exists");
    let tags = sched
        .list_tags_for_resource()
        .resource_arn(group.arn().expect("arn"))
        .send()
        .await
        .expect("tags");
    assert!(
        tags.tags()
            .iter()
            .any(|t| t.key() == "envctl:env" && t.value() == "feature-x"),
        "{tags:?}"
    );

    let get = |name: &'static str| sched.get_schedule().group_name(GROUP).name(name).send();
    let stop = get("stop-web").await.expect("stop schedule");
    let start = get("start-web").await.expect("start schedule");
    assert_eq!(
        stop.schedule_expression(),
        Some("cron(30 19 ? * MON-FRI *)")
    );
    assert_eq!(start.schedule_expression(), Some("cron(0 8 ? * MON-FRI *)"));
    for s in [&stop, &start] {
        assert_eq!(s.schedule_expression_timezone(), Some("Europe/Berlin"));
        let window = s.flexible_time_window().expect("window");
        assert_eq!(window.mode().as_str(), "FLEXIBLE");
        assert_eq!(window.maximum_window_in_minutes(), Some(10));
        let target = s.target().expect("target");
        assert_eq!(
            target.arn(),
            "arn:aws:scheduler:::aws-sdk:ecs:updateService"
        );
        assert!(
            target.role_arn().ends_with(":role/envctl-shop-scheduler"),
            "{target:?}"
        );
    }
    let input = |s: &aws_sdk_scheduler::operation::get_schedule::GetScheduleOutput| -> Value {
        serde_json::from_str(s.target().and_then(|t| t.input()).expect("input")).expect("json")
    };
    assert_eq!(
        input(&stop),
        serde_json::json!({"Cluster": CLUSTER, "Service": SERVICE, "DesiredCount": 0})
    );
    assert_eq!(
        input(&start),
        serde_json::json!({"Cluster": CLUSTER, "Service": SERVICE, "DesiredCount": 1})
    );

    // Evening: the stop schedule fires. Morning: the start schedule fires.
    fire(&app, &stop).await;
    assert_eq!(desired(&app, SERVICE).await, 0);
    fire(&app, &start).await;
    assert_eq!(desired(&app, SERVICE).await, 1);

    // A no-op up writes nothing; a changed stop time updates only the stop schedule.
    let same = [
        "--set",
        "schedule.timezone=Europe/Berlin",
        "--set",
        "schedule.flexible_window_minutes=10",
    ];
    app.moto.clear_recording();
    app.ok(&[
        &["up", "feature-x", "--set", "schedule.stop=19:30"][..],
        &same[..],
    ]
    .concat());
    assert!(app.moto.writes().is_empty(), "{:?}", app.moto.writes());
    app.ok(&[
        &["up", "feature-x", "--set", "schedule.stop=18:00"][..],
        &same[..],
    ]
    .concat());
    assert_eq!(app.moto.write_ops(), ["UpdateSchedule"]);
    let stop = get("stop-web").await.expect("stop schedule");
    assert_eq!(stop.schedule_expression(), Some("cron(0 18 ? * MON-FRI *)"));

    // Always-on removes the schedules; down leaves no group behind.
    app.ok(&["up", "feature-x", "--always-on"]);
    assert!(
        sched.get_schedule_group().name(GROUP).send().await.is_err(),
        "group still exists"
    );
    app.ok(&["up", "feature-x"]);
    assert!(sched.get_schedule_group().name(GROUP).send().await.is_ok());
    app.ok(&["down", "feature-x", "--yes"]);
    let err = sched
        .get_schedule_group()
        .name(GROUP)
        .send()
        .await
        .expect_err("group is gone");
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_resource_not_found_exception()),
        "{err:?}"
    );
}

#[tokio::test]
async fn stop_and_start_round_trip_counts() {
    let app = App::bootstrapped();
    app.ok(&[
        "up",
        "feature-x",
        "--set",
        "services.web.count=2",
        "--no-wait",
    ]);
    let stopped = app.ok(&["stop", "feature-x"]);
    assert!(
        stopped.stdout.contains("2") && stopped.stdout.contains("changed"),
        "{}",
        stopped.stdout
    );
    assert_eq!(desired(&app, SERVICE).await, 0);
    let tags = app.service(SERVICE).await;
    assert!(tags
        .tags()
        .iter()
        .any(|t| t.key() == Some("envctl:stopped-count") && t.value() == Some("2")));

    app.moto.clear_recording();
    app.ok(&["stop", "feature-x"]);
    assert!(
        app.moto.writes().is_empty(),
        "second stop wrote {:?}",
        app.moto.writes()
    );

    app.ok(&["start", "feature-x"]);
    assert_eq!(
        desired(&app, SERVICE).await,
        2,
        "start restores the recorded count, not the configured 1"
    );
    let tags = app.service(SERVICE).await;
    assert!(!tags
        .tags()
        .iter()
        .any(|t| t.key() == Some("envctl:stopped-count")));
    app.moto.clear_recording();
    app.ok(&["start", "feature-x"]);
    assert!(
        app.moto.writes().is_empty(),
        "second start wrote {:?}",
        app.moto.writes()
    );

    // Without a recorded count, start uses the configured one.
    app.ok(&["up", "feature-x", "--no-wait"]);
    app.ecs()
        .update_service()
        .cluster(CLUSTER)
        .service(SERVICE)
        .desired_count(0)
        .send()
        .await
        .expect("scale to 0 by hand");
    app.ok(&["start", "feature-x"]);
    assert_eq!(desired(&app, SERVICE).await, 1);
}

/// Issue 13: a template may set `desiredCount` apart from `count`; the morning start schedule
/// and `envctl start` of a service stopped without a record restore the rendered 3, not 1.
#[tokio::test]
async fn start_and_the_start_schedule_restore_the_rendered_desired_count() {
    let app = App::bootstrapped();
    app.edit(
        "templates/service.json.j2",
        "\"desiredCount\": {{ count }}",
        "\"desiredCount\": 3",
    );
    app.ok(&["up", "feature-x", "--no-wait"]);
    assert_eq!(desired(&app, SERVICE).await, 3);
    let start = app
        .scheduler()
        .get_schedule()
        .group_name(GROUP)
        .name("start-web")
        .send()
        .await
        .expect("start schedule");
    let input: Value = serde_json::from_str(start.target().and_then(|t| t.input()).expect("input"))
        .expect("input is JSON");
    assert_eq!(input["DesiredCount"], 3, "{input}");

    // Stopped as the evening schedule does it: no record of the count.
    app.ecs()
        .update_service()
        .cluster(CLUSTER)
        .service(SERVICE)
        .desired_count(0)
        .send()
        .await
        .expect("scale to 0 by hand");
    app.ok(&["start", "feature-x"]);
    assert_eq!(desired(&app, SERVICE).await, 3, "start used config's count");
}

#[tokio::test]
async fn gc_deletes_expired_and_branchless_envs_but_never_protected_ones() {
    let app = App::bootstrapped();
    for env in ["expired", "orphan", "keeper"] {
        app.ok(&["up", env, "--no-wait"]);
    }
    app.ok(&["up", "guarded", "--no-wait", "--protect"]);
    // Time passes for two of them.
    tag(
        &app,
        "shop-expired-web",
        "envctl:expires-at",
        "2020-01-01T00:00:00Z",
    )
    .await;
    tag(
        &app,
        "shop-guarded-web",
        "envctl:expires-at",
        "2020-01-01T00:00:00Z",
    )
    .await;
    let live = app.path().join("live-branches.txt");
    std::fs::write(&live, "# remote branches\nexpired\nkeeper\n").expect("write live branches");
    let live = live.to_str().expect("utf-8 path");

    // Without --yes: a report, no writes.
    app.moto.clear_recording();
    let dry = app.ok(&["gc", "--live-branches", live]);
    assert!(
        dry.stdout.contains("would delete") && dry.stdout.contains("kept (protected)"),
        "{}",
        dry.stdout
    );
    assert!(app.moto.writes().is_empty(), "{:?}", app.moto.writes());
    assert_eq!(env_names(&app).len(), 4);

    let out = app.ok(&["gc", "--yes", "--live-branches", live, "--output", "json"]);
    let v: Value = serde_json::from_str(&out.stdout).expect("gc json");
    let mut deleted: Vec<&str> = v["deleted"]
        .as_array()
        .expect("deleted")
        .iter()
        .filter_map(|e| e.as_str())
        .collect();
    deleted.sort();
    assert_eq!(deleted, ["expired", "orphan"]);
    let mut left = env_names(&app);
    left.sort();
    assert_eq!(left, ["guarded", "keeper"]);

    // A protected env needs --force for down too.
    let refused = app.expect(&["down", "guarded", "--yes"], 4);
    assert!(refused.stderr.contains("protected"), "{}", refused.stderr);
    app.ok(&["down", "guarded", "--yes", "--force"]);
    assert_eq!(env_names(&app), ["keeper"]);
}

#[tokio::test]
async fn extend_pushes_expiry_out_and_up_keeps_it() {
    let app = App::bootstrapped();
    app.ok(&["up", "feature-x", "--no-wait", "--ttl", "72h"]);
    let expiry = |svc: &aws_sdk_ecs::types::Service| -> String {
        svc.tags()
            .iter()
            .find(|t| t.key() == Some("envctl:expires-at"))
            .and_then(|t| t.value())
            .expect("expiry tag")
            .to_string()
    };
    let first = expiry(&app.service(SERVICE).await);
    let out = app.ok(&["extend", "feature-x", "48h"]);
    let second = expiry(&app.service(SERVICE).await);
    assert!(out.stdout.contains(&second), "{}", out.stdout);
    let gap = second
        .parse::<jiff::Timestamp>()
        .unwrap()
        .duration_since(first.parse::<jiff::Timestamp>().unwrap());
    assert_eq!(gap.as_hours(), 48, "{first} → {second}");
    // An up right after writes nothing: the expiry is further out than half the TTL.
    app.moto.clear_recording();
    app.ok(&["up", "feature-x", "--no-wait", "--ttl", "72h"]);
    assert!(app.moto.writes().is_empty(), "{:?}", app.moto.writes());
}

#[tokio::test]
async fn bad_cron_timezone_and_ttl_are_input_errors_with_zero_writes() {
    let app = App::bootstrapped();
    app.moto.clear_recording();
    for (args, needle) in [
        (
            vec![
                "plan",
                "feature-x",
                "--set",
                "schedule.timezone=Mars/Olympus",
            ],
            "schedule.timezone",
        ),
        (
            vec!["up", "feature-x", "--set", "schedule.stop=25:00"],
            "schedule.stop",
        ),
        (
            vec![
                "up",
                "feature-x",
                "--set",
                "schedule.start=cron(0 8 * * MON-FRI *)",
            ],
            "schedule.start",
        ),
        (vec!["up", "feature-x", "--ttl", "3 fortnights"], "--ttl"),
        (
            vec!["up", "feature-x", "--set", "expiry.ttl=soon"],
            "expiry.ttl",
        ),
    ] {
        let r = app.expect(&args, 3);
        assert!(r.stderr.contains(needle), "{args:?}: {}", r.stderr);
    }
    assert!(app.moto.requests().is_empty(), "{:?}", app.moto.requests());
}

#[tokio::test]
async fn a_changed_secret_rolls_a_new_revision_without_its_value() {
    let app = App::bootstrapped();
    app.set_secret("feature-x", "API_TOKEN", "first-secret-value");
    app.ok(&["up", "feature-x"]);
    app.expect(&["plan", "feature-x", "--detailed-exitcode"], 0);

    // Same ARN, new version: the task definition must change so new tasks read the new value.
    app.set_secret("feature-x", "API_TOKEN", "second-secret-value");
    app.expect(&["plan", "feature-x", "--detailed-exitcode"], 2);
    app.moto.clear_recording();
    app.ok(&["up", "feature-x"]);
    let writes = app.moto.writes();
    assert_eq!(ops(&writes), ["RegisterTaskDefinition", "UpdateService"]);
    let body = &writes[0].body;
    assert!(
        body.contains("envctl.params-version") && body.contains("API_TOKEN"),
        "{body}"
    );
    assert!(!body.contains("second-secret-value") && !body.contains("first-secret-value"));
}

#[tokio::test]
async fn protection_refuses_down_but_never_fails_on_a_gone_env() {
    let app = App::bootstrapped();
    let config = app.path().join("envctl.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    assert!(text.contains("protected = []"), "example config changed");
    std::fs::write(
        &config,
        text.replace("protected = []", "protected = [\"staging\"]"),
    )
    .expect("write config");

    // Nothing exists: `down` of a protected name is still a success (CI `closed` jobs rely on it).
    let gone = app.ok(&["down", "staging", "--yes"]);
    assert!(gone.stdout.contains("Nothing to delete"), "{}", gone.stdout);

    app.ok(&["up", "staging", "--no-wait"]);
    app.moto.clear_recording();
    let refused = app.expect(&["down", "staging", "--yes"], 4);
    assert!(
        refused.stderr.contains("expiry.protected"),
        "{}",
        refused.stderr
    );
    assert!(app.moto.writes().is_empty(), "{:?}", app.moto.writes());

    // A stale stop record on a running service does not drag it back down on `start`.
    app.ok(&["stop", "staging"]);
    app.ok(&["up", "staging", "--no-wait"]);
    assert_eq!(desired(&app, "shop-staging-web").await, 1);
    app.ok(&[
        "up",
        "staging",
        "--no-wait",
        "--set",
        "services.web.count=2",
    ]);
    app.ok(&["start", "staging"]);
    assert_eq!(desired(&app, "shop-staging-web").await, 2);
}
