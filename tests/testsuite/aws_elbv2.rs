//! `aws::elbv2` against a private moto server: the shared ALB and its 404 listener, per-env target
//! groups and listener rules round-trip through `model::preview`, deletes are idempotent, and the
//! moto quirks the module works around are pinned.

use aws_sdk_elasticloadbalancingv2::types as elb;
use envctl::aws::elbv2::CreateRuleError;
use envctl::aws::Aws;
use envctl::model::{
    ListenerRuleState, ListenerState, RouteMatch, Tags, TargetGroupSpec, TargetGroupState,
};

use crate::support::{DefaultNetwork as Network, Moto};

fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn app_tags() -> Tags {
    tags(&[("envctl:managed-by", "envctl"), ("envctl:app", "shop")])
}

fn env_tags(env: &str) -> Tags {
    tags(&[
        ("envctl:managed-by", "envctl"),
        ("envctl:app", "shop"),
        ("envctl:env", env),
    ])
}

/// moto's default VPC, two of its subnets (an ALB needs two AZs on AWS) and its `default` group,
/// looked up rather than hard-coded.
async fn default_network(moto: &Moto) -> Network {
    let mut n = moto.default_network().await;
    n.subnets.truncate(2);
    n
}

/// A shared ALB with its HTTP listener on port 80; returns (lb ARN, listener ARN).
async fn alb_with_listener(aws: &Aws, net: &Network) -> (String, String) {
    let (lb_arn, _) = aws
        .create_load_balancer(
            "envctl-shop",
            &net.subnets,
            std::slice::from_ref(&net.security_group),
            &app_tags(),
        )
        .await
        .unwrap();
    let listener_arn = aws
        .create_http_listener(&lb_arn, 80, &app_tags())
        .await
        .unwrap();
    (lb_arn, listener_arn)
}

fn tg_spec(name: &str, net: &Network) -> TargetGroupSpec {
    TargetGroupSpec {
        name: name.into(),
        port: 8080,
        vpc_id: net.vpc_id.clone(),
        health_check_path: "/healthz".into(),
        health_check_matcher: "200-399".into(),
        tags: env_tags(name),
    }
}

fn tg_state(spec: &TargetGroupSpec, arn: &str, lbs: &[&str]) -> TargetGroupState {
    TargetGroupState {
        name: spec.name.clone(),
        arn: arn.to_string(),
        port: spec.port,
        vpc_id: spec.vpc_id.clone(),
        health_check_path: Some(spec.health_check_path.clone()),
        health_check_matcher: Some(spec.health_check_matcher.clone()),
        load_balancer_arns: lbs.iter().map(|s| s.to_string()).collect(),
        tags: spec.tags.clone(),
    }
}

fn host(h: &str) -> RouteMatch {
    RouteMatch::Host(h.into())
}

/// The recorded bodies of every call to `operation`.
fn sent(moto: &Moto, operation: &str) -> Vec<String> {
    moto.requests()
        .into_iter()
        .filter(|r| r.operation == operation)
        .map(|r| r.body)
        .collect()
}

#[tokio::test]
async fn shared_alb_and_listener_are_created_and_found_by_name() {
    let moto = Moto::start();
    let aws = moto.connect().await;
    let net = default_network(&moto).await;
    assert_eq!(
        aws.describe_load_balancer_by_name("envctl-shop")
            .await
            .unwrap(),
        None
    );

    let (lb_arn, dns) = aws
        .create_load_balancer(
            "envctl-shop",
            &net.subnets,
            std::slice::from_ref(&net.security_group),
            &app_tags(),
        )
        .await
        .unwrap();
    assert!(
        lb_arn.contains(":loadbalancer/app/envctl-shop/"),
        "{lb_arn}"
    );
    assert_eq!(
        aws.describe_load_balancer_by_name("envctl-shop")
            .await
            .unwrap(),
        Some((lb_arn.clone(), dns.clone(), app_tags()))
    );
    let create = &sent(&moto, "CreateLoadBalancer")[0];
    for param in [
        "Type=application",
        "Scheme=internet-facing",
        "IpAddressType=ipv4",
    ] {
        assert!(create.contains(param), "{param} in {create}");
    }

    assert!(aws.listeners_of(&lb_arn).await.unwrap().is_empty());
    let listener_arn = aws
        .create_http_listener(&lb_arn, 80, &app_tags())
        .await
        .unwrap();
    let listener = ListenerState {
        arn: listener_arn.clone(),
        load_balancer_arn: lb_arn.clone(),
        port: 80,
        protocol: "HTTP".into(),
    };
    assert_eq!(
        aws.listeners_of(&lb_arn).await.unwrap(),
        vec![listener.clone()]
    );
    assert_eq!(
        aws.describe_listener(&listener_arn).await.unwrap(),
        Some(listener)
    );
    assert!(aws
        .listener_default_action_is_fixed_404(&listener_arn)
        .await
        .unwrap());

    // Another hex digit in the last place (the ids are random: the same one would be no test).
    let last = if listener_arn.ends_with('0') {
        '1'
    } else {
        '0'
    };
    let missing = format!("{}{last}", &listener_arn[..listener_arn.len() - 1]);
    assert_eq!(aws.describe_listener(&missing).await.unwrap(), None);
    assert!(!aws
        .listener_default_action_is_fixed_404(&missing)
        .await
        .unwrap());
    let missing_lb = lb_arn.replace("envctl-shop", "nope");
    assert!(aws.listeners_of(&missing_lb).await.unwrap().is_empty());
}

