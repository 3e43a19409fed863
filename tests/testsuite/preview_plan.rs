//! Preview URLs without AWS: rule priorities, target group and host names, and what the planner
//! does with a public service's target group and listener rule. The desired side is rendered from
//! the repository's templates and example config with `[preview]` on; the actual side is built by
//! hand the way `observe` reports it. Pure: no AWS, no network.
//!
//! These pin what the emulator cannot: the phase every action runs in, and that a converged env
//! plans nothing whatever priority its rule holds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use envctl::config::{self, LoadedConfig, Override};
use envctl::model::{
    ActualEnv, ClusterState, DesiredEnv, DesiredService, EnvIdentity, ListenerRuleState,
    ListenerState, LoadBalancerAttachment, LogGroupState, Ownership, RepositoryState, RouteMatch,
    ServiceState, Tags, TargetGroupState, TaskDefinitionState, TAG_APP, TAG_ENV, TAG_MANAGED_BY,
    TAG_SERVICE, TAG_SPEC_HASH,
};
use envctl::naming::{self, APP_MAX_LEN, SERVICE_KEY_MAX_LEN, SLUG_MAX_LEN};
use envctl::normalize;
use envctl::plan::{
    next_free_priority, plan_down, plan_up, route_text, Action, LbAttach, Plan, TargetGroupRef,
    TaskDefRef,
};
use envctl::render::{render_env, EnvOptions, Facts, Params, RenderRequest};
use proptest::prelude::*;

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";
const APP: &str = "shop";
const ENV: &str = "feat-x";
const CREATED_AT: &str = "2025-01-02T03:04:05Z";
const CLUSTER: &str = "envctl-shop";
const VPC: &str = "vpc-0ddd4444";
const DOMAIN: &str = "preview.example.test";
const LB: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/envctl-shop/50dc6c495c0c9188";
const LISTENER: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/envctl-shop/50dc6c495c0c9188/f2f7dc8efc522ab2";

/// A second service with a port, so it can be made public too.
const WORKER_CONFIG: &str = r#"
[services.worker]
image = "{{ repository_uri }}:{{ slug }}"
cpu = 256
memory = 512
port = 8080
"#;

/// Previews on, `web` public; schedules and expiry off so a converged env is short to build.
const PREVIEW_SETS: &[&str] = &[
    "preview.enabled=true",
    "preview.domain=preview.example.test",
    "services.web.public=true",
    "schedule.enabled=false",
    "expiry.ttl=never",
];

// ---------------------------------------------------------------------------------------------
// Pure helpers: priorities and names.

fn set(priorities: &[i32]) -> BTreeSet<i32> {
    priorities.iter().copied().collect()
}

#[test]
fn next_free_priority_takes_the_lowest_gap() {
    assert_eq!(next_free_priority(&set(&[])), 1);
    assert_eq!(next_free_priority(&set(&[2, 3])), 1);
    assert_eq!(next_free_priority(&set(&[1, 2, 4, 7])), 3);
    assert_eq!(next_free_priority(&set(&[1, 2, 3, 4, 5])), 6);
    let dense: BTreeSet<i32> = (1..=99).collect();
    assert_eq!(next_free_priority(&dense), 100);
}

fn is_tg_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
}

#[test]
fn target_group_name_fits_32_characters_and_is_stable() {
    let app = "a".repeat(APP_MAX_LEN);
    let svc = "s".repeat(SERVICE_KEY_MAX_LEN);
    let sl = naming::slug(&"x".repeat(200)).expect("slug");
    assert_eq!(sl.as_str().len(), SLUG_MAX_LEN);
    let name = naming::target_group(&app, &sl, &svc);
    assert!(is_tg_name(&name), "{name} ({} chars)", name.len());
    assert_eq!(name, naming::target_group(&app, &sl, &svc), "stable");

    // Short names are the service name itself, readable in the console.
    let short = naming::slug("feat-x").expect("slug");
    assert_eq!(
        naming::target_group("shop", &short, "web"),
        "shop-feat-x-web"
    );
    assert_eq!(
        naming::target_group("shop", &short, "web"),
        naming::service_name("shop", &short, "web")
    );
}

