//! Read-only AWS calls, run concurrently, that build the observed side of a plan (`ActualEnv`)
//! and the facts rendering needs (`Facts`, `Params`). Nothing here writes.
//!
//! Round trips, not calls, are what a user waits for (50 ms or more each on real AWS), so every
//! read goes out as soon as what it needs is known: almost everything is addressed by the names
//! the config derives (`EnvNames`) and starts in the first round trip; reads keyed by an ARN
//! from a reply follow in the second, and the listener rules' tags in the third. Per-env reads
//! never list the shared cluster: their cost does not grow with the number of envs in it.

use futures::future::{try_join, try_join3, try_join_all};
use futures::TryFutureExt;

use crate::aws::elbv2::{load_balancer_name_of_listener, load_balancer_of_listener};
use crate::aws::{Aws, AwsResult};
use crate::config::LoadedConfig;
use crate::error::{Error, Result};
use crate::model::{
    ownership, ActualEnv, ClusterState, ListenerRuleState, ListenerState, Ownership,
    ParameterState, ScheduleGroupState, ScheduleSpec, ServiceState, TargetGroupState,
    TaskDefinitionState, TAG_PREVIEW_LISTENER,
};
use crate::naming::{self, Slug};
use crate::render::{Facts, Params};

pub mod bootstrap;

/// The names of an env's resources, derived from the config alone (no AWS), so that the reads
/// that address them need not wait for rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvNames {
    pub app: String,
    pub env: String,
    pub cluster: String,
    /// `(key, ECS service name)`; the name is also the task definition family.
    pub services: Vec<(String, String)>,
    pub repositories: Vec<String>,
    pub log_group: String,
    pub namespace: String,
    pub schedule_group: String,
    /// Every configured service's target group, public or not: one that stopped being public
    /// still has a group to delete.
    pub target_groups: Vec<String>,
    pub database_family: Option<String>,
    /// With `[database]`: the admin URL parameter and the env's `DATABASE_URL` parameter.
    pub database_params: Option<(String, String)>,
}

impl EnvNames {
    pub fn new(cfg: &LoadedConfig, slug: &Slug) -> EnvNames {
        let c = &cfg.config;
        let app = c.app.as_str();
        EnvNames {
            app: app.to_string(),
            env: slug.as_str().to_string(),
            cluster: cfg.cluster_name(),
            services: c
                .services
                .keys()
                .map(|k| (k.clone(), naming::service_name(app, slug, k)))
                .collect(),
            repositories: c
                .services
                .keys()
                .map(|k| naming::repository(app, slug, k))
                .collect(),
            log_group: naming::log_group(app, slug),
            namespace: naming::namespace(app, slug),
            schedule_group: naming::scheduler_group(app, slug),
            target_groups: c
                .services
                .keys()
                .map(|k| naming::target_group(app, slug, k))
                .collect(),
            database_family: c
                .database
                .as_ref()
                .map(|_| naming::database_family(app, slug)),
            database_params: c.database.as_ref().map(|d| {
                (
                    d.admin_url_param.clone(),
                    crate::render::database_url_param(app, slug),
                )
            }),
        }
    }

    pub fn service_names(&self) -> Vec<String> {
        self.services.iter().map(|(_, n)| n.clone()).collect()
    }

    fn prefix(&self) -> String {
        format!("{}-{}-", self.app, self.env)
    }

    /// The key of one of this env's service names (`shop-x-web` -> `web`).
    fn key_of<'a>(&self, service: &'a str) -> Option<&'a str> {
        service.strip_prefix(&self.prefix())
    }
}

/// The schedules envctl keeps for these service keys, by name (see `render`).
pub fn schedule_names<'a>(keys: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    keys.into_iter().flat_map(naming::schedule_names).collect()
}

/// Account, network and roles, read concurrently (one round trip).
struct FactReads {
    account: String,
    network: (Vec<String>, Vec<String>, Option<String>),
    role: Option<String>,
    scheduler_role: Option<String>,
    task_role: Option<String>,
}

