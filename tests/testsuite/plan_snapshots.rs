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
    ownership, ActualEnv, ClusterState, DeploymentState, DesiredEnv, DesiredService, EnvIdentity,
    LogGroupState, NamespaceState, Ownership, ParameterState, RepositorySpec, RepositoryState,
    ScheduleGroupState, ScheduleSpec, ServiceEvent, ServiceState, Tags, TaskDefinition,
    TaskDefinitionState, TAG_APP, TAG_ENV, TAG_EXPIRES_AT, TAG_MANAGED_BY, TAG_PROTECTED,
    TAG_SPEC_HASH, TAG_TTL, UPDATE_SERVICE_TARGET,
};
use envctl::naming;
use envctl::normalize;
use envctl::plan::{plan_down, plan_up, short_td, Action, Conflict, Plan, TaskDefRef, Verb};
use envctl::render::{render_env, EnvOptions, Facts, Params, RenderRequest};

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
    /// More envctl.toml text (hooks, ...).
    extra: &'static str,
    sets: Vec<&'static str>,
    params: Params,
    created_at: &'static str,
    /// `up --ttl/--protect/--always-on` and the time the run treats as now.
    options: EnvOptions,
}

impl Default for Inputs {
    fn default() -> Self {
        Inputs {
            worker: true,
            extra: "",
            sets: vec![],
            params: base_params(),
            created_at: CREATED_AT,
            options: EnvOptions::default(),
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
        scheduler_role_arn: Some(format!("arn:aws:iam::{ACCOUNT}:role/envctl-shop-scheduler")),
        preview_listener_arn: None,
        vpc_id: None,
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
    text.push_str(inputs.extra);
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
        options: &inputs.options,
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
        load_balancers: vec![],
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

/// What `observe::for_up` returns after `up` applied `d` (every service on `rev`).
fn converged_at(d: &DesiredEnv, rev: i32) -> ActualEnv {
    ActualEnv {
        cluster: Some(cluster()),
        log_group: Some(log_group(d)),
        services: d
            .services
            .iter()
            .map(|s| {
                let mut state = running(s, &td_arn(&s.name, rev));
                // What `up` tagged it with: the expiry it computed.
                if let (Some(at), Some(ttl)) = (&d.expiry.expires_at, &d.expiry.ttl) {
                    state.tags.insert(TAG_EXPIRES_AT.into(), at.clone());
                    state.tags.insert(TAG_TTL.into(), ttl.clone());
                }
                state
            })
            .collect(),
        task_definitions: d.services.iter().map(|s| revision(s, rev)).collect(),
        repositories: d.repositories.iter().map(repository).collect(),
        parameters: vec![],
        schedule_group: d.schedules.as_ref().map(|g| ScheduleGroupState {
            name: g.name.clone(),
            arn: format!(
                "arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule-group/{}",
                g.name
            ),
            state: "ACTIVE".into(),
            tags: owned_tags(),
        }),
        // As the Scheduler echoes them: the same schedules, input JSON spaced differently.
        schedules: d
            .schedules
            .iter()
            .flat_map(|g| g.schedules.iter().rev())
            .map(|sc| {
                let mut sc = sc.clone();
                let v: serde_json::Value = serde_json::from_str(&sc.input).expect("input is JSON");
                sc.input = serde_json::to_string_pretty(&v).expect("json");
                sc
            })
            .collect(),
        namespace: Some(namespace(d, owned_tags())),
        ..Default::default()
    }
}

fn converged(d: &DesiredEnv) -> ActualEnv {
    converged_at(d, 1)
}

/// The env's Cloud Map namespace as observed, with `tags`.
fn namespace(d: &DesiredEnv, tags: Tags) -> NamespaceState {
    NamespaceState {
        id: "ns-0123456789abcdef".into(),
        arn: format!("arn:aws:servicediscovery:{REGION}:{ACCOUNT}:namespace/ns-0123456789abcdef"),
        name: d.namespace.name.clone(),
        tags,
    }
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
        Action::CreateSchedule { schedule } | Action::UpdateSchedule { schedule, .. } => {
            schedule.name.clone()
        }
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
    let mut schedules_touched = BTreeSet::new();
    let group_created = |g: &str| {
        acts.iter()
            .find(|x| matches!(x, Action::CreateScheduleGroup { name, .. } if name == g))
    };
    let group_deleted = |g: &str| {
        acts.iter()
            .any(|x| matches!(x, Action::DeleteScheduleGroup { name } if name == g))
    };
    for a in acts {
        let p = a.phase();
        // Nothing is created twice within one plan.
        if a.verb() == Verb::Create {
            let key = match a {
                Action::CreateSchedule { schedule: s } => {
                    format!("schedule {}/{}", s.group, s.name)
                }
                _ => label(a),
            };
            assert!(created.insert(key.clone()), "{key} created twice");
        }
        // An update says what it changes; nothing is written for nothing.
        match a {
            Action::UpdateService { changes, .. } | Action::UpdateSchedule { changes, .. } => {
                assert!(!changes.is_empty(), "{} changes nothing", label(a));
            }
            Action::TagService { set, remove, .. } => {
                assert!(
                    !set.is_empty() || !remove.is_empty(),
                    "{} tags nothing",
                    label(a)
                );
                assert!(
                    remove.iter().all(|k| !set.contains_key(k)),
                    "{} sets and removes one tag",
                    label(a)
                );
            }
            _ => {}
        }
        // Each schedule is created, updated or deleted at most once; it lives in a group that
        // exists by then and that this plan does not delete (that deletes its schedules too).
        if let Some((group, name)) = schedule_of(a) {
            assert!(
                schedules_touched.insert(format!("{group}/{name}")),
                "schedule {group}/{name} touched twice"
            );
            assert!(
                !group_deleted(group),
                "{} in a group being deleted",
                label(a)
            );
            match (a, group_created(group)) {
                (Action::CreateSchedule { .. }, Some(g)) => {
                    assert!(g.phase() < p, "{} not after its group is created", label(a))
                }
                (Action::CreateSchedule { .. }, None) => {}
                (_, created) => assert!(
                    created.is_none(),
                    "{} in a group that does not exist yet",
                    label(a)
                ),
            }
        }
        if let Action::CreateScheduleGroup { name, .. } = a {
            assert!(!group_deleted(name), "{name} created and deleted");
        }
        // A stop schedule stops and a start schedule starts, each the env service it is named
        // after, on the env's cluster, through the UpdateService target.
        if let Action::CreateSchedule { schedule: s } | Action::UpdateSchedule { schedule: s, .. } =
            a
        {
            let input = schedule_input(s);
            let (verb, key) = s
                .name
                .split_once('-')
                .expect("schedule names are <verb>-<key>");
            assert_eq!(
                input["Service"].as_str(),
                Some(format!("{}-{}-{key}", plan.app, plan.env).as_str()),
                "{}",
                label(a)
            );
            assert_eq!(input["Cluster"].as_str(), Some(CLUSTER), "{}", label(a));
            match verb {
                "stop" => assert_eq!(input["DesiredCount"], 0, "{}", label(a)),
                "start" => assert!(input["DesiredCount"].is_u64(), "{}", label(a)),
                other => panic!("{}: unknown schedule verb {other}", label(a)),
            }
            assert_eq!(s.target_arn, UPDATE_SERVICE_TARGET);
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
        // Services join the env's namespace: it exists before any service is created or
        // updated, and goes only after every service of the env is deleted.
        if let Action::CreateService { .. } | Action::UpdateService { .. } = a {
            for ns in acts
                .iter()
                .filter(|n| matches!(n, Action::CreateNamespace { .. }))
            {
                assert!(ns.phase() < p, "{} before its namespace", label(a));
            }
        }
        if let Action::DeleteNamespace { .. } = a {
            for d in acts
                .iter()
                .filter(|d| matches!(d, Action::DeleteService { .. }))
            {
                assert!(d.phase() < p, "namespace deleted while services run");
            }
        }
        // Every registration is used by exactly one service action, or by the database task.
        if let Action::RegisterTaskDefinition { family: fam, .. } = a {
            let database_task = plan.database.as_ref().map(|r| &r.task_definition);
            let users = acts
                .iter()
                .filter(|s| matches!(service_td(s), Some(TaskDefRef::Registered(f)) if f == fam))
                .count()
                + usize::from(matches!(database_task, Some(TaskDefRef::Registered(f)) if f == fam));
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
    // Nothing envctl does touches a name that belongs to someone else, nor schedules a service
    // whose name does.
    for c in plan.conflicts.iter().chain(&plan.skipped) {
        for a in acts {
            // The env's namespace and schedule group share a name in different services: a
            // conflict is about one kind of resource.
            let namespace_action = matches!(
                a,
                Action::CreateNamespace { .. } | Action::DeleteNamespace { .. }
            );
            if namespace_action != (c.kind == "Cloud Map namespace") {
                continue;
            }
            let v = serde_json::to_value(a).expect("actions serialize");
            for k in ["name", "family", "repository", "group"] {
                assert_ne!(
                    v[k].as_str(),
                    Some(c.name.as_str()),
                    "{} touches {c}",
                    label(a)
                );
            }
            assert_ne!(
                v["schedule"]["group"].as_str(),
                Some(c.name.as_str()),
                "{} touches {c}",
                label(a)
            );
            assert_ne!(
                scheduled_service(a, plan).as_deref(),
                Some(c.name.as_str()),
                "{} scales {c}",
                label(a)
            );
            if let Action::DeleteParameters { names } = a {
                assert!(!names.contains(&c.name), "deletes {c}");
            }
        }
    }
}

/// What a plan may do given what exists: create only what is missing; update, tag and delete
/// only what exists and is this env's.
fn check_against(plan: &Plan, actual: &ActualEnv) {
    let ours = |tags: &Tags| ownership(tags, &plan.app, &plan.env) == Ownership::Ours;
    let service = |name: &str| actual.services.iter().find(|s| s.name == name);
    let group_ours = actual
        .schedule_group
        .as_ref()
        .is_some_and(|g| ours(&g.tags));
    let has_schedule = |name: &str| actual.schedules.iter().any(|s| s.name == name);
    let log_group_ours = actual.log_group.as_ref().is_some_and(|g| ours(&g.tags));
    for a in &plan.actions {
        let l = label(a);
        match a {
            Action::CreateLogGroup { .. } => assert!(actual.log_group.is_none(), "{l}: exists"),
            Action::SetLogRetention { .. } | Action::DeleteLogGroup { .. } => {
                assert!(log_group_ours, "{l}: not ours");
            }
            Action::CreateRepository { name, .. } => assert!(
                actual.repositories.iter().all(|r| r.name != *name),
                "{l}: exists"
            ),
            Action::PutLifecyclePolicy {
                repository: name, ..
            }
            | Action::DeleteRepository { name, .. } => {
                if let Some(r) = actual.repositories.iter().find(|r| r.name == *name) {
                    assert!(ours(&r.tags), "{l}: not ours");
                }
            }
            Action::CreateService { name, .. } => assert!(service(name).is_none(), "{l}: exists"),
            Action::UpdateService { name, arn, .. }
            | Action::TagService { name, arn, .. }
            | Action::SetDesiredCount { name, arn, .. } => {
                let s = service(name).unwrap_or_else(|| panic!("{l}: no such service"));
                assert_eq!(s.arn, *arn, "{l}");
                assert!(ours(&s.tags), "{l}: not ours");
            }
            Action::DeleteService { name, .. } => {
                let s = service(name).unwrap_or_else(|| panic!("{l}: no such service"));
                assert!(ours(&s.tags), "{l}: not ours");
            }
            Action::DeregisterTaskDefinition { arn } => {
                let t = actual
                    .task_definitions
                    .iter()
                    .find(|t| t.arn == *arn)
                    .unwrap_or_else(|| panic!("{l}: no such revision"));
                assert!(ours(&t.tags) && t.status == "ACTIVE", "{l}");
            }
            Action::DeleteParameters { names } => {
                for p in &actual.parameters {
                    if names.contains(&p.name) {
                        assert!(ours(&p.tags), "{l}: {} not ours", p.name);
                    }
                }
            }
            Action::CreateScheduleGroup { .. } => {
                assert!(actual.schedule_group.is_none(), "{l}: exists");
            }
            Action::CreateSchedule { schedule } => {
                assert!(!has_schedule(&schedule.name), "{l}: exists");
                assert!(
                    group_ours
                        || plan.actions.iter().any(|g| matches!(
                            g,
                            Action::CreateScheduleGroup { name, .. } if *name == schedule.group
                        )),
                    "{l}: in no group of ours"
                );
            }
            Action::UpdateSchedule { schedule, .. } => {
                assert!(group_ours && has_schedule(&schedule.name), "{l}");
            }
            Action::DeleteSchedule { name, .. } => assert!(group_ours && has_schedule(name), "{l}"),
            Action::DeleteScheduleGroup { .. } => assert!(group_ours, "{l}: not ours"),
            Action::RegisterTaskDefinition { .. } => {}
            Action::CreateTargetGroup { spec, .. } => assert!(
                actual.target_groups.iter().all(|t| t.name != spec.name),
                "{l}: exists"
            ),
            Action::DeleteTargetGroup { arn, .. } => {
                let t = actual
                    .target_groups
                    .iter()
                    .find(|t| t.arn == *arn)
                    .unwrap_or_else(|| panic!("{l}: no such target group"));
                assert!(ours(&t.tags), "{l}: not ours");
            }
            Action::CreateListenerRule { priority, .. } => assert!(
                actual
                    .listener_rules
                    .iter()
                    .all(|r| r.priority != Some(*priority)),
                "{l}: priority taken"
            ),
            Action::ModifyListenerRule { arn, .. } | Action::DeleteListenerRule { arn, .. } => {
                let r = actual
                    .listener_rules
                    .iter()
                    .find(|r| r.arn == *arn)
                    .unwrap_or_else(|| panic!("{l}: no such rule"));
                assert!(ours(&r.tags), "{l}: not ours");
            }
            Action::CreateNamespace { .. } => assert!(actual.namespace.is_none(), "{l}: exists"),
            Action::DeleteNamespace { id, .. } => {
                let ns = actual
                    .namespace
                    .as_ref()
                    .filter(|n| n.id == *id)
                    .unwrap_or_else(|| panic!("{l}: no such namespace"));
                assert!(ours(&ns.tags), "{l}: not ours");
            }
        }
    }
}

fn plan_up_checked(d: &DesiredEnv, actual: &ActualEnv) -> Plan {
    let plan = plan_up(d, actual);
    check_invariants(&plan);
    check_against(&plan, actual);
    plan
}

fn plan_down_checked(actual: &ActualEnv) -> Plan {
    let plan = plan_down(APP, ENV, actual);
    check_invariants(&plan);
    check_against(&plan, actual);
    assert!(plan.actions.iter().all(|a| a.verb() == Verb::Delete));
    plan
}

/// `(group, name)` of the schedule a schedule action writes.
fn schedule_of(a: &Action) -> Option<(&str, &str)> {
    match a {
        Action::CreateSchedule { schedule: s } | Action::UpdateSchedule { schedule: s, .. } => {
            Some((&s.group, &s.name))
        }
        Action::DeleteSchedule { group, name } => Some((group, name)),
        _ => None,
    }
}

fn schedule_input(s: &ScheduleSpec) -> serde_json::Value {
    serde_json::from_str(&s.input).expect("schedule input is JSON")
}

/// The ECS service a schedule action scales (a deleted schedule: the one it is named after).
fn scheduled_service(a: &Action, plan: &Plan) -> Option<String> {
    match a {
        Action::CreateSchedule { schedule: s } | Action::UpdateSchedule { schedule: s, .. } => {
            schedule_input(s)["Service"].as_str().map(String::from)
        }
        Action::DeleteSchedule { name, .. } => name
            .split_once('-')
            .map(|(_, key)| format!("{}-{}-{key}", plan.app, plan.env)),
        _ => None,
    }
}

fn updates<'a>(plan: &'a Plan, name: &str) -> (&'a TaskDefRef, &'a Vec<String>, Option<&'a str>) {
    plan.actions
        .iter()
        .find_map(|a| match a {
            Action::UpdateService {
                name: n,
                task_definition,
                changes,
                spec_hash,
                ..
            } if n == name => Some((task_definition, changes, spec_hash.as_deref())),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no UpdateService for {name}: {:?}", labels(plan)))
}

fn schedule_update<'a>(plan: &'a Plan, name: &str) -> (&'a ScheduleSpec, &'a Vec<String>) {
    plan.actions
        .iter()
        .find_map(|a| match a {
            Action::UpdateSchedule { schedule, changes } if schedule.name == name => {
                Some((schedule, changes))
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no UpdateSchedule for {name}: {:?}", labels(plan)))
}

/// `(set, remove)` of the TagService action for service `name`.
fn tag_update<'a>(plan: &'a Plan, name: &str) -> (&'a Tags, &'a Vec<String>) {
    plan.actions
        .iter()
        .find_map(|a| match a {
            Action::TagService {
                name: n,
                set,
                remove,
                ..
            } if n == name => Some((set, remove)),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no TagService for {name}: {:?}", labels(plan)))
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
            "create_namespace envctl-shop-feat-x",
            "create_repository envctl/shop/feat-x/web",
            "put_lifecycle_policy envctl/shop/feat-x/web",
            "create_repository envctl/shop/feat-x/worker",
            "put_lifecycle_policy envctl/shop/feat-x/worker",
            "register_task_definition shop-feat-x-web",
            "create_service shop-feat-x-web",
            "register_task_definition shop-feat-x-worker",
            "create_service shop-feat-x-worker",
            "create_schedule_group envctl-shop-feat-x",
            "create_schedule stop-web",
            "create_schedule start-web",
            "create_schedule stop-worker",
            "create_schedule start-worker",
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
            // Expiry counts from this `up` (EnvOptions::default(): the epoch) with the 7d default.
            assert_eq!(
                tags.get(TAG_EXPIRES_AT).map(String::as_str),
                Some("1970-01-08T00:00:00Z")
            );
            assert_eq!(tags.get(TAG_TTL).map(String::as_str), Some("7d"));
            assert_eq!(tags.get(TAG_PROTECTED), None);
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
    // Schedules and expiry tags are part of the converged env, the inputs spelled differently.
    let want = d.schedules.as_ref().expect("schedules are on by default");
    assert!(actual.schedule_group.is_some());
    assert_eq!(actual.schedules.len(), 4);
    assert_eq!(want.schedules.len(), 4);
    for have in &actual.schedules {
        let w = want
            .schedules
            .iter()
            .find(|w| w.name == have.name)
            .expect("same schedules");
        assert_ne!(have.input, w.input);
    }
    assert!(actual
        .services
        .iter()
        .all(|s| s.tags.contains_key(TAG_EXPIRES_AT)));

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
    // The morning start restores the new count; the stop schedule and task definition stay.
    assert_eq!(
        labels(&plan),
        [
            "update_service shop-feat-x-web",
            "update_schedule start-web"
        ]
    );
    let (td, changes, hash) = updates(&plan, WEB);
    assert_eq!(*td, TaskDefRef::Existing(td_arn(WEB, 1)));
    assert_eq!(*changes, ["desiredCount 1 → 3"]);
    let want = normalize::spec_hash(&service(&after, WEB).service);
    assert_eq!(hash, Some(want.as_str()));
    let (start, changes) = schedule_update(&plan, "start-web");
    assert_eq!(
        schedule_input(start),
        serde_json::json!({"Cluster": CLUSTER, "Service": WEB, "DesiredCount": 3})
    );
    // One line, however the Scheduler spaced the input it echoed.
    assert_eq!(
        *changes,
        [concat!(
            r#"input {"Cluster":"envctl-shop","DesiredCount":1,"Service":"shop-feat-x-web"}"#,
            r#" → {"Cluster":"envctl-shop","DesiredCount":3,"Service":"shop-feat-x-web"}"#
        )]
    );
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

/// The reason an UpdateService of `name` forces a new deployment, if it does.
fn forced(plan: &Plan, name: &str) -> Option<String> {
    plan.actions.iter().find_map(|a| match a {
        Action::UpdateService {
            name: n,
            force_new_deployment,
            ..
        } if n == name => force_new_deployment.clone(),
        _ => None,
    })
}

#[test]
fn capacity_provider_change_forces_a_new_deployment() {
    // Real ECS rejects an UpdateService that changes the strategy without forceNewDeployment.
    let before = desired();
    let after = render(&Inputs {
        sets: vec!["services.web.on_demand_base=1"],
        ..Default::default()
    });
    let plan = plan_up_checked(&after, &converged(&before));
    assert_eq!(labels(&plan), ["update_service shop-feat-x-web"]);
    assert_eq!(
        *updates(&plan, WEB).1,
        ["capacityProviderStrategy FARGATE_SPOT (weight 1) → FARGATE (base 1, weight 0) + FARGATE_SPOT (weight 1)"]
    );
    assert_eq!(
        forced(&plan, WEB).as_deref(),
        Some(envctl::plan::FORCE_FOR_CAPACITY)
    );
    // The plan says why.
    let text = plan.actions[0].describe();
    assert!(
        text.ends_with(&format!(
            "; new deployment forced ({})",
            envctl::plan::FORCE_FOR_CAPACITY
        )),
        "{text}"
    );

    // A service on a launch type moving to capacity providers needs one too.
    let mut actual = converged(&before);
    for s in &mut actual.services {
        s.capacity_provider_strategy.clear();
        s.launch_type = Some("FARGATE".into());
    }
    let plan = plan_up_checked(&before, &actual);
    assert_eq!(
        *updates(&plan, WEB).1,
        ["capacityProviderStrategy FARGATE → FARGATE_SPOT (weight 1)"]
    );
    assert!(forced(&plan, WEB).is_some());

    // Other changes deploy as ECS decides: a count change forces nothing.
    let scaled = render(&Inputs {
        sets: vec!["services.web.count=3"],
        ..Default::default()
    });
    let plan = plan_up_checked(&scaled, &converged(&before));
    assert_eq!(forced(&plan, WEB), None);

    // Where the endpoint reports no strategy (moto after a create, with launch type EC2; AWS
    // always reports one), envctl cannot tell a strategy change from another spec change and
    // forces nothing.
    let mut actual = converged(&before);
    for s in &mut actual.services {
        s.capacity_provider_strategy.clear();
        s.launch_type = Some("EC2".into());
    }
    let plan = plan_up_checked(&after, &actual);
    assert_eq!(forced(&plan, WEB), None);
    assert!(plan_up_checked(&before, &actual).is_empty());
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
    // Its two schedules go with it (the group and web's schedules stay).
    assert_eq!(
        labels(&plan),
        [
            "delete_schedule start-worker",
            "delete_schedule stop-worker",
            "delete_service shop-feat-x-worker",
            "deregister_task_definition shop-feat-x-worker:2",
            "deregister_task_definition shop-feat-x-worker:1",
        ]
    );
    for a in &plan.actions {
        if let Action::DeleteSchedule { group, .. } = a {
            assert_eq!(group, "envctl-shop-feat-x");
        }
    }
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
    // So are the schedules that would scale it; the worker's are created.
    assert!(l.iter().all(|a| !a.ends_with("-web")), "{l:?}");
    assert!(l.contains(&"create_schedule stop-worker".to_string()));
    assert!(l.contains(&"create_schedule start-worker".to_string()));
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
    // start-web would change too (count 2), but it would scale the other env's service.
    assert_ne!(after.schedules, d.schedules);
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
    for mask in 0..32u8 {
        let has_log_group = mask & 1 != 0;
        let has_repos = mask & 2 != 0;
        let has_services = mask & 4 != 0;
        let has_schedules = mask & 8 != 0;
        let has_namespace = mask & 16 != 0;
        let mut actual = nothing();
        if has_namespace {
            actual.namespace = full.namespace.clone();
        }
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
        if has_schedules {
            actual.schedule_group = full.schedule_group.clone();
            actual.schedules = full.schedules.clone();
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
        assert_eq!(
            count("create_schedule_group "),
            usize::from(!has_schedules),
            "{mask}: {l:?}"
        );
        assert_eq!(
            count("create_schedule "),
            if has_schedules { 0 } else { 4 },
            "{mask}: {l:?}"
        );
        // web's start schedule carries the new count.
        assert_eq!(
            count("update_schedule "),
            usize::from(has_schedules),
            "{mask}: {l:?}"
        );
        assert_eq!(
            count("create_namespace "),
            usize::from(!has_namespace),
            "{mask}: {l:?}"
        );
        assert_eq!(count("tag_service "), 0, "{mask}: {l:?}");
        assert!(plan.conflicts.is_empty());
    }
}

/// moto accepts a second CreateHttpNamespace with the same name (AWS refuses it): only the
/// plan shows that an `up` after a crash that left the namespace behind does not create another.
#[test]
fn namespace_left_by_a_crashed_up_is_not_created_again() {
    let d = desired();
    let mut actual = nothing();
    actual.namespace = Some(namespace(&d, owned_tags()));
    let plan = plan_up_checked(&d, &actual);
    let l = labels(&plan);
    assert!(
        !l.iter().any(|a| a.starts_with("create_namespace")),
        "{l:?}"
    );
    assert!(plan.conflicts.is_empty());
    insta::assert_yaml_snapshot!("namespace_left_by_crash", l);

    // And with nothing there, exactly one, before the services.
    let fresh = plan_up_checked(&d, &nothing());
    let creates: Vec<&Action> = fresh
        .actions
        .iter()
        .filter(|a| matches!(a, Action::CreateNamespace { .. }))
        .collect();
    assert_eq!(creates.len(), 1);
    let Action::CreateNamespace { name, tags } = creates[0] else {
        unreachable!()
    };
    assert_eq!(name, "envctl-shop-feat-x");
    assert_eq!(ownership(tags, APP, ENV), Ownership::Ours);
}

#[test]
fn services_join_the_env_namespace_with_their_port() {
    let d = render(&Inputs {
        sets: vec!["services.web.port=8080"],
        ..Default::default()
    });
    let web = service(&d, WEB)
        .service
        .service_connect_configuration
        .clone();
    let worker = service(&d, WORKER)
        .service
        .service_connect_configuration
        .clone();
    insta::assert_yaml_snapshot!("service_connect_settings", (web, worker));
}

#[test]
fn foreign_namespace_with_the_env_name_is_a_conflict_and_left_alone() {
    let d = desired();
    let mut actual = converged(&d);
    actual.namespace = Some(namespace(&d, Tags::new()));
    let plan = plan_up_checked(&d, &actual);
    assert_eq!(
        plan.conflicts,
        [Conflict {
            kind: "Cloud Map namespace".into(),
            name: "envctl-shop-feat-x".into(),
            owner: Ownership::Foreign,
        }]
    );
    let down = plan_down_checked(&actual);
    assert!(
        !down
            .actions
            .iter()
            .any(|a| matches!(a, Action::DeleteNamespace { .. })),
        "{:?}",
        labels(&down)
    );
    assert!(down
        .skipped
        .iter()
        .any(|c| c.kind == "Cloud Map namespace" && c.owner == Ownership::Foreign));
    // Another env's namespace under this name (a `-` collision) is not ours either.
    actual.namespace = Some(namespace(&d, other_env_tags("feat")));
    assert_eq!(plan_up_checked(&d, &actual).conflicts.len(), 1);
}

#[test]
fn resume_after_a_crash_in_the_first_phase() {
    // `up` died after phase 0: log group, namespace, repositories (no policy yet) and
    // revisions exist.
    let d = desired();
    let full = converged(&d);
    let mut actual = nothing();
    actual.log_group = full.log_group.clone();
    actual.namespace = full.namespace.clone();
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
            "create_schedule_group envctl-shop-feat-x",
            "create_schedule stop-web",
            "create_schedule start-web",
            "create_schedule stop-worker",
            "create_schedule start-worker",
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
    let plan = plan_down_checked(&actual);
    assert!(plan.skipped.is_empty());
    assert_eq!(
        labels(&plan),
        [
            "delete_service shop-feat-x-web",
            "delete_service shop-feat-x-worker",
            "delete_schedule_group envctl-shop-feat-x",
            "deregister_task_definition shop-feat-x-web:2",
            "deregister_task_definition shop-feat-x-worker:2",
            "deregister_task_definition shop-feat-x-web:1",
            "delete_repository envctl/shop/feat-x/web",
            "delete_repository envctl/shop/feat-x/worker",
            "delete_parameters /envctl/shop/env/feat-x/API_URL,/envctl/shop/env/feat-x/DB_PASSWORD",
            "delete_namespace envctl-shop-feat-x",
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

    let plan = plan_down_checked(&actual);
    assert_eq!(
        labels(&plan),
        [
            "delete_service shop-feat-x-web",
            "delete_service shop-feat-x-worker",
            "delete_schedule_group envctl-shop-feat-x",
            "deregister_task_definition shop-feat-x-web:1",
            "deregister_task_definition shop-feat-x-worker:1",
            "delete_repository envctl/shop/feat-x/web",
            "delete_repository envctl/shop/feat-x/worker",
            "delete_parameters /envctl/shop/env/feat-x/DB_PASSWORD",
            "delete_namespace envctl-shop-feat-x",
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
    let plan = plan_down_checked(&nothing());
    assert!(plan.is_empty());
    assert!(plan.skipped.is_empty());
}

// ---------------------------------------------------------------------------------------------
// stop/start schedules

const GROUP: &str = "envctl-shop-feat-x";

fn with_options(options: EnvOptions) -> DesiredEnv {
    render(&Inputs {
        options,
        ..Default::default()
    })
}

fn with_sets(sets: Vec<&'static str>) -> DesiredEnv {
    render(&Inputs {
        sets,
        ..Default::default()
    })
}

fn schedule_labels(plan: &Plan) -> Vec<String> {
    labels(plan)
        .into_iter()
        .filter(|l| l.contains("schedule"))
        .collect()
}

#[test]
fn schedules_are_created_in_a_new_group() {
    let plan = plan_up_checked(&desired(), &nothing());
    let mut scheduling = plan
        .actions
        .iter()
        .filter(|a| label(a).contains("schedule"));
    assert_eq!(
        scheduling.next(),
        Some(&Action::CreateScheduleGroup {
            name: GROUP.into(),
            tags: owned_tags(),
        })
    );
    let role = format!("arn:aws:iam::{ACCOUNT}:role/envctl-shop-scheduler");
    let want = [
        ("stop-web", "cron(0 20 ? * MON-FRI *)", WEB, 0),
        ("start-web", "cron(0 8 ? * MON-FRI *)", WEB, 1),
        ("stop-worker", "cron(0 20 ? * MON-FRI *)", WORKER, 0),
        ("start-worker", "cron(0 8 ? * MON-FRI *)", WORKER, 2),
    ];
    let created: Vec<&ScheduleSpec> = scheduling
        .map(|a| match a {
            Action::CreateSchedule { schedule } => schedule,
            other => panic!("unexpected {}", label(other)),
        })
        .collect();
    assert_eq!(created.len(), want.len());
    for (s, (name, expression, svc, count)) in created.into_iter().zip(want) {
        assert_eq!(
            *s,
            ScheduleSpec {
                group: GROUP.into(),
                name: name.into(),
                expression: expression.into(),
                timezone: "UTC".into(),
                flexible_window_minutes: 15,
                target_arn: "arn:aws:scheduler:::aws-sdk:ecs:updateService".into(),
                role_arn: role.clone(),
                input: s.input.clone(),
                state: "ENABLED".into(),
            }
        );
        // The universal target sends the input as the UpdateService request.
        assert_eq!(
            schedule_input(s),
            serde_json::json!({"Cluster": CLUSTER, "Service": svc, "DesiredCount": count}),
            "{name}"
        );
    }
}

#[test]
fn stop_time_change_updates_only_the_stop_schedules() {
    let after = with_sets(vec!["schedule.stop=19:00"]);
    let plan = plan_up_checked(&after, &converged(&desired()));
    assert_eq!(
        labels(&plan),
        ["update_schedule stop-web", "update_schedule stop-worker"]
    );
    for name in ["stop-web", "stop-worker"] {
        let (s, changes) = schedule_update(&plan, name);
        assert_eq!(s.expression, "cron(0 19 ? * MON-FRI *)");
        assert_eq!(
            *changes,
            ["expression cron(0 20 ? * MON-FRI *) → cron(0 19 ? * MON-FRI *)"]
        );
    }
    insta::assert_yaml_snapshot!("schedule_stop_time_change", plan);
}

#[test]
fn timezone_change_updates_every_schedule_and_nothing_else() {
    let after = with_sets(vec!["schedule.timezone=Europe/Berlin"]);
    let plan = plan_up_checked(&after, &converged(&desired()));
    assert_eq!(
        labels(&plan),
        [
            "update_schedule stop-web",
            "update_schedule start-web",
            "update_schedule stop-worker",
            "update_schedule start-worker",
        ]
    );
    for name in ["stop-web", "start-web", "stop-worker", "start-worker"] {
        let (s, changes) = schedule_update(&plan, name);
        assert_eq!(s.timezone, "Europe/Berlin");
        assert_eq!(*changes, ["timezone UTC → Europe/Berlin"]);
    }
}

/// `up --always-on`, `schedule.always_on = [<env>]` and `schedule.enabled = false` all mean the
/// env has no schedules: an existing group goes (with its schedules), a new env gets none.
#[test]
fn env_without_schedules_deletes_its_group_or_creates_none() {
    let cases = [
        (
            "--always-on",
            with_options(EnvOptions {
                always_on: true,
                ..Default::default()
            }),
        ),
        (
            "schedule.always_on",
            with_sets(vec![r#"schedule.always_on=["feat-x"]"#]),
        ),
        (
            "schedule.enabled",
            with_sets(vec!["schedule.enabled=false"]),
        ),
    ];
    for (why, d) in cases {
        assert_eq!(d.schedules, None, "{why}");
        let plan = plan_up_checked(&d, &converged(&desired()));
        assert_eq!(
            labels(&plan),
            ["delete_schedule_group envctl-shop-feat-x"],
            "{why}"
        );
        let plan = plan_up_checked(&d, &nothing());
        assert_eq!(schedule_labels(&plan), Vec::<String>::new(), "{why}");
        assert_eq!(plan.actions.len(), 10, "{why}: {:?}", labels(&plan));
        // Once the group is gone, nothing more.
        assert!(plan_up_checked(&d, &converged(&d)).is_empty(), "{why}");
    }
}

#[test]
fn schedule_group_of_someone_else_is_a_conflict_and_left_alone() {
    let d = desired();
    // Our schedules would change, so a write would show if the group were treated as ours.
    let after = with_sets(vec!["schedule.stop=19:00"]);
    let owners = [
        (Tags::new(), Ownership::Foreign),
        (
            other_env_tags("feat-y"),
            Ownership::OtherEnv {
                app: APP.into(),
                env: "feat-y".into(),
            },
        ),
    ];
    for (group_tags, owner) in owners {
        let mut actual = converged(&d);
        if let Some(g) = &mut actual.schedule_group {
            g.tags = group_tags;
        }
        let conflict = Conflict {
            kind: "schedule group".into(),
            name: GROUP.into(),
            owner,
        };
        let plan = plan_up_checked(&after, &actual);
        assert_eq!(plan.conflicts, std::slice::from_ref(&conflict));
        assert!(plan.is_empty(), "{:?}", labels(&plan));
        if conflict.owner == Ownership::Foreign {
            insta::assert_yaml_snapshot!("schedule_group_conflict", plan);
        }

        // A new env whose group name is taken: everything else is planned, no schedule is.
        let mut fresh = nothing();
        fresh.schedule_group = actual.schedule_group.clone();
        fresh.schedules = actual.schedules.clone();
        let plan = plan_up_checked(&after, &fresh);
        assert_eq!(plan.conflicts, std::slice::from_ref(&conflict));
        assert_eq!(schedule_labels(&plan), Vec::<String>::new());
        assert_eq!(plan.actions.len(), 10, "{:?}", labels(&plan));

        // An env that wants no schedules neither needs the name nor deletes the group.
        let always_on = with_options(EnvOptions {
            always_on: true,
            ..Default::default()
        });
        let plan = plan_up_checked(&always_on, &actual);
        assert!(plan.is_empty(), "{:?}", labels(&plan));
        assert!(plan.conflicts.is_empty());

        // `down` leaves it and says so.
        let plan = plan_down_checked(&actual);
        assert_eq!(schedule_labels(&plan), Vec::<String>::new());
        assert_eq!(plan.skipped, [conflict]);
    }
}

#[test]
fn schedules_of_a_conflicted_service_are_left_alone() {
    // web's name belongs to another env; its stop schedule would change with the rest.
    let d = desired();
    let after = with_sets(vec!["schedule.stop=19:00"]);
    let mut actual = converged(&d);
    actual.services[0].tags = other_env_tags("feat-y");
    let plan = plan_up_checked(&after, &actual);
    assert_eq!(plan.conflicts.len(), 1);
    assert_eq!(labels(&plan), ["update_schedule stop-worker"]);

    // Once the config drops worker and its name is someone else's, the service is left alone
    // but our schedules that would scale it go.
    let web_only = render(&Inputs {
        worker: false,
        ..Default::default()
    });
    let mut actual = converged(&d);
    actual.services[1].tags = Tags::new();
    let plan = plan_up_checked(&web_only, &actual);
    assert!(plan.conflicts.is_empty());
    assert_eq!(
        labels(&plan),
        [
            "delete_schedule start-worker",
            "delete_schedule stop-worker"
        ]
    );
}

#[test]
fn down_deletes_the_owned_schedule_group_with_its_schedules() {
    let plan = plan_down_checked(&converged(&desired()));
    assert_eq!(
        schedule_labels(&plan),
        ["delete_schedule_group envctl-shop-feat-x"]
    );
    assert!(plan.skipped.is_empty());
}

/// The checker itself: each of these plans breaks one rule it is meant to enforce.
#[test]
fn invariant_checker_rejects_broken_schedule_plans() {
    let d = desired();
    let group = d.schedules.clone().expect("schedules are on by default");
    let stop_web = group.schedules[0].clone();
    let plan_of = |actions: Vec<Action>, conflicts: Vec<Conflict>| Plan {
        app: APP.into(),
        env: ENV.into(),
        actions,
        hooks: vec![],
        database: None,
        conflicts,
        skipped: vec![],
        capacity: vec![],
    };
    let create_group = Action::CreateScheduleGroup {
        name: GROUP.into(),
        tags: owned_tags(),
    };
    let create = Action::CreateSchedule {
        schedule: stop_web.clone(),
    };
    let update = Action::UpdateSchedule {
        schedule: stop_web.clone(),
        changes: vec!["expression".into()],
    };
    let starts_web = Action::CreateSchedule {
        schedule: ScheduleSpec {
            input: serde_json::json!({"Cluster": CLUSTER, "Service": WEB, "DesiredCount": 1})
                .to_string(),
            ..stop_web.clone()
        },
    };
    let web_conflict = Conflict {
        kind: "ECS service".into(),
        name: WEB.into(),
        owner: Ownership::Foreign,
    };
    let broken = [
        (
            "created twice",
            vec![create.clone(), create.clone()],
            vec![],
        ),
        (
            "update in a new group",
            vec![create_group.clone(), update.clone()],
            vec![],
        ),
        (
            "create in a deleted group",
            vec![
                create.clone(),
                Action::DeleteScheduleGroup { name: GROUP.into() },
            ],
            vec![],
        ),
        ("stop that starts", vec![starts_web], vec![]),
        (
            "scales a conflicted service",
            vec![create.clone()],
            vec![web_conflict],
        ),
        (
            "update of nothing",
            vec![Action::UpdateSchedule {
                schedule: stop_web.clone(),
                changes: vec![],
            }],
            vec![],
        ),
    ];
    for (why, actions, conflicts) in broken {
        let plan = plan_of(actions, conflicts);
        let caught = std::panic::catch_unwind(|| check_invariants(&plan));
        assert!(caught.is_err(), "check_invariants accepted: {why}");
    }

    // Against what exists: the group and schedule exist, so creating them again is wrong; a
    // foreign group's schedules are not ours to update.
    let actual = converged(&d);
    let mut foreign = converged(&d);
    if let Some(g) = &mut foreign.schedule_group {
        g.tags = Tags::new();
    }
    let broken = [
        ("group created again", vec![create_group.clone()], &actual),
        ("schedule created again", vec![create.clone()], &actual),
        ("update in a foreign group", vec![update.clone()], &foreign),
        (
            "schedule in no group",
            vec![create.clone()],
            &ActualEnv {
                schedule_group: None,
                schedules: vec![],
                ..actual.clone()
            },
        ),
    ];
    for (why, actions, actual) in broken {
        let plan = plan_of(actions, vec![]);
        let caught = std::panic::catch_unwind(|| check_against(&plan, actual));
        assert!(caught.is_err(), "check_against accepted: {why}");
    }
}

// ---------------------------------------------------------------------------------------------
// expiry

fn at(now: &str) -> EnvOptions {
    EnvOptions {
        now: now.parse().expect("test timestamp"),
        ..Default::default()
    }
}

fn create_service_tags(plan: &Plan) -> Vec<&Tags> {
    plan.actions
        .iter()
        .filter_map(|a| match a {
            Action::CreateService { tags, .. } => Some(tags),
            _ => None,
        })
        .collect()
}

#[test]
fn new_services_carry_expiry_and_protection_tags() {
    let d = with_options(EnvOptions {
        ttl: Some("72h".into()),
        protect: true,
        ..at("2025-03-01T10:00:00Z")
    });
    let plan = plan_up_checked(&d, &nothing());
    let created = create_service_tags(&plan);
    assert_eq!(created.len(), 2);
    for t in created {
        assert_eq!(
            t.get(TAG_EXPIRES_AT).map(String::as_str),
            Some("2025-03-04T10:00:00Z")
        );
        assert_eq!(t.get(TAG_TTL).map(String::as_str), Some("72h"));
        assert_eq!(t.get(TAG_PROTECTED).map(String::as_str), Some("true"));
    }

    // `--ttl never`: no expiry at all.
    let never = with_options(EnvOptions {
        ttl: Some("never".into()),
        ..Default::default()
    });
    let plan = plan_up_checked(&never, &nothing());
    for t in create_service_tags(&plan) {
        assert!(
            !t.contains_key(TAG_EXPIRES_AT) && !t.contains_key(TAG_TTL),
            "{t:?}"
        );
    }
}

#[test]
fn expiry_later_than_refresh_before_writes_nothing() {
    // The next day's `up`: 6 of 7 days left, more than half, so the tags stay as they are.
    let next_day = with_options(at("1970-01-02T00:00:00Z"));
    assert_eq!(
        next_day.expiry.refresh_before.as_deref(),
        Some("1970-01-05T12:00:00Z")
    );
    let plan = plan_up_checked(&next_day, &converged(&desired()));
    assert!(plan.is_empty(), "{:?}", labels(&plan));
}

#[test]
fn expiry_earlier_than_refresh_before_is_pushed_out() {
    // Five days on, less than half the TTL is left: expiry moves to now + 7d.
    let later = with_options(at("1970-01-05T00:00:00Z"));
    let plan = plan_up_checked(&later, &converged(&desired()));
    assert_eq!(
        labels(&plan),
        [
            "tag_service shop-feat-x-web",
            "tag_service shop-feat-x-worker"
        ]
    );
    for name in [WEB, WORKER] {
        let (set, remove) = tag_update(&plan, name);
        assert_eq!(
            *set,
            tags(&[(TAG_EXPIRES_AT, "1970-01-12T00:00:00Z"), (TAG_TTL, "7d")])
        );
        assert!(remove.is_empty());
    }
    insta::assert_yaml_snapshot!("expiry_refreshed", plan);

    // A service with no expiry tag at all gets one, however fresh the others are.
    let d = desired();
    let mut actual = converged(&d);
    actual.services[1].tags.remove(TAG_EXPIRES_AT);
    let plan = plan_up_checked(&d, &actual);
    assert_eq!(labels(&plan), ["tag_service shop-feat-x-worker"]);
}

#[test]
fn ttl_never_removes_the_expiry_tags() {
    let never = with_options(EnvOptions {
        ttl: Some("never".into()),
        ..Default::default()
    });
    let plan = plan_up_checked(&never, &converged(&desired()));
    assert_eq!(
        labels(&plan),
        [
            "tag_service shop-feat-x-web",
            "tag_service shop-feat-x-worker"
        ]
    );
    for name in [WEB, WORKER] {
        let (set, remove) = tag_update(&plan, name);
        assert!(set.is_empty(), "{set:?}");
        assert_eq!(*remove, [TAG_EXPIRES_AT, TAG_TTL]);
    }
    // Once they are gone, nothing more.
    assert!(plan_up_checked(&never, &converged(&never)).is_empty());
}

#[test]
fn protect_tags_a_converged_env_once() {
    let d = desired();
    let protect = with_options(EnvOptions {
        protect: true,
        ..Default::default()
    });
    let plan = plan_up_checked(&protect, &converged(&d));
    assert_eq!(
        labels(&plan),
        [
            "tag_service shop-feat-x-web",
            "tag_service shop-feat-x-worker"
        ]
    );
    for name in [WEB, WORKER] {
        let (set, remove) = tag_update(&plan, name);
        assert_eq!(*set, tags(&[(TAG_PROTECTED, "true")]));
        assert!(remove.is_empty());
    }
    // Protected already: nothing to write, with or without --protect (protection is sticky).
    let mut actual = converged(&d);
    for s in &mut actual.services {
        s.tags.insert(TAG_PROTECTED.into(), "true".into());
    }
    assert!(plan_up_checked(&protect, &actual).is_empty());
    assert!(plan_up_checked(&d, &actual).is_empty());
}

#[test]
fn ttl_change_retags_even_a_fresh_expiry() {
    // Stored: 7d, expiring 1970-01-08. `--ttl 72h` at the same moment: the stored expiry is not
    // stale, but it was computed from another TTL.
    let shorter = with_options(EnvOptions {
        ttl: Some("72h".into()),
        ..Default::default()
    });
    let plan = plan_up_checked(&shorter, &converged(&desired()));
    assert_eq!(
        labels(&plan),
        [
            "tag_service shop-feat-x-web",
            "tag_service shop-feat-x-worker"
        ]
    );
    for name in [WEB, WORKER] {
        let (set, remove) = tag_update(&plan, name);
        assert_eq!(
            *set,
            tags(&[(TAG_EXPIRES_AT, "1970-01-04T00:00:00Z"), (TAG_TTL, "72h")])
        );
        assert!(remove.is_empty());
    }
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
        load_balancer: None,
    };
    let update_service = Action::UpdateService {
        service: "web".into(),
        name: WEB.into(),
        cluster: CLUSTER.into(),
        arn: "arn".into(),
        task_definition: TaskDefRef::Registered(WEB.into()),
        definition: web.service.clone(),
        load_balancer: None,
        spec_hash: None,
        changes: vec![],
        force_new_deployment: None,
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
    let schedules = d.schedules.as_ref().expect("schedules are on by default");
    let create_group = Action::CreateScheduleGroup {
        name: schedules.name.clone(),
        tags: owned_tags(),
    };
    let create_schedule = Action::CreateSchedule {
        schedule: schedules.schedules[0].clone(),
    };
    let update_schedule = Action::UpdateSchedule {
        schedule: schedules.schedules[0].clone(),
        changes: vec![],
    };
    let delete_schedule = Action::DeleteSchedule {
        group: schedules.name.clone(),
        name: schedules.schedules[0].name.clone(),
    };
    let delete_group = Action::DeleteScheduleGroup {
        name: schedules.name.clone(),
    };
    let tag_service = Action::TagService {
        name: WEB.into(),
        arn: "arn".into(),
        set: Tags::new(),
        remove: vec![],
    };

    for service in [&create_service, &update_service] {
        assert!(register.phase() < service.phase());
        assert!(create_log_group.phase() < service.phase());
    }
    assert!(create_repository.phase() < put_policy.phase());
    // A schedule goes into a group that exists by then.
    assert!(create_group.phase() < create_schedule.phase());
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
        &create_group,
        &create_schedule,
        &update_schedule,
        &delete_schedule,
        &delete_group,
        &tag_service,
    ] {
        assert!(other.phase() < delete_log_group.phase(), "{}", label(other));
    }
}

// ---------------------------------------------------------------------------------------------
// Hooks: which one-off tasks a plan starts, with which revision.

const HOOKS: &str = r#"
[[hooks.before_deploy]]
service = "worker"
command = ["bin/migrate"]

[[hooks.after_create]]
service = "worker"
command = ["bin/seed"]
"#;

fn with_hooks(sets: Vec<&'static str>) -> DesiredEnv {
    render(&Inputs {
        extra: HOOKS,
        sets,
        ..Default::default()
    })
}

fn hooks(plan: &Plan) -> Vec<(String, TaskDefRef, String)> {
    plan.hooks
        .iter()
        .map(|h| {
            (
                format!("{} {} {}", h.kind, h.service, h.command.join(" ")),
                h.task_definition.clone(),
                h.reason.clone(),
            )
        })
        .collect()
}

#[test]
fn new_env_runs_migrations_with_the_new_revision_then_seeds_once() {
    let d = with_hooks(vec![]);
    let plan = plan_up_checked(&d, &nothing());
    assert_eq!(
        hooks(&plan),
        [
            (
                format!("before_deploy {WORKER} bin/migrate"),
                TaskDefRef::Registered(WORKER.into()),
                "new service".to_string()
            ),
            (
                format!("after_create {WORKER} bin/seed"),
                TaskDefRef::Registered(WORKER.into()),
                "first up of the env".to_string()
            ),
        ]
    );
    let hook = &plan.hooks[0];
    assert_eq!(hook.container, "worker");
    assert_eq!(hook.network, service(&d, WORKER).service.awsvpc());
    assert!(hook.log.is_some(), "the default template logs with awslogs");
    // The seeded service is created with the pending tag; the other one is not.
    for a in &plan.actions {
        if let Action::CreateService { name, tags, .. } = a {
            assert_eq!(
                tags.get(envctl::model::TAG_AFTER_CREATE_PENDING).is_some(),
                name == WORKER,
                "{name}"
            );
        }
    }
}

#[test]
fn converged_env_runs_no_hook() {
    let d = with_hooks(vec![]);
    let plan = plan_up_checked(&d, &converged(&d));
    assert!(plan.is_empty(), "{:?}", hooks(&plan));
}

#[test]
fn another_services_change_runs_no_migration() {
    let before = with_hooks(vec![]);
    let after = with_hooks(vec!["services.web.memory=1024"]);
    let plan = plan_up_checked(&after, &converged(&before));
    assert!(plan.hooks.is_empty(), "{:?}", hooks(&plan));
}

#[test]
fn new_revision_of_the_hook_service_runs_migrations_first() {
    let before = with_hooks(vec![]);
    let after = with_hooks(vec!["services.worker.memory=2048"]);
    let plan = plan_up_checked(&after, &converged(&before));
    assert_eq!(
        hooks(&plan),
        [(
            format!("before_deploy {WORKER} bin/migrate"),
            TaskDefRef::Registered(WORKER.into()),
            "new revision".to_string()
        )]
    );
}

#[test]
fn deploy_cut_off_after_registering_runs_migrations_again_with_that_revision() {
    // An earlier `up` registered revision 2 (what the config renders now) and stopped before the
    // service moved to it: the service still runs revision 1.
    let old = with_hooks(vec![]);
    let new = with_hooks(vec!["services.worker.memory=2048"]);
    let mut actual = converged(&old);
    let worker = service(&new, WORKER);
    actual.task_definitions.push(revision(worker, 2));
    let plan = plan_up_checked(&new, &actual);
    assert_eq!(
        hooks(&plan),
        [(
            format!("before_deploy {WORKER} bin/migrate"),
            TaskDefRef::Existing(td_arn(WORKER, 2)),
            format!("moving to revision {WORKER}:2")
        )]
    );
    assert!(
        !labels(&plan)
            .iter()
            .any(|l| l.starts_with("register_task_definition")),
        "{:?}",
        labels(&plan)
    );
}

#[test]
fn seed_still_pending_runs_again_until_it_succeeds() {
    let d = with_hooks(vec![]);
    let mut actual = converged(&d);
    for s in &mut actual.services {
        if s.name == WORKER {
            s.tags.insert(
                envctl::model::TAG_AFTER_CREATE_PENDING.into(),
                envctl::model::AFTER_CREATE_PENDING.into(),
            );
        }
    }
    let plan = plan_up_checked(&d, &actual);
    assert!(plan.actions.is_empty(), "{:?}", labels(&plan));
    assert_eq!(
        hooks(&plan),
        [(
            format!("after_create {WORKER} bin/seed"),
            TaskDefRef::Existing(td_arn(WORKER, 1)),
            "an earlier run did not finish it".to_string()
        )]
    );
}

// ---------------------------------------------------------------------------------------------
// `[database]`: the database task definition is registered like a service's, and the create task
// is part of the plan (`Plan::database`) whenever the env's DATABASE_URL is not marked ready.

const DATABASE_CONFIG: &str = "\n[database]\nengine = \"postgres\"\nadmin_url_param = \"/envctl/shop/shared/DB_ADMIN_URL\"\ntemplate = \"shop_seed\"\n";

fn with_database() -> DesiredEnv {
    render(&Inputs {
        extra: DATABASE_CONFIG,
        ..Default::default()
    })
}

/// The env's DATABASE_URL parameter as observed, tagged `tags` plus envctl's database state.
fn url_param(d: &DesiredEnv, tags: Tags, state: &str) -> ParameterState {
    let db = d.database.as_ref().expect("[database] renders a database");
    let mut tags = tags;
    tags.insert(envctl::database::TAG_DATABASE.into(), state.into());
    ParameterState {
        name: db.url_param.clone(),
        arn: format!("arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{}", db.url_param),
        secure: true,
        version: 1,
        value: None,
        tags,
    }
}

/// `d` converged, with the database family on revision 1 (as ECS echoes it) and `param`.
fn converged_with_database(d: &DesiredEnv, param: Option<ParameterState>) -> ActualEnv {
    let db = d.database.as_ref().expect("[database] renders a database");
    let mut actual = converged(d);
    actual.task_definitions.push(TaskDefinitionState {
        arn: td_arn(&db.family, 1),
        family: db.family.clone(),
        revision: 1,
        status: "ACTIVE".into(),
        definition: Some(echoed(&db.task_definition)),
        tags: owned_tags(),
    });
    actual.parameters.extend(param);
    actual
}

/// The database's part of a plan: its steps (the task definition) and the database task.
fn database_lines(d: &DesiredEnv, plan: &Plan) -> Vec<String> {
    let db = d.database.as_ref().expect("[database] renders a database");
    plan.actions
        .iter()
        .filter(|a| family(a) == Some(db.family.as_str()))
        .map(label)
        .chain(plan.database.iter().map(|r| {
            format!(
                "database: {} [task definition {}, DATABASE_URL stored: {}]",
                r.describe(),
                match &r.task_definition {
                    TaskDefRef::Existing(arn) => short_td(arn).to_string(),
                    TaskDefRef::Registered(family) => format!("{family} (this run)"),
                },
                r.url_stored
            )
        }))
        .chain(
            plan.conflicts
                .iter()
                .map(|c| format!("conflict: {} {}", c.kind, c.name)),
        )
        .collect()
}

#[test]
fn database_is_created_once_resumed_after_a_crash_and_never_taken_from_another_env() {
    let d = with_database();
    let db = d.database.as_ref().expect("[database] renders a database");

    // A new env: the task definition is registered and the create task runs with it.
    let fresh = plan_up_checked(&d, &nothing());
    assert!(fresh.database.is_some(), "{fresh:#?}");

    // Converged: DATABASE_URL is marked ready, the family's latest revision is the wanted one.
    let ready = converged_with_database(
        &d,
        Some(url_param(&d, owned_tags(), envctl::database::READY)),
    );
    let converged_plan = plan_up_checked(&d, &ready);
    assert!(converged_plan.is_empty(), "{converged_plan:#?}");

    // Cut off after DATABASE_URL was stored (still pending): the task runs again on the
    // registered revision and keeps the stored password.
    let pending = converged_with_database(
        &d,
        Some(url_param(&d, owned_tags(), envctl::database::PENDING)),
    );
    let resumed = plan_up_checked(&d, &pending);
    let run = resumed
        .database
        .as_ref()
        .expect("the create task runs again");
    assert!(run.url_stored);
    assert_eq!(
        run.task_definition,
        TaskDefRef::Existing(td_arn(&db.family, 1))
    );

    // Another env's parameter under this env's DATABASE_URL name: a conflict, no task.
    let foreign = converged_with_database(
        &d,
        Some(url_param(
            &d,
            other_env_tags("feat-y"),
            envctl::database::READY,
        )),
    );
    let taken = plan_up(&d, &foreign);
    assert!(taken.database.is_none());
    assert_eq!(taken.conflicts.len(), 1, "{:?}", taken.conflicts);

    let mut snapshot = BTreeMap::new();
    for (case, plan) in [
        ("1 fresh env", &fresh),
        ("2 converged", &converged_plan),
        ("3 resumed after a crash", &resumed),
        ("4 parameter of another env", &taken),
    ] {
        snapshot.insert(case, database_lines(&d, plan));
    }
    insta::assert_yaml_snapshot!("database_plans", snapshot);
}
