//! `aws::events` against a private moto server: the janitor's scheduled rule and its target are
//! upserts, and deleting a rule (targets first) is idempotent.

use envctl::model::RuleTarget;

use envctl::model::Tags;

use crate::support::Moto;

fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const RULE: &str = "envctl-shop-janitor";

fn janitor_target() -> RuleTarget {
    RuleTarget {
        id: "janitor".into(),
        arn: "arn:aws:codebuild:us-east-1:123456789012:project/envctl-shop-janitor".into(),
        role_arn: Some("arn:aws:iam::123456789012:role/envctl-shop-janitor-events".into()),
    }
}

/// Every rule on the default bus, counted with the SDK directly (envctl has no ListRules).
async fn rule_names(moto: &Moto) -> Vec<String> {
    let client = aws_sdk_eventbridge::Client::new(&moto.sdk_config());
    let out = client
        .list_rules()
        .name_prefix("envctl-")
        .send()
        .await
        .unwrap();
    out.rules()
        .iter()
        .filter_map(|r| r.name().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn put_rule_twice_gives_one_rule_with_its_tags() {
    let moto = Moto::start();
    let aws = moto.connect().await;
    let owned = tags(&[("envctl:managed-by", "envctl"), ("envctl:app", "shop")]);
    assert_eq!(aws.describe_rule(RULE).await.unwrap(), None);

    let arn = aws
        .put_rule(RULE, "rate(1 hour)", "envctl janitor for shop", &owned)
        .await
        .unwrap();
    assert_eq!(
        arn,
        format!("arn:aws:events:us-east-1:123456789012:rule/{RULE}")
    );

    // Same tags again: PutRule only, no TagResource.
    moto.clear_recording();
    let again = aws
        .put_rule(RULE, "rate(30 minutes)", "envctl janitor for shop", &owned)
        .await
        .unwrap();
    assert_eq!(again, arn);
    assert_eq!(moto.write_ops(), ["PutRule"]);
    assert_eq!(rule_names(&moto).await, [RULE]);

    let rule = aws.describe_rule(RULE).await.unwrap().expect("rule exists");
    assert_eq!(rule.name, RULE);
    assert_eq!(rule.arn, arn);
    assert_eq!(
        rule.schedule_expression.as_deref(),
        Some("rate(30 minutes)")
    );
    assert_eq!(rule.state, "ENABLED");
    assert_eq!(rule.tags, owned);
}

#[tokio::test]
async fn put_target_twice_gives_one_target_and_delete_removes_everything() {
    let moto = Moto::start();
    let aws = moto.connect().await;
    assert!(aws.list_targets(RULE).await.unwrap().is_empty());
    aws.put_rule(RULE, "rate(1 hour)", "janitor", &Tags::new())
        .await
        .unwrap();
    assert!(aws.list_targets(RULE).await.unwrap().is_empty());

    aws.put_target(RULE, &janitor_target()).await.unwrap();
    let moved = RuleTarget {
        arn: "arn:aws:codebuild:us-east-1:123456789012:project/envctl-shop-janitor-2".into(),
        ..janitor_target()
    };
    aws.put_target(RULE, &moved).await.unwrap();
    assert_eq!(aws.list_targets(RULE).await.unwrap(), vec![moved.clone()]);

    // Removing no ids, or unknown ones, is fine.
    aws.remove_targets(RULE, &[]).await.unwrap();
    aws.remove_targets(RULE, &["nope".to_string()])
        .await
        .unwrap();
    aws.remove_targets("no-such-rule", &["janitor".to_string()])
        .await
        .unwrap();
    assert_eq!(aws.list_targets(RULE).await.unwrap(), vec![moved]);

    moto.clear_recording();
    aws.delete_rule(RULE).await.unwrap();
    assert_eq!(moto.write_ops(), ["RemoveTargets", "DeleteRule"]);
    assert_eq!(aws.describe_rule(RULE).await.unwrap(), None);
    assert!(aws.list_targets(RULE).await.unwrap().is_empty());
    assert!(rule_names(&moto).await.is_empty());

    aws.delete_rule(RULE).await.unwrap();
}

#[tokio::test]
async fn put_target_on_a_missing_rule_fails_with_its_code() {
    let moto = Moto::start();
    let aws = moto.connect().await;
    let err = aws
        .put_target("no-such-rule", &janitor_target())
        .await
        .unwrap_err();
    assert_eq!(
        err.code.as_deref(),
        Some("ResourceNotFoundException"),
        "{err}"
    );
}