#[tokio::test]
async fn rules_route_hosts_to_target_groups_and_deletes_are_idempotent() {
    let moto = Moto::start();
    let aws = moto.connect().await;
    let net = default_network(&moto).await;
    let (lb_arn, listener_arn) = alb_with_listener(&aws, &net).await;

    // moto answers TargetGroupNotFound here (AWS: an empty list); both read as "none".
    assert!(aws
        .target_groups_of_load_balancer(&lb_arn)
        .await
        .unwrap()
        .is_empty());

    let (spec_a, spec_b) = (
        tg_spec("shop-feat-a-web", &net),
        tg_spec("shop-feat-b-web", &net),
    );
    let tg_a = aws.create_target_group(&spec_a).await.unwrap();
    let tg_b = aws.create_target_group(&spec_b).await.unwrap();
    let create = &sent(&moto, "CreateTargetGroup")[0];
    for param in [
        "Protocol=HTTP",
        "TargetType=ip",
        "Port=8080",
        "HealthCheckPath=%2Fhealthz",
        "Matcher.HttpCode=200-399",
    ] {
        assert!(create.contains(param), "{param} in {create}");
    }
    // Unknown names are left out; the rest come back sorted by name, with tags.
    assert_eq!(
        aws.describe_target_groups(&[
            spec_b.name.clone(),
            "shop-gone-web".into(),
            spec_a.name.clone()
        ])
        .await
        .unwrap(),
        vec![tg_state(&spec_a, &tg_a, &[]), tg_state(&spec_b, &tg_b, &[])]
    );
    assert!(aws
        .describe_target_groups(&["shop-gone-web".into()])
        .await
        .unwrap()
        .is_empty());

    let rule_a = aws
        .create_listener_rule(
            &listener_arn,
            10,
            &host("feat-a.preview.example.com"),
            &tg_a,
            &env_tags("feat-a"),
        )
        .await
        .unwrap();
    let rule_b = aws
        .create_listener_rule(
            &listener_arn,
            11,
            &host("feat-b.preview.example.com"),
            &tg_b,
            &env_tags("feat-b"),
        )
        .await
        .unwrap();
    // The modern condition form only: no legacy `Values`.
    let create = &sent(&moto, "CreateRule")[0];
    assert!(
        create.contains(
            "Conditions.member.1.HostHeaderConfig.Values.member.1=feat-a.preview.example.com"
        ),
        "{create}"
    );
    assert!(!create.contains("Conditions.member.1.Values"), "{create}");

    let rules = aws.list_listener_rules(&listener_arn).await.unwrap();
    let default_rule = ListenerRuleState {
        arn: rules.last().expect("the default rule").arn.clone(),
        priority: None,
        hosts: vec![],
        paths: vec![],
        target_group_arns: vec![],
        tags: Tags::new(),
    };
    let rule_b_state = ListenerRuleState {
        arn: rule_b.clone(),
        priority: Some(11),
        hosts: vec!["feat-b.preview.example.com".into()],
        paths: vec![],
        target_group_arns: vec![tg_b.clone()],
        tags: env_tags("feat-b"),
    };
    assert_eq!(
        rules,
        vec![
            ListenerRuleState {
                arn: rule_a.clone(),
                priority: Some(10),
                hosts: vec!["feat-a.preview.example.com".into()],
                paths: vec![],
                target_group_arns: vec![tg_a.clone()],
                tags: env_tags("feat-a"),
            },
            rule_b_state.clone(),
            default_rule.clone(),
        ]
    );

    // Two envs racing for the next free priority: the loser learns it by type and retries.
    let taken = aws
        .create_listener_rule(
            &listener_arn,
            10,
            &host("feat-c.preview.example.com"),
            &tg_b,
            &env_tags("feat-c"),
        )
        .await;
    assert!(
        matches!(taken, Err(CreateRuleError::PriorityInUse)),
        "{taken:?}"
    );

    // A target group belongs to the load balancer once a rule forwards to it.
    let lb = lb_arn.as_str();
    assert_eq!(
        aws.target_groups_of_load_balancer(&lb_arn).await.unwrap(),
        vec![
            tg_state(&spec_a, &tg_a, &[lb]),
            tg_state(&spec_b, &tg_b, &[lb])
        ]
    );

    // A group still routed to cannot go: delete its rule first.
    let in_use = aws.delete_target_group(&tg_a).await.unwrap_err();
    assert_eq!(in_use.code.as_deref(), Some("ResourceInUse"), "{in_use}");

    aws.delete_listener_rule(&rule_a).await.unwrap();
    aws.delete_listener_rule(&rule_a).await.unwrap();
    aws.delete_target_group(&tg_a).await.unwrap();
    aws.delete_target_group(&tg_a).await.unwrap();
    assert_eq!(
        aws.list_listener_rules(&listener_arn).await.unwrap(),
        vec![rule_b_state, default_rule]
    );
    assert!(aws
        .listener_default_action_is_fixed_404(&listener_arn)
        .await
        .unwrap());
    assert_eq!(
        aws.describe_target_groups(&[spec_a.name.clone(), spec_b.name.clone()])
            .await
            .unwrap(),
        vec![tg_state(&spec_b, &tg_b, &[lb])]
    );

    // moto quirk, pinned: a group stays "of" the load balancer after its last rule is deleted
    // (AWS drops it), so callers must not read this as "still routed".
    aws.delete_listener_rule(&rule_b).await.unwrap();
    assert_eq!(
        aws.target_groups_of_load_balancer(&lb_arn).await.unwrap(),
        vec![tg_state(&spec_b, &tg_b, &[lb])]
    );
    aws.delete_target_group(&tg_b).await.unwrap();
    assert!(aws
        .target_groups_of_load_balancer(&lb_arn)
        .await
        .unwrap()
        .is_empty());
    assert!(aws
        .listener_default_action_is_fixed_404(&listener_arn)
        .await
        .unwrap());
}

