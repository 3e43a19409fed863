//! `cost`: observes what an estimate needs (the env's or the fleet's services, their counts and
//! stop state, the shared ALB and the janitor), renders each env offline for its task sizes and
//! schedules, and hands plain numbers to the pure `cost` module. `--actual` asks Cost Explorer.

use std::collections::BTreeMap;
use std::path::PathBuf;

use futures::future::{try_join, try_join_all};

use crate::config::LoadedConfig;
use crate::cost::{self, EnvInput, Estimate, EstimateInput, JanitorInput, PriceTable, Scope};
use crate::error::{Error, Result};
use crate::model::{
    CapacityProviderStrategyItem, EnvIdentity, ScheduleSpec, ServiceState, TAG_APP, TAG_BRANCH,
    TAG_ENV, TAG_MANAGED_BY, TAG_PREVIEW_LISTENER, TAG_STOPPED_COUNT,
};
use crate::naming::{self, EnvName};
use crate::observe::{self, EnvNames};
use crate::ops::Session;
use crate::render::{self, EnvOptions, Facts, Params, RenderRequest};

/// What `cost` was asked for; no clap types.
#[derive(Debug, Clone)]
pub struct CostOptions {
    /// `None`: every env of the app (the fleet).
    pub env: Option<EnvName>,
    /// `--prices FILE` instead of the embedded table.
    pub prices: Option<PathBuf>,
    /// The moment the month starts (tests pass a fixed one).
    pub now: jiff::Timestamp,
}

/// The price table and where it came from; a bad file is bad input (exit 3), before any call.
pub fn load_prices(path: Option<&PathBuf>) -> Result<(PriceTable, String)> {
    match path {
        None => cost::prices::embedded()
            .map(|t| (t, "embedded".to_string()))
            .map_err(|m| Error::invalid(m, None)),
        Some(p) => {
            let origin = p.display().to_string();
            let text = std::fs::read_to_string(p)
                .map_err(|e| Error::invalid(format!("--prices {origin}: {e}"), None))?;
            cost::prices::parse(&text, &origin)
                .map(|t| (t, origin))
                .map_err(|m| Error::invalid(m, None))
        }
    }
}