async fn fact_reads(aws: &Aws, cfg: &LoadedConfig) -> Result<FactReads> {
    let c = &cfg.config;
    let role = async {
        match &c.roles.execution_role_arn {
            Some(arn) => Ok(Some(arn.clone())),
            None => aws
                .get_role(&naming::execution_role(&c.app))
                .await
                .map(|r| r.map(|r| r.arn)),
        }
    };
    let scheduler_role = async {
        if c.schedule.enabled {
            aws.get_role(&naming::scheduler_role(&c.app))
                .await
                .map(|r| r.map(|r| r.arn))
        } else {
            Ok(None)
        }
    };
    // ECS Exec needs a task role with the ssmmessages channel actions: the user's, else
    // bootstrap's. Without exec, only a configured task role is used.
    let task_role = async {
        match &c.roles.task_role_arn {
            Some(arn) => Ok(Some(arn.clone())),
            None if c.exec.enabled => aws
                .get_role(&naming::task_role(&c.app))
                .await
                .map(|r| r.map(|r| r.arn)),
            None => Ok(None),
        }
    };
    let (account, network, (role, scheduler_role, task_role)) = futures::try_join!(
        aws.account_id().map_err(Error::from),
        network(aws, cfg),
        try_join3(role, scheduler_role, task_role).map_err(Error::from),
    )?;
    Ok(FactReads {
        account,
        network,
        role,
        scheduler_role,
        task_role,
    })
}

/// Facts from the reads, or the precondition that stops rendering (with a bootstrap hint).
fn facts_from(
    aws: &Aws,
    cfg: &LoadedConfig,
    reads: FactReads,
    preview_listener_arn: Option<String>,
) -> Result<Facts> {
    let c = &cfg.config;
    if c.preview.enabled && preview_listener_arn.is_none() {
        return Err(Error::Precondition {
            message: format!("preview URLs are enabled but the ALB `{}` has no listener", naming::load_balancer(&c.app)),
            hint: "run `envctl bootstrap` (it creates the shared ALB and listener), or set preview.listener_arn".into(),
        });
    }
    let role_name = naming::execution_role(&c.app);
    let execution_role_arn = reads.role.ok_or_else(|| Error::Precondition {
        message: format!("the task execution role `{role_name}` does not exist"),
        hint: "run `envctl bootstrap` once for this app and region, or set roles.execution_role_arn in envctl.toml".into(),
    })?;
    if c.schedule.enabled && reads.scheduler_role.is_none() {
        return Err(Error::Precondition {
            message: format!("the scheduler role `{}` does not exist", naming::scheduler_role(&c.app)),
            hint: "run `envctl bootstrap` again: it creates the role stop/start schedules use (or set schedule.enabled = false)".into(),
        });
    }
    if c.exec.enabled && reads.task_role.is_none() {
        return Err(Error::Precondition {
            message: format!("[exec] is enabled but the task role `{}` does not exist", naming::task_role(&c.app)),
            hint: "run `envctl bootstrap` again: it creates the task role ECS Exec needs (or set roles.task_role_arn, or `[exec] enabled = false` in envctl.toml)".into(),
        });
    }
    let (subnets, security_groups, vpc_id) = reads.network;
    Ok(Facts {
        account: reads.account,
        region: aws.region.clone(),
        subnets,
        security_groups,
        execution_role_arn,
        task_role_arn: reads.task_role,
        scheduler_role_arn: reads.scheduler_role,
        preview_listener_arn,
        vpc_id,
    })
}

/// Account, network and roles for rendering. Fails with a bootstrap hint when the execution role
/// is missing.
pub async fn facts(aws: &Aws, cfg: &LoadedConfig) -> Result<Facts> {
    let listener = async {
        if !cfg.config.preview.enabled {
            return Ok(None);
        }
        let cluster = match cfg.config.preview.listener_arn.is_empty() {
            true => aws.describe_cluster(&cfg.cluster_name()).await?,
            false => None,
        };
        resolve_listener(aws, cfg, cluster.as_ref()).await
    };
    let (reads, listener) = try_join(fact_reads(aws, cfg), listener.err_into()).await?;
    facts_from(aws, cfg, reads, listener)
}

/// Facts and parameters for rendering, read together (the parameters need no account).
pub async fn facts_and_params(
    aws: &Aws,
    cfg: &LoadedConfig,
    slug: &Slug,
) -> Result<(Facts, Params)> {
    let (facts, reads) = try_join(
        facts(aws, cfg),
        param_reads(aws, &cfg.config.app, slug).err_into(),
    )
    .await?;
    let (shared_path, env_path, mut shared, mut env) = reads;
    aws.fill_parameter_arns(&mut shared, &facts.account);
    aws.fill_parameter_arns(&mut env, &facts.account);
    Ok((
        facts,
        Params::overlay(&shared_path, &shared, &env_path, &env),
    ))
}

