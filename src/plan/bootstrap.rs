//! `bootstrap` as a plan: what the app-wide pieces should be, from the config alone
//! ([`desired`]), and the steps from what AWS has ([`BootstrapObserved`]) to that
//! ([`plan_bootstrap`]). Pure: `ops::bootstrap` observes, `apply::bootstrap` runs the steps.
//!
//! Each kind of resource is compared its own way: the cluster, bucket, repositories and load
//! balancer by existence (and ownership), roles by trust policy, inline policy (both through
//! `normalize::policy`) and managed attachments, the preview listener by the ARN recorded on the
//! cluster. A name held by something that is not the app's is a conflict: nothing is written.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Value};

use crate::config::LoadedConfig;
use crate::model::{
    app_ownership, trust_policy, ClusterState, Ownership, ServiceRoleState, Tags,
    TAG_PREVIEW_LISTENER,
};
use crate::naming;
use crate::normalize::policy::same_policy;
use crate::plan::{Conflict, Verb};

/// The inline policy envctl owns on the task role.
pub const EXEC_POLICY_NAME: &str = "envctl-exec";
/// The inline policy envctl owns on the execution role.
pub const PARAMS_POLICY_NAME: &str = "envctl-params";
/// The inline policy envctl owns on the scheduler role.
pub const SCHEDULER_POLICY_NAME: &str = "envctl-stop-start";
/// The inline policy envctl owns on the build role.
pub const BUILD_POLICY_NAME: &str = "envctl-build";
/// The preview listener's port.
pub const PREVIEW_LISTENER_PORT: i32 = 80;

/// The account and region bootstrap runs in, for the ARNs and names that depend on them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub partition: String,
    pub region: String,
    pub account: String,
}

impl Place {
    fn role_arn(&self, name: &str) -> String {
        format!("arn:{}:iam::{}:role/{name}", self.partition, self.account)
    }
}

/// The four roles bootstrap may own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleKind {
    Execution,
    Scheduler,
    Task,
    Build,
}

/// A role as bootstrap wants it: who may assume it, its one inline policy, and the AWS-managed
/// policies attached to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoleSpec {
    pub kind: RoleKind,
    pub name: String,
    /// The ARN IAM gives a role of this name.
    pub arn: String,
    pub trusted_service: &'static str,
    /// Set once, at creation.
    pub description: String,
    /// What the role is for, for plan lines.
    pub purpose: String,
    pub policy_name: &'static str,
    pub policy: Value,
    pub managed_policies: Vec<String>,
}

/// Everything bootstrap wants for the app, from the config and the place.
#[derive(Debug, Clone, PartialEq)]
pub struct BootstrapDesired {
    pub app: String,
    pub region: String,
    pub tags: Tags,
    pub cluster: String,
    /// `cluster.existing`: the user's cluster, used as it is (never tagged).
    pub cluster_existing: bool,
    /// `roles.execution_role_arn`, when the user brings their own.
    pub own_execution_role: Option<String>,
    /// In the order they are created.
    pub roles: Vec<RoleSpec>,
    /// The shared preview ALB's name, with `[preview]` on and no listener of the user's.
    pub load_balancer: Option<String>,
    /// The build bucket and the per-service BuildKit cache repositories, when a service builds.
    pub build: Option<BuildDesired>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildDesired {
    pub bucket: String,
    pub cache_repositories: Vec<String>,
}

/// A role as found: its state with trust and the wanted inline policy, and its managed
/// attachments.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedRole {
    pub state: ServiceRoleState,
    pub attached_policies: Vec<String>,
}

/// The preview ALB as found, with its first listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedLoadBalancer {
    pub name: String,
    pub arn: String,
    pub dns_name: String,
    pub tags: Tags,
    pub listener: Option<String>,
}

/// Subnets and security groups a new ALB goes in (from `network`, only read when the ALB is
/// missing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Network {
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
}