#[tokio::test]
async fn modify_rule_switches_to_a_path_and_another_target_group() {
    let moto = Moto::start();
    let aws = moto.connect().await;
    let net = default_network(&moto).await;
    let (_, listener_arn) = alb_with_listener(&aws, &net).await;
    let tg_a = aws
        .create_target_group(&tg_spec("shop-feat-a-web", &net))
        .await
        .unwrap();
    let tg_b = aws
        .create_target_group(&tg_spec("shop-feat-a-api", &net))
        .await
        .unwrap();
    let rule = aws
        .create_listener_rule(
            &listener_arn,
            7,
            &host("feat-a.preview.example.com"),
            &tg_a,
            &env_tags("feat-a"),
        )
        .await
        .unwrap();

    aws.modify_listener_rule(&rule, &RouteMatch::PathPrefix("/feat-a/*".into()), &tg_b)
        .await
        .unwrap();
    let modify = &sent(&moto, "ModifyRule")[0];
    assert!(
        modify.contains("Conditions.member.1.PathPatternConfig.Values.member.1=%2Ffeat-a%2F%2A"),
        "{modify}"
    );
    let rules = aws.list_listener_rules(&listener_arn).await.unwrap();
    assert_eq!(
        rules[0],
        ListenerRuleState {
            arn: rule.clone(),
            priority: Some(7),
            hosts: vec![],
            paths: vec!["/feat-a/*".into()],
            target_group_arns: vec![tg_b.clone()],
            tags: env_tags("feat-a"),
        }
    );
    assert_eq!(rules.len(), 2, "{rules:?}");
}