/// Configured subnets and security groups, or the default VPC's (so the quickstart needs no
/// editing). Security groups are required: ECS (and moto) reject awsvpc services without one.
///
/// Configured ids are looked up before anything is written: an unknown subnet or security group
/// (or ids from different VPCs) is an input error naming the key, not an ECS rejection half-way
/// through an apply. Either way one round trip: the lookups go out together and are matched up
/// here.
pub(crate) async fn network(
    aws: &Aws,
    cfg: &LoadedConfig,
) -> Result<(Vec<String>, Vec<String>, Option<String>)> {
    let n = &cfg.config.network;
    // Configured groups are looked up to be checked; with configured subnets and no groups, every
    // VPC's `default` group is read at once and matched to the subnets' VPC below.
    let groups = async {
        if !n.security_groups.is_empty() {
            aws.security_groups_by_id(&n.security_groups).await
        } else if !n.subnets.is_empty() {
            aws.default_security_groups().await
        } else {
            Ok(vec![])
        }
    };
    if n.subnets.is_empty() {
        let (d, groups) = try_join(aws.default_network(), groups).await?;
        if n.security_groups.is_empty() {
            return Ok((d.subnets, d.security_groups, Some(d.vpc_id)));
        }
        check_security_groups(cfg, &groups, &d.vpc_id)?;
        return Ok((d.subnets, n.security_groups.clone(), Some(d.vpc_id)));
    }
    let (subnets, groups) = try_join(aws.subnets_by_id(&n.subnets), groups).await?;
    let missing = missing_ids(&n.subnets, subnets.iter().map(|s| s.subnet_id.as_str()));
    if !missing.is_empty() {
        return Err(network_error(
            cfg,
            "network.subnets",
            format!(
                "{} not exist in {}",
                quoted_ids(&missing, "does", "do"),
                aws.region
            ),
            format!("list the region's subnets with `aws ec2 describe-subnets --region {}`, or remove `network.subnets` to use the default VPC's", aws.region),
        ));
    }
    let mut vpcs: Vec<&str> = subnets.iter().map(|s| s.vpc_id.as_str()).collect();
    vpcs.sort_unstable();
    vpcs.dedup();
    let [vpc] = vpcs[..] else {
        return Err(network_error(
            cfg,
            "network.subnets",
            format!(
                "the subnets are in {} different VPCs ({}); ECS takes subnets of one VPC",
                vpcs.len(),
                vpcs.join(", ")
            ),
            "keep only subnets of one VPC".to_string(),
        ));
    };
    let vpc = vpc.to_string();
    if !n.security_groups.is_empty() {
        check_security_groups(cfg, &groups, &vpc)?;
        return Ok((n.subnets.clone(), n.security_groups.clone(), Some(vpc)));
    }
    let sg = crate::aws::ec2::default_group_of(&groups, &vpc);
    Ok((n.subnets.clone(), sg.into_iter().collect(), Some(vpc)))
}

/// Every configured security group exists and lives in the subnets' VPC.
fn check_security_groups(
    cfg: &LoadedConfig,
    found: &[crate::aws::ec2::SecurityGroup],
    vpc: &str,
) -> Result<()> {
    let wanted = &cfg.config.network.security_groups;
    let missing = missing_ids(wanted, found.iter().map(|g| g.group_id.as_str()));
    if !missing.is_empty() {
        return Err(network_error(
            cfg,
            "network.security_groups",
            format!("{} not exist", quoted_ids(&missing, "does", "do")),
            format!("list the VPC's groups with `aws ec2 describe-security-groups --filters Name=vpc-id,Values={vpc}`, or remove `network.security_groups` to use its `default` group"),
        ));
    }
    let elsewhere: Vec<&str> = found
        .iter()
        .filter(|g| !g.vpc_id.is_empty() && g.vpc_id != vpc)
        .map(|g| g.group_id.as_str())
        .collect();
    if !elsewhere.is_empty() {
        return Err(network_error(
            cfg,
            "network.security_groups",
            format!(
                "{} not in the subnets' VPC {vpc}",
                quoted_ids(&elsewhere, "is", "are")
            ),
            "use security groups of the subnets' VPC".to_string(),
        ));
    }
    Ok(())
}