/// What AWS has under bootstrap's names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BootstrapObserved {
    pub cluster: Option<ClusterState>,
    /// By role name; a role that does not exist is absent.
    pub roles: BTreeMap<String, ObservedRole>,
    pub load_balancer: Option<ObservedLoadBalancer>,
    pub network: Option<Network>,
    /// The build bucket's tags, `None` when there is no bucket.
    pub bucket: Option<Tags>,
    /// The tags of each cache repository that exists, by name.
    pub repositories: BTreeMap<String, Tags>,
}

/// One step of a bootstrap plan; each is one AWS write (two for a cluster or bucket, which are
/// configured as they are created).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum BootstrapAction {
    CreateCluster {
        name: String,
        tags: Tags,
    },
    CreateRole {
        role: RoleSpec,
        tags: Tags,
    },
    UpdateTrustPolicy {
        kind: RoleKind,
        role: String,
        trusted_service: &'static str,
    },
    AttachRolePolicy {
        kind: RoleKind,
        role: String,
        policy_arn: String,
    },
    PutRolePolicy {
        kind: RoleKind,
        role: String,
        policy_name: &'static str,
        document: Value,
        /// The role has a policy of that name already: unified diff against it.
        #[serde(skip_serializing_if = "Option::is_none")]
        diff: Option<String>,
    },
    CreateLoadBalancer {
        name: String,
        network: Network,
        tags: Tags,
    },
    /// On the load balancer `load_balancer` (the one created in this run when it is new).
    CreateListener {
        load_balancer: String,
        port: i32,
        tags: Tags,
    },
    /// Tags the cluster with the preview listener's ARN, so per-env commands find it in one call.
    RecordListener {
        cluster: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        listener: Option<String>,
    },
    CreateBucket {
        name: String,
        tags: Tags,
    },
    CreateRepository {
        name: String,
        tags: Tags,
    },
}

impl BootstrapAction {
    pub fn verb(&self) -> Verb {
        match self {
            BootstrapAction::CreateCluster { .. }
            | BootstrapAction::CreateRole { .. }
            | BootstrapAction::AttachRolePolicy { .. }
            | BootstrapAction::PutRolePolicy { diff: None, .. }
            | BootstrapAction::CreateLoadBalancer { .. }
            | BootstrapAction::CreateListener { .. }
            | BootstrapAction::CreateBucket { .. }
            | BootstrapAction::CreateRepository { .. } => Verb::Create,
            BootstrapAction::UpdateTrustPolicy { .. }
            | BootstrapAction::PutRolePolicy { .. }
            | BootstrapAction::RecordListener { .. } => Verb::Update,
        }
    }

    /// When the step may run: every step of a stage only needs steps of earlier stages (a role
    /// before its policies, the ALB before its listener, the listener before it is recorded on
    /// the cluster), so the steps of one stage run concurrently.
    pub fn stage(&self) -> u8 {
        match self {
            BootstrapAction::CreateCluster { .. }
            | BootstrapAction::CreateRole { .. }
            | BootstrapAction::CreateLoadBalancer { .. }
            | BootstrapAction::CreateBucket { .. }
            | BootstrapAction::CreateRepository { .. } => 0,
            BootstrapAction::UpdateTrustPolicy { .. }
            | BootstrapAction::AttachRolePolicy { .. }
            | BootstrapAction::PutRolePolicy { .. }
            | BootstrapAction::CreateListener { .. } => 1,
            BootstrapAction::RecordListener { .. } => 2,
        }
    }

