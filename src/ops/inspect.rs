//! `ls` and `status`: read-only views of an app's envs, built from ECS services and their tags.

use std::collections::BTreeMap;

use futures::future::{try_join, try_join_all};
use futures::TryFutureExt;
use serde::Serialize;

use crate::aws::elbv2::load_balancer_of_listener;
use crate::error::{Error, Result};
use crate::model::{
    ownership, ClusterState, ListenerRuleState, Ownership, ServiceEvent, ServiceState, StoppedTask,
    TargetHealthState, TAG_APP, TAG_BRANCH, TAG_CREATED_AT, TAG_ENV, TAG_EXPIRES_AT,
    TAG_MANAGED_BY, TAG_OWNER, TAG_PROTECTED, TAG_SERVICE,
};
use crate::naming::EnvName;
use crate::observe::{self, EnvNames};
use crate::ops::wait::{self, ServiceReport};
use crate::ops::Session;
use crate::schedule;

#[derive(Debug, Clone, Serialize)]
pub struct EnvSummary {
    pub env: String,
    pub branch: String,
    pub owner: String,
    pub services: usize,
    pub desired: i32,
    pub running: i32,
    pub created_at: String,
    /// Newest deployment update across the env's services.
    pub last_deploy: Option<String>,
    /// Earliest `envctl:expires-at` of its services; `None`: never expires.
    pub expires_at: Option<String>,
    pub protected: bool,
    /// From the config's schedule (an env made `--always-on` at `up` is not known here).
    pub next_stop: Option<String>,
    pub next_start: Option<String>,
    /// Preview URLs, from the env's listener rules.
    pub urls: Vec<String>,
    /// Estimated $/month (`envctl cost ENV` has the details); `None` when there is none.
    pub cost_month_usd: Option<f64>,
}

/// How full the shared preview ALB is (for `ls`).
#[derive(Debug, Clone, Serialize)]
pub struct PreviewCapacity {
    pub rules: usize,
    pub max_rules: u32,
    pub target_groups: usize,
    pub max_target_groups: u32,
}

/// A public service's URL and its targets' health (for `status`).
#[derive(Debug, Clone, Serialize)]
pub struct PreviewView {
    pub service: String,
    pub url: String,
    pub targets: Vec<TargetHealthState>,
}

/// The URL a listener rule serves.
fn rule_url(rule: &ListenerRuleState, scheme: &str, domain: &str) -> Option<String> {
    if let Some(host) = rule.hosts.first() {
        return Some(format!("{scheme}://{host}/"));
    }
    let path = rule.paths.first()?;
    Some(format!("{scheme}://{domain}{}", path.trim_end_matches('*')))
}

/// The shared listener's rules and the ALB's target group count, when previews are on; the
/// listener as `bootstrap` recorded it on `cluster` (else looked up), its rules and its load
/// balancer's target groups read together.
pub(crate) async fn preview_rules(
    aws: &crate::aws::Aws,
    cfg: &crate::config::LoadedConfig,
    cluster: Option<&ClusterState>,
) -> Result<Option<(Vec<ListenerRuleState>, usize)>> {
    if !cfg.config.preview.enabled {
        return Ok(None);
    }
    let Some(listener_arn) = observe::resolve_listener_unchecked(aws, cfg, cluster).await? else {
        return Ok(None);
    };
    let on_lb = async {
        match load_balancer_of_listener(&listener_arn) {
            Some(lb) => aws.target_groups_of_load_balancer_untagged(&lb).await,
            None => Ok(vec![]),
        }
    };
    let (rules, tgs) = try_join(aws.listener_rules(&listener_arn), on_lb).await?;
    match rules {
        Some(rules) => Ok(Some((rules, tgs.len()))),
        // The recorded listener is gone: look the ALB up by name.
        None => match observe::listener_by_name(aws, cfg).await? {
            Some(arn) if arn != listener_arn => {
                let lb = aws.describe_listener(&arn).await?;
                let (rules, tgs) = match lb {
                    Some(l) => {
                        try_join(
                            aws.list_listener_rules(&arn),
                            aws.target_groups_of_load_balancer_untagged(&l.load_balancer_arn),
                        )
                        .await?
                    }
                    None => return Ok(None),
                };
                Ok(Some((rules, tgs.len())))
            }
            _ => Ok(None),
        },
    }
}

