//! Read-only AWS calls, run concurrently, that build the observed side of a plan (`ActualEnv`)
//! and the facts rendering needs (`Facts`, `Params`). Nothing here writes.

use futures::future::{try_join, try_join3, try_join_all};
use futures::TryFutureExt;

use crate::aws::{Aws, AwsResult};
use crate::config::LoadedConfig;
use crate::error::{Error, Result};
use crate::model::{
    ownership, ActualEnv, DesiredEnv, ListenerRuleState, ListenerState, Ownership, ParameterState,
    ScheduleGroupState, ScheduleSpec, ServiceState, TargetGroupState, TaskDefinitionState,
};
use crate::naming::{self, Slug};
use crate::render::{Facts, Params};

/// Account, network and roles for rendering. Fails with a bootstrap hint when the execution role
/// is missing.
pub async fn facts(aws: &Aws, cfg: &LoadedConfig) -> Result<Facts> {
    let c = &cfg.config;
    let role_name = naming::execution_role(&c.app);
    let role = async {
        match &c.roles.execution_role_arn {
            Some(arn) => Ok(Some(arn.clone())),
            None => aws.get_role(&role_name).await.map(|r| r.map(|r| r.arn)),
        }
    };
    let scheduler_role_name = naming::scheduler_role(&c.app);
    let scheduler_role = async {
        if c.schedule.enabled {
            aws.get_role(&scheduler_role_name)
                .await
                .map(|r| r.map(|r| r.arn))
        } else {
            Ok(None)
        }
    };
    // ECS Exec needs a task role with the ssmmessages channel actions: the user's, else
    // bootstrap's. Without exec, only a configured task role is used.
    let task_role_name = naming::task_role(&c.app);
    let task_role = async {
        match &c.roles.task_role_arn {
            Some(arn) => Ok(Some(arn.clone())),
            None if c.exec.enabled => aws
                .get_role(&task_role_name)
                .await
                .map(|r| r.map(|r| r.arn)),
            None => Ok(None),
        }
    };
    let (
        account,
        (subnets, security_groups, vpc_id),
        (role, scheduler_role_arn, preview_listener_arn),
        task_role_arn,
    ) = futures::try_join!(
        aws.account_id().map_err(Error::from),
        network(aws, cfg),
        try_join3(role, scheduler_role, preview_listener(aws, cfg)).map_err(Error::from),
        task_role.map_err(Error::from),
    )?;
    if c.preview.enabled && preview_listener_arn.is_none() {
        return Err(Error::Precondition {
            message: format!("preview URLs are enabled but the ALB `{}` has no listener", naming::load_balancer(&c.app)),
            hint: "run `envctl bootstrap` (it creates the shared ALB and listener), or set preview.listener_arn".into(),
        });
    }
    let execution_role_arn = role.ok_or_else(|| Error::Precondition {
        message: format!("the task execution role `{role_name}` does not exist"),
        hint: "run `envctl bootstrap` once for this app and region, or set roles.execution_role_arn in envctl.toml".into(),
    })?;
    if c.schedule.enabled && scheduler_role_arn.is_none() {
        return Err(Error::Precondition {
            message: format!("the scheduler role `{scheduler_role_name}` does not exist"),
            hint: "run `envctl bootstrap` again: it creates the role stop/start schedules use (or set schedule.enabled = false)".into(),
        });
    }
    if c.exec.enabled && task_role_arn.is_none() {
        return Err(Error::Precondition {
            message: format!("[exec] is enabled but the task role `{task_role_name}` does not exist"),
            hint: "run `envctl bootstrap` again: it creates the task role ECS Exec needs (or set roles.task_role_arn, or `[exec] enabled = false` in envctl.toml)".into(),
        });
    }
    Ok(Facts {
        account,
        region: aws.region.clone(),
        subnets,
        security_groups,
        execution_role_arn,
        task_role_arn,
        scheduler_role_arn,
        preview_listener_arn,
        vpc_id,
    })
}