/// The estimate for one env or the fleet, read in one round trip (plus one for services that
/// left the config, as `status` reads them).
pub async fn estimate(session: &Session, o: &CostOptions) -> Result<Estimate> {
    let cfg = session.load_config(&[])?;
    let (prices, origin) = load_prices(o.prices.as_ref())?;
    let aws = session.aws(Some(&cfg)).await?;
    let region = aws.region.clone();
    let shown_origin = if origin == "embedded" {
        "the embedded price table".to_string()
    } else {
        origin.clone()
    };
    // An unknown region is bad input, found before the first call.
    prices
        .region(&region, &shown_origin)
        .map_err(|m| Error::invalid(m, None))?;
    let app = cfg.config.app.clone();
    let cluster = cfg.cluster_name();
    let scope = if o.env.is_some() {
        Scope::Env
    } else {
        Scope::Fleet
    };
    let services = async {
        match &o.env {
            Some(env) => {
                let names = EnvNames::new(&cfg, &env.slug).service_names();
                Ok(observe::env_services(aws, &cluster, &app, &env.slug, &names).await?)
            }
            None => {
                let prefix = format!("{app}-");
                let names: Vec<String> = aws
                    .list_service_names(&cluster)
                    .await?
                    .into_iter()
                    .filter(|n| n.starts_with(&prefix))
                    .collect();
                Ok::<_, Error>(aws.describe_services(&cluster, &names).await?)
            }
        }
    };
    let janitor = async {
        if scope == Scope::Env {
            return Ok(None);
        }
        Ok::<_, Error>(aws.describe_rule(&naming::janitor(&app)).await?)
    };
    let ((services, janitor), c) = session
        .reading(try_join(try_join(services, janitor), async {
            Ok::<_, Error>(aws.describe_cluster(&cluster).await?)
        }))
        .await?;
    let Some(c) = c else {
        return Err(observe::not_bootstrapped(&cluster));
    };
    // envctl's services of this app, by env slug, with the branch they were made for.
    let mut by_env: BTreeMap<String, (String, Vec<ServiceState>)> = BTreeMap::new();
    for s in services {
        let t = &s.tags;
        if t.get(TAG_MANAGED_BY).map(String::as_str) != Some("envctl")
            || t.get(TAG_APP) != Some(&app)
        {
            continue;
        }
        let Some(env) = t.get(TAG_ENV).cloned() else {
            continue;
        };
        let branch = t.get(TAG_BRANCH).cloned().unwrap_or_else(|| env.clone());
        by_env.entry(env).or_insert((branch, vec![])).1.push(s);
    }
    let mut found: Vec<(EnvName, Vec<ServiceState>)> = Vec::new();
    match &o.env {
        Some(env) => {
            let observed = by_env
                .remove(env.slug.as_str())
                .map(|(_, s)| s)
                .unwrap_or_default();
            found.push((env.clone(), observed));
        }
        None => {
            for (slug, (branch, observed)) in by_env {
                let Ok(named) = naming::env_name(&slug) else {
                    continue;
                };
                let env = EnvName {
                    raw: branch,
                    slug: named.slug,
                };
                found.push((env, observed));
            }
        }
    }
    // The schedules AWS holds (an env made `--always-on` at `up` has none), read by name: the
    // first service's stop and start carry the env's expressions and zone.
    let first_key = cfg
        .config
        .services
        .keys()
        .next()
        .cloned()
        .unwrap_or_default();
    let schedules = session
        .reading(try_join_all(found.iter().map(|(env, observed)| {
            let group = naming::scheduler_group(&app, &env.slug);
            let names = naming::schedule_names(&first_key).to_vec();
            async move {
                if observed.is_empty() {
                    return Ok(None);
                }
                Ok::<_, Error>(Some(aws.get_schedules(&group, &names).await?))
            }
        })))
        .await?;
    let mut envs = Vec::new();
    for ((env, observed), schedules) in found.iter().zip(schedules) {
        envs.push(env_input(
            &cfg,
            env,
            observed,
            schedules.as_deref(),
            &region,
            o.now,
        )?);
    }
    // The ALB `bootstrap` made (recorded on the cluster) is envctl's to count; a listener the
    // config names belongs to someone else's load balancer.
    let alb = cfg.config.preview.enabled
        && cfg.config.preview.listener_arn.is_empty()
        && c.tags.contains_key(TAG_PREVIEW_LISTENER);
    let janitor = janitor
        .filter(|r| r.state == "ENABLED")
        .and_then(|r| r.schedule_expression)
        .map(|expression| JanitorInput {
            expression,
            arm: cfg.config.janitor.architecture == crate::config::JanitorArch::Arm64,
        });
    cost::estimate(&EstimateInput {
        app,
        region,
        scope,
        now: o.now,
        prices: &prices,
        prices_origin: origin,
        envs,
        alb,
        janitor,
    })
    .map_err(|m| Error::invalid(m, None))
}

/// Facts that only fill in names: cost reads sizes, counts and schedules from the rendered
/// model, none of which depend on the account, network or roles.
fn placeholder_facts(cfg: &LoadedConfig, region: &str) -> Facts {
    let account = "000000000000";
    let role = |name: &str| format!("arn:aws:iam::{account}:role/{name}");
    Facts {
        account: account.into(),
        region: region.into(),
        subnets: vec!["subnet-00000000".into()],
        security_groups: vec!["sg-00000000".into()],
        execution_role_arn: role(&naming::execution_role(&cfg.config.app)),
        task_role_arn: Some(role("task")),
        scheduler_role_arn: Some(role(&naming::scheduler_role(&cfg.config.app))),
        preview_listener_arn: Some(format!(
            "arn:aws:elasticloadbalancing:{region}:{account}:listener/app/envctl/0/0"
        )),
        vpc_id: Some("vpc-00000000".into()),
    }
}

/// What `cost` takes from an env's rendered model: each service's size, count and capacity
/// strategy, and the schedules.
#[derive(Debug, Clone)]
pub struct RenderedShape {
    services: Vec<RenderedService>,
    schedules: Vec<ScheduleSpec>,
}

#[derive(Debug, Clone)]
struct RenderedService {
    key: String,
    cpu_units: u32,
    memory_mib: u32,
    desired_count: u32,
    strategy: Vec<CapacityProviderStrategyItem>,
    launch_type: Option<String>,
}