    /// One line for humans.
    pub fn describe(&self) -> String {
        match self {
            BootstrapAction::CreateCluster { name, .. } => {
                format!("create ECS cluster {name} (FARGATE, FARGATE_SPOT)")
            }
            BootstrapAction::CreateRole { role, .. } => {
                format!("create IAM role {} ({})", role.name, role.purpose)
            }
            BootstrapAction::UpdateTrustPolicy {
                role,
                trusted_service,
                ..
            } => format!(
                "update trust policy of IAM role {role}: only {trusted_service} may assume it"
            ),
            BootstrapAction::AttachRolePolicy {
                role, policy_arn, ..
            } => format!("attach {policy_arn} to IAM role {role}"),
            BootstrapAction::PutRolePolicy {
                role,
                policy_name,
                diff: None,
                ..
            } => format!("put inline policy {policy_name} on IAM role {role}"),
            BootstrapAction::PutRolePolicy {
                role, policy_name, ..
            } => format!("update inline policy {policy_name} of IAM role {role}"),
            BootstrapAction::CreateLoadBalancer { name, .. } => {
                format!("create ALB {name} (internet-facing, IPv4)")
            }
            BootstrapAction::CreateListener {
                load_balancer,
                port,
                ..
            } => format!("create HTTP listener :{port} on ALB {load_balancer} (default: 404)"),
            BootstrapAction::RecordListener { cluster, .. } => {
                format!("record the preview listener on cluster {cluster}")
            }
            BootstrapAction::CreateBucket { name, .. } => {
                format!("create S3 bucket {name} (build cache, uploaded sources)")
            }
            BootstrapAction::CreateRepository { name, .. } => {
                format!("create ECR repository {name} (BuildKit layer cache)")
            }
        }
    }

    fn diff(&self) -> Option<&str> {
        match self {
            BootstrapAction::PutRolePolicy { diff, .. } => diff.as_deref(),
            _ => None,
        }
    }
}

/// What `bootstrap` would do.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BootstrapPlan {
    pub app: String,
    pub region: String,
    pub actions: Vec<BootstrapAction>,
    /// Names taken by resources that are not the app's: nothing is applied while any exist.
    pub conflicts: Vec<Conflict>,
}

/// Bootstrap as it should be for `cfg` in `place`.
pub fn desired(cfg: &LoadedConfig, place: &Place, tags: Tags) -> BootstrapDesired {
    let c = &cfg.config;
    let app = c.app.as_str();
    let cluster = cfg.cluster_name();
    let mut roles = Vec::new();
    if c.roles.execution_role_arn.is_none() {
        let name = naming::execution_role(app);
        // The role is global, so the parameter ARNs cover every region.
        let parameters = format!(
            "arn:{}:ssm:*:{}:parameter/envctl/{app}/",
            place.partition, place.account
        );
        roles.push(RoleSpec {
            kind: RoleKind::Execution,
            arn: place.role_arn(&name),
            name,
            trusted_service: "ecs-tasks.amazonaws.com",
            description: "ECS task execution role managed by envctl".into(),
            purpose: format!("ECS task execution, reads /envctl/{app}/ parameters"),
            policy_name: PARAMS_POLICY_NAME,
            policy: params_policy(&parameters),
            managed_policies: vec![format!(
                "arn:{}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
                place.partition
            )],
        });
    }
    if c.schedule.enabled {
        let name = naming::scheduler_role(app);
        roles.push(service_role(
            RoleKind::Scheduler,
            place,
            name,
            "scheduler.amazonaws.com",
            format!("EventBridge Scheduler: ecs:UpdateService on {app}-* services"),
            SCHEDULER_POLICY_NAME,
            scheduler_policy(&place.account, &cluster, app),
        ));
    }
    if c.exec.enabled && c.roles.task_role_arn.is_none() {
        roles.push(service_role(
            RoleKind::Task,
            place,
            naming::task_role(app),
            "ecs-tasks.amazonaws.com",
            "task role: ECS Exec's ssmmessages channels".into(),
            EXEC_POLICY_NAME,
            exec_policy(),
        ));
    }
    let builds = c.services.iter().any(|(_, s)| s.build.is_some());
    let build = builds.then(|| {
        let bucket = naming::build_bucket(app, &place.account, &place.region);
        roles.push(service_role(
            RoleKind::Build,
            place,
            naming::build_role(app),
            "codebuild.amazonaws.com",
            "CodeBuild: image builds".into(),
            BUILD_POLICY_NAME,
            build_policy(&place.account, app, &bucket),
        ));
        BuildDesired {
            bucket,
            cache_repositories: c
                .services
                .iter()
                .filter(|(_, s)| s.build.is_some())
                .map(|(key, _)| naming::build_cache_repository(app, key))
                .collect(),
        }
    });
    let p = &c.preview;
    BootstrapDesired {
        app: app.to_string(),
        region: place.region.clone(),
        tags,
        cluster,
        cluster_existing: c.cluster.existing,
        own_execution_role: c.roles.execution_role_arn.clone(),
        roles,
        load_balancer: (p.enabled && p.listener_arn.is_empty()).then(|| naming::load_balancer(app)),
        build,
    }
}