/// The ids in `wanted` that EC2 did not return.
fn missing_ids<'a>(wanted: &'a [String], found: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let found: Vec<&str> = found.collect();
    wanted
        .iter()
        .map(String::as_str)
        .filter(|id| !found.contains(id))
        .collect()
}

/// `` `subnet-1` does `` / `` `subnet-1`, `subnet-2` do ``.
fn quoted_ids(ids: &[&str], one: &str, many: &str) -> String {
    let list = ids
        .iter()
        .map(|id| format!("`{id}`"))
        .collect::<Vec<_>>()
        .join(", ");
    format!("{list} {}", if ids.len() == 1 { one } else { many })
}

fn network_error(cfg: &LoadedConfig, key: &str, message: String, hint: String) -> Error {
    Error::Config(crate::config::ConfigError {
        file: cfg.path.display().to_string(),
        key: Some(key.to_string()),
        message,
        hint: Some(hint),
    })
}

/// The preview listener (see `resolve_listener`), whether or not previews are on in the config:
/// `down` must still find the rules an earlier `up` created.
pub async fn any_preview_listener(aws: &Aws, cfg: &LoadedConfig) -> AwsResult<Option<String>> {
    let cluster = match cfg.config.preview.listener_arn.is_empty() {
        true => aws.describe_cluster(&cfg.cluster_name()).await?,
        false => None,
    };
    resolve_listener(aws, cfg, cluster.as_ref()).await
}

/// The listener named before any lookup: the configured one, else the one `bootstrap` recorded on
/// the cluster (if it names the app's ALB). The flag says it came from the tag (to be checked).
fn known_listener(cfg: &LoadedConfig, cluster: Option<&ClusterState>) -> Option<(String, bool)> {
    let p = &cfg.config.preview;
    if !p.listener_arn.is_empty() {
        return Some((p.listener_arn.clone(), false));
    }
    let alb = naming::load_balancer(&cfg.config.app);
    cluster
        .and_then(|c| c.tags.get(TAG_PREVIEW_LISTENER))
        .filter(|arn| load_balancer_name_of_listener(arn) == Some(alb.as_str()))
        .map(|arn| (arn.clone(), true))
}

/// The HTTP listener of bootstrap's ALB, found by the ALB's name (two round trips).
pub(crate) async fn listener_by_name(aws: &Aws, cfg: &LoadedConfig) -> AwsResult<Option<String>> {
    let Some((lb_arn, _)) = aws
        .load_balancer_by_name(&naming::load_balancer(&cfg.config.app))
        .await?
    else {
        return Ok(None);
    };
    Ok(aws
        .listeners_of(&lb_arn)
        .await?
        .into_iter()
        .next()
        .map(|l| l.arn))
}

/// The preview listener, `cluster` being the app's cluster as observed (for bootstrap's tag).
/// A listener from the tag is checked; when it is gone, the ALB is looked up by name.
pub async fn resolve_listener(
    aws: &Aws,
    cfg: &LoadedConfig,
    cluster: Option<&ClusterState>,
) -> AwsResult<Option<String>> {
    match known_listener(cfg, cluster) {
        Some((arn, false)) => Ok(Some(arn)),
        Some((arn, true)) if aws.describe_listener(&arn).await?.is_some() => Ok(Some(arn)),
        _ => listener_by_name(aws, cfg).await,
    }
}

/// Like `resolve_listener`, but a listener from the tag is not checked: the caller's next read
/// of it (its rules) tells, and then it falls back to `listener_by_name`.
pub async fn resolve_listener_unchecked(
    aws: &Aws,
    cfg: &LoadedConfig,
    cluster: Option<&ClusterState>,
) -> AwsResult<Option<String>> {
    match known_listener(cfg, cluster) {
        Some((arn, _)) => Ok(Some(arn)),
        None => listener_by_name(aws, cfg).await,
    }
}