#[test]
fn long_target_group_names_sharing_a_prefix_stay_distinct() {
    // Both full names share their first 28 characters (more than a cut keeps).
    let a = naming::slug("feature-checkout-flow-a1").expect("slug");
    let b = naming::slug("feature-checkout-flow-b2").expect("slug");
    // Valid slugs pass through unchanged: the names differ only after the cut.
    assert_eq!(a.as_str(), "feature-checkout-flow-a1");
    let full_a = format!("shopfront-{a}-web");
    let full_b = format!("shopfront-{b}-web");
    assert!(full_a.len() > 32 && full_b.len() > 32);
    assert_eq!(full_a[..28], full_b[..28]);
    let (na, nb) = (
        naming::target_group("shopfront", &a, "web"),
        naming::target_group("shopfront", &b, "web"),
    );
    assert_ne!(na, nb);
    assert!(is_tg_name(&na), "{na}");
    assert!(is_tg_name(&nb), "{nb}");
    // Same env and app, other service: another group.
    assert_ne!(na, naming::target_group("shopfront", &a, "api"));
}

#[test]
fn preview_host_fits_dns_limits() {
    let svc = "s".repeat(SERVICE_KEY_MAX_LEN);
    let sl = naming::slug(&"x".repeat(200)).expect("slug");
    // `validate_preview` allows domains up to 200 characters of 63-character labels.
    let domain = format!(
        "{}.{}.{}.{}",
        "d".repeat(63),
        "e".repeat(63),
        "f".repeat(63),
        "g".repeat(8)
    );
    assert_eq!(domain.len(), 200);
    for single in [true, false] {
        let host = naming::preview_host(&sl, &svc, &domain, single);
        assert!(host.len() <= 253, "{} chars", host.len());
        let label = host.split('.').next().expect("a label");
        assert!(label.len() <= 63, "{label} is {} chars", label.len());
        for l in host.split('.') {
            assert!(
                !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'),
                "{host}"
            );
            assert!(
                l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{host}"
            );
        }
    }
    let sl = naming::slug("feat-x").expect("slug");
    assert_eq!(
        naming::preview_host(&sl, "web", DOMAIN, true),
        "feat-x.preview.example.test"
    );
    assert_eq!(
        naming::preview_host(&sl, "web", DOMAIN, false),
        "web-feat-x.preview.example.test"
    );
}