fn service_role(
    kind: RoleKind,
    place: &Place,
    name: String,
    trusted_service: &'static str,
    purpose: String,
    policy_name: &'static str,
    policy: Value,
) -> RoleSpec {
    RoleSpec {
        kind,
        arn: place.role_arn(&name),
        name,
        trusted_service,
        description: format!("Service role for {trusted_service} managed by envctl"),
        purpose,
        policy_name,
        policy,
        managed_policies: Vec::new(),
    }
}

/// The names bootstrap needs that are not the app's. The user's own cluster
/// (`cluster.existing`) is theirs to have.
pub fn conflicts(d: &BootstrapDesired, o: &BootstrapObserved) -> Vec<Conflict> {
    let mut found: Vec<(&str, &String, &Tags)> = Vec::new();
    if let Some(c) = o.cluster.as_ref().filter(|_| !d.cluster_existing) {
        found.push(("ECS cluster", &c.name, &c.tags));
    }
    for role in &d.roles {
        if let Some(r) = o.roles.get(&role.name) {
            found.push(("IAM role", &r.state.name, &r.state.tags));
        }
    }
    if let Some(lb) = o
        .load_balancer
        .as_ref()
        .filter(|_| d.load_balancer.is_some())
    {
        found.push(("load balancer", &lb.name, &lb.tags));
    }
    if let Some(b) = &d.build {
        if let Some(tags) = &o.bucket {
            found.push(("S3 bucket", &b.bucket, tags));
        }
        for name in &b.cache_repositories {
            if let Some(tags) = o.repositories.get(name) {
                found.push(("ECR repository", name, tags));
            }
        }
    }
    found
        .into_iter()
        .filter_map(|(kind, name, tags)| {
            let owner = app_ownership(tags, &d.app);
            (owner != Ownership::Ours).then(|| Conflict {
                kind: kind.into(),
                name: name.clone(),
                owner,
            })
        })
        .collect()
}

/// Everything bootstrap has to do to turn `o` into `d`, stage by stage (see
/// [`BootstrapAction::stage`]). A missing cluster with `cluster.existing` set is the caller's
/// to refuse: it is an input error, not a step.
pub fn plan_bootstrap(d: &BootstrapDesired, o: &BootstrapObserved) -> BootstrapPlan {
    let mut actions = Vec::new();
    if o.cluster.is_none() && !d.cluster_existing {
        actions.push(BootstrapAction::CreateCluster {
            name: d.cluster.clone(),
            tags: d.tags.clone(),
        });
    }
    for role in &d.roles {
        role_actions(&mut actions, role, o.roles.get(&role.name), &d.tags);
    }
    if let Some(name) = &d.load_balancer {
        let listener = match &o.load_balancer {
            None => {
                actions.push(BootstrapAction::CreateLoadBalancer {
                    name: name.clone(),
                    network: o.network.clone().unwrap_or(Network {
                        subnets: Vec::new(),
                        security_groups: Vec::new(),
                    }),
                    tags: d.tags.clone(),
                });
                None
            }
            Some(lb) => lb.listener.clone(),
        };
        if listener.is_none() {
            actions.push(BootstrapAction::CreateListener {
                load_balancer: name.clone(),
                port: PREVIEW_LISTENER_PORT,
                tags: d.tags.clone(),
            });
        }
        // A cluster of the user's is left as it is: per-env commands then find the listener by
        // the ALB's name, two round trips later.
        let recorded = o
            .cluster
            .as_ref()
            .and_then(|c| c.tags.get(TAG_PREVIEW_LISTENER));
        if !d.cluster_existing && (listener.is_none() || recorded != listener.as_ref()) {
            actions.push(BootstrapAction::RecordListener {
                cluster: d.cluster.clone(),
                listener,
            });
        }
    }
    if let Some(b) = &d.build {
        if o.bucket.is_none() {
            actions.push(BootstrapAction::CreateBucket {
                name: b.bucket.clone(),
                tags: d.tags.clone(),
            });
        }
        for name in &b.cache_repositories {
            if !o.repositories.contains_key(name) {
                actions.push(BootstrapAction::CreateRepository {
                    name: name.clone(),
                    tags: d.tags.clone(),
                });
            }
        }
    }
    // Steps run stage by stage; listing them that way makes the printed plan the run's order.
    actions.sort_by_key(BootstrapAction::stage);
    BootstrapPlan {
        app: d.app.clone(),
        region: d.region.clone(),
        actions,
        conflicts: conflicts(d, o),
    }
}