/// The listener (when previews are on) and everything on it, for `up`: the listener from
/// `known_listener` is read straight away, the lookup by name only when there is none.
async fn preview_for_up(
    aws: &Aws,
    cfg: &LoadedConfig,
    cluster: Option<&ClusterState>,
    tg_names: &[String],
) -> AwsResult<(Option<String>, PreviewState)> {
    if !cfg.config.preview.enabled {
        return Ok((None, PreviewState::default()));
    }
    if let Some((arn, from_tag)) = known_listener(cfg, cluster) {
        let state = preview_state(aws, Some(&arn), tg_names).await?;
        if state.listener.is_some() || !from_tag {
            return Ok((Some(arn), state));
        }
    }
    let Some(arn) = listener_by_name(aws, cfg).await? else {
        return Ok((None, PreviewState::default()));
    };
    let state = preview_state(aws, Some(&arn), tg_names).await?;
    Ok((Some(arn), state))
}

type ParamReads = (String, String, Vec<ParameterState>, Vec<ParameterState>);

/// Both parameter paths, read without waiting for the account (ARNs completed afterwards).
async fn param_reads(aws: &Aws, app: &str, slug: &Slug) -> AwsResult<ParamReads> {
    let shared_path = naming::shared_param_path(app);
    let env_path = naming::env_param_path(app, slug);
    let (shared, env) = try_join(
        aws.list_parameters_unresolved(&shared_path),
        aws.list_parameters_unresolved(&env_path),
    )
    .await?;
    Ok((shared_path, env_path, shared, env))
}

/// What `plan` and `up` read before rendering and planning.
pub struct UpInputs {
    pub facts: Facts,
    pub params: Params,
    /// `cluster` is `None` when the app is not bootstrapped (the caller says so after rendering,
    /// so template errors are reported first).
    pub actual: ActualEnv,
}

/// Facts, parameters and the observed env in one go: every read that the config's names
/// address starts in the first round trip, whatever stage consumes it.
pub async fn for_up(aws: &Aws, cfg: &LoadedConfig, slug: &Slug) -> Result<UpInputs> {
    let names = EnvNames::new(cfg, slug);
    let cluster_and_preview = async {
        let cluster = aws.describe_cluster(&names.cluster).await?;
        let (listener, preview) =
            preview_for_up(aws, cfg, cluster.as_ref(), &names.target_groups).await?;
        AwsResult::Ok((cluster, listener, preview))
    };
    let repos = try_join_all(
        names
            .repositories
            .iter()
            .map(|r| aws.describe_repository(r)),
    );
    let schedules = async {
        if !cfg.config.schedule.enabled {
            // The plan deletes the group, and its schedules with it, without reading them.
            return Ok((
                aws.describe_schedule_group(&names.schedule_group).await?,
                vec![],
            ));
        }
        let wanted = schedule_names(names.services.iter().map(|(k, _)| k.as_str()));
        try_join(
            aws.describe_schedule_group(&names.schedule_group),
            aws.get_schedules(&names.schedule_group, &wanted),
        )
        .await
    };
    let (facts, params, (cluster, listener, mut preview), ecs, others, db_params) = futures::try_join!(
        fact_reads(aws, cfg),
        param_reads(aws, &names.app, slug).err_into(),
        cluster_and_preview.err_into(),
        ecs_for_up(aws, &names).err_into(),
        try_join3(
            try_join(
                aws.describe_log_group(&names.log_group),
                aws.find_namespace(&names.namespace),
            ),
            repos,
            schedules,
        )
        .err_into(),
        database_url_param(aws, &names),
    )?;
    let ((log_group, namespace), repositories, (schedule_group, mut schedules)) = others;
    let facts = facts_from(aws, cfg, facts, listener)?;
    let (shared_path, env_path, mut shared, mut env) = params;
    aws.fill_parameter_arns(&mut shared, &facts.account);
    aws.fill_parameter_arns(&mut env, &facts.account);
    let params = Params::overlay(&shared_path, &shared, &env_path, &env);
    let mut parameters = db_params;
    aws.fill_parameter_arns(&mut parameters, &facts.account);

    // Schedules of services that left the config, which the plan deletes.
    let removed_keys: Vec<&str> = ecs.removed.iter().filter_map(|s| names.key_of(s)).collect();
    if schedule_group.is_some() && cfg.config.schedule.enabled && !removed_keys.is_empty() {
        schedules.extend(
            aws.get_schedules(&names.schedule_group, &schedule_names(removed_keys))
                .await?,
        );
        schedules.sort_by(|a, b| a.name.cmp(&b.name));
    }
    // The groups this env's rules forward to (a public service dropped from the config).
    let forwarded = forwarded_by_env(&preview, &names.app, &names.env);
    if !forwarded.is_empty() {
        preview
            .target_groups
            .extend(aws.with_tags(forwarded).await?);
    }
    Ok(UpInputs {
        facts,
        params,
        actual: ActualEnv {
            cluster,
            log_group,
            services: ecs.services,
            task_definitions: ecs.task_definitions,
            repositories: repositories.into_iter().flatten().collect(),
            parameters,
            schedule_group,
            schedules,
            listener: preview.listener,
            listener_rules: preview.rules,
            target_groups: preview.target_groups,
            load_balancer_target_groups: preview.on_load_balancer.len(),
            namespace,
        },
    })
}

