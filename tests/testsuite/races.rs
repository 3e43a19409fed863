//! Two `up`s of one env at once, and resources that appear between `up`'s observe and its
//! create (issue 11, item 6). A proxy in front of moto holds writes until both runs have
//! observed, and answers the creates moto would silently repeat (a service, a schedule group,
//! a Cloud Map namespace) the way AWS does: the name is taken. A create that loses the race
//! reads the resource's tags: ours is done (or updated), anything else is a conflict (exit 4).

use crate::support::proxy::{Proxy, Reply};
use crate::support::{App, Run};

const ENV: &str = "feature-x";
const CLUSTER: &str = "envctl-shop";
const SERVICE: &str = "shop-feature-x-web";
const LOG_GROUP: &str = "/envctl/shop/feature-x";
const REPO: &str = "envctl/shop/feature-x/web";
const GROUP: &str = "envctl-shop-feature-x";

fn count(ops: &[String], op: &str) -> usize {
    ops.iter().filter(|o| *o == op).count()
}

/// AWS's answer to CreateService for a name an ACTIVE service has (moto replaces it).
fn service_exists() -> Reply {
    Reply::json_error(
        400,
        "InvalidParameterException",
        "Creation of service was not idempotent.",
    )
}

/// AWS's answer to CreateScheduleGroup for a name that exists (moto replaces it).
fn schedule_group_exists() -> Reply {
    Reply::rest_error(
        409,
        "ConflictException",
        &format!("Schedule group {GROUP} already exists."),
    )
}

/// What AWS answers for the second create of the same name, where moto replaces the first
/// (service, schedule group) or keeps both (Cloud Map namespace).
fn aws_duplicate_answers(proxy: &Proxy) {
    proxy.answer_after("CreateService", 1, service_exists(), 1);
    proxy.answer_after("CreateScheduleGroup", 1, schedule_group_exists(), 1);
    proxy.answer_after(
        "CreateHttpNamespace",
        1,
        Reply::json_error(
            400,
            "NamespaceAlreadyExists",
            &format!("Namespace {GROUP} already exists."),
        ),
        1,
    );
}

#[tokio::test]
async fn two_ups_of_a_new_env_at_once_both_exit_0_and_leave_one_of_each() {
    let app = App::bootstrapped();
    let proxy = Proxy::start(&app.moto.url);
    // No write goes through until both runs have observed the env and planned its creates.
    proxy.hold_writes();
    aws_duplicate_answers(&proxy);
    let args = ["up", ENV];
    let a = app.spawn_via(&proxy.url, &args);
    let b = app.spawn_via(&proxy.url, &args);
    proxy.wait_for("CreateLogGroup", 2);
    proxy.wait_for("CreateRepository", 2);
    proxy.release();
    let (a, b) = (Run::finish(a, &args), Run::finish(b, &args));
    assert_eq!(a.code, 0, "{a}");
    assert_eq!(b.code, 0, "{b}");
    for run in [&a, &b] {
        assert!(!run.stderr.contains("AlreadyExists"), "{run}");
    }

    // Both runs tried every create: the race really happened.
    let seen = proxy.seen();
    for op in [
        "CreateLogGroup",
        "CreateRepository",
        "CreateScheduleGroup",
        "CreateHttpNamespace",
        "CreateService",
    ] {
        assert_eq!(count(&seen, op), 2, "{op} in {seen:?}");
    }
    // Each run registered its own (identical) revision; the one that ends up on the service is
    // not a rollback for the other run's wait.
    assert_eq!(count(&seen, "RegisterTaskDefinition"), 2, "{seen:?}");
    // The losers read the resource and carried on (the schedules' second creates conflict
    // in moto too, and become updates).
    assert_eq!(count(&seen, "UpdateService"), 1, "{seen:?}");
    assert_eq!(count(&seen, "UpdateSchedule"), 2, "{seen:?}");

    // One of each, all ours.
    let aws = app.moto.connect().await;
    let services = aws
        .describe_services(CLUSTER, &[SERVICE.to_string()])
        .await
        .unwrap();
    assert_eq!(services.len(), 1);
    assert_eq!(services[0].tags["envctl:env"], ENV);
    let log_group = aws
        .describe_log_group(LOG_GROUP)
        .await
        .unwrap()
        .expect("log group");
    assert_eq!(log_group.tags["envctl:env"], ENV);
    assert_eq!(log_group.retention_days, Some(7));
    let repo = aws
        .describe_repository(REPO)
        .await
        .unwrap()
        .expect("repository");
    assert_eq!(repo.tags["envctl:env"], ENV);
    assert!(repo.lifecycle_policy.is_some());
    assert_eq!(aws.list_schedules(GROUP).await.unwrap().len(), 2);
    assert_eq!(app.moto.namespace_names(), [GROUP]);

    // Nothing is left to do.
    app.expect(&["plan", ENV, "--detailed-exitcode"], 0);
}