/// Rules created by someone else may use the legacy `Values` condition form and `ForwardConfig`
/// actions; both read the same as envctl's own.
#[tokio::test]
async fn legacy_condition_values_and_forward_config_are_read() {
    let moto = Moto::start();
    let aws = moto.connect().await;
    let net = default_network(&moto).await;
    let (_, listener_arn) = alb_with_listener(&aws, &net).await;
    let tg = aws
        .create_target_group(&tg_spec("shop-legacy-web", &net))
        .await
        .unwrap();

    let raw = aws_sdk_elasticloadbalancingv2::Client::new(&moto.sdk_config());
    let forward = elb::Action::builder()
        .r#type(elb::ActionTypeEnum::Forward)
        .forward_config(
            elb::ForwardActionConfig::builder()
                .target_groups(
                    elb::TargetGroupTuple::builder()
                        .target_group_arn(&tg)
                        .build(),
                )
                .build(),
        )
        .build();
    let out = raw
        .create_rule()
        .listener_arn(&listener_arn)
        .priority(3)
        .conditions(
            elb::RuleCondition::builder()
                .field("host-header")
                .values("legacy.example.com")
                .build(),
        )
        .conditions(
            elb::RuleCondition::builder()
                .field("path-pattern")
                .values("/legacy/*")
                .build(),
        )
        .actions(forward)
        .send()
        .await
        .unwrap();
    let arn = out.rules()[0].rule_arn().unwrap().to_string();

    let rules = aws.list_listener_rules(&listener_arn).await.unwrap();
    assert_eq!(
        rules[0],
        ListenerRuleState {
            arn,
            priority: Some(3),
            hosts: vec!["legacy.example.com".into()],
            paths: vec!["/legacy/*".into()],
            target_group_arns: vec![tg],
            tags: Tags::new(),
        }
    );
}

/// DescribeTags takes at most 20 ARNs, so a busy listener needs several; DescribeRules asks for
/// ELB's largest page (400), so 56 rules are one call (moto's default page would be 50).
#[tokio::test]
async fn many_rules_and_target_groups_are_read_in_pages_and_tag_batches() {
    let moto = Moto::start();
    let aws = moto.connect().await;
    let net = default_network(&moto).await;
    let (_, listener_arn) = alb_with_listener(&aws, &net).await;

    let names: Vec<String> = (0..22).map(|i| format!("shop-env{i:02}-web")).collect();
    let mut tgs = Vec::new();
    for name in &names {
        tgs.push(aws.create_target_group(&tg_spec(name, &net)).await.unwrap());
    }
    moto.clear_recording();
    let groups = aws.describe_target_groups(&names).await.unwrap();
    assert_eq!(
        groups.iter().map(|g| g.name.clone()).collect::<Vec<_>>(),
        names
    );
    assert!(groups.iter().all(|g| g.tags == env_tags(&g.name)));
    assert_eq!(sent(&moto, "DescribeTargetGroups").len(), 2);
    assert_eq!(sent(&moto, "DescribeTags").len(), 2);

    for priority in 1..=55 {
        let tg = &tgs[priority as usize % tgs.len()];
        let route = host(&format!("env{priority}.preview.example.com"));
        let tags = env_tags(&format!("env{priority}"));
        aws.create_listener_rule(&listener_arn, priority, &route, tg, &tags)
            .await
            .unwrap();
    }
    moto.clear_recording();
    let rules = aws.list_listener_rules(&listener_arn).await.unwrap();
    assert_eq!(rules.len(), 56);
    let priorities: Vec<Option<i32>> = rules.iter().map(|r| r.priority).collect();
    let mut expected: Vec<Option<i32>> = (1..=55).map(Some).collect();
    expected.push(None);
    assert_eq!(priorities, expected);
    assert_eq!(rules[4].tags, env_tags("env5"));
    assert_eq!(rules[4].hosts, vec!["env5.preview.example.com".to_string()]);
    let describe_rules = sent(&moto, "DescribeRules");
    assert_eq!(describe_rules.len(), 1);
    assert!(
        describe_rules[0].contains("PageSize=400"),
        "{}",
        describe_rules[0]
    );
    assert_eq!(sent(&moto, "DescribeTags").len(), 3);
}

#[tokio::test]
async fn target_health_of_an_empty_or_missing_group_is_empty() {
    let moto = Moto::start();
    let aws = moto.connect().await;
    let net = default_network(&moto).await;
    let tg = aws
        .create_target_group(&tg_spec("shop-feat-a-web", &net))
        .await
        .unwrap();
    assert!(aws.describe_target_health(&tg).await.unwrap().is_empty());
    aws.delete_target_group(&tg).await.unwrap();
    assert!(aws.describe_target_health(&tg).await.unwrap().is_empty());
}