/// The env's ECS services and the task definition revisions `plan_up` compares.
struct EcsReads {
    services: Vec<ServiceState>,
    task_definitions: Vec<TaskDefinitionState>,
    /// Services of this env that left the config (the plan deletes them).
    removed: Vec<String>,
}

/// Services by name, and the latest revision of each family, in the first round trip; the
/// revision a service runs only when it is not the latest (once per revision); services that
/// left the config through their task definition family (an ECS service's family is its name),
/// never by listing the shared cluster.
async fn ecs_for_up(aws: &Aws, names: &EnvNames) -> AwsResult<EcsReads> {
    let wanted = names.service_names();
    let families: Vec<&str> = wanted
        .iter()
        .map(String::as_str)
        .chain(names.database_family.as_deref())
        .collect();
    let (mut services, listed_families, latest) = try_join3(
        aws.describe_services(&names.cluster, &wanted),
        aws.list_task_definition_families(&names.prefix()),
        try_join_all(families.iter().map(|f| aws.describe_task_definition(f))),
    )
    .await?;
    let mut task_definitions: Vec<TaskDefinitionState> = latest.into_iter().flatten().collect();
    let others: Vec<String> = listed_families
        .into_iter()
        .filter(|f| !families.contains(&f.as_str()))
        .collect();
    let running: Vec<String> = services
        .iter()
        .map(|s| s.task_definition_arn.clone())
        .filter(|arn| !arn.is_empty() && !task_definitions.iter().any(|t| t.arn == *arn))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let others = async {
        if others.is_empty() {
            Ok(vec![])
        } else {
            aws.describe_services(&names.cluster, &others).await
        }
    };
    let (others, running) = try_join(
        others,
        try_join_all(running.iter().map(|a| aws.describe_task_definition(a))),
    )
    .await?;
    services.extend(others);
    task_definitions.extend(running.into_iter().flatten());
    // Every active revision of services that are about to be removed.
    let removed: Vec<String> = services
        .iter()
        .filter(|s| !wanted.contains(&s.name))
        .filter(|s| ownership(&s.tags, &names.app, &names.env) == Ownership::Ours)
        .map(|s| s.name.clone())
        .collect();
    let removed_revisions = try_join_all(removed.iter().map(|f| family_revisions(aws, f))).await?;
    for td in removed_revisions.into_iter().flatten() {
        if !task_definitions.iter().any(|t| t.arn == td.arn) {
            task_definitions.push(td);
        }
    }
    Ok(EcsReads {
        services,
        task_definitions,
        removed,
    })
}

/// With `[database]`: the env's `DATABASE_URL` parameter and its tags (its `envctl:database`
/// tag says whether the database exists), after checking that the admin parameter is a
/// SecureString. Metadata only: no value is read.
/// ARNs are completed by the caller (`fill_parameter_arns`), so this need not wait for STS.
async fn database_url_param(aws: &Aws, names: &EnvNames) -> Result<Vec<ParameterState>> {
    let Some((admin_param, url_param)) = &names.database_params else {
        return Ok(vec![]);
    };
    let (admin, url) = try_join(
        aws.get_parameter_meta_unresolved(admin_param),
        aws.get_parameter_meta_unresolved(url_param),
    )
    .await?;
    match admin {
        None => {
            return Err(Error::invalid(
                format!(
                    "database.admin_url_param: the SSM parameter `{}` does not exist",
                    admin_param
                ),
                Some(format!(
                    "store the admin URL as a SecureString: printf %s 'postgres://ADMIN:PASSWORD@HOST:5432/postgres' | aws ssm put-parameter --type SecureString --name {} --value file:///dev/stdin (see docs/database.md)",
                    admin_param
                )),
            ))
        }
        Some(p) if !p.secure => {
            return Err(Error::invalid(
                format!(
                    "database.admin_url_param: `{}` is a String parameter; it holds a password and must be a SecureString",
                    admin_param
                ),
                Some("delete it and store it again with --type SecureString (docs/database.md)".into()),
            ))
        }
        Some(_) => {}
    }
    let Some(mut url) = url else {
        return Ok(vec![]);
    };
    url.tags = aws.parameter_tags(&url.name).await?;
    Ok(vec![url])
}

