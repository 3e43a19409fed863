//! `Aws::ensure_service_role` against a private moto server: a role a service (Scheduler,
//! EventBridge, CodeBuild) assumes, created once and then left alone unless its trust or inline
//! policy drifts.

use envctl::model::Tags;
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

#[tokio::test]
async fn service_role_is_created_once_and_converged_costs_no_writes() {
    let moto = Moto::start();
    let aws = moto.connect().await;
    let owned: Tags = [
        ("envctl:managed-by".to_string(), "envctl".to_string()),
        ("envctl:app".to_string(), "shop".to_string()),
    ]
    .into();
    let name = "envctl-shop-scheduler";
    let policy = update_service_policy("shop");

    let created = aws
        .ensure_service_role(
            name,
            "scheduler.amazonaws.com",
            "envctl-schedules",
            &policy,
            &owned,
        )
        .await
        .unwrap();
    assert_eq!(created.name, name);
    assert_eq!(
        created.arn,
        format!("arn:aws:iam::123456789012:role/{name}")
    );
    assert_eq!(created.tags, owned);
    assert_eq!(moto.write_ops(), ["CreateRole", "PutRolePolicy"]);
    let sent = moto
        .writes()
        .into_iter()
        .find(|r| r.operation == "CreateRole")
        .unwrap();
    assert!(
        sent.body.contains("scheduler.amazonaws.com"),
        "trust policy names the service: {}",
        sent.body
    );

    // Converged: reads only.
    moto.clear_recording();
    let again = aws
        .ensure_service_role(
            name,
            "scheduler.amazonaws.com",
            "envctl-schedules",
            &policy,
            &owned,
        )
        .await
        .unwrap();
    assert_eq!(again, created);
    assert_eq!(moto.write_ops(), Vec::<String>::new());

    // A changed policy rewrites only the inline policy.
    moto.clear_recording();
    aws.ensure_service_role(
        name,
        "scheduler.amazonaws.com",
        "envctl-schedules",
        &update_service_policy("shop2"),
        &owned,
    )
    .await
    .unwrap();
    assert_eq!(moto.write_ops(), ["PutRolePolicy"]);

    // Another trusted service rewrites only the trust policy.
    moto.clear_recording();
    aws.ensure_service_role(
        name,
        "events.amazonaws.com",
        "envctl-schedules",
        &update_service_policy("shop2"),
        &owned,
    )
    .await
    .unwrap();
    assert_eq!(moto.write_ops(), ["UpdateAssumeRolePolicy"]);

    aws.delete_role(name).await.unwrap();
    aws.delete_role(name).await.unwrap();
    assert_eq!(aws.get_role(name).await.unwrap(), None);
}