proptest! {
    #[test]
    fn target_group_names_are_valid_for_any_app_env_and_service(
        app in "[a-z][a-z0-9]{0,15}",
        raw in "[a-zA-Z0-9/_.-]{1,60}",
        svc in "[a-z][a-z0-9]{0,19}",
    ) {
        if let Ok(sl) = naming::slug(&raw) {
            let name = naming::target_group(&app, &sl, &svc);
            prop_assert!(is_tg_name(&name), "{} ({} chars)", name, name.len());
            prop_assert_eq!(&name, &naming::target_group(&app, &sl, &svc));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Desired side: the repo's templates with previews on.

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn facts() -> Facts {
    Facts {
        account: ACCOUNT.into(),
        region: REGION.into(),
        subnets: vec!["subnet-0aaa1111".into(), "subnet-0bbb2222".into()],
        security_groups: vec!["sg-0ccc3333".into()],
        execution_role_arn: format!("arn:aws:iam::{ACCOUNT}:role/envctl-shop-execution"),
        task_role_arn: None,
        scheduler_role_arn: None,
        preview_listener_arn: Some(LISTENER.into()),
        vpc_id: Some(VPC.into()),
    }
}

fn identity() -> EnvIdentity {
    EnvIdentity {
        app: APP.into(),
        env: ENV.into(),
        branch: ENV.into(),
        owner: "dev@example.test".into(),
        created_at: CREATED_AT.into(),
    }
}

fn owned_tags() -> Tags {
    identity().tags()
}

/// Renders the example config plus `worker`, with [`PREVIEW_SETS`] and then `extra` applied.
fn render(extra: &[&str]) -> DesiredEnv {
    render_config(true, extra)
}

fn render_config(worker: bool, extra: &[&str]) -> DesiredEnv {
    let mut text = std::fs::read_to_string(root().join("config/envctl.example.toml"))
        .expect("config/envctl.example.toml");
    if worker {
        text.push_str(WORKER_CONFIG);
    }
    let path = root().join("envctl.toml");
    let overrides: Vec<Override> = PREVIEW_SETS
        .iter()
        .chain(extra)
        .map(|s| s.parse().expect("test --set parses"))
        .collect();
    let config = config::parse(&path, &text, &overrides).expect("test config is valid");
    let loaded = LoadedConfig {
        config,
        path,
        dir: root(),
    };
    let env = naming::env_name(ENV).expect("valid env name");
    render_env(&RenderRequest {
        config: &loaded,
        env: &env,
        identity: identity(),
        facts: &facts(),
        params: &Params::default(),
        images: &BTreeMap::new(),
        env_vars: &BTreeMap::new(),
        options: &EnvOptions::default(),
    })
    .expect("repo templates render")
}

fn svc<'a>(d: &'a DesiredEnv, key: &str) -> &'a DesiredService {
    d.services
        .iter()
        .find(|s| s.key == key)
        .expect("service rendered")
}

// ---------------------------------------------------------------------------------------------
// Actual side.

fn tg_arn(name: &str) -> String {
    format!("arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{name}/0123456789abcdef")
}

fn rule_arn(n: i32) -> String {
    format!("arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener-rule/app/envctl-shop/50dc6c495c0c9188/f2f7dc8efc522ab2/{n:016x}")
}

fn td_arn(family: &str) -> String {
    format!("arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{family}:1")
}

fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn env_rule_tags(env: &str, service: &str) -> Tags {
    tags(&[
        (TAG_MANAGED_BY, "envctl"),
        (TAG_APP, APP),
        (TAG_ENV, env),
        (TAG_SERVICE, service),
    ])
}

fn host_rule(priority: i32, host: &str, tags: Tags) -> ListenerRuleState {
    ListenerRuleState {
        arn: rule_arn(priority),
        priority: Some(priority),
        hosts: vec![host.into()],
        paths: vec![],
        target_group_arns: vec![tg_arn(&format!("other-{priority}"))],
        tags,
    }
}

/// The listener's default rule, as DescribeRules lists it.
fn default_rule() -> ListenerRuleState {
    ListenerRuleState {
        arn: rule_arn(0),
        priority: None,
        hosts: vec![],
        paths: vec![],
        target_group_arns: vec![],
        tags: Tags::new(),
    }
}

/// A cluster and the shared listener with only its default rule: no env exists yet.
fn empty_listener() -> ActualEnv {
    ActualEnv {
        cluster: Some(ClusterState {
            name: CLUSTER.into(),
            arn: format!("arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}"),
            status: "ACTIVE".into(),
            capacity_providers: vec!["FARGATE".into(), "FARGATE_SPOT".into()],
            tags: envctl::model::app_tags(APP, "dev@example.test", CREATED_AT),
        }),
        listener: Some(ListenerState {
            arn: LISTENER.into(),
            load_balancer_arn: LB.into(),
            port: 80,
            protocol: "HTTP".into(),
        }),
        listener_rules: vec![default_rule()],
        ..Default::default()
    }
}

/// What `observe::for_up` returns after `up` applied `d`: every public service's rule (at
/// `first_priority`, then the next ones) and target group, each service registered with its group.
fn converged_at(d: &DesiredEnv, first_priority: i32) -> ActualEnv {
    let mut a = empty_listener();
    a.log_group = Some(LogGroupState {
        name: d.log_group.name.clone(),
        arn: format!(
            "arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{}",
            d.log_group.name
        ),
        retention_days: Some(d.log_group.retention_days),
        tags: owned_tags(),
    });
    a.repositories = d
        .repositories
        .iter()
        .map(|r| RepositoryState {
            name: r.name.clone(),
            arn: format!("arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{}", r.name),
            uri: format!("{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{}", r.name),
            lifecycle_policy: Some(r.lifecycle_policy.clone()),
            image_count: 0,
            tags: owned_tags(),
        })
        .collect();
    let mut priority = first_priority;
    for s in &d.services {
        let td = td_arn(&s.name);
        a.task_definitions.push(TaskDefinitionState {
            arn: td.clone(),
            family: s.name.clone(),
            revision: 1,
            status: "ACTIVE".into(),
            definition: Some(s.task_definition.clone()),
            tags: owned_tags(),
        });
        let mut service_tags = owned_tags();
        service_tags.insert(TAG_SPEC_HASH.into(), normalize::spec_hash(&s.service));
        let mut load_balancers = vec![];
        if let Some(p) = &s.preview {
            let tg = &p.target_group;
            a.target_groups.push(TargetGroupState {
                name: tg.name.clone(),
                arn: tg_arn(&tg.name),
                port: tg.port,
                vpc_id: tg.vpc_id.clone(),
                health_check_path: Some(tg.health_check_path.clone()),
                health_check_matcher: Some(tg.health_check_matcher.clone()),
                load_balancer_arns: vec![LB.into()],
                tags: tg.tags.clone(),
            });
            let (hosts, paths) = match &p.route {
                RouteMatch::Host(h) => (vec![h.clone()], vec![]),
                RouteMatch::PathPrefix(x) => (vec![], vec![x.clone()]),
            };
            a.listener_rules.insert(
                a.listener_rules.len() - 1,
                ListenerRuleState {
                    arn: rule_arn(priority),
                    priority: Some(priority),
                    hosts,
                    paths,
                    target_group_arns: vec![tg_arn(&tg.name)],
                    tags: tg.tags.clone(),
                },
            );
            priority += 1;
            load_balancers.push(LoadBalancerAttachment {
                target_group_arn: tg_arn(&tg.name),
                container_name: p.container_name.clone(),
                container_port: p.container_port,
            });
        }
        a.services.push(ServiceState {
            name: s.name.clone(),
            arn: format!(
                "arn:aws:ecs:{REGION}:{ACCOUNT}:service/{CLUSTER}/{}",
                s.name
            ),
            status: "ACTIVE".into(),
            desired_count: s.service.desired_count,
            running_count: s.service.desired_count,
            pending_count: 0,
            task_definition_arn: td,
            capacity_provider_strategy: vec![],
            launch_type: None,
            network: None,
            load_balancers,
            deployments: vec![],
            events: vec![],
            created_at: Some(CREATED_AT.into()),
            tags: service_tags,
        });
    }
    a.load_balancer_target_groups = a.target_groups.len();
    a.namespace = Some(envctl::model::NamespaceState {
        id: "ns-0123456789abcdef".into(),
        arn: format!("arn:aws:servicediscovery:{REGION}:{ACCOUNT}:namespace/ns-0123456789abcdef"),
        name: d.namespace.name.clone(),
        tags: d.identity.tags(),
    });
    a
}

fn converged(d: &DesiredEnv) -> ActualEnv {
    converged_at(d, 1)
}

// ---------------------------------------------------------------------------------------------
// Reading plans.

fn label(a: &Action) -> String {
    let v = serde_json::to_value(a).expect("actions serialize");
    let kind = v["action"].as_str().unwrap_or_default().to_string();
    let subject = match a {
        Action::CreateTargetGroup { spec, .. } => spec.name.clone(),
        Action::CreateListenerRule {
            route, priority, ..
        } => format!("{} @{priority}", route_text(route)),
        Action::ModifyListenerRule { route, .. } => route_text(route),
        Action::DeleteListenerRule { route, .. } => route.clone(),
        _ => ["family", "name", "repository"]
            .iter()
            .find_map(|k| v[k].as_str())
            .unwrap_or_default()
            .to_string(),
    };
    format!("{kind} {subject}")
}

fn labels(plan: &Plan) -> Vec<String> {
    plan.actions.iter().map(label).collect()
}

/// Only the preview-related actions and the service actions, in plan order.
fn preview_labels(plan: &Plan) -> Vec<String> {
    plan.actions
        .iter()
        .filter(|a| {
            matches!(
                a,
                Action::CreateTargetGroup { .. }
                    | Action::CreateListenerRule { .. }
                    | Action::ModifyListenerRule { .. }
                    | Action::DeleteListenerRule { .. }
                    | Action::DeleteTargetGroup { .. }
                    | Action::CreateService { .. }
                    | Action::UpdateService { .. }
                    | Action::DeleteService { .. }
            )
        })
        .map(label)
        .collect()
}

fn find<'a>(plan: &'a Plan, pred: impl Fn(&Action) -> bool, what: &str) -> &'a Action {
    plan.actions
        .iter()
        .find(|a| pred(a))
        .unwrap_or_else(|| panic!("no {what} in {:?}", labels(plan)))
}