/// `ls` with the preview ALB's capacity when previews are on.
pub async fn ls_with_capacity(
    session: &Session,
) -> Result<(Vec<EnvSummary>, Option<PreviewCapacity>)> {
    let cfg = session.load_config(&[])?;
    let (mut envs, preview) = ls_reads(session, &cfg).await?;
    let Some((rules, tgs)) = preview else {
        return Ok((envs, None));
    };
    let p = &cfg.config.preview;
    for e in &mut envs {
        e.urls = rules
            .iter()
            .filter(|r| {
                r.tags.get(TAG_APP) == Some(&cfg.config.app) && r.tags.get(TAG_ENV) == Some(&e.env)
            })
            .filter_map(|r| rule_url(r, &p.scheme, &p.domain))
            .collect();
    }
    let capacity = PreviewCapacity {
        rules: rules.iter().filter(|r| r.priority.is_some()).count(),
        max_rules: p.max_rules,
        target_groups: tgs,
        max_target_groups: p.max_target_groups,
    };
    Ok((envs, Some(capacity)))
}

pub async fn ls(session: &Session) -> Result<Vec<EnvSummary>> {
    let cfg = session.load_config(&[])?;
    Ok(ls_reads(session, &cfg).await?.0)
}

type PreviewRules = Option<(Vec<ListenerRuleState>, usize)>;