/// A role's steps: create it and give it its policies, or bring its trust policy, inline policy
/// and attachments to the wanted ones. Its tags are only read, for ownership: an existing role
/// keeps the ones it was created with (created-at, owner).
fn role_actions(
    actions: &mut Vec<BootstrapAction>,
    spec: &RoleSpec,
    have: Option<&ObservedRole>,
    tags: &Tags,
) {
    let (current_policy, attached): (Option<&Value>, &[String]) = match have {
        None => {
            actions.push(BootstrapAction::CreateRole {
                role: spec.clone(),
                tags: tags.clone(),
            });
            (None, &[])
        }
        Some(have) => {
            let wanted_trust = trust_policy(spec.trusted_service);
            if !have
                .state
                .trust_policy
                .as_ref()
                .is_some_and(|t| same_policy(t, &wanted_trust))
            {
                actions.push(BootstrapAction::UpdateTrustPolicy {
                    kind: spec.kind,
                    role: spec.name.clone(),
                    trusted_service: spec.trusted_service,
                });
            }
            (have.state.policy.as_ref(), &have.attached_policies)
        }
    };
    for arn in spec
        .managed_policies
        .iter()
        .filter(|a| !attached.contains(a))
    {
        actions.push(BootstrapAction::AttachRolePolicy {
            kind: spec.kind,
            role: spec.name.clone(),
            policy_arn: arn.clone(),
        });
    }
    if current_policy.is_some_and(|p| same_policy(p, &spec.policy)) {
        return;
    }
    actions.push(BootstrapAction::PutRolePolicy {
        kind: spec.kind,
        role: spec.name.clone(),
        policy_name: spec.policy_name,
        document: spec.policy.clone(),
        diff: current_policy.map(|old| json_diff(old, &spec.policy)),
    });
}

fn json_diff(old: &Value, new: &Value) -> String {
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string());
    similar::TextDiff::from_lines(&pretty(old), &pretty(new))
        .unified_diff()
        .context_radius(2)
        .header("in use", "desired")
        .to_string()
}

impl BootstrapPlan {
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// Whether the plan creates the cluster.
    pub fn creates_cluster(&self) -> bool {
        self.actions
            .iter()
            .any(|a| matches!(a, BootstrapAction::CreateCluster { .. }))
    }

    /// Whether the plan creates the role called `name`.
    pub fn creates_role(&self, name: &str) -> bool {
        self.actions
            .iter()
            .any(|a| matches!(a, BootstrapAction::CreateRole { role, .. } if role.name == name))
    }

    /// Whether the plan creates the preview ALB.
    pub fn creates_load_balancer(&self) -> bool {
        self.actions
            .iter()
            .any(|a| matches!(a, BootstrapAction::CreateLoadBalancer { .. }))
    }

    /// Whether the plan creates the build bucket.
    pub fn creates_bucket(&self) -> bool {
        self.actions
            .iter()
            .any(|a| matches!(a, BootstrapAction::CreateBucket { .. }))
    }