/// Phases a plan's actions in the order apply runs them.
fn phase_of(plan: &Plan, pred: impl Fn(&Action) -> bool, what: &str) -> u8 {
    find(plan, pred, what).phase()
}

fn rule_priorities(plan: &Plan) -> Vec<i32> {
    plan.actions
        .iter()
        .filter_map(|a| match a {
            Action::CreateListenerRule { priority, .. } => Some(*priority),
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Planner.

#[test]
fn render_builds_the_route_from_the_config() {
    let d = render(&[]);
    let web = svc(&d, "web").preview.as_ref().expect("web is public");
    assert_eq!(web.route, RouteMatch::Host(format!("{ENV}.{DOMAIN}")));
    assert_eq!(web.url, "http://feat-x.preview.example.test/");
    assert_eq!(web.target_group.name, "shop-feat-x-web");
    assert_eq!(web.target_group.vpc_id, VPC);
    assert_eq!(web.target_group.port, 80);
    assert_eq!(web.target_group.health_check_path, "/");
    assert_eq!(web.target_group.health_check_matcher, "200-399");
    assert_eq!(web.container_name, "web");
    assert_eq!(web.container_port, 80);
    assert_eq!(
        web.target_group.tags.get(TAG_SERVICE).map(String::as_str),
        Some("web")
    );
    assert!(svc(&d, "worker").preview.is_none());
    let listener = d.preview.as_ref().expect("listener spec");
    assert_eq!(listener.listener_arn, LISTENER);
    assert_eq!((listener.max_rules, listener.max_target_groups), (100, 100));

    let path = render(&["preview.mode=path", "preview.scheme=https"]);
    let web = svc(&path, "web").preview.as_ref().expect("web is public");
    assert_eq!(web.route, RouteMatch::PathPrefix("/feat-x/*".into()));
    assert_eq!(web.url, "https://preview.example.test/feat-x/");

    let two = render(&["services.worker.public=true"]);
    let hosts: Vec<&RouteMatch> = two
        .services
        .iter()
        .filter_map(|s| s.preview.as_ref().map(|p| &p.route))
        .collect();
    assert_eq!(
        hosts,
        [
            &RouteMatch::Host("web-feat-x.preview.example.test".into()),
            &RouteMatch::Host("worker-feat-x.preview.example.test".into()),
        ]
    );
    assert_eq!(
        svc(&two, "worker")
            .preview
            .as_ref()
            .map(|p| p.container_port),
        Some(8080)
    );
}

#[test]
fn create_puts_target_group_then_rule_then_service() {
    let d = render(&[]);
    let plan = plan_up(&d, &empty_listener());
    assert!(plan.conflicts.is_empty(), "{:?}", plan.conflicts);
    assert!(plan.capacity.is_empty(), "{:?}", plan.capacity);
    assert_eq!(
        preview_labels(&plan),
        [
            "create_target_group shop-feat-x-web",
            "create_listener_rule host feat-x.preview.example.test @1",
            "create_service shop-feat-x-web",
            "create_service shop-feat-x-worker",
        ]
    );
    let tg = phase_of(
        &plan,
        |a| matches!(a, Action::CreateTargetGroup { .. }),
        "CreateTargetGroup",
    );
    let rule = phase_of(
        &plan,
        |a| matches!(a, Action::CreateListenerRule { .. }),
        "CreateListenerRule",
    );
    let service = phase_of(
        &plan,
        |a| matches!(a, Action::CreateService { name, .. } if name == "shop-feat-x-web"),
        "CreateService",
    );
    assert_eq!((tg, rule, service), (0, 1, 2));

    let Action::CreateListenerRule {
        listener_arn,
        target_group,
        tags,
        ..
    } = find(
        &plan,
        |a| matches!(a, Action::CreateListenerRule { .. }),
        "rule",
    )
    else {
        unreachable!()
    };
    assert_eq!(listener_arn, LISTENER);
    assert_eq!(
        *target_group,
        TargetGroupRef::Created("shop-feat-x-web".into())
    );
    assert_eq!(tags.get(TAG_ENV).map(String::as_str), Some(ENV));
    assert_eq!(tags.get(TAG_SERVICE).map(String::as_str), Some("web"));

    for (name, want) in [
        (
            "shop-feat-x-web",
            Some(LbAttach {
                target_group: TargetGroupRef::Created("shop-feat-x-web".into()),
                container_name: "web".into(),
                container_port: 80,
            }),
        ),
        ("shop-feat-x-worker", None),
    ] {
        let Action::CreateService { load_balancer, .. } = find(
            &plan,
            |a| matches!(a, Action::CreateService { name: n, .. } if n == name),
            name,
        ) else {
            unreachable!()
        };
        assert_eq!(*load_balancer, want, "{name}");
    }
    insta::assert_yaml_snapshot!("create", plan);
}

#[test]
fn converged_public_env_plans_nothing() {
    let d = render(&[]);
    let plan = plan_up(&d, &converged(&d));
    assert!(plan.is_empty(), "{:?}", labels(&plan));
    assert!(plan.conflicts.is_empty() && plan.capacity.is_empty());

    // Whatever priority its rule got (another env took the lower ones), and however full the
    // listener is: nothing new is needed, so nothing is refused.
    let mut actual = converged_at(&d, 42);
    for p in 1..=99 {
        if p != 42 {
            actual
                .listener_rules
                .push(host_rule(p, &format!("x{p}.other.test"), Tags::new()));
        }
    }
    actual.load_balancer_target_groups = 100;
    let plan = plan_up(&d, &actual);
    assert!(plan.is_empty(), "{:?}", labels(&plan));
    assert!(plan.capacity.is_empty(), "{:?}", plan.capacity);
    insta::assert_yaml_snapshot!("converged", plan);
}

#[test]
fn public_off_detaches_then_deletes_rule_then_target_group() {
    let before = render(&[]);
    let after = render(&["services.web.public=false"]);
    assert!(
        after.preview.is_some(),
        "the listener is still observed with no public service"
    );
    let plan = plan_up(&after, &converged(&before));
    assert!(plan.conflicts.is_empty(), "{:?}", plan.conflicts);
    assert_eq!(
        preview_labels(&plan),
        [
            "update_service shop-feat-x-web",
            "delete_listener_rule host feat-x.preview.example.test",
            "delete_target_group shop-feat-x-web",
        ]
    );
    let Action::UpdateService {
        load_balancer,
        changes,
        task_definition,
        ..
    } = find(
        &plan,
        |a| matches!(a, Action::UpdateService { .. }),
        "UpdateService",
    )
    else {
        unreachable!()
    };
    assert_eq!(*load_balancer, None);
    assert_eq!(changes, &["detach from the preview target group"]);
    assert_eq!(
        *task_definition,
        TaskDefRef::Existing(td_arn("shop-feat-x-web"))
    );
    let update = phase_of(
        &plan,
        |a| matches!(a, Action::UpdateService { .. }),
        "UpdateService",
    );
    let rule = phase_of(
        &plan,
        |a| matches!(a, Action::DeleteListenerRule { arn, .. } if *arn == rule_arn(1)),
        "DeleteListenerRule",
    );
    let tg = phase_of(
        &plan,
        |a| matches!(a, Action::DeleteTargetGroup { arn, .. } if *arn == tg_arn("shop-feat-x-web")),
        "DeleteTargetGroup",
    );
    assert!(update < rule && rule < tg, "{update} {rule} {tg}");
    insta::assert_yaml_snapshot!("public_off", plan);

    // Converged again: the service detached, the rule and group gone.
    let mut done = converged(&after);
    done.listener_rules.retain(|r| r.priority.is_none());
    assert!(plan_up(&after, &done).is_empty());
}

#[test]
fn full_listener_or_load_balancer_is_a_capacity_error() {
    let d = render(&["preview.max_rules=2"]);
    let mut actual = empty_listener();
    actual.listener_rules.insert(
        0,
        host_rule(1, "a.other.test", env_rule_tags("other-a", "web")),
    );
    actual
        .listener_rules
        .insert(1, host_rule(2, "b.other.test", Tags::new()));
    let plan = plan_up(&d, &actual);
    assert_eq!(plan.capacity.len(), 1, "{:?}", plan.capacity);
    assert!(
        plan.capacity[0].contains("holds 2 of 2 rules"),
        "{:?}",
        plan.capacity
    );
    assert!(
        plan.capacity[0].contains("needs 1 more"),
        "{:?}",
        plan.capacity
    );

    let d = render(&[]);
    let mut actual = empty_listener();
    actual.load_balancer_target_groups = 100;
    let plan = plan_up(&d, &actual);
    assert_eq!(plan.capacity.len(), 1, "{:?}", plan.capacity);
    assert!(
        plan.capacity[0].contains("holds 100 of 100 target groups"),
        "{:?}",
        plan.capacity
    );

    // One slot left, two public services: refused as a whole, not half created.
    let d = render(&["services.worker.public=true", "preview.max_rules=3"]);
    let mut actual = empty_listener();
    for p in [1, 2] {
        actual
            .listener_rules
            .insert(0, host_rule(p, &format!("x{p}.other.test"), Tags::new()));
    }
    let plan = plan_up(&d, &actual);
    assert!(
        plan.capacity
            .iter()
            .any(|c| c.contains("holds 2 of 3 rules") && c.contains("needs 2 more")),
        "{:?}",
        plan.capacity
    );
}

#[test]
fn new_rules_take_free_priorities_and_two_services_get_two() {
    let d = render(&[]);
    let mut actual = empty_listener();
    for p in [4, 2, 1] {
        actual
            .listener_rules
            .insert(0, host_rule(p, &format!("x{p}.other.test"), Tags::new()));
    }
    assert_eq!(rule_priorities(&plan_up(&d, &actual)), [3]);

    let two = render(&["services.worker.public=true"]);
    let plan = plan_up(&two, &actual);
    assert!(plan.conflicts.is_empty(), "{:?}", plan.conflicts);
    assert_eq!(rule_priorities(&plan), [3, 5]);
    assert_eq!(
        preview_labels(&plan),
        [
            "create_target_group shop-feat-x-web",
            "create_listener_rule host web-feat-x.preview.example.test @3",
            "create_service shop-feat-x-web",
            "create_target_group shop-feat-x-worker",
            "create_listener_rule host worker-feat-x.preview.example.test @5",
            "create_service shop-feat-x-worker",
        ]
    );
    insta::assert_yaml_snapshot!("two_public_services", plan);
}

#[test]
fn another_envs_rule_on_the_same_host_is_a_conflict() {
    let d = render(&[]);
    let host = format!("{ENV}.{DOMAIN}");
    for (tags, owner) in [
        (
            env_rule_tags("other", "web"),
            Ownership::OtherEnv {
                app: APP.into(),
                env: "other".into(),
            },
        ),
        (Tags::new(), Ownership::Foreign),
    ] {
        let mut actual = empty_listener();
        actual.listener_rules.insert(0, host_rule(7, &host, tags));
        let plan = plan_up(&d, &actual);
        assert_eq!(plan.conflicts.len(), 1, "{:?}", plan.conflicts);
        let c = &plan.conflicts[0];
        assert_eq!(c.kind, "listener rule");
        assert_eq!(c.name, "host feat-x.preview.example.test (priority 7)");
        assert_eq!(c.owner, owner);
        // Nothing would route to the env: no rule is planned over the other one.
        assert!(rule_priorities(&plan).is_empty(), "{:?}", labels(&plan));
    }

    // Its target group name held by someone else is a conflict too.
    let mut actual = empty_listener();
    actual.target_groups.push(TargetGroupState {
        name: "shop-feat-x-web".into(),
        arn: tg_arn("shop-feat-x-web"),
        port: 80,
        vpc_id: VPC.into(),
        health_check_path: None,
        health_check_matcher: None,
        load_balancer_arns: vec![],
        tags: Tags::new(),
    });
    let plan = plan_up(&d, &actual);
    assert_eq!(plan.conflicts.len(), 1, "{:?}", plan.conflicts);
    assert_eq!(plan.conflicts[0].kind, "target group");
    assert_eq!(plan.conflicts[0].owner, Ownership::Foreign);
}

/// Regression: the env's own rule for another service on the same host (`public` moved from
/// `web` to `worker`, both served at `<env>.<domain>`) was reported as a conflict with itself.
#[test]
fn moving_public_to_another_service_replaces_the_env_own_rule() {
    let before = render(&[]);
    let after = render(&["services.web.public=false", "services.worker.public=true"]);
    let plan = plan_up(&after, &converged(&before));
    assert!(plan.conflicts.is_empty(), "{:?}", plan.conflicts);
    assert_eq!(
        preview_labels(&plan),
        [
            "update_service shop-feat-x-web",
            "create_target_group shop-feat-x-worker",
            "create_listener_rule host feat-x.preview.example.test @2",
            "update_service shop-feat-x-worker",
            "delete_listener_rule host feat-x.preview.example.test",
            "delete_target_group shop-feat-x-web",
        ]
    );
}

#[test]
fn public_service_removed_from_config_loses_its_rule_and_target_group() {
    let before = render(&["services.worker.public=true"]);
    let after = render_config(false, &[]);
    let plan = plan_up(&after, &converged(&before));
    assert!(plan.conflicts.is_empty(), "{:?}", plan.conflicts);
    assert_eq!(
        preview_labels(&plan),
        [
            // web is the only public service now: its host loses the service prefix.
            "modify_listener_rule host feat-x.preview.example.test",
            "delete_listener_rule host worker-feat-x.preview.example.test",
            "delete_target_group shop-feat-x-worker",
            "delete_service shop-feat-x-worker",
        ]
    );
    let phase = |pred: &dyn Fn(&Action) -> bool| {
        plan.actions
            .iter()
            .find(|a| pred(a))
            .map(Action::phase)
            .expect("action")
    };
    let service = phase(&|a| matches!(a, Action::DeleteService { .. }));
    let rule = phase(&|a| matches!(a, Action::DeleteListenerRule { .. }));
    let tg = phase(&|a| matches!(a, Action::DeleteTargetGroup { .. }));
    assert!(service < tg && rule < tg, "{service} {rule} {tg}");
}

#[test]
fn a_second_public_service_renames_the_first_host() {
    let before = render(&[]);
    let after = render(&["services.worker.public=true"]);
    let plan = plan_up(&after, &converged(&before));
    assert!(plan.conflicts.is_empty(), "{:?}", plan.conflicts);
    assert_eq!(
        preview_labels(&plan),
        [
            "modify_listener_rule host web-feat-x.preview.example.test",
            "create_target_group shop-feat-x-worker",
            "create_listener_rule host worker-feat-x.preview.example.test @2",
            "update_service shop-feat-x-worker",
        ]
    );
    let Action::ModifyListenerRule {
        arn,
        target_group_arn,
        ..
    } = find(
        &plan,
        |a| matches!(a, Action::ModifyListenerRule { .. }),
        "ModifyListenerRule",
    )
    else {
        unreachable!()
    };
    assert_eq!(*arn, rule_arn(1), "the rule keeps its priority");
    assert_eq!(*target_group_arn, tg_arn("shop-feat-x-web"));
}

#[test]
fn path_mode_converges_and_switching_mode_modifies_the_rule() {
    let path = render(&["preview.mode=path"]);
    assert!(plan_up(&path, &converged(&path)).is_empty());
    let host = render(&[]);
    let plan = plan_up(&path, &converged(&host));
    assert_eq!(
        preview_labels(&plan),
        ["modify_listener_rule path /feat-x/*"]
    );
}

#[test]
fn down_deletes_only_the_env_own_rules_and_target_groups() {
    let d = render(&["services.worker.public=true"]);
    let mut actual = converged(&d);
    actual.listener_rules.insert(
        0,
        host_rule(
            9,
            "feat-y.preview.example.test",
            env_rule_tags("feat-y", "web"),
        ),
    );
    actual
        .listener_rules
        .insert(0, host_rule(8, "x.other.test", Tags::new()));
    let plan = plan_down(APP, ENV, &actual);
    let mut deleted_rules: Vec<&str> = plan
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::DeleteListenerRule { arn, .. } => Some(arn.as_str()),
            _ => None,
        })
        .collect();
    deleted_rules.sort();
    assert_eq!(deleted_rules, [rule_arn(1), rule_arn(2)]);
    let deleted_groups: Vec<&str> = plan
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::DeleteTargetGroup { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(deleted_groups, ["shop-feat-x-web", "shop-feat-x-worker"]);
    // Services go before their target groups; rules before the groups they forward to.
    let max_rule = plan
        .actions
        .iter()
        .filter(|a| {
            matches!(
                a,
                Action::DeleteListenerRule { .. } | Action::DeleteService { .. }
            )
        })
        .map(Action::phase)
        .max();
    let min_tg = plan
        .actions
        .iter()
        .filter(|a| matches!(a, Action::DeleteTargetGroup { .. }))
        .map(Action::phase)
        .min();
    assert!(max_rule < min_tg, "{max_rule:?} {min_tg:?}");
}
