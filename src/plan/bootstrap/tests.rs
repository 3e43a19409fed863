//! Bootstrap plans for a fresh account, a bootstrapped one, a drifted policy and foreign names,
//! as snapshots of what `bootstrap --plan` prints.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::*;
use crate::config::{self, LoadedConfig, Override};

/// Schedules and ECS Exec are on by default: cluster and three roles.
const CONFIG: &str = r#"
app = "shop"

[services.web]
image = "nginx:1.27"
"#;

/// With previews (the shared ALB) and a built service (bucket, cache repository, build role).
const FULL: &str = r#"
app = "shop"

[services.web.build]
preset = "npm"
repository_url = "https://github.com/acme/shop.git"

[preview]
enabled = true
domain = "preview.example.com"
"#;

fn place() -> Place {
    Place {
        partition: "aws".into(),
        region: "eu-west-1".into(),
        account: "123456789012".into(),
    }
}

fn tags() -> Tags {
    crate::model::app_tags("shop", "alice", "2026-01-02T03:04:05Z")
}

fn desired_for(text: &str, sets: &[&str]) -> BootstrapDesired {
    let overrides: Vec<Override> = sets
        .iter()
        .map(|s| s.parse().expect("test override parses"))
        .collect();
    let config =
        config::parse(Path::new("envctl.toml"), text, &overrides).expect("config is valid");
    let cfg = LoadedConfig {
        config,
        path: PathBuf::from("envctl.toml"),
        dir: PathBuf::from("."),
    };
    desired(&cfg, &place(), tags())
}

fn network() -> Network {
    Network {
        subnets: vec!["subnet-1".into(), "subnet-2".into()],
        security_groups: vec!["sg-1".into()],
    }
}

/// A fresh account: nothing under bootstrap's names (the network is read for the new ALB).
fn fresh() -> BootstrapObserved {
    BootstrapObserved {
        network: Some(network()),
        ..Default::default()
    }
}

const LISTENER: &str =
    "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/envctl-shop/1/2";

/// What AWS holds after `d` was bootstrapped, as IAM answers (one-element lists as strings).
fn bootstrapped(d: &BootstrapDesired) -> BootstrapObserved {
    let mut cluster_tags = tags();
    if d.load_balancer.is_some() {
        cluster_tags.insert(TAG_PREVIEW_LISTENER.into(), LISTENER.into());
    }
    BootstrapObserved {
        cluster: Some(ClusterState {
            name: d.cluster.clone(),
            arn: format!("arn:aws:ecs:eu-west-1:123456789012:cluster/{}", d.cluster),
            status: "ACTIVE".into(),
            capacity_providers: vec!["FARGATE".into(), "FARGATE_SPOT".into()],
            tags: cluster_tags,
        }),
        roles: d
            .roles
            .iter()
            .map(|r| {
                let observed = ObservedRole {
                    state: ServiceRoleState {
                        name: r.name.clone(),
                        arn: r.arn.clone(),
                        tags: tags(),
                        trust_policy: Some(as_iam_answers(&trust_policy(r.trusted_service))),
                        policy: Some(as_iam_answers(&r.policy)),
                    },
                    attached_policies: r.managed_policies.clone(),
                };
                (r.name.clone(), observed)
            })
            .collect(),
        load_balancer: d.load_balancer.as_ref().map(|name| ObservedLoadBalancer {
            name: name.clone(),
            arn:
                "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/envctl-shop/1"
                    .into(),
            dns_name: "envctl-shop-1.eu-west-1.elb.amazonaws.com".into(),
            tags: tags(),
            listener: Some(LISTENER.into()),
        }),
        network: None,
        bucket: d.build.as_ref().map(|_| tags()),
        repositories: d
            .build
            .iter()
            .flat_map(|b| b.cache_repositories.iter().map(|r| (r.clone(), tags())))
            .collect(),
    }
}

/// IAM may hand a policy back with one-element lists as plain strings and `Statement` as an
/// object; the planner must see through that.
fn as_iam_answers(doc: &Value) -> Value {
    let mut doc = doc.clone();
    if let Some(list) = doc.get_mut("Statement").and_then(Value::as_array_mut) {
        for s in list.iter_mut().filter_map(Value::as_object_mut) {
            for key in ["Action", "Resource"] {
                if let Some(v) = s.get_mut(key) {
                    if let Some([one]) = v.as_array().map(Vec::as_slice) {
                        *v = one.clone();
                    }
                }
            }
        }
        if list.len() == 1 {
            let only = list.remove(0);
            doc["Statement"] = only;
        }
    }
    doc
}

fn lines(plan: &BootstrapPlan) -> Vec<String> {
    plan.actions.iter().map(BootstrapAction::describe).collect()
}

#[test]
fn fresh_account_creates_everything_roles_before_their_policies() {
    let d = desired_for(CONFIG, &[]);
    let plan = plan_bootstrap(&d, &fresh());
    insta::assert_snapshot!("bootstrap_fresh_account", plan.text());
    assert!(plan.conflicts.is_empty());
    let stages: Vec<u8> = plan.actions.iter().map(BootstrapAction::stage).collect();
    assert!(stages.windows(2).all(|w| w[0] <= w[1]), "{stages:?}");
    assert!(plan.creates_role("envctl-shop-execution"));
}