#[derive(Default)]
struct PreviewState {
    listener: Option<ListenerState>,
    rules: Vec<ListenerRuleState>,
    target_groups: Vec<TargetGroupState>,
    /// Every target group on the listener's load balancer, all envs.
    on_load_balancer: Vec<TargetGroupState>,
}

/// The target groups on the load balancer that this env's own rules forward to, other than the
/// ones already read by name (a public service dropped from the config), without tags.
fn forwarded_by_env(preview: &PreviewState, app: &str, env: &str) -> Vec<TargetGroupState> {
    let ours: Vec<&String> = preview
        .rules
        .iter()
        .filter(|r| ownership(&r.tags, app, env) == Ownership::Ours)
        .flat_map(|r| r.target_group_arns.iter())
        .collect();
    preview
        .on_load_balancer
        .iter()
        .filter(|t| ours.contains(&&t.arn))
        .filter(|t| !preview.target_groups.iter().any(|n| n.arn == t.arn))
        .cloned()
        .collect()
}

/// The shared listener with every env's rules (tagged), the named target groups (tagged), and
/// the target groups on its load balancer (untagged: counted for the capacity pre-flight). The
/// load balancer comes from the listener's ARN, so all of it is one round trip plus the tags.
async fn preview_state(
    aws: &Aws,
    listener_arn: Option<&str>,
    tg_names: &[String],
) -> AwsResult<PreviewState> {
    let Some(arn) = listener_arn.filter(|a| !a.is_empty()) else {
        return Ok(PreviewState::default());
    };
    let lb_arn = load_balancer_of_listener(arn);
    let on_lb = async {
        match &lb_arn {
            Some(lb) => aws.target_groups_of_load_balancer_untagged(lb).await,
            None => Ok(vec![]),
        }
    };
    let (listener, rules, target_groups, mut on_lb) = futures::try_join!(
        aws.describe_listener(arn),
        aws.listener_rules(arn),
        aws.describe_target_groups_each(tg_names),
        on_lb,
    )?;
    let Some(listener) = listener else {
        return Ok(PreviewState::default());
    };
    // A listener ARN of an unusual shape: ask for its load balancer's groups now.
    if lb_arn.is_none() {
        on_lb = aws
            .target_groups_of_load_balancer_untagged(&listener.load_balancer_arn)
            .await?;
    }
    Ok(PreviewState {
        listener: Some(listener),
        rules: rules.unwrap_or_default(),
        target_groups,
        on_load_balancer: on_lb,
    })
}

