//! Planner snapshots. The desired side is rendered from the repository's own templates and
//! example config; the actual side is built by hand the way AWS reports a converged env (defaults
//! filled in, lists reordered, policies reformatted). Pure: no AWS, no network.
//!
//! These pin what the emulator cannot: moto silently replaces a resource created twice, so only
//! the plan shows that `up` never creates what already exists.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use envctl::config::{self, LoadedConfig, Override};
use envctl::model::{
    ActualEnv, ClusterState, DeploymentState, DesiredEnv, DesiredService, EnvIdentity,
    LogGroupState, Ownership, ParameterState, RepositorySpec, RepositoryState, ServiceEvent,
    ServiceState, Tags, TaskDefinition, TaskDefinitionState, TAG_APP, TAG_ENV, TAG_MANAGED_BY,
    TAG_SPEC_HASH,
};
use envctl::naming;
use envctl::normalize;
use envctl::plan::{plan_down, plan_up, short_td, Action, Conflict, Plan, TaskDefRef};
use envctl::render::{render_env, Facts, Params, RenderRequest};

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";
const APP: &str = "shop";
const ENV: &str = "feat-x";
const CREATED_AT: &str = "2025-01-02T03:04:05Z";
const CLUSTER: &str = "envctl-shop";
const WEB: &str = "shop-feat-x-web";
const WORKER: &str = "shop-feat-x-worker";

/// Appended to the example config: a second service, so plans show what changes and what stays.
const WORKER_CONFIG: &str = r#"
[services.worker]
image = "{{ repository_uri }}:{{ slug }}"
cpu = 512
memory = 1024
count = 2
on_demand_base = 1
command = ["bin/worker", "--queue", "default"]
"#;

// ---------------------------------------------------------------------------------------------
// Desired side: render the repo's templates.

struct Inputs {
    worker: bool,
    sets: Vec<&'static str>,
    params: Params,
    created_at: &'static str,
}

impl Default for Inputs {
    fn default() -> Self {
        Inputs {
            worker: true,
            sets: vec![],
            params: base_params(),
            created_at: CREATED_AT,
        }
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn base_params() -> Params {
    let mut p = Params::default();
    for (k, v) in [
        ("API_URL", "https://api.example.test"),
        ("LOG_LEVEL", "info"),
        ("WORKERS", "4"),
    ] {
        p.plain.insert(k.into(), v.into());
    }
    p
}

fn facts() -> Facts {
    Facts {
        account: ACCOUNT.into(),
        region: REGION.into(),
        subnets: vec!["subnet-0aaa1111".into(), "subnet-0bbb2222".into()],
        security_groups: vec!["sg-0ccc3333".into()],
        execution_role_arn: format!("arn:aws:iam::{ACCOUNT}:role/envctl-shop-execution"),
        task_role_arn: None,
    }
}

fn identity(created_at: &str) -> EnvIdentity {
    EnvIdentity {
        app: APP.into(),
        env: ENV.into(),
        branch: ENV.into(),
        owner: "dev@example.test".into(),
        created_at: created_at.into(),
    }
}

fn owned_tags() -> Tags {
    identity(CREATED_AT).tags()
}

fn render(inputs: &Inputs) -> DesiredEnv {
    let mut text = std::fs::read_to_string(root().join("config/envctl.example.toml"))
        .expect("config/envctl.example.toml");
    if inputs.worker {
        text.push_str(WORKER_CONFIG);
    }
    let path = root().join("envctl.toml");
    let overrides: Vec<Override> = inputs
        .sets
        .iter()
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
        identity: identity(inputs.created_at),
        facts: &facts(),
        params: &inputs.params,
        images: &BTreeMap::new(),
        env_vars: &BTreeMap::new(),
    })
    .expect("repo templates render")
}

fn desired() -> DesiredEnv {
    render(&Inputs::default())
}

fn service<'a>(d: &'a DesiredEnv, name: &str) -> &'a DesiredService {
    d.services
        .iter()
        .find(|s| s.name == name)
        .expect("service rendered")
}

// ---------------------------------------------------------------------------------------------
// Actual side: what AWS reports after a converged `up`.

fn td_arn(family: &str, revision: i32) -> String {
    format!("arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{family}:{revision}")
}

fn cluster() -> ClusterState {
    ClusterState {
        name: CLUSTER.into(),
        arn: format!("arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}"),
        status: "ACTIVE".into(),
        capacity_providers: vec!["FARGATE".into(), "FARGATE_SPOT".into()],
        tags: envctl::model::app_tags(APP, "dev@example.test", CREATED_AT),
    }
}

/// A task definition as DescribeTaskDefinition echoes it: defaults filled in, lists reordered.
fn echoed(td: &TaskDefinition) -> TaskDefinition {
    let mut e = td.clone();
    let awsvpc = e.network_mode.as_deref() == Some("awsvpc");
    for c in &mut e.container_definitions {
        c.essential.get_or_insert(true);
        for p in &mut c.port_mappings {
            p.protocol.get_or_insert_with(|| "tcp".into());
            if awsvpc {
                p.host_port.get_or_insert(p.container_port);
            }
        }
        c.environment.reverse();
        c.secrets.reverse();
    }
    e
}

fn revision(svc: &DesiredService, revision: i32) -> TaskDefinitionState {
    TaskDefinitionState {
        arn: td_arn(&svc.name, revision),
        family: svc.name.clone(),
        revision,
        status: "ACTIVE".into(),
        definition: Some(echoed(&svc.task_definition)),
        tags: owned_tags(),
    }
}