/// Configured subnets and security groups, or the default VPC's (so the quickstart needs no
/// editing). Security groups are required: ECS (and moto) reject awsvpc services without one.
///
/// Configured ids are looked up before anything is written: an unknown subnet or security group
/// (or ids from different VPCs) is an input error naming the key, not an ECS rejection half-way
/// through an apply.
pub(crate) async fn network(
    aws: &Aws,
    cfg: &LoadedConfig,
) -> Result<(Vec<String>, Vec<String>, Option<String>)> {
    let n = &cfg.config.network;
    let groups = async {
        if n.security_groups.is_empty() {
            Ok(vec![])
        } else {
            aws.security_groups_by_id(&n.security_groups).await
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
    let missing: Vec<&str> = n
        .subnets
        .iter()
        .filter(|id| !subnets.iter().any(|s| s.subnet_id == **id))
        .map(String::as_str)
        .collect();
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
    let sg = aws.default_security_group(&vpc).await?;
    Ok((n.subnets.clone(), sg.into_iter().collect(), Some(vpc)))
}

/// Every configured security group exists and lives in the subnets' VPC.
fn check_security_groups(
    cfg: &LoadedConfig,
    found: &[crate::aws::ec2::SecurityGroup],
    vpc: &str,
) -> Result<()> {
    let wanted = &cfg.config.network.security_groups;
    let missing: Vec<&str> = wanted
        .iter()
        .filter(|id| !found.iter().any(|g| g.group_id == **id))
        .map(String::as_str)
        .collect();
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

/// The preview listener: the configured one, or the HTTP listener of bootstrap's ALB.
pub async fn preview_listener(aws: &Aws, cfg: &LoadedConfig) -> AwsResult<Option<String>> {
    if !cfg.config.preview.enabled {
        return Ok(None);
    }
    any_preview_listener(aws, cfg).await
}

/// Like `preview_listener`, but also when previews are now switched off in the config: `down`
/// must still find the rules an earlier `up` created.
pub async fn any_preview_listener(aws: &Aws, cfg: &LoadedConfig) -> AwsResult<Option<String>> {
    let p = &cfg.config.preview;
    if !p.listener_arn.is_empty() {
        return Ok(Some(p.listener_arn.clone()));
    }
    let lb = aws
        .describe_load_balancer_by_name(&naming::load_balancer(&cfg.config.app))
        .await?;
    let Some((lb_arn, _, _)) = lb else {
        return Ok(None);
    };
    Ok(aws
        .listeners_of(&lb_arn)
        .await?
        .into_iter()
        .next()
        .map(|l| l.arn))
}

/// The env's parameters overlaid on the app's shared ones; SecureString values are never read.
pub async fn params(aws: &Aws, app: &str, slug: &Slug, account: &str) -> Result<Params> {
    let shared_path = naming::shared_param_path(app);
    let env_path = naming::env_param_path(app, slug);
    let (shared, env) = try_join(
        aws.list_parameters(&shared_path, account),
        aws.list_parameters(&env_path, account),
    )
    .await?;
    Ok(Params::overlay(&shared_path, &shared, &env_path, &env))
}

/// Everything `plan_up` compares: the cluster, the env's log group, repositories and services,
/// and the task definition revisions those services run or could reuse.
pub async fn env_for_up(aws: &Aws, desired: &DesiredEnv) -> Result<ActualEnv> {
    let app = desired.identity.app.as_str();
    let env = desired.identity.env.as_str();
    let cluster = aws.describe_cluster(&desired.cluster).await?;
    let Some(cluster) = cluster else {
        return Err(not_bootstrapped(&desired.cluster));
    };
    let prefix = format!("{app}-{env}-");
    let services = async {
        let mut names: Vec<String> = aws
            .list_service_names(&cluster.name)
            .await?
            .into_iter()
            .filter(|n| n.starts_with(&prefix))
            .collect();
        for s in &desired.services {
            if !names.contains(&s.name) {
                names.push(s.name.clone());
            }
        }
        aws.describe_services(&cluster.name, &names).await
    };
    let repos = try_join_all(
        desired
            .repositories
            .iter()
            .map(|r| aws.describe_repository(&r.name)),
    );
    let ((log_group, namespace), repositories, services) = try_join3(
        try_join(
            aws.describe_log_group(&desired.log_group.name),
            aws.find_namespace(&desired.namespace.name),
        ),
        repos,
        services,
    )
    .await?;

    // Revisions: the latest of each desired family, the one each service runs, and every active
    // revision of services that are about to be removed.
    let latest = try_join_all(
        desired
            .services
            .iter()
            .map(|s| s.name.as_str())
            .chain(desired.database.as_ref().map(|d| d.family.as_str()))
            .map(|family| aws.describe_task_definition(family)),
    );
    let running = try_join_all(
        services
            .iter()
            .filter(|s| !s.task_definition_arn.is_empty())
            .map(|s| aws.describe_task_definition(&s.task_definition_arn)),
    );
    let removed: Vec<&str> = services
        .iter()
        .filter(|s| !desired.services.iter().any(|d| d.name == s.name))
        .filter(|s| ownership(&s.tags, app, env) == Ownership::Ours)
        .map(|s| s.name.as_str())
        .collect();
    let removed_revisions = try_join_all(removed.iter().map(|f| family_revisions(aws, f)));
    // The group name comes from the slug, so it is known even when schedules are now off.
    let slug = naming::slug(env)?;
    let group_name = naming::scheduler_group(app, &slug);
    let (latest, running, removed_revisions) =
        try_join3(latest, running, removed_revisions).await?;
    let (schedule_group, schedules) = schedule_group(aws, &group_name).await?;
    // Every configured service's target group, public or not: one that stopped being public
    // still has a group to delete.
    let tg_names: Vec<String> = desired
        .services
        .iter()
        .map(|s| naming::target_group(app, &slug, &s.key))
        .collect();
    let listener_arn = desired.preview.as_ref().map(|p| p.listener_arn.as_str());
    let mut preview = preview_state(aws, listener_arn, &tg_names).await?;
    // And the groups this env's rules forward to (a public service dropped from the config).
    for tg in forwarded_by_env(&preview, app, env) {
        if !preview.target_groups.iter().any(|t| t.arn == tg.arn) {
            preview.target_groups.push(tg);
        }
    }

    let parameters = database_url_param(aws, desired).await?;
    let mut task_definitions: Vec<TaskDefinitionState> = Vec::new();
    for td in latest
        .into_iter()
        .chain(running)
        .flatten()
        .chain(removed_revisions.into_iter().flatten())
    {
        if !task_definitions.iter().any(|t| t.arn == td.arn) {
            task_definitions.push(td);
        }
    }
    Ok(ActualEnv {
        cluster: Some(cluster),
        log_group,
        services,
        task_definitions,
        repositories: repositories.into_iter().flatten().collect(),
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

/// With `[database]`: the env's `DATABASE_URL` parameter and its tags (its `envctl:database`
/// tag says whether the database exists), after checking that the admin parameter is a
/// SecureString. Metadata only: no value is read.
async fn database_url_param(aws: &Aws, desired: &DesiredEnv) -> Result<Vec<ParameterState>> {
    let Some(db) = &desired.database else {
        return Ok(vec![]);
    };
    let account = db.account.clone();
    let (admin, url) = try_join(
        aws.get_parameter_meta(&db.admin_param, &account),
        aws.get_parameter_meta(&db.url_param, &account),
    )
    .await?;
    match admin {
        None => {
            return Err(Error::invalid(
                format!(
                    "database.admin_url_param: the SSM parameter `{}` does not exist",
                    db.admin_param
                ),
                Some(format!(
                    "store the admin URL as a SecureString: printf %s 'postgres://ADMIN:PASSWORD@HOST:5432/postgres' | aws ssm put-parameter --type SecureString --name {} --value file:///dev/stdin (see docs/database.md)",
                    db.admin_param
                )),
            ))
        }
        Some(p) if !p.secure => {
            return Err(Error::invalid(
                format!(
                    "database.admin_url_param: `{}` is a String parameter; it holds a password and must be a SecureString",
                    db.admin_param
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

/// The target groups on the load balancer that this env's own rules forward to.
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
        .cloned()
        .collect()
}

/// The shared listener with every env's rules, the named target groups, and how many target
/// groups its load balancer holds (for the capacity pre-flight).
async fn preview_state(
    aws: &Aws,
    listener_arn: Option<&str>,
    tg_names: &[String],
) -> AwsResult<PreviewState> {
    let Some(arn) = listener_arn.filter(|a| !a.is_empty()) else {
        return Ok(PreviewState::default());
    };
    let Some(listener) = aws.describe_listener(arn).await? else {
        return Ok(PreviewState::default());
    };
    let (rules, target_groups, on_lb) = try_join3(
        aws.list_listener_rules(arn),
        aws.describe_target_groups(tg_names),
        aws.target_groups_of_load_balancer(&listener.load_balancer_arn),
    )
    .await?;
    Ok(PreviewState {
        listener: Some(listener),
        rules,
        target_groups,
        on_load_balancer: on_lb,
    })
}

/// Everything tagged for the env, found by its names' prefixes and confirmed by tags, whatever
/// the current config says (a service removed from config is still torn down).
pub async fn env_for_down(
    aws: &Aws,
    app: &str,
    slug: &Slug,
    cluster_name: &str,
    listener_arn: Option<&str>,
    tg_names: &[String],
) -> Result<ActualEnv> {
    let account = aws.account_id().await?;
    let prefix = naming::service_prefix(app, slug);
    let cluster = aws.describe_cluster(cluster_name).await?;
    let services = async {
        match &cluster {
            None => Ok(vec![]),
            Some(c) => {
                let names: Vec<String> = aws
                    .list_service_names(&c.name)
                    .await?
                    .into_iter()
                    .filter(|n| n.starts_with(&prefix))
                    .collect();
                aws.describe_services(&c.name, &names).await
            }
        }
    };
    let revisions = async {
        let families = aws.list_task_definition_families(&prefix).await?;
        let per_family = try_join_all(families.iter().map(|f| family_revisions(aws, f))).await?;
        AwsResult::Ok(per_family.into_iter().flatten().collect::<Vec<_>>())
    };
    let repos = async {
        let names = aws
            .list_repository_names(&naming::repository_prefix(app, slug))
            .await?;
        let repos = try_join_all(names.iter().map(|n| aws.describe_repository(n))).await?;
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
    for tg in forwarded_by_env(&preview, app, slug.as_str()) {
        if !preview.target_groups.iter().any(|t| t.arn == tg.arn) {
            preview.target_groups.push(tg);
        }
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

/// The ECS services tagged for one env (found by name prefix, confirmed by tags).
pub async fn env_services(
    aws: &Aws,
    cluster: &str,
    app: &str,
    slug: &Slug,
) -> AwsResult<Vec<ServiceState>> {
    let prefix = naming::service_prefix(app, slug);
    let names: Vec<String> = aws
        .list_service_names(cluster)
        .await?
        .into_iter()
        .filter(|n| n.starts_with(&prefix))
        .collect();
    Ok(aws
        .describe_services(cluster, &names)
        .await?
        .into_iter()
        .filter(|s| ownership(&s.tags, app, slug.as_str()) == Ownership::Ours)
        .collect())
}