#[tokio::test]
async fn a_foreign_log_group_created_between_plan_and_apply_is_a_conflict_and_left_alone() {
    let app = App::bootstrapped();
    let proxy = Proxy::start(&app.moto.url);
    proxy.hold_writes();
    let args = ["up", ENV];
    let up = app.spawn_via(&proxy.url, &args);
    // `up` has observed no log group and is about to create it; someone else is quicker.
    proxy.wait_for("CreateLogGroup", 1);
    let aws = app.moto.connect().await;
    let foreign: envctl::model::Tags = [("team".to_string(), "payments".to_string())].into();
    aws.create_log_group(LOG_GROUP, &foreign).await.unwrap();
    proxy.release();
    let r = Run::finish(up, &args);

    assert_eq!(r.code, 4, "{r}");
    assert!(
        r.stderr.contains(&format!(
            "log group `{LOG_GROUP}` exists and is not managed by envctl"
        )),
        "{r}"
    );
    assert!(!r.stderr.contains("ResourceAlreadyExistsException"), "{r}");
    let seen = proxy.seen();
    assert_eq!(count(&seen, "PutRetentionPolicy"), 0, "{seen:?}");
    assert_eq!(
        count(&seen, "CreateService"),
        0,
        "stopped before services: {seen:?}"
    );
    let group = aws.describe_log_group(LOG_GROUP).await.unwrap().unwrap();
    assert_eq!(group.tags, foreign);
    assert_eq!(group.retention_days, None);
}

/// moto replaces a service created twice; AWS refuses with InvalidParameterException. Here the
/// proxy plays both: `up` observes no service (DescribeServices answers "missing" once), the
/// service exists (an earlier `up`), and CreateService is refused as AWS would.
#[tokio::test]
async fn a_service_and_schedule_group_another_up_created_meanwhile_are_updated_not_an_error() {
    let app = App::bootstrapped();
    app.ok(&["up", ENV]);
    let before = app.service(SERVICE).await;
    let tag = |s: &aws_sdk_ecs::types::Service, k: &str| {
        s.tags()
            .iter()
            .find(|t| t.key() == Some(k))
            .and_then(|t| t.value())
            .map(str::to_string)
    };

    let proxy = Proxy::start(&app.moto.url);
    proxy.answer(
        "DescribeServices",
        Reply::json(serde_json::json!({
            "services": [],
            "failures": [{"arn": format!("arn:aws:ecs:us-east-1:123456789012:service/{CLUSTER}/{SERVICE}"), "reason": "MISSING"}],
        })),
        1,
    );
    proxy.answer(
        "GetScheduleGroup",
        Reply::rest_error(
            404,
            "ResourceNotFoundException",
            "Schedule group not found.",
        ),
        1,
    );
    proxy.answer("CreateService", service_exists(), 1);
    proxy.answer("CreateScheduleGroup", schedule_group_exists(), 1);
    let args = ["up", ENV, "--set", "services.web.count=2"];
    let r = Run::finish(app.spawn_via(&proxy.url, &args), &args);
    assert_eq!(r.code, 0, "{r}");

    let seen = proxy.seen();
    for op in ["CreateService", "CreateScheduleGroup", "UpdateService"] {
        assert_eq!(count(&seen, op), 1, "{op} in {seen:?}");
    }
    // Schedules are read by name, not listed from the group: both were seen, and only the
    // morning start changes (it restores count 2). No create, so no conflict to absorb.
    assert_eq!(count(&seen, "UpdateSchedule"), 1, "{seen:?}");
    assert_eq!(count(&seen, "CreateSchedule"), 0, "{seen:?}");
    let after = app.service(SERVICE).await;
    assert_eq!(after.desired_count(), 2, "this run's settings were applied");
    assert_eq!(after.service_arn(), before.service_arn(), "one service");
    for k in ["envctl:owner", "envctl:created-at", "envctl:branch"] {
        assert_eq!(
            tag(&after, k),
            tag(&before, k),
            "{k} stays as its creator set it"
        );
    }
    assert!(r.stderr.contains("is up"), "{r}");
}