    /// The plan for people, as `--plan` prints it: a line per step (with policy diffs), a
    /// summary, and the conflicts.
    pub fn text(&self) -> String {
        let (app, region) = (&self.app, &self.region);
        let mut out = if self.is_empty() {
            format!("No changes: app `{app}` is bootstrapped in {region}.\n")
        } else {
            format!("Plan to bootstrap app `{app}` in {region}:\n")
        };
        if !self.is_empty() {
            let (mut create, mut update) = (0, 0);
            for a in &self.actions {
                let mark = match a.verb() {
                    Verb::Create => {
                        create += 1;
                        '+'
                    }
                    _ => {
                        update += 1;
                        '~'
                    }
                };
                out.push_str(&format!("  {mark} {}\n", a.describe()));
                for line in a.diff().into_iter().flat_map(str::lines) {
                    out.push_str(&format!("      {line}\n"));
                }
            }
            out.push_str(&format!(
                "Plan: {create} to create, {update} to update, 0 to delete.\n"
            ));
        }
        for c in &self.conflicts {
            out.push_str(&format!("  ! conflict: {c}\n"));
        }
        out
    }
}

/// What the ECS Exec agent in a task does: open the Session Manager control and data channels.
/// These actions have no resource-level permissions, hence `*`.
pub fn exec_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "EcsExecChannels",
            "Effect": "Allow",
            "Action": [
                "ssmmessages:CreateControlChannel",
                "ssmmessages:CreateDataChannel",
                "ssmmessages:OpenControlChannel",
                "ssmmessages:OpenDataChannel",
            ],
            "Resource": "*",
        }],
    })
}

/// ECS resolves `secrets` with GetParameters as the execution role. kms:Decrypt cannot be
/// scoped to parameter ARNs (its resource is a key), so it is limited to decryption that SSM
/// performs, which in turn only serves the parameters allowed above. Needed only for
/// customer-managed keys; the default `aws/ssm` key already allows account principals.
pub fn params_policy(ssm_path_arn_prefix: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadEnvParameters",
                "Effect": "Allow",
                "Action": ["ssm:GetParameters"],
                "Resource": format!("{ssm_path_arn_prefix}*"),
            },
            {
                "Sid": "DecryptEnvParameters",
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": "*",
                // The role is global and serves every region the app is bootstrapped in.
                "Condition": {"StringLike": {"kms:ViaService": "ssm.*.amazonaws.com"}},
            },
        ],
    })
}

/// Only what a stop/start schedule does: set the desired count of this app's services.
fn scheduler_policy(account: &str, cluster: &str, app: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "StopStartAppServices",
            "Effect": "Allow",
            "Action": ["ecs:UpdateService"],
            "Resource": format!("arn:aws:ecs:*:{account}:service/{cluster}/{app}-*"),
        }],
    })
}

/// What an image build does: push to the app's repositories (also the BuildKit cache tag), use
/// the bucket, write its logs, and read a CodeCommit source.
fn build_policy(account: &str, app: &str, bucket: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            { "Sid": "EcrLogin", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": "*" },
            {
                "Sid": "PushAppImages",
                "Effect": "Allow",
                "Action": [
                    "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                    "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage"
                ],
                "Resource": [
                    format!("arn:aws:ecr:*:{account}:repository/envctl/{app}/*"),
                    format!("arn:aws:ecr:*:{account}:repository/envctl/{app}-cache/*"),
                ],
            },
            {
                "Sid": "BuildBucket",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:GetBucketLocation", "s3:ListBucket"],
                "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")],
            },
            {
                "Sid": "BuildLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": format!("arn:aws:logs:*:{account}:log-group:/aws/codebuild/envctl-{app}-*"),
            },
            {
                "Sid": "CodeCommitSource",
                "Effect": "Allow",
                "Action": ["codecommit:GitPull"],
                "Resource": format!("arn:aws:codecommit:*:{account}:*"),
            },
        ],
    })
}

#[cfg(test)]
mod tests;
