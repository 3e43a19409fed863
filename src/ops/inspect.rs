//! `ls` and `status`: read-only views of an app's envs, built from ECS services and their tags.

use std::collections::BTreeMap;

use futures::future::try_join_all;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::{
    ownership, ListenerRuleState, Ownership, ServiceEvent, StoppedTask, TargetHealthState, TAG_APP,
    TAG_BRANCH, TAG_CREATED_AT, TAG_ENV, TAG_EXPIRES_AT, TAG_MANAGED_BY, TAG_OWNER, TAG_PROTECTED,
    TAG_SERVICE,
};
use crate::naming::{self, EnvName};
use crate::observe;
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

/// The shared listener's rules and the ALB's target group count, when previews are on.
async fn preview_rules(
    aws: &crate::aws::Aws,
    cfg: &crate::config::LoadedConfig,
) -> Result<Option<(Vec<ListenerRuleState>, usize)>> {
    let Some(listener_arn) = observe::preview_listener(aws, cfg).await? else {
        return Ok(None);
    };
    let Some(listener) = aws.describe_listener(&listener_arn).await? else {
        return Ok(None);
    };
    let rules = aws.list_listener_rules(&listener_arn).await?;
    let tgs = aws
        .target_groups_of_load_balancer(&listener.load_balancer_arn)
        .await?;
    Ok(Some((rules, tgs.len())))
}

/// `ls` with the preview ALB's capacity when previews are on.
pub async fn ls_with_capacity(
    session: &Session,
) -> Result<(Vec<EnvSummary>, Option<PreviewCapacity>)> {
    let mut envs = ls(session).await?;
    let cfg = session.load_config(&[])?;
    let aws = session.aws(Some(&cfg)).await?;
    let Some((rules, tgs)) = preview_rules(aws, &cfg).await? else {
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
    let (app, aws, cluster) = bootstrapped(session).await?;
    let names: Vec<String> = aws
        .list_service_names(&cluster)
        .await?
        .into_iter()
        .filter(|n| n.starts_with(&format!("{app}-")))
        .collect();
    let services = aws.describe_services(&cluster, &names).await?;
    let mut envs: BTreeMap<String, EnvSummary> = BTreeMap::new();
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
        });
        e.services += 1;
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
    let cfg = session.load_config(&[])?;
    let sc = &cfg.config.schedule;
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
    Ok(envs.into_values().collect())
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

pub async fn status(session: &Session, env: &EnvName) -> Result<EnvStatus> {
    let (app, aws, cluster) = bootstrapped(session).await?;
    let services = observe::env_services(aws, &cluster, &app, &env.slug).await?;
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
    let stopped = try_join_all(
        services
            .iter()
            .map(|s| aws.list_stopped_tasks(&cluster, &s.name, 5)),
    )
    .await?;
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
    let schedules = aws
        .list_schedules(&naming::scheduler_group(&app, &env.slug))
        .await?
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
    let cfg = session.load_config(&[])?;
    let mut previews = Vec::new();
    if let Some((rules, _)) = preview_rules(aws, &cfg).await? {
        let p = &cfg.config.preview;
        for r in rules
            .iter()
            .filter(|r| ownership(&r.tags, &app, env.slug.as_str()) == Ownership::Ours)
        {
            let mut targets = Vec::new();
            for tg in &r.target_group_arns {
                targets.extend(aws.describe_target_health(tg).await?);
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
        cluster,
        services: out,
        expires_at,
        protected,
        schedules,
    })
}

/// The app name, AWS clients and cluster name, once the cluster is known to exist.
pub(crate) async fn bootstrapped(session: &Session) -> Result<(String, &crate::aws::Aws, String)> {
    let cfg = session.load_config(&[])?;
    let aws = session.aws(Some(&cfg)).await?;
    let cluster = cfg.cluster_name();
    if aws.describe_cluster(&cluster).await?.is_none() {
        return Err(observe::not_bootstrapped(&cluster));
    }
    Ok((cfg.config.app, aws, cluster))
}

/// The next time a schedule expression fires after `now`, in its zone (RFC 3339 with offset).
pub fn next_fire(expression: &str, timezone: &str, now: jiff::Timestamp) -> Option<String> {
    let tz = schedule::timezone(timezone).ok()?;
    let cron = schedule::parse_cron(expression).ok()?;
    let at = cron.next_after(now, &tz)?;
    Some(at.to_zoned(tz).strftime("%Y-%m-%d %H:%M %Z").to_string())
}