/// The service as DescribeServices reports it, running `td`, tagged by the `up` that made it.
fn running(svc: &DesiredService, td: &str) -> ServiceState {
    let def = &svc.service;
    let mut strategy = def.capacity_provider_strategy.clone();
    strategy.reverse();
    let network = def.network_configuration.as_ref().map(|n| {
        let mut v = n.awsvpc_configuration.clone();
        v.subnets.reverse();
        v
    });
    let mut tags = owned_tags();
    tags.insert(TAG_SPEC_HASH.into(), normalize::spec_hash(def));
    ServiceState {
        name: svc.name.clone(),
        arn: format!(
            "arn:aws:ecs:{REGION}:{ACCOUNT}:service/{CLUSTER}/{}",
            svc.name
        ),
        status: "ACTIVE".into(),
        desired_count: def.desired_count,
        running_count: def.desired_count,
        pending_count: 0,
        task_definition_arn: td.into(),
        capacity_provider_strategy: strategy,
        launch_type: None,
        network,
        deployments: vec![DeploymentState {
            id: "ecs-svc/1234567890123456789".into(),
            status: "PRIMARY".into(),
            rollout_state: Some("COMPLETED".into()),
            task_definition_arn: td.into(),
            desired_count: def.desired_count,
            running_count: def.desired_count,
            pending_count: 0,
            failed_tasks: 0,
            updated_at: Some(CREATED_AT.into()),
        }],
        events: vec![ServiceEvent {
            at: CREATED_AT.into(),
            message: format!("(service {}) has reached a steady state.", svc.name),
        }],
        created_at: Some(CREATED_AT.into()),
        tags,
    }
}

fn log_group(d: &DesiredEnv) -> LogGroupState {
    LogGroupState {
        name: d.log_group.name.clone(),
        arn: format!(
            "arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{}",
            d.log_group.name
        ),
        retention_days: Some(d.log_group.retention_days),
        tags: owned_tags(),
    }
}

/// JSON text with every object's keys in reverse order, indented: the same policy, spelled
/// differently from the compact sorted text render produces.
fn respelled(v: &serde_json::Value, indent: usize) -> String {
    let pad = "  ".repeat(indent + 1);
    let end = "  ".repeat(indent);
    match v {
        serde_json::Value::Object(m) => {
            let items: Vec<String> = m
                .iter()
                .rev()
                .map(|(k, v)| format!("{pad}{k:?}: {}", respelled(v, indent + 1)))
                .collect();
            format!("{{\n{}\n{end}}}", items.join(",\n"))
        }
        serde_json::Value::Array(a) => {
            let items: Vec<String> = a
                .iter()
                .map(|v| format!("{pad}{}", respelled(v, indent + 1)))
                .collect();
            format!("[\n{}\n{end}]", items.join(",\n"))
        }
        other => other.to_string(),
    }
}

fn repository(spec: &RepositorySpec) -> RepositoryState {
    let policy: serde_json::Value =
        serde_json::from_str(&spec.lifecycle_policy).expect("rendered policy is JSON");
    RepositoryState {
        name: spec.name.clone(),
        arn: format!("arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{}", spec.name),
        uri: format!("{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{}", spec.name),
        lifecycle_policy: Some(respelled(&policy, 0)),
        image_count: 3,
        tags: owned_tags(),
    }
}

/// What `observe::env_for_up` returns after `up` applied `d` (every service on `rev`).
fn converged_at(d: &DesiredEnv, rev: i32) -> ActualEnv {
    ActualEnv {
        cluster: Some(cluster()),
        log_group: Some(log_group(d)),
        services: d
            .services
            .iter()
            .map(|s| running(s, &td_arn(&s.name, rev)))
            .collect(),
        task_definitions: d.services.iter().map(|s| revision(s, rev)).collect(),
        repositories: d.repositories.iter().map(repository).collect(),
        parameters: vec![],
    }
}

fn converged(d: &DesiredEnv) -> ActualEnv {
    converged_at(d, 1)
}

fn nothing() -> ActualEnv {
    ActualEnv {
        cluster: Some(cluster()),
        ..Default::default()
    }
}

fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn other_env_tags(env: &str) -> Tags {
    tags(&[(TAG_MANAGED_BY, "envctl"), (TAG_APP, APP), (TAG_ENV, env)])
}

// ---------------------------------------------------------------------------------------------
// Reading plans.