/// The app's envs, and the preview listener's rules when previews are on. The cluster is listed
/// (`ls` is about every env: 100 services a page) while the preview reads, which need only the
/// cluster's tag, go on beside the paging.
async fn ls_reads(
    session: &Session,
    cfg: &crate::config::LoadedConfig,
) -> Result<(Vec<EnvSummary>, PreviewRules)> {
    let app = cfg.config.app.clone();
    let aws = session.aws(Some(cfg)).await?;
    let cluster = cfg.cluster_name();
    let services = async {
        let names: Vec<String> = aws
            .list_service_names(&cluster)
            .await?
            .into_iter()
            .filter(|n| n.starts_with(&format!("{app}-")))
            .collect();
        Ok::<_, Error>(aws.describe_services(&cluster, &names).await?)
    };
    let preview = async {
        let c = aws.describe_cluster(&cluster).await?;
        let rules = preview_rules(aws, cfg, c.as_ref()).await?;
        Ok::<_, Error>((c, rules))
    };
    let (services, (c, preview)) = session.reading(try_join(services, preview)).await?;
    if c.is_none() {
        return Err(observe::not_bootstrapped(&cluster));
    }
    let mut envs: BTreeMap<String, EnvSummary> = BTreeMap::new();
    let mut observed: BTreeMap<String, Vec<ServiceState>> = BTreeMap::new();
    for s in services {
        let t = &s.tags;
        if t.get(TAG_MANAGED_BY).map(String::as_str) != Some("envctl")
            || t.get(TAG_APP) != Some(&app)
        {
            continue;
        }
        let Some(env) = t.get(TAG_ENV) else { continue };
        let e = envs.entry(env.clone()).or_insert_with(|| EnvSummary {
            env: env.clone(),
            branch: t.get(TAG_BRANCH).cloned().unwrap_or_default(),
            owner: t.get(TAG_OWNER).cloned().unwrap_or_default(),
            services: 0,
            desired: 0,
            running: 0,
            created_at: t.get(TAG_CREATED_AT).cloned().unwrap_or_default(),
            last_deploy: None,
            expires_at: None,
            protected: false,
            next_stop: None,
            next_start: None,
            urls: vec![],
            cost_month_usd: None,
        });
        e.services += 1;
        observed.entry(env.clone()).or_default().push(s.clone());
        if let Some(at) = t.get(TAG_EXPIRES_AT) {
            if e.expires_at.as_ref().is_none_or(|cur| at < cur) {
                e.expires_at = Some(at.clone());
            }
        }
        e.protected |= t.get(TAG_PROTECTED).map(String::as_str) == Some("true");
        e.desired += s.desired_count;
        e.running += s.running_count;
        if let Some(c) = t.get(TAG_CREATED_AT) {
            if e.created_at.is_empty() || *c < e.created_at {
                e.created_at = c.clone();
            }
        }
        let newest = s
            .deployments
            .iter()
            .filter_map(|d| d.updated_at.clone())
            .max();
        if newest > e.last_deploy {
            e.last_deploy = newest;
        }
    }
    let now = jiff::Timestamp::now();
    let sc = &cfg.config.schedule;
    let named: Vec<(EnvName, &[ServiceState])> = envs
        .values()
        .filter_map(|e| {
            let slug = crate::naming::env_name(&e.env).ok()?.slug;
            let seen = observed.get(&e.env).map(Vec::as_slice).unwrap_or_default();
            Some((
                EnvName {
                    raw: e.branch.clone(),
                    slug,
                },
                seen,
            ))
        })
        .collect();
    let costs = crate::ops::cost::month_estimates(cfg, &aws.region, &named, now);
    for ((env, _), cost) in named.iter().zip(costs) {
        if let Some(e) = envs.get_mut(env.slug.as_str()) {
            e.cost_month_usd = cost;
        }
    }
    for e in envs.values_mut() {
        let always_on = sc.always_on.iter().any(|a| *a == e.env || *a == e.branch);
        if sc.enabled && !always_on {
            e.next_stop = next_fire(
                &schedule::schedule_expression(&sc.stop, &sc.days).unwrap_or_default(),
                &sc.timezone,
                now,
            );
            e.next_start = next_fire(
                &schedule::schedule_expression(&sc.start, &sc.days).unwrap_or_default(),
                &sc.timezone,
                now,
            );
        }
    }
    Ok((envs.into_values().collect(), preview))
}