#[tokio::test]
async fn a_foreign_service_created_meanwhile_is_a_conflict_and_never_updated() {
    let app = App::bootstrapped();
    // Someone else's service takes the name envctl needs (no envctl tags).
    let ecs = app.ecs();
    let td = ecs
        .register_task_definition()
        .family("payments")
        .container_definitions(
            aws_sdk_ecs::types::ContainerDefinition::builder()
                .name("app")
                .image("nginx")
                .memory(128)
                .build(),
        )
        .send()
        .await
        .expect("register")
        .task_definition()
        .and_then(|t| t.task_definition_arn())
        .expect("arn")
        .to_string();
    ecs.create_service()
        .cluster(CLUSTER)
        .service_name(SERVICE)
        .task_definition(&td)
        .desired_count(0)
        .send()
        .await
        .expect("foreign service");

    let proxy = Proxy::start(&app.moto.url);
    proxy.answer(
        "DescribeServices",
        Reply::json(serde_json::json!({"services": [], "failures": []})),
        1,
    );
    proxy.answer("CreateService", service_exists(), 1);
    let args = ["up", ENV];
    let r = Run::finish(app.spawn_via(&proxy.url, &args), &args);
    assert_eq!(r.code, 4, "{r}");
    assert!(
        r.stderr.contains(&format!(
            "ECS service `{SERVICE}` exists and is not managed by envctl"
        )),
        "{r}"
    );
    let seen = proxy.seen();
    assert_eq!(count(&seen, "UpdateService"), 0, "{seen:?}");
    assert_eq!(count(&seen, "TagResource"), 0, "{seen:?}");
    let after = app.service(SERVICE).await;
    assert_eq!(after.task_definition(), Some(td.as_str()));
    assert!(after.tags().is_empty(), "{:?}", after.tags());
}

/// A role that appears between `bootstrap`'s reads and its CreateRole (IAM, and moto, answer
/// EntityAlreadyExists): bootstrap reads its tags and writes no policy to a role that is not
/// the app's.
#[tokio::test]
async fn a_foreign_role_created_during_bootstrap_is_a_conflict_and_gets_no_policy() {
    const ROLE: &str = "envctl-shop-execution";
    let app = App::init();
    app.iam()
        .create_role()
        .role_name(ROLE)
        .assume_role_policy_document(
            serde_json::json!({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}],
            })
            .to_string(),
        )
        .send()
        .await
        .expect("someone else's role");
    app.moto.clear_recording();
    let proxy = Proxy::start(&app.moto.url);
    // Bootstrap's observe reads the role once and finds nothing: it is created right after.
    proxy.answer_where(
        "GetRole",
        &format!("RoleName={ROLE}"),
        Reply::query_error(404, "NoSuchEntity", "The role cannot be found."),
        1,
    );
    let args = ["bootstrap"];
    let r = Run::finish(app.spawn_via(&proxy.url, &args), &args);

    assert_eq!(r.code, 4, "{r}");
    assert!(
        r.stderr.contains(&format!(
            "iam:CreateRole on {ROLE} failed: the role is not managed by envctl"
        )),
        "{r}"
    );
    assert!(r.stderr.contains("nothing was written to it"), "{r}");
    // The other roles are created in the same stage, concurrently; only this one's calls are
    // counted: one CreateRole (refused), nothing after it.
    let policy_writes: Vec<_> = app
        .moto
        .writes()
        .into_iter()
        .filter(|w| w.body.contains(ROLE))
        .map(|w| w.operation)
        .collect();
    assert_eq!(policy_writes, ["CreateRole"], "no policy on the role");
}