/// Everything tagged for the env, found by its names and confirmed by tags, whatever the current
/// config says: services by the names the config derives and by their task definition families
/// (a service removed from the config is still torn down), never by listing the shared cluster.
pub async fn env_for_down(
    aws: &Aws,
    app: &str,
    slug: &Slug,
    cluster_name: &str,
    service_names: &[String],
    listener_arn: Option<&str>,
    tg_names: &[String],
) -> Result<ActualEnv> {
    let account = aws.account_id().await?;
    let prefix = naming::service_prefix(app, slug);
    let families = aws.list_task_definition_families(&prefix);
    let (cluster, families, named) = try_join3(
        aws.describe_cluster(cluster_name),
        families,
        aws.describe_services(cluster_name, service_names),
    )
    .await?;
    let services = async {
        let others: Vec<String> = families
            .iter()
            .filter(|f| !service_names.contains(f))
            .cloned()
            .collect();
        let mut services = named;
        if cluster.is_some() && !others.is_empty() {
            services.extend(aws.describe_services(cluster_name, &others).await?);
        }
        AwsResult::Ok(services)
    };
    let revisions = async {
        let per_family = try_join_all(families.iter().map(|f| family_revisions(aws, f))).await?;
        AwsResult::Ok(per_family.into_iter().flatten().collect::<Vec<_>>())
    };
    let repos = async {
        let names = aws
            .list_repository_names(&naming::repository_prefix(app, slug))
            .await?;
        let repos =
            try_join_all(names.iter().map(|n| aws.describe_repository_with_images(n))).await?;
        AwsResult::Ok(repos.into_iter().flatten().collect::<Vec<_>>())
    };
    let params = async {
        let list = aws
            .list_parameters(&naming::env_param_path(app, slug), &account)
            .await?;
        let tags = try_join_all(list.iter().map(|p| aws.parameter_tags(&p.name))).await?;
        AwsResult::Ok(
            list.into_iter()
                .zip(tags)
                .map(|(mut p, t)| {
                    p.tags = t;
                    p
                })
                .collect::<Vec<_>>(),
        )
    };
    let log_group_name = naming::log_group(app, slug);
    let (services, revisions, repositories) = try_join3(services, revisions, repos).await?;
    let (parameters, log_group, namespace) = try_join3(
        params,
        aws.describe_log_group(&log_group_name),
        aws.find_namespace(&naming::namespace(app, slug)),
    )
    .await?;
    let (schedule_group, schedules) =
        schedule_group(aws, &naming::scheduler_group(app, slug)).await?;
    // The env's target groups: its services' (found by name, so a group whose rule a crashed
    // `down` already deleted is still found) and the ones its own rules forward to.
    let mut preview = preview_state(aws, listener_arn, tg_names).await?;
    let forwarded = forwarded_by_env(&preview, app, slug.as_str());
    if !forwarded.is_empty() {
        preview
            .target_groups
            .extend(aws.with_tags(forwarded).await?);
    }
    Ok(ActualEnv {
        cluster,
        log_group,
        services,
        task_definitions: revisions,
        repositories,
        parameters,
        schedule_group,
        schedules,
        listener: preview.listener,
        listener_rules: preview.rules,
        target_groups: preview.target_groups,
        load_balancer_target_groups: preview.on_load_balancer.len(),
        namespace,
    })
}

/// The env's schedule group and its schedules (none when the group is missing).
async fn schedule_group(
    aws: &Aws,
    name: &str,
) -> AwsResult<(Option<ScheduleGroupState>, Vec<ScheduleSpec>)> {
    let Some(group) = aws.describe_schedule_group(name).await? else {
        return Ok((None, vec![]));
    };
    let schedules = aws.list_schedules(name).await?;
    Ok((Some(group), schedules))
}

/// Every ACTIVE revision of one family, each with its tags (ownership is per revision).
async fn family_revisions(aws: &Aws, family: &str) -> AwsResult<Vec<TaskDefinitionState>> {
    let arns = aws.list_task_definition_arns(family).await?;
    let described = try_join_all(arns.iter().map(|a| aws.describe_task_definition(a))).await?;
    Ok(described.into_iter().flatten().collect())
}

pub fn not_bootstrapped(cluster: &str) -> Error {
    Error::Precondition {
        message: format!("the ECS cluster `{cluster}` does not exist"),
        hint: "run `envctl bootstrap` once for this app and region (or set cluster.name to an existing cluster)".into(),
    }
}

/// The ECS services tagged for one env: the ones the config names and the ones their task
/// definition families name (a service that left the config), confirmed by tags. Never lists
/// the shared cluster.
pub async fn env_services(
    aws: &Aws,
    cluster: &str,
    app: &str,
    slug: &Slug,
    service_names: &[String],
) -> AwsResult<Vec<ServiceState>> {
    let prefix = naming::service_prefix(app, slug);
    let (mut services, families) = try_join(
        aws.describe_services(cluster, service_names),
        aws.list_task_definition_families(&prefix),
    )
    .await?;
    let others: Vec<String> = families
        .into_iter()
        .filter(|f| !service_names.contains(f))
        .filter(|f| *f != naming::database_family(app, slug))
        .collect();
    if !others.is_empty() {
        services.extend(aws.describe_services(cluster, &others).await?);
    }
    Ok(services
        .into_iter()
        .filter(|s| ownership(&s.tags, app, slug.as_str()) == Ownership::Ours)
        .collect())
}
