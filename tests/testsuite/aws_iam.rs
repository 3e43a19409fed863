//! IAM's read and write calls for roles a service (Scheduler, EventBridge, CodeBuild, ECS tasks)
//! assumes, against a private moto server: what `create_role_or_ours`, `put_role_policy`,
//! `put_trust_policy` and `attach_role_policy` write reads back through `service_role` and
//! `attached_role_policies` as the planner compares it, so a written role plans to nothing.

use envctl::model::{trust_policy, Tags};
use envctl::normalize::policy::same_policy;
use serde_json::json;

use crate::support::Moto;

fn update_service_policy(cluster: &str) -> serde_json::Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": ["ecs:UpdateService"],
            "Resource": format!("arn:aws:ecs:us-east-1:123456789012:service/{cluster}/*"),
        }],
    })
}

fn owned(app: &str) -> Tags {
    [
        ("envctl:managed-by".to_string(), "envctl".to_string()),
        ("envctl:app".to_string(), app.to_string()),
    ]
    .into()
}

#[tokio::test]
async fn service_role_written_step_by_step_reads_back_as_written() {
    let moto = Moto::start();
    let aws = moto.connect().await;
    let name = "envctl-shop-scheduler";
    let policy = update_service_policy("shop");
    assert_eq!(
        aws.service_role(name, "envctl-schedules").await.unwrap(),
        None
    );
    assert!(aws.attached_role_policies(name).await.unwrap().is_empty());

    let created = aws
        .create_role_or_ours(
            name,
            "scheduler.amazonaws.com",
            "Service role for scheduler.amazonaws.com managed by envctl",
            &owned("shop"),
        )
        .await
        .unwrap();
    assert_eq!(created.name, name);
    assert_eq!(
        created.arn,
        format!("arn:aws:iam::123456789012:role/{name}")
    );
    aws.put_role_policy(name, "envctl-schedules", &policy)
        .await
        .unwrap();
    assert_eq!(moto.write_ops(), ["CreateRole", "PutRolePolicy"]);

    let read = aws
        .service_role(name, "envctl-schedules")
        .await
        .unwrap()
        .expect("role exists");
    assert_eq!(read.arn, created.arn);
    assert_eq!(read.tags, owned("shop"));
    let trust = read.trust_policy.expect("trust policy readable");
    assert!(same_policy(
        &trust,
        &trust_policy("scheduler.amazonaws.com")
    ));
    assert!(same_policy(&read.policy.expect("inline policy"), &policy));

    // Another trusted service replaces the trust policy; the inline policy stays.
    aws.put_trust_policy(name, "events.amazonaws.com")
        .await
        .unwrap();
    let read = aws
        .service_role(name, "envctl-schedules")
        .await
        .unwrap()
        .unwrap();
    let trust = read.trust_policy.unwrap();
    assert!(same_policy(&trust, &trust_policy("events.amazonaws.com")));
    assert!(!same_policy(
        &trust,
        &trust_policy("scheduler.amazonaws.com")
    ));

    let managed = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";
    aws.attach_role_policy(name, managed).await.unwrap();
    assert_eq!(aws.attached_role_policies(name).await.unwrap(), [managed]);

    aws.delete_role(name).await.unwrap();
    aws.delete_role(name).await.unwrap();
    assert_eq!(aws.get_role(name).await.unwrap(), None);
}

/// A role created under the name after it was observed: the app's is used, anyone else's is a
/// conflict (and the caller writes nothing to it).
#[tokio::test]
async fn create_role_or_ours_takes_the_apps_role_and_refuses_anyone_elses() {
    let moto = Moto::start();
    let aws = moto.connect().await;
    let service = "codebuild.amazonaws.com";
    let first = aws
        .create_role_or_ours("envctl-shop-build", service, "d", &owned("shop"))
        .await
        .unwrap();
    let again = aws
        .create_role_or_ours("envctl-shop-build", service, "d", &owned("shop"))
        .await
        .unwrap();
    assert_eq!(again.arn, first.arn);

    let err = aws
        .create_role_or_ours("envctl-shop-build", service, "d", &owned("other"))
        .await
        .expect_err("another app's role");
    assert!(
        err.to_string().contains("belongs to envctl app `shop`")
            && err.to_string().contains("nothing was written to it"),
        "{err}"
    );
}