/// Renders `env` offline (placeholder facts, no parameters) and keeps what `cost` needs.
pub fn render_shape(
    cfg: &LoadedConfig,
    env: &EnvName,
    region: &str,
    now: jiff::Timestamp,
) -> Result<RenderedShape> {
    let facts = placeholder_facts(cfg, region);
    let desired = render::render_env(&RenderRequest {
        config: cfg,
        env,
        identity: EnvIdentity {
            app: cfg.config.app.clone(),
            env: env.slug.as_str().to_string(),
            branch: env.raw.clone(),
            owner: String::new(),
            created_at: String::new(),
        },
        facts: &facts,
        params: &Params::default(),
        images: &BTreeMap::new(),
        env_vars: &crate::ops::process_env(),
        options: &EnvOptions {
            now,
            ..EnvOptions::default()
        },
    })?;
    let mut services = Vec::new();
    for d in &desired.services {
        let td = &d.task_definition;
        let size = |what: &str, value: Option<&String>, parse: fn(&str) -> Option<u32>| {
            value.and_then(|v| parse(v)).ok_or_else(|| {
                Error::invalid(
                    format!(
                        "services.{}: the rendered task definition has no Fargate {what} ({})",
                        d.key,
                        value.map(String::as_str).unwrap_or("none")
                    ),
                    Some("set `cpu` and `memory` in the task definition template".to_string()),
                )
            })
        };
        services.push(RenderedService {
            key: d.key.clone(),
            cpu_units: size("cpu", td.cpu.as_ref(), crate::validate::cpu_units)?,
            memory_mib: size("memory", td.memory.as_ref(), crate::validate::memory_mib)?,
            desired_count: d.service.desired_count.max(0) as u32,
            strategy: d.service.capacity_provider_strategy.clone(),
            launch_type: d.service.launch_type.clone(),
        });
    }
    Ok(RenderedShape {
        services,
        schedules: desired.schedules.map(|g| g.schedules).unwrap_or_default(),
    })
}

/// The stop/start pair among `specs` (a service's `stop-<key>` and `start-<key>`), if both exist.
fn stop_start(specs: &[ScheduleSpec]) -> Result<Option<cost::StopStart>> {
    let find = |prefix: &str| specs.iter().find(|s| s.name.starts_with(prefix));
    match (find("stop-"), find("start-")) {
        (Some(stop), Some(start)) => {
            cost::StopStart::new(&stop.expression, &start.expression, &stop.timezone)
                .map(Some)
                .map_err(|m| Error::invalid(format!("schedule: {m}"), None))
        }
        _ => Ok(None),
    }
}

/// Renders `env` offline and combines it with what AWS holds for it (see `combine`); the
/// observed schedules win over the rendered ones (`None`: not read, the env does not exist yet).
pub fn env_input(
    cfg: &LoadedConfig,
    env: &EnvName,
    observed: &[ServiceState],
    observed_schedules: Option<&[ScheduleSpec]>,
    region: &str,
    now: jiff::Timestamp,
) -> Result<EnvInput> {
    let shape = render_shape(cfg, env, region, now)?;
    let schedules = stop_start(observed_schedules.unwrap_or(&shape.schedules))?;
    Ok(combine(&cfg.config.app, env, &shape, observed, schedules))
}