#[derive(Debug, Clone, Serialize)]
pub struct ServiceStatus {
    #[serde(flatten)]
    pub summary: ServiceReport,
    #[serde(skip)]
    pub tags: crate::model::Tags,
    pub events: Vec<ServiceEvent>,
    pub stopped_tasks: Vec<StoppedTask>,
    pub spot_interruptions: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct EnvStatus {
    pub app: String,
    pub env: String,
    /// The branch and owner from the services' tags (empty when no service carries them).
    pub branch: String,
    pub owner: String,
    pub cluster: String,
    pub services: Vec<ServiceStatus>,
    /// Earliest expiry across the env's services.
    pub expires_at: Option<String>,
    pub protected: bool,
    /// The env's stop/start schedules as AWS holds them, with their next firing.
    pub schedules: Vec<ScheduleView>,
    pub previews: Vec<PreviewView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScheduleView {
    pub name: String,
    pub expression: String,
    pub timezone: String,
    pub next: Option<String>,
}

/// Everything is addressed by the names the config derives and read in three round trips: the
/// cluster, services, stopped tasks, schedules and target groups first; task details, listener
/// rules and target health next; the rules' tags last.
pub async fn status(session: &Session, env: &EnvName) -> Result<EnvStatus> {
    let cfg = session.load_config(&[])?;
    let app = cfg.config.app.clone();
    let aws = session.aws(Some(&cfg)).await?;
    let cluster = cfg.cluster_name();
    let names = EnvNames::new(&cfg, &env.slug);
    let service_names = names.service_names();
    // Stopped tasks are listed by the configured names alongside the services themselves.
    let services = async {
        let (services, mut stopped) = try_join(
            observe::env_services(aws, &cluster, &app, &env.slug, &service_names),
            try_join_all(
                service_names.iter().map(|n| async {
                    Ok((n.clone(), aws.list_stopped_tasks(&cluster, n, 5).await?))
                }),
            )
            .map_ok(|v: Vec<(String, Vec<StoppedTask>)>| v.into_iter().collect::<BTreeMap<_, _>>()),
        )
        .await?;
        let mut tasks = Vec::new();
        for s in &services {
            tasks.push(match stopped.remove(&s.name) {
                Some(t) => t,
                None => aws.list_stopped_tasks(&cluster, &s.name, 5).await?,
            });
        }
        Ok::<_, Error>((services, tasks))
    };
    let schedule_names = observe::schedule_names(names.services.iter().map(|(k, _)| k.as_str()));
    let schedules = aws.get_schedules(&names.schedule_group, &schedule_names);
    let previews = async {
        let c = aws.describe_cluster(&cluster).await?;
        let rules = preview_rules(aws, &cfg, c.as_ref()).await?;
        Ok::<_, Error>((c, rules))
    };
    let health = async {
        if !cfg.config.preview.enabled {
            return Ok(BTreeMap::new());
        }
        let groups = aws
            .describe_target_groups_each(&names.target_groups)
            .await?;
        let health =
            try_join_all(groups.iter().map(|g| aws.describe_target_health(&g.arn))).await?;
        Ok::<_, Error>(
            groups
                .into_iter()
                .map(|g| g.arn)
                .zip(health)
                .collect::<BTreeMap<_, _>>(),
        )
    };
    let ((services, stopped), schedules, (c, rules), mut health) = session
        .reading(async { futures::try_join!(services, schedules.err_into(), previews, health) })
        .await?;
    if c.is_none() {
        return Err(observe::not_bootstrapped(&cluster));
    }
    if services.is_empty() {
        // Like `stop`: nothing to show is a missing precondition, not a status.
        return Err(Error::Precondition {
            message: format!(
                "env `{}` does not exist: no ECS service of app `{app}` is tagged for it in cluster `{cluster}`",
                env.slug
            ),
            hint: format!(
                "`envctl ls` lists the envs that exist; `envctl up {}` creates this one",
                env.raw
            ),
        });
    }
    let mut out = Vec::new();
    for (s, stopped_tasks) in services.into_iter().zip(stopped) {
        out.push(ServiceStatus {
            summary: wait::report(&s),
            tags: s.tags.clone(),
            events: s.events.clone(),
            spot_interruptions: stopped_tasks
                .iter()
                .filter(|t| t.is_spot_interruption())
                .count(),
            stopped_tasks,
        });
    }
    let now = jiff::Timestamp::now();
    let schedules = schedules
        .into_iter()
        .map(|s| ScheduleView {
            next: next_fire(&s.expression, &s.timezone, now),
            name: s.name,
            expression: s.expression,
            timezone: s.timezone,
        })
        .collect();
    let tags: Vec<_> = out.iter().map(|s| &s.tags).collect();
    let expires_at = tags
        .iter()
        .filter_map(|t| t.get(TAG_EXPIRES_AT))
        .min()
        .cloned();
    let protected = tags
        .iter()
        .any(|t| t.get(TAG_PROTECTED).map(String::as_str) == Some("true"));
    let first_tag = |key: &str| {
        tags.iter()
            .find_map(|t| t.get(key).filter(|v| !v.is_empty()))
            .cloned()
            .unwrap_or_default()
    };
    let (branch, owner) = (first_tag(TAG_BRANCH), first_tag(TAG_OWNER));
    let mut previews = Vec::new();
    if let Some((rules, _)) = rules {
        let p = &cfg.config.preview;
        for r in rules
            .iter()
            .filter(|r| ownership(&r.tags, &app, env.slug.as_str()) == Ownership::Ours)
        {
            let mut targets = Vec::new();
            for tg in &r.target_group_arns {
                // A group the config no longer names (read only in this rare case).
                let found = match health.remove(tg) {
                    Some(h) => h,
                    None => aws.describe_target_health(tg).await?,
                };
                targets.extend(found);
            }
            previews.push(PreviewView {
                service: r.tags.get(TAG_SERVICE).cloned().unwrap_or_default(),
                url: rule_url(r, &p.scheme, &p.domain).unwrap_or_default(),
                targets,
            });
        }
    }
    Ok(EnvStatus {
        previews,
        app,
        env: env.slug.as_str().to_string(),
        branch,
        owner,
        cluster,
        services: out,
        expires_at,
        protected,
        schedules,
    })
}

/// The env's preview URLs by service key (`open`): its listener rules, read by the cluster's
/// recorded listener. An input error when previews are off or the env has no public service.
pub async fn preview_urls(session: &Session, env: &EnvName) -> Result<Vec<(String, String)>> {
    let cfg = session.load_config(&[])?;
    if !cfg.config.preview.enabled {
        return Err(Error::invalid(
            format!(
                "env `{}` has no preview URL: previews are off in {}",
                env.slug,
                cfg.path.display()
            ),
            Some(
                "set `[preview] enabled = true` and `public = true` on a service (docs/preview.md)"
                    .to_string(),
            ),
        ));
    }
    let app = cfg.config.app.clone();
    let aws = session.aws(Some(&cfg)).await?;
    let cluster = cfg.cluster_name();
    let c = session.reading(aws.describe_cluster(&cluster)).await?;
    if c.is_none() {
        return Err(observe::not_bootstrapped(&cluster));
    }
    let rules = session
        .reading(preview_rules(aws, &cfg, c.as_ref()))
        .await?;
    let p = &cfg.config.preview;
    let mut urls: Vec<(String, String)> = rules
        .map(|(rules, _)| rules)
        .unwrap_or_default()
        .iter()
        .filter(|r| ownership(&r.tags, &app, env.slug.as_str()) == Ownership::Ours)
        .filter_map(|r| {
            Some((
                r.tags.get(TAG_SERVICE).cloned().unwrap_or_default(),
                rule_url(r, &p.scheme, &p.domain)?,
            ))
        })
        .collect();
    urls.sort();
    if urls.is_empty() {
        return Err(Error::Precondition {
            message: format!("env `{}` has no preview URL", env.slug),
            hint: format!(
                "a service needs `public = true` in envctl.toml, and the env must be up: `envctl up {}` (`envctl status {}` shows what exists)",
                env.raw, env.raw
            ),
        });
    }
    Ok(urls)
}

/// The app name, AWS clients, cluster name and the env's services (see
/// `observe::env_services`), the cluster and the services read together; fails when the
/// cluster does not exist.
pub(crate) async fn bootstrapped_services<'a>(
    session: &'a Session,
    env: &EnvName,
) -> Result<(String, &'a crate::aws::Aws, String, Vec<ServiceState>)> {
    let cfg = session.load_config(&[])?;
    let aws = session.aws(Some(&cfg)).await?;
    let cluster = cfg.cluster_name();
    let names = EnvNames::new(&cfg, &env.slug).service_names();
    let app = cfg.config.app;
    let (c, services) = session
        .reading(try_join(
            aws.describe_cluster(&cluster),
            observe::env_services(aws, &cluster, &app, &env.slug, &names),
        ))
        .await?;
    if c.is_none() {
        return Err(observe::not_bootstrapped(&cluster));
    }
    Ok((app, aws, cluster, services))
}

/// The next time a schedule expression fires after `now`, in its zone (RFC 3339 with offset).
pub fn next_fire(expression: &str, timezone: &str, now: jiff::Timestamp) -> Option<String> {
    let tz = schedule::timezone(timezone).ok()?;
    let cron = schedule::parse_cron(expression).ok()?;
    let at = cron.next_after(now, &tz)?;
    Some(at.to_zoned(tz).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
}