#[test]
fn fresh_account_with_previews_and_builds() {
    let d = desired_for(FULL, &[]);
    let plan = plan_bootstrap(&d, &fresh());
    insta::assert_snapshot!("bootstrap_fresh_account_full", plan.text());
    // The new ALB goes in the network read for it; its listener is recorded on the cluster.
    assert!(plan.actions.iter().any(|a| matches!(
        a,
        BootstrapAction::CreateLoadBalancer { network: n, .. } if *n == network()
    )));
    assert_eq!(
        plan.actions.last(),
        Some(&BootstrapAction::RecordListener {
            cluster: d.cluster.clone(),
            listener: None
        })
    );
}

#[test]
fn bootstrapped_account_plans_nothing() {
    for text in [CONFIG, FULL] {
        let d = desired_for(text, &[]);
        let plan = plan_bootstrap(&d, &bootstrapped(&d));
        assert!(plan.is_empty(), "{}", plan.text());
        assert!(plan.conflicts.is_empty());
    }
    let d = desired_for(CONFIG, &[]);
    insta::assert_snapshot!(
        "bootstrap_converged",
        plan_bootstrap(&d, &bootstrapped(&d)).text()
    );
}

/// Someone edited the scheduler role's policy in the console and detached the managed policy
/// from the execution role: both come back, the policy shown as a diff; nothing else changes.
#[test]
fn drifted_policy_and_attachment_are_repaired() {
    let d = desired_for(CONFIG, &[]);
    let mut have = bootstrapped(&d);
    let scheduler = have
        .roles
        .get_mut("envctl-shop-scheduler")
        .expect("scheduler role observed");
    scheduler.state.policy = Some(json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "StopStartAppServices",
            "Effect": "Allow",
            "Action": ["ecs:UpdateService", "ecs:DeleteService"],
            "Resource": "*",
        }],
    }));
    have.roles
        .get_mut("envctl-shop-execution")
        .expect("execution role observed")
        .attached_policies
        .clear();
    let plan = plan_bootstrap(&d, &have);
    insta::assert_snapshot!("bootstrap_drifted_policy", plan.text());
    assert_eq!(
        lines(&plan),
        [
            "attach arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy to IAM \
             role envctl-shop-execution",
            "update inline policy envctl-stop-start of IAM role envctl-shop-scheduler",
        ]
    );
}

#[test]
fn a_role_trusting_another_service_gets_its_trust_policy_back() {
    let d = desired_for(CONFIG, &[]);
    let mut have = bootstrapped(&d);
    have.roles
        .get_mut("envctl-shop-task")
        .expect("task role observed")
        .state
        .trust_policy = Some(trust_policy("lambda.amazonaws.com"));
    let plan = plan_bootstrap(&d, &have);
    assert_eq!(
        lines(&plan),
        [
            "update trust policy of IAM role envctl-shop-task: only ecs-tasks.amazonaws.com may \
          assume it"
        ]
    );
}

/// A role and a bucket under bootstrap's names that are not the app's: conflicts, listed with
/// the plan; the other pieces still plan as usual (the command refuses before any write).
#[test]
fn foreign_resources_are_conflicts() {
    let d = desired_for(FULL, &[]);
    let mut have = fresh();
    have.roles.insert(
        "envctl-shop-execution".into(),
        ObservedRole {
            state: ServiceRoleState {
                name: "envctl-shop-execution".into(),
                arn: "arn:aws:iam::123456789012:role/envctl-shop-execution".into(),
                tags: Tags::new(),
                trust_policy: Some(trust_policy("ecs-tasks.amazonaws.com")),
                policy: None,
            },
            attached_policies: Vec::new(),
        },
    );
    have.bucket = Some(crate::model::app_tags(
        "other",
        "bob",
        "2026-01-01T00:00:00Z",
    ));
    let plan = plan_bootstrap(&d, &have);
    insta::assert_snapshot!("bootstrap_foreign_resources", plan.text());
    let kinds: Vec<&str> = plan.conflicts.iter().map(|c| c.kind.as_str()).collect();
    assert_eq!(kinds, ["IAM role", "S3 bucket"]);
}

#[test]
fn own_roles_and_existing_cluster_are_left_alone() {
    let d = desired_for(
        FULL,
        &[
            "cluster.existing=true",
            "cluster.name=theirs",
            "roles.execution_role_arn=arn:aws:iam::123456789012:role/theirs",
            "exec.enabled=false",
            "schedule.enabled=false",
        ],
    );
    let mut have = bootstrapped(&d);
    // The user's cluster: not tagged by envctl, and the listener is not recorded on it.
    if let Some(c) = &mut have.cluster {
        c.tags = Tags::new();
    }
    let plan = plan_bootstrap(&d, &have);
    assert!(plan.is_empty(), "{}", plan.text());
    assert!(plan.conflicts.is_empty(), "{:?}", plan.conflicts);
    let roles: Vec<RoleKind> = d.roles.iter().map(|r| r.kind).collect();
    assert_eq!(roles, [RoleKind::Build]);
}