/// The rendered shape with what AWS holds: the observed count of a running service (an
/// `up --set` count included), the count `stop` recorded for a stopped one, else the rendered
/// `desiredCount`.
fn combine(
    app: &str,
    env: &EnvName,
    shape: &RenderedShape,
    observed: &[ServiceState],
    schedules: Option<cost::StopStart>,
) -> EnvInput {
    let exists = !observed.is_empty();
    let running_now = !exists || observed.iter().any(|s| s.desired_count > 0);
    let services = shape
        .services
        .iter()
        .map(|r| {
            let name = naming::service_name(app, &env.slug, &r.key);
            let seen = observed.iter().find(|s| s.name == name);
            let recorded = seen
                .and_then(|s| s.tags.get(TAG_STOPPED_COUNT))
                .and_then(|v| v.parse::<u32>().ok());
            let tasks = match seen {
                Some(s) if s.desired_count > 0 => s.desired_count as u32,
                _ => recorded.unwrap_or(r.desired_count),
            };
            cost::ServiceInput {
                key: r.key.clone(),
                cpu_units: r.cpu_units,
                memory_mib: r.memory_mib,
                tasks,
                on_demand_tasks: cost::on_demand_tasks(
                    tasks,
                    &r.strategy,
                    r.launch_type.as_deref(),
                ),
            }
        })
        .collect();
    EnvInput {
        env: env.slug.as_str().to_string(),
        exists,
        running_now,
        schedules,
        services,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The config `envctl init` writes, loaded from a scratch directory.
    fn init_config() -> (tempfile::TempDir, LoadedConfig) {
        let dir = tempfile::tempdir().expect("tempdir");
        crate::ops::init::init(dir.path(), "shop", false).expect("init");
        let cfg = crate::config::load(&dir.path().join("envctl.toml"), &[]).expect("config");
        (dir, cfg)
    }

    #[test]
    fn the_default_init_config_costs_10_to_12_percent_of_always_on_on_demand() {
        let (_dir, cfg) = init_config();
        let env = naming::env_name("feature-x").expect("name");
        // A Monday 00:00 UTC, env stopped overnight as its schedule leaves it.
        let now: jiff::Timestamp = "2026-12-07T00:00:00Z".parse().unwrap();
        let mut input = env_input(&cfg, &env, &[], None, "us-east-1", now).expect("input");
        input.running_now = false;
        let (prices, origin) = load_prices(None).expect("prices");
        let est = cost::estimate(&EstimateInput {
            app: "shop".into(),
            region: "us-east-1".into(),
            scope: Scope::Env,
            now,
            prices: &prices,
            prices_origin: origin,
            envs: vec![input],
            alb: false,
            janitor: None,
        })
        .expect("estimate");
        let e = &est.envs[0];
        // The init config's zone is the machine's, so the hours depend on it a little; the
        // ratio does not leave the band anywhere: 60 of 168 hours at Spot's 30%.
        assert!(
            (10.0..=12.0).contains(&e.percent_of_always_on),
            "{}% ({} h)",
            e.percent_of_always_on,
            e.running_hours
        );
        assert_eq!(e.services.len(), 1);
        assert_eq!(e.services[0].spot_tasks, 1.0);
        assert!(e.always_on_on_demand_month > 8.0 && e.always_on_on_demand_month < 10.0);
    }

    #[test]
    fn a_stopped_service_counts_what_stop_recorded() {
        let (_dir, cfg) = init_config();
        let env = naming::env_name("lt-1").expect("name");
        let mut tags = crate::model::Tags::new();
        tags.insert(TAG_STOPPED_COUNT.into(), "4".into());
        let observed = ServiceState {
            name: "shop-lt-1-web".into(),
            arn: "arn".into(),
            status: "ACTIVE".into(),
            desired_count: 0,
            running_count: 0,
            pending_count: 0,
            task_definition_arn: String::new(),
            capacity_provider_strategy: vec![],
            launch_type: None,
            network: None,
            load_balancers: vec![],
            deployments: vec![],
            events: vec![],
            created_at: None,
            tags,
        };
        let now = jiff::Timestamp::UNIX_EPOCH;
        let input = env_input(
            &cfg,
            &env,
            std::slice::from_ref(&observed),
            Some(&[]),
            "us-east-1",
            now,
        )
        .expect("input");
        assert!(input.exists && !input.running_now);
        assert_eq!(input.services[0].tasks, 4);
        let running = ServiceState {
            desired_count: 7,
            ..observed
        };
        let input = env_input(&cfg, &env, &[running], Some(&[]), "us-east-1", now).expect("input");
        assert!(input.running_now);
        assert_eq!(input.services[0].tasks, 7);
    }
}

/// What `cost --actual` was asked for.
#[derive(Debug, Clone)]
pub struct ActualOptions {
    /// `None`: every env of the app.
    pub env: Option<EnvName>,
    /// How many days back from `now` (today excluded: Cost Explorer's day is not over).
    pub days: u32,
    pub now: jiff::Timestamp,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ActualCosts {
    pub app: String,
    /// `YYYY-MM-DD`, inclusive.
    pub start: String,
    /// `YYYY-MM-DD`, exclusive.
    pub end: String,
    pub metric: &'static str,
    pub unit: String,
    pub envs: Vec<ActualEnvCost>,
    /// Cost of the app's resources (tagged `envctl:app`) without an `envctl:env` tag: shared
    /// ones, or all of them while `envctl:env` is not an activated cost-allocation tag.
    pub untagged: f64,
    pub total: f64,
    /// Some figures are for a period not yet closed.
    pub estimated: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ActualEnvCost {
    pub env: String,
    pub amount: f64,
}

/// Shown when Cost Explorer attributes nothing to any env.
pub const UNTAGGED_HINT: &str = "no cost carries an `envctl:env` tag: activate `envctl:env` as a \
cost-allocation tag (Billing console, or `aws ce update-cost-allocation-tags-status`); costs show \
up to 24 hours later (docs/cost.md)";

/// Real costs from Cost Explorer: the app's (`envctl:app` tag) over the last `days` days,
/// grouped by `envctl:env`.
pub async fn actual(session: &Session, o: &ActualOptions) -> Result<ActualCosts> {
    use crate::aws::costexplorer::CostQuery;
    if o.days == 0 || o.days > 365 {
        return Err(Error::invalid(
            format!("--days {}: use 1 to 365", o.days),
            None,
        ));
    }
    let cfg = session.load_config(&[])?;
    let app = cfg.config.app.clone();
    let today = o.now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let start = today
        .checked_sub(jiff::Span::new().days(i64::from(o.days)))
        .map_err(|e| Error::invalid(format!("--days {}: {e}", o.days), None))?;
    let aws = session.aws(Some(&cfg)).await?;
    let query = CostQuery {
        start: start.to_string(),
        end: today.to_string(),
        app_tag: (TAG_APP.to_string(), app.clone()),
        env_tag: o
            .env
            .as_ref()
            .map(|e| (TAG_ENV.to_string(), e.slug.as_str().to_string())),
        group_by_tag: TAG_ENV.to_string(),
        metric: "UnblendedCost",
    };
    let found = session.reading(aws.cost_by_tag(&query)).await?;
    // `+ 0.0` turns the empty sum's -0.0 into 0.0.
    let round = |v: f64| (v * 10_000.0).round() / 10_000.0 + 0.0;
    let untagged = found.amounts.get("").copied().unwrap_or_default();
    let envs: Vec<ActualEnvCost> = found
        .amounts
        .iter()
        .filter(|(env, _)| !env.is_empty())
        .map(|(env, amount)| ActualEnvCost {
            env: env.clone(),
            amount: round(*amount),
        })
        .collect();
    Ok(ActualCosts {
        app,
        start: query.start,
        end: query.end,
        metric: query.metric,
        unit: found.unit,
        total: round(found.amounts.values().sum()),
        untagged: round(untagged),
        envs,
        estimated: found.estimated,
    })
}

/// The estimated monthly cost of each env for `ls`, from the embedded prices, with no read of
/// its own: the config is rendered once (task sizes and strategies do not depend on the env's
/// name) and the schedules come from the config, as `ls` shows them. `None` where there is no
/// estimate (a region without prices, a template that does not render).
pub fn month_estimates(
    cfg: &LoadedConfig,
    region: &str,
    envs: &[(EnvName, &[ServiceState])],
    now: jiff::Timestamp,
) -> Vec<Option<f64>> {
    let Some((first, _)) = envs.first() else {
        return vec![];
    };
    let (Ok(shape), Ok((prices, origin))) =
        (render_shape(cfg, first, region, now), load_prices(None))
    else {
        return vec![None; envs.len()];
    };
    let sc = &cfg.config.schedule;
    let configured = sc
        .enabled
        .then(|| {
            let stop = crate::schedule::schedule_expression(&sc.stop, &sc.days).ok()?;
            let start = crate::schedule::schedule_expression(&sc.start, &sc.days).ok()?;
            cost::StopStart::new(&stop, &start, &sc.timezone).ok()
        })
        .flatten();
    envs.iter()
        .map(|(env, observed)| {
            let always_on = sc
                .always_on
                .iter()
                .any(|a| *a == env.raw || a == env.slug.as_str());
            let schedules = configured.clone().filter(|_| !always_on);
            let input = combine(&cfg.config.app, env, &shape, observed, schedules);
            let est = cost::estimate(&EstimateInput {
                app: cfg.config.app.clone(),
                region: region.to_string(),
                scope: Scope::Env,
                now,
                prices: &prices,
                prices_origin: origin.clone(),
                envs: vec![input],
                alb: false,
                janitor: None,
            })
            .ok()?;
            Some(est.total.month)
        })
        .collect()
}