/// `<action> <resource>`, e.g. `create_service shop-feat-x-web`.
fn label(a: &Action) -> String {
    let v = serde_json::to_value(a).expect("actions serialize");
    let kind = v["action"].as_str().unwrap_or_default().to_string();
    let subject = match a {
        Action::DeregisterTaskDefinition { arn } => short_td(arn).to_string(),
        Action::DeleteParameters { names } => names.join(","),
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

/// The family a service action runs, or the family an action registers/deregisters.
fn family(a: &Action) -> Option<&str> {
    match a {
        Action::RegisterTaskDefinition { family, .. } => Some(family),
        Action::CreateService { name, .. }
        | Action::UpdateService { name, .. }
        | Action::DeleteService { name, .. } => Some(name),
        Action::DeregisterTaskDefinition { arn } => short_td(arn).rsplit_once(':').map(|p| p.0),
        _ => None,
    }
}

fn service_td(a: &Action) -> Option<&TaskDefRef> {
    match a {
        Action::CreateService {
            task_definition, ..
        }
        | Action::UpdateService {
            task_definition, ..
        } => Some(task_definition),
        _ => None,
    }
}

/// Dependency and safety invariants every plan must keep, whatever it does.
fn check_invariants(plan: &Plan) {
    let acts = &plan.actions;
    let max_phase = acts.iter().map(Action::phase).max().unwrap_or(0);
    let mut created = BTreeSet::new();
    for a in acts {
        let p = a.phase();
        // Nothing is created twice within one plan.
        if let Action::CreateLogGroup { name, .. }
        | Action::CreateRepository { name, .. }
        | Action::CreateService { name, .. } = a
        {
            assert!(created.insert(name.clone()), "{name} created twice");
        }
        // A service action that runs a new revision needs its registration in an earlier phase;
        // one that runs an existing revision needs none.
        if let Some(td) = service_td(a) {
            let fam = family(a).unwrap_or_default();
            let registers: Vec<&Action> = acts
                .iter()
                .filter(
                    |r| matches!(r, Action::RegisterTaskDefinition { family, .. } if family == fam),
                )
                .collect();
            match td {
                TaskDefRef::Registered(f) => {
                    assert_eq!(f, fam, "{}", label(a));
                    assert_eq!(registers.len(), 1, "{}", label(a));
                    assert!(
                        registers[0].phase() < p,
                        "{} not after its registration",
                        label(a)
                    );
                }
                TaskDefRef::Existing(arn) => {
                    assert!(
                        registers.is_empty(),
                        "{} registers an unused revision",
                        label(a)
                    );
                    assert!(
                        short_td(arn).starts_with(&format!("{fam}:")),
                        "{}",
                        label(a)
                    );
                }
            }
            // Tasks log to the env's log group.
            for lg in acts
                .iter()
                .filter(|x| matches!(x, Action::CreateLogGroup { .. }))
            {
                assert!(lg.phase() < p, "{} before its log group", label(a));
            }
        }
        // Every registration is used by exactly one service action.
        if let Action::RegisterTaskDefinition { family: fam, .. } = a {
            let users = acts
                .iter()
                .filter(|s| matches!(service_td(s), Some(TaskDefRef::Registered(f)) if f == fam))
                .count();
            assert_eq!(users, 1, "registration of {fam} used {users} times");
        }
        if let Action::PutLifecyclePolicy { repository, .. } = a {
            for c in acts.iter().filter(
                |c| matches!(c, Action::CreateRepository { name, .. } if name == repository),
            ) {
                assert!(
                    c.phase() < p,
                    "policy on {repository} before the repository"
                );
            }
        }
        // A service stops before its revisions go away; the log group is deleted last.
        if let Action::DeregisterTaskDefinition { .. } = a {
            let fam = family(a).unwrap_or_default();
            for d in acts
                .iter()
                .filter(|d| matches!(d, Action::DeleteService { name, .. } if name == fam))
            {
                assert!(d.phase() < p, "{} before its service is deleted", label(a));
            }
        }
        if let Action::DeleteRepository { .. } = a {
            for d in acts
                .iter()
                .filter(|d| matches!(d, Action::DeleteService { .. }))
            {
                assert!(d.phase() < p, "repository deleted while services run");
            }
        }
        if let Action::DeleteLogGroup { .. } = a {
            assert_eq!(p, max_phase, "log group deleted before the end");
            assert!(
                acts.iter()
                    .filter(|o| !matches!(o, Action::DeleteLogGroup { .. }))
                    .all(|o| o.phase() < p),
                "log group deleted in the same phase as other actions"
            );
        }
    }
    // Nothing envctl does touches a name that belongs to someone else.
    for c in plan.conflicts.iter().chain(&plan.skipped) {
        for a in acts {
            let v = serde_json::to_value(a).expect("actions serialize");
            for k in ["name", "family", "repository"] {
                assert_ne!(
                    v[k].as_str(),
                    Some(c.name.as_str()),
                    "{} touches {c}",
                    label(a)
                );
            }
            if let Action::DeleteParameters { names } = a {
                assert!(!names.contains(&c.name), "deletes {c}");
            }
        }
    }
}

fn plan_up_checked(d: &DesiredEnv, actual: &ActualEnv) -> Plan {
    let plan = plan_up(d, actual);
    check_invariants(&plan);
    plan
}

fn updates<'a>(plan: &'a Plan, name: &str) -> (&'a TaskDefRef, &'a Vec<String>, &'a str) {
    plan.actions
        .iter()
        .find_map(|a| match a {
            Action::UpdateService {
                name: n,
                task_definition,
                changes,
                spec_hash,
                ..
            } if n == name => Some((task_definition, changes, spec_hash.as_str())),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no UpdateService for {name}: {:?}", labels(plan)))
}

fn registration_diff<'a>(plan: &'a Plan, fam: &str) -> &'a str {
    plan.actions
        .iter()
        .find_map(|a| match a {
            Action::RegisterTaskDefinition { family, diff, .. } if family == fam => diff.as_deref(),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no RegisterTaskDefinition with a diff for {fam}"))
}

// ---------------------------------------------------------------------------------------------
// up

#[test]
fn create_from_nothing() {
    let d = desired();
    let plan = plan_up_checked(&d, &nothing());
    assert!(plan.conflicts.is_empty());
    assert_eq!(
        labels(&plan),
        [
            "create_log_group /envctl/shop/feat-x",
            "create_repository envctl/shop/feat-x/web",
            "put_lifecycle_policy envctl/shop/feat-x/web",
            "create_repository envctl/shop/feat-x/worker",
            "put_lifecycle_policy envctl/shop/feat-x/worker",
            "register_task_definition shop-feat-x-web",
            "create_service shop-feat-x-web",
            "register_task_definition shop-feat-x-worker",
            "create_service shop-feat-x-worker",
        ]
    );
    for a in &plan.actions {
        if let Action::CreateService {
            name,
            tags,
            definition,
            task_definition,
            cluster,
            ..
        } = a
        {
            // The tag the next plan compares against is the hash of what is created.
            assert_eq!(
                tags.get(TAG_SPEC_HASH),
                Some(&normalize::spec_hash(definition))
            );
            assert_eq!(
                tags.get(TAG_ENV).map(String::as_str),
                Some(ENV),
                "ownership tags"
            );
            assert_eq!(*task_definition, TaskDefRef::Registered(name.clone()));
            assert_eq!(cluster, CLUSTER);
        }
    }
    insta::assert_yaml_snapshot!("create_from_nothing", plan);
}

#[test]
fn converged_env_plans_nothing() {
    let d = desired();
    let actual = converged(&d);
    // The observed side really is spelled differently: normalization is what makes it equal.
    let web = service(&d, WEB);
    assert_ne!(
        actual.task_definitions[0].definition.as_ref(),
        Some(&web.task_definition)
    );
    assert_ne!(
        actual.repositories[0].lifecycle_policy.as_deref(),
        Some(d.repositories[0].lifecycle_policy.as_str())
    );
    assert_ne!(
        actual.services[1].capacity_provider_strategy,
        service(&d, WORKER).service.capacity_provider_strategy
    );

    let plan = plan_up_checked(&d, &actual);
    assert!(plan.is_empty(), "{:?}", labels(&plan));
    assert!(plan.conflicts.is_empty());
    insta::assert_yaml_snapshot!("converged_env_plans_nothing", plan);
}

#[test]
fn converged_env_plans_nothing_on_a_later_run() {
    // A later `up` renders with a new created-at time; that alone is not a change.
    let later = render(&Inputs {
        created_at: "2025-02-03T04:05:06Z",
        ..Default::default()
    });
    let plan = plan_up_checked(&later, &converged(&desired()));
    assert!(plan.is_empty(), "{:?}", labels(&plan));
}

#[test]
fn converged_env_plans_nothing_when_strategy_is_not_reported() {
    // moto drops capacityProviderStrategy; the spec-hash tag stands in for it.
    let d = desired();
    let mut actual = converged(&d);
    for s in &mut actual.services {
        s.capacity_provider_strategy.clear();
    }
    assert!(plan_up_checked(&d, &actual).is_empty());
}

#[test]
fn memory_change_registers_and_updates_only_that_service() {
    let before = desired();
    let after = render(&Inputs {
        sets: vec!["services.web.memory=1024"],
        ..Default::default()
    });
    let plan = plan_up_checked(&after, &converged(&before));
    assert_eq!(
        labels(&plan),
        [
            "register_task_definition shop-feat-x-web",
            "update_service shop-feat-x-web",
        ]
    );
    let diff = registration_diff(&plan, WEB);
    assert!(diff.contains("-  \"memory\": \"512\""), "{diff}");
    assert!(diff.contains("+  \"memory\": \"1024\""), "{diff}");
    assert_eq!(
        diff.matches("\n-").count(),
        1,
        "only memory changed: {diff}"
    );
    let (td, changes, _) = updates(&plan, WEB);
    assert_eq!(*td, TaskDefRef::Registered(WEB.into()));
    assert_eq!(
        *changes,
        ["task definition shop-feat-x-web:1 → new revision"]
    );
    insta::assert_yaml_snapshot!("memory_change", plan);
    // The diff as `envctl plan` prints it.
    insta::assert_snapshot!("memory_change_diff", diff);
}

#[test]
fn string_param_change_registers_new_revisions() {
    let mut params = base_params();
    params.plain.insert("LOG_LEVEL".into(), "debug".into());
    let after = render(&Inputs {
        params,
        ..Default::default()
    });
    let plan = plan_up_checked(&after, &converged(&desired()));
    assert_eq!(
        labels(&plan),
        [
            "register_task_definition shop-feat-x-web",
            "update_service shop-feat-x-web",
            "register_task_definition shop-feat-x-worker",
            "update_service shop-feat-x-worker",
        ]
    );
    for fam in [WEB, WORKER] {
        let diff = registration_diff(&plan, fam);
        assert!(diff.contains("-          \"value\": \"info\""), "{diff}");
        assert!(diff.contains("+          \"value\": \"debug\""), "{diff}");
    }
    insta::assert_yaml_snapshot!("string_param_change", plan);
}

#[test]
fn secure_string_reaches_secrets_as_its_arn_only() {
    const VALUE: &str = "s3cr3t-Pa55word-value";
    let arn =
        format!("arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/envctl/shop/env/feat-x/DB_PASSWORD");
    let param = |name: &str, secure: bool, value: &str| ParameterState {
        name: name.into(),
        arn: format!("arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{name}"),
        secure,
        version: 1,
        value: Some(value.into()),
        tags: owned_tags(),
    };
    let shared = [
        param(
            "/envctl/shop/shared/API_URL",
            false,
            "https://api.example.test",
        ),
        param("/envctl/shop/shared/LOG_LEVEL", false, "info"),
        param("/envctl/shop/shared/WORKERS", false, "4"),
        // Once a plain value; now a SecureString in the env's own path.
        param("/envctl/shop/shared/DB_PASSWORD", false, "old-plain-value"),
    ];
    // Even if a SecureString's value were at hand, it must not travel further.
    let env = [param("/envctl/shop/env/feat-x/DB_PASSWORD", true, VALUE)];
    let params = Params::overlay(
        &naming::shared_param_path(APP),
        &shared,
        &naming::env_param_path(APP, &naming::slug(ENV).expect("slug")),
        &env,
    );
    assert_eq!(params.plain, base_params().plain);
    let after = render(&Inputs {
        params,
        ..Default::default()
    });
    let plan = plan_up_checked(&after, &converged(&desired()));
    assert_eq!(
        labels(&plan),
        [
            "register_task_definition shop-feat-x-web",
            "update_service shop-feat-x-web",
            "register_task_definition shop-feat-x-worker",
            "update_service shop-feat-x-worker",
        ]
    );
    for a in &plan.actions {
        if let Action::RegisterTaskDefinition { definition, .. } = a {
            let c = &definition.container_definitions[0];
            assert_eq!(c.secrets.len(), 1);
            assert_eq!(c.secrets[0].name, "DB_PASSWORD");
            assert_eq!(c.secrets[0].value_from, arn);
            assert!(c.environment.iter().all(|e| e.name != "DB_PASSWORD"));
        }
    }
    let json = serde_json::to_string(&plan).expect("plan serializes");
    assert!(json.contains(&arn));
    assert!(
        !json.contains(VALUE),
        "the secret value leaked into the plan"
    );
    assert!(!json.contains("old-plain-value"));
    let described: String = plan.actions.iter().map(Action::describe).collect();
    assert!(!described.contains(VALUE));
    insta::assert_yaml_snapshot!("secure_string_added", plan);
}

#[test]
fn desired_count_change_updates_the_service_only() {
    let after = render(&Inputs {
        sets: vec!["services.web.count=3"],
        ..Default::default()
    });
    let plan = plan_up_checked(&after, &converged(&desired()));
    assert_eq!(labels(&plan), ["update_service shop-feat-x-web"]);
    let (td, changes, hash) = updates(&plan, WEB);
    assert_eq!(*td, TaskDefRef::Existing(td_arn(WEB, 1)));
    assert_eq!(*changes, ["desiredCount 1 → 3"]);
    assert_eq!(hash, normalize::spec_hash(&service(&after, WEB).service));
    insta::assert_yaml_snapshot!("desired_count_change", plan);
}

#[test]
fn spot_change_updates_the_service_only() {
    let after = render(&Inputs {
        sets: vec!["services.web.spot=false"],
        ..Default::default()
    });
    let before = desired();
    let plan = plan_up_checked(&after, &converged(&before));
    assert_eq!(labels(&plan), ["update_service shop-feat-x-web"]);
    let (td, changes, _) = updates(&plan, WEB);
    assert_eq!(*td, TaskDefRef::Existing(td_arn(WEB, 1)));
    assert_eq!(
        *changes,
        ["capacityProviderStrategy FARGATE_SPOT (weight 1) → FARGATE (weight 1)"]
    );

    // Where the strategy is not reported, the spec-hash tag still reveals the change.
    let mut actual = converged(&before);
    for s in &mut actual.services {
        s.capacity_provider_strategy.clear();
    }
    let plan = plan_up_checked(&after, &actual);
    assert_eq!(labels(&plan), ["update_service shop-feat-x-web"]);
    assert_eq!(
        *updates(&plan, WEB).1,
        ["service settings changed since the last up"]
    );
}

#[test]
fn service_removed_from_config_is_deleted_with_its_revisions() {
    let full = desired();
    let web_only = render(&Inputs {
        worker: false,
        ..Default::default()
    });
    let mut actual = converged_at(&full, 2);
    let worker = service(&full, WORKER);
    // An older ACTIVE revision, an already deregistered one, and one someone registered by hand.
    actual.task_definitions.push(revision(worker, 1));
    actual.task_definitions.push(TaskDefinitionState {
        status: "INACTIVE".into(),
        ..revision(worker, 0)
    });
    actual.task_definitions.push(TaskDefinitionState {
        tags: Tags::new(),
        ..revision(worker, 3)
    });
    // Another env whose slug extends this one shows up under the same name prefix.
    let mut neighbour = running(service(&full, WEB), &td_arn("shop-feat-x-y-web", 1));
    neighbour.name = "shop-feat-x-y-web".into();
    neighbour.tags = other_env_tags("feat-x-y");
    actual.services.push(neighbour);

    let plan = plan_up_checked(&web_only, &actual);
    assert!(plan.conflicts.is_empty());
    assert_eq!(
        labels(&plan),
        [
            "delete_service shop-feat-x-worker",
            "deregister_task_definition shop-feat-x-worker:2",
            "deregister_task_definition shop-feat-x-worker:1",
        ]
    );
    insta::assert_yaml_snapshot!("service_removed", plan);
}

#[test]
fn foreign_service_with_the_wanted_name_is_a_conflict() {
    let d = desired();
    let mut actual = nothing();
    let foreign_td = TaskDefinitionState {
        arn: td_arn(WEB, 7),
        family: WEB.into(),
        revision: 7,
        status: "ACTIVE".into(),
        definition: Some(echoed(&service(&d, WEB).task_definition)),
        tags: Tags::new(),
    };
    let mut foreign = running(service(&d, WEB), &foreign_td.arn);
    foreign.tags = tags(&[("team", "payments")]);
    actual.services.push(foreign);
    actual.task_definitions.push(foreign_td);

    let plan = plan_up_checked(&d, &actual);
    assert_eq!(
        plan.conflicts,
        [Conflict {
            kind: "ECS service".into(),
            name: WEB.into(),
            owner: Ownership::Foreign,
        }]
    );
    // The rest of the env is planned; the web service and its family are left alone.
    let l = labels(&plan);
    assert!(l.iter().all(|a| !a.ends_with(WEB)), "{l:?}");
    assert!(l.contains(&"create_service shop-feat-x-worker".to_string()));
    insta::assert_yaml_snapshot!("foreign_service_conflict", plan);
}

#[test]
fn foreign_task_definition_family_is_a_conflict() {
    let d = desired();
    let mut actual = nothing();
    actual.task_definitions.push(TaskDefinitionState {
        tags: Tags::new(),
        ..revision(service(&d, WEB), 1)
    });
    let plan = plan_up_checked(&d, &actual);
    assert_eq!(plan.conflicts.len(), 1);
    assert_eq!(plan.conflicts[0].kind, "task definition family");
    assert_eq!(plan.conflicts[0].owner, Ownership::Foreign);
    assert!(labels(&plan).iter().all(|a| !a.ends_with(WEB)));
}

#[test]
fn service_of_another_env_with_the_same_name_is_a_conflict() {
    let d = desired();
    let mut actual = converged(&d);
    // Changed settings, so an update would be planned if the service were ours.
    let after = render(&Inputs {
        sets: vec!["services.web.count=2"],
        ..Default::default()
    });
    actual.services[0].tags = other_env_tags("feat-y");
    let plan = plan_up_checked(&after, &actual);
    assert_eq!(
        plan.conflicts,
        [Conflict {
            kind: "ECS service".into(),
            name: WEB.into(),
            owner: Ownership::OtherEnv {
                app: APP.into(),
                env: "feat-y".into()
            },
        }]
    );
    assert!(plan.is_empty(), "{:?}", labels(&plan));
    insta::assert_yaml_snapshot!("other_env_service_conflict", plan);
}

#[test]
fn foreign_log_group_and_repository_are_conflicts() {
    let d = desired();
    let mut actual = nothing();
    actual.log_group = Some(LogGroupState {
        tags: Tags::new(),
        ..log_group(&d)
    });
    actual.repositories.push(RepositoryState {
        tags: other_env_tags("feat-y"),
        ..repository(&d.repositories[0])
    });
    let plan = plan_up_checked(&d, &actual);
    let kinds: Vec<&str> = plan.conflicts.iter().map(|c| c.kind.as_str()).collect();
    assert_eq!(kinds, ["log group", "ECR repository"]);
    let l = labels(&plan);
    assert!(
        !l.iter().any(|a| a.starts_with("create_log_group")),
        "{l:?}"
    );
    assert!(!l.contains(&"create_repository envctl/shop/feat-x/web".to_string()));
    assert!(!l.contains(&"put_lifecycle_policy envctl/shop/feat-x/web".to_string()));
}

/// moto silently replaces a resource that is created twice, so only the plan can show this.
#[test]
fn existing_resources_are_never_created_again() {
    let before = desired();
    let mut params = base_params();
    params.plain.insert("LOG_LEVEL".into(), "debug".into());
    // A config with work to do everywhere, so a wrong create has a chance to show up.
    let after = render(&Inputs {
        sets: vec!["services.web.count=2", "logs.retention_days=14"],
        params,
        ..Default::default()
    });
    let full = converged(&before);
    for mask in 0..8u8 {
        let has_log_group = mask & 1 != 0;
        let has_repos = mask & 2 != 0;
        let has_services = mask & 4 != 0;
        let mut actual = nothing();
        if has_log_group {
            actual.log_group = full.log_group.clone();
        }
        if has_repos {
            actual.repositories = full.repositories.clone();
        }
        if has_services {
            actual.services = full.services.clone();
            actual.task_definitions = full.task_definitions.clone();
        }
        let plan = plan_up_checked(&after, &actual);
        let l = labels(&plan);
        let count = |prefix: &str| l.iter().filter(|a| a.starts_with(prefix)).count();
        assert_eq!(
            count("create_log_group "),
            usize::from(!has_log_group),
            "{mask}: {l:?}"
        );
        assert_eq!(
            count("create_repository "),
            if has_repos { 0 } else { 2 },
            "{mask}: {l:?}"
        );
        assert_eq!(
            count("create_service "),
            if has_services { 0 } else { 2 },
            "{mask}: {l:?}"
        );
        assert_eq!(
            count("update_service "),
            if has_services { 2 } else { 0 },
            "{mask}: {l:?}"
        );
        assert_eq!(
            count("set_log_retention "),
            usize::from(has_log_group),
            "{mask}: {l:?}"
        );
        assert!(plan.conflicts.is_empty());
    }
}

#[test]
fn resume_after_a_crash_in_the_first_phase() {
    // `up` died after phase 0: log group, repositories (no policy yet) and revisions exist.
    let d = desired();
    let full = converged(&d);
    let mut actual = nothing();
    actual.log_group = full.log_group.clone();
    actual.task_definitions = full.task_definitions.clone();
    actual.repositories = full
        .repositories
        .iter()
        .map(|r| RepositoryState {
            lifecycle_policy: None,
            image_count: 0,
            ..r.clone()
        })
        .collect();
    let plan = plan_up_checked(&d, &actual);
    assert_eq!(
        labels(&plan),
        [
            "put_lifecycle_policy envctl/shop/feat-x/web",
            "put_lifecycle_policy envctl/shop/feat-x/worker",
            "create_service shop-feat-x-web",
            "create_service shop-feat-x-worker",
        ]
    );
    for a in &plan.actions {
        if let (Some(td), Some(fam)) = (service_td(a), family(a)) {
            assert_eq!(*td, TaskDefRef::Existing(td_arn(fam, 1)));
        }
    }
    insta::assert_yaml_snapshot!("resume_after_phase_0", plan);
}

#[test]
fn crash_recovery_reuses_an_identical_newer_revision() {
    let before = desired();
    let mut params = base_params();
    params.plain.insert("LOG_LEVEL".into(), "debug".into());
    let after = render(&Inputs {
        params,
        ..Default::default()
    });
    // The last `up` registered revision 2 of each family, then died before UpdateService.
    let mut actual = converged(&before);
    for s in &after.services {
        actual.task_definitions.push(revision(s, 2));
    }
    let plan = plan_up_checked(&after, &actual);
    assert_eq!(
        labels(&plan),
        [
            "update_service shop-feat-x-web",
            "update_service shop-feat-x-worker"
        ]
    );
    for fam in [WEB, WORKER] {
        let (td, changes, _) = updates(&plan, fam);
        assert_eq!(*td, TaskDefRef::Existing(td_arn(fam, 2)));
        assert_eq!(*changes, [format!("task definition {fam}:1 → {fam}:2")]);
    }
    insta::assert_yaml_snapshot!("crash_recovery", plan);

    // A newer revision that was deregistered since, or that differs, is not reused.
    for t in actual
        .task_definitions
        .iter_mut()
        .filter(|t| t.revision == 2)
    {
        if t.family == WEB {
            t.status = "INACTIVE".into();
        } else if let Some(def) = &mut t.definition {
            def.container_definitions[0].stop_timeout = Some(30);
        }
    }
    let plan = plan_up_checked(&after, &actual);
    assert_eq!(
        labels(&plan),
        [
            "register_task_definition shop-feat-x-web",
            "update_service shop-feat-x-web",
            "register_task_definition shop-feat-x-worker",
            "update_service shop-feat-x-worker",
        ]
    );
}

#[test]
fn drifted_retention_and_lifecycle_policy_are_updated_in_place() {
    let d = desired();
    let mut actual = converged(&d);
    if let Some(lg) = &mut actual.log_group {
        lg.retention_days = None;
    }
    actual.repositories[1].lifecycle_policy = Some(r#"{"rules":[]}"#.into());
    let plan = plan_up_checked(&d, &actual);
    assert_eq!(
        labels(&plan),
        [
            "set_log_retention /envctl/shop/feat-x",
            "put_lifecycle_policy envctl/shop/feat-x/worker",
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// down

fn ssm(name: &str, secure: bool, tags: Tags) -> ParameterState {
    ParameterState {
        name: name.into(),
        arn: format!("arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{name}"),
        secure,
        version: 3,
        value: None,
        tags,
    }
}

#[test]
fn down_deletes_owned_resources_and_log_group_last() {
    let d = desired();
    let mut actual = converged_at(&d, 2);
    actual.task_definitions.push(revision(service(&d, WEB), 1));
    actual.task_definitions.push(TaskDefinitionState {
        status: "INACTIVE".into(),
        ..revision(service(&d, WORKER), 1)
    });
    actual.parameters = vec![
        ssm("/envctl/shop/env/feat-x/DB_PASSWORD", true, owned_tags()),
        ssm("/envctl/shop/env/feat-x/API_URL", false, owned_tags()),
    ];
    let plan = plan_down(APP, ENV, &actual);
    check_invariants(&plan);
    assert!(plan.skipped.is_empty());
    assert_eq!(
        labels(&plan),
        [
            "delete_service shop-feat-x-web",
            "delete_service shop-feat-x-worker",
            "deregister_task_definition shop-feat-x-web:2",
            "deregister_task_definition shop-feat-x-worker:2",
            "deregister_task_definition shop-feat-x-web:1",
            "delete_repository envctl/shop/feat-x/web",
            "delete_repository envctl/shop/feat-x/worker",
            "delete_parameters /envctl/shop/env/feat-x/API_URL,/envctl/shop/env/feat-x/DB_PASSWORD",
            "delete_log_group /envctl/shop/feat-x",
        ]
    );
    insta::assert_yaml_snapshot!("down_owned", plan);
}

#[test]
fn down_leaves_and_reports_what_is_not_ours() {
    let d = desired();
    let mut actual = converged(&d);
    actual.log_group = Some(LogGroupState {
        tags: Tags::new(),
        ..log_group(&d)
    });
    actual.parameters = vec![
        ssm("/envctl/shop/env/feat-x/DB_PASSWORD", true, owned_tags()),
        ssm("/envctl/shop/env/feat-x/MANUAL", false, Tags::new()),
    ];
    // Someone's hand-made service and repository under the env's names.
    let mut legacy = running(service(&d, WEB), &td_arn("shop-feat-x-legacy", 4));
    legacy.name = "shop-feat-x-legacy".into();
    legacy.tags = Tags::new();
    actual.services.push(legacy);
    actual.repositories.push(RepositoryState {
        name: "envctl/shop/feat-x/old".into(),
        tags: Tags::new(),
        ..repository(&d.repositories[0])
    });
    // Another env whose slug extends this one: neither deleted nor reported.
    let mut neighbour = running(service(&d, WEB), &td_arn("shop-feat-x-y-web", 1));
    neighbour.name = "shop-feat-x-y-web".into();
    neighbour.tags = other_env_tags("feat-x-y");
    actual.services.push(neighbour);
    actual.task_definitions.push(TaskDefinitionState {
        arn: td_arn("shop-feat-x-y-web", 1),
        family: "shop-feat-x-y-web".into(),
        tags: other_env_tags("feat-x-y"),
        ..revision(service(&d, WEB), 1)
    });

    let plan = plan_down(APP, ENV, &actual);
    check_invariants(&plan);
    assert_eq!(
        labels(&plan),
        [
            "delete_service shop-feat-x-web",
            "delete_service shop-feat-x-worker",
            "deregister_task_definition shop-feat-x-web:1",
            "deregister_task_definition shop-feat-x-worker:1",
            "delete_repository envctl/shop/feat-x/web",
            "delete_repository envctl/shop/feat-x/worker",
            "delete_parameters /envctl/shop/env/feat-x/DB_PASSWORD",
        ]
    );
    let skipped: Vec<(&str, &str)> = plan
        .skipped
        .iter()
        .map(|c| (c.kind.as_str(), c.name.as_str()))
        .collect();
    assert_eq!(
        skipped,
        [
            ("ECS service", "shop-feat-x-legacy"),
            ("ECR repository", "envctl/shop/feat-x/old"),
            ("SSM parameter", "/envctl/shop/env/feat-x/MANUAL"),
            ("log group", "/envctl/shop/feat-x"),
        ]
    );
    assert!(plan.skipped.iter().all(|c| c.owner == Ownership::Foreign));
    insta::assert_yaml_snapshot!("down_skips_foreign", plan);
}

#[test]
fn down_of_an_env_that_does_not_exist_is_empty() {
    let plan = plan_down(APP, ENV, &nothing());
    assert!(plan.is_empty());
    assert!(plan.skipped.is_empty());
}

// ---------------------------------------------------------------------------------------------
// phases

#[test]
fn phases_put_dependencies_first() {
    let d = desired();
    let web = service(&d, WEB);
    let register = Action::RegisterTaskDefinition {
        service: "web".into(),
        family: WEB.into(),
        definition: web.task_definition.clone(),
        tags: owned_tags(),
        diff: None,
    };
    let create_log_group = Action::CreateLogGroup {
        name: d.log_group.name.clone(),
        retention_days: 7,
        tags: owned_tags(),
    };
    let create_repository = Action::CreateRepository {
        name: d.repositories[0].name.clone(),
        tags: owned_tags(),
    };
    let put_policy = Action::PutLifecyclePolicy {
        repository: d.repositories[0].name.clone(),
        policy: d.repositories[0].lifecycle_policy.clone(),
    };
    let create_service = Action::CreateService {
        service: "web".into(),
        name: WEB.into(),
        cluster: CLUSTER.into(),
        task_definition: TaskDefRef::Registered(WEB.into()),
        definition: web.service.clone(),
        tags: owned_tags(),
    };
    let update_service = Action::UpdateService {
        service: "web".into(),
        name: WEB.into(),
        cluster: CLUSTER.into(),
        arn: "arn".into(),
        task_definition: TaskDefRef::Registered(WEB.into()),
        definition: web.service.clone(),
        spec_hash: String::new(),
        changes: vec![],
    };
    let delete_service = Action::DeleteService {
        name: WEB.into(),
        cluster: CLUSTER.into(),
    };
    let deregister = Action::DeregisterTaskDefinition {
        arn: td_arn(WEB, 1),
    };
    let delete_repository = Action::DeleteRepository {
        name: d.repositories[0].name.clone(),
        images: 1,
    };
    let delete_parameters = Action::DeleteParameters { names: vec![] };
    let delete_log_group = Action::DeleteLogGroup {
        name: d.log_group.name.clone(),
    };

    for service in [&create_service, &update_service] {
        assert!(register.phase() < service.phase());
        assert!(create_log_group.phase() < service.phase());
    }
    assert!(create_repository.phase() < put_policy.phase());
    assert!(delete_service.phase() < deregister.phase());
    assert!(delete_service.phase() < delete_repository.phase());
    for other in [
        &register,
        &create_log_group,
        &create_repository,
        &put_policy,
        &create_service,
        &update_service,
        &delete_service,
        &deregister,
        &delete_repository,
        &delete_parameters,
    ] {
        assert!(other.phase() < delete_log_group.phase(), "{}", label(other));
    }
}
