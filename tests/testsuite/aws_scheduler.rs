//! `aws::scheduler` against a private moto server: schedule groups and the stop/start schedules in
//! them round-trip through `ScheduleSpec` unchanged, and deleting is idempotent.

use envctl::model::{ScheduleSpec, Tags, UPDATE_SERVICE_TARGET};

use crate::support::Moto;

fn env_tags() -> Tags {
    [
        ("envctl:managed-by", "envctl"),
        ("envctl:app", "shop"),
        ("envctl:env", "feat-x"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

const GROUP: &str = "envctl-shop-feat-x";

fn stop_schedule() -> ScheduleSpec {
    ScheduleSpec {
        group: GROUP.into(),
        name: "web-stop".into(),
        expression: "cron(0 20 ? * MON-FRI *)".into(),
        timezone: "Europe/Berlin".into(),
        flexible_window_minutes: 15,
        target_arn: UPDATE_SERVICE_TARGET.into(),
        role_arn: "arn:aws:iam::123456789012:role/envctl-shop-scheduler".into(),
        input: r#"{"Cluster":"c","Service":"s","DesiredCount":0}"#.into(),
        state: "ENABLED".into(),
    }
}

/// Scheduler is a REST API: moto's recorder names its calls `METHOD url`, so reads are told
/// apart by method here.
fn scheduler_writes(moto: &Moto) -> Vec<String> {
    moto.requests()
        .into_iter()
        .filter(|r| r.method != "GET" && !r.url.contains("/moto-api/"))
        .map(|r| r.operation)
        .collect()
}

#[tokio::test]
async fn schedule_group_is_created_described_with_tags_and_deleted_twice() {
    let moto = Moto::start();
    let aws = moto.connect().await;
    assert_eq!(aws.describe_schedule_group(GROUP).await.unwrap(), None);

    aws.create_schedule_group(GROUP, &env_tags()).await.unwrap();
    let group = aws
        .describe_schedule_group(GROUP)
        .await
        .unwrap()
        .expect("group exists");
    assert_eq!(group.name, GROUP);
    assert_eq!(group.state, "ACTIVE");
    assert_eq!(
        group.arn,
        format!("arn:aws:scheduler:us-east-1:123456789012:schedule-group/{GROUP}")
    );
    assert_eq!(group.tags, env_tags());

    aws.delete_schedule_group(GROUP).await.unwrap();
    assert_eq!(aws.describe_schedule_group(GROUP).await.unwrap(), None);
    moto.clear_recording();
    aws.delete_schedule_group(GROUP).await.unwrap();
    assert!(
        scheduler_writes(&moto).is_empty(),
        "a missing group is not deleted again"
    );
}

#[tokio::test]
async fn schedule_round_trips_is_updated_and_deleted_twice() {
    let moto = Moto::start();
    let aws = moto.connect().await;
    assert!(aws.list_schedules(GROUP).await.unwrap().is_empty());
    aws.create_schedule_group(GROUP, &env_tags()).await.unwrap();
    assert!(aws.list_schedules(GROUP).await.unwrap().is_empty());

    let stop = stop_schedule();
    aws.create_schedule(&stop).await.unwrap();
    assert_eq!(aws.list_schedules(GROUP).await.unwrap(), vec![stop.clone()]);

    // Flexible window OFF (read back as 0), UTC, disabled; schedules come back sorted by name.
    let start = ScheduleSpec {
        name: "web-start".into(),
        expression: "cron(0 7 ? * MON-FRI *)".into(),
        timezone: "UTC".into(),
        flexible_window_minutes: 0,
        input: r#"{"Cluster":"c","Service":"s","DesiredCount":1}"#.into(),
        state: "DISABLED".into(),
        ..stop.clone()
    };
    aws.create_schedule(&start).await.unwrap();
    assert_eq!(
        aws.list_schedules(GROUP).await.unwrap(),
        vec![start.clone(), stop.clone()]
    );

    let err = aws.create_schedule(&stop).await.unwrap_err();
    assert_eq!(err.code.as_deref(), Some("ConflictException"), "{err}");

    let moved = ScheduleSpec {
        expression: "cron(30 19 ? * MON-FRI *)".into(),
        ..stop.clone()
    };
    aws.update_schedule(&moved).await.unwrap();
    assert_eq!(
        aws.list_schedules(GROUP).await.unwrap(),
        vec![start.clone(), moved.clone()]
    );
    // UpdateSchedule replaces the definition, so everything is sent again.
    let sent = moto
        .requests()
        .into_iter()
        .rfind(|r| r.method == "PUT" && r.url.contains("/schedules/web-stop"))
        .expect("UpdateSchedule was sent")
        .json();
    assert_eq!(sent["ScheduleExpressionTimezone"], "Europe/Berlin");
    assert_eq!(
        sent["FlexibleTimeWindow"],
        serde_json::json!({"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15})
    );
    assert_eq!(sent["Target"]["Input"], stop.input);
    assert_eq!(sent["State"], "ENABLED");

    aws.delete_schedule(GROUP, "web-stop").await.unwrap();
    aws.delete_schedule(GROUP, "web-stop").await.unwrap();
    assert_eq!(aws.list_schedules(GROUP).await.unwrap(), vec![start]);
    aws.delete_schedule("no-such-group", "web-stop")
        .await
        .unwrap();
}

#[tokio::test]
async fn deleting_a_group_deletes_its_schedules() {
    let moto = Moto::start();
    let aws = moto.connect().await;
    aws.create_schedule_group(GROUP, &env_tags()).await.unwrap();
    aws.create_schedule(&stop_schedule()).await.unwrap();

    aws.delete_schedule_group(GROUP).await.unwrap();
    assert!(aws.list_schedules(GROUP).await.unwrap().is_empty());
}

/// moto quirk, pinned: CreateScheduleGroup on an existing name answers 200 and replaces the group
/// (its schedules are gone, old and new tags are merged), where AWS answers ConflictException.
/// Callers must observe before creating.
#[tokio::test]
async fn moto_replaces_an_existing_schedule_group_on_create() {
    let moto = Moto::start();
    let aws = moto.connect().await;
    aws.create_schedule_group(GROUP, &env_tags()).await.unwrap();
    aws.create_schedule(&stop_schedule()).await.unwrap();

    let other: Tags = [("team".to_string(), "web".to_string())].into();
    aws.create_schedule_group(GROUP, &other).await.unwrap();
    assert!(aws.list_schedules(GROUP).await.unwrap().is_empty());
    let mut merged = env_tags();
    merged.extend(other);
    assert_eq!(
        aws.describe_schedule_group(GROUP)
            .await
            .unwrap()
            .unwrap()
            .tags,
        merged
    );
}
