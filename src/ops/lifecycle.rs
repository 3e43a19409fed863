//! `stop`, `start` and `extend`: scale an env to zero and back (remembering each service's
//! count in a tag), and push its expiry out. Each is idempotent: a second run changes nothing.

use std::collections::BTreeMap;

use futures::future::try_join_all;
use serde::Serialize;

use crate::apply::{self, DEFAULT_CONCURRENCY};
use crate::aws::Aws;
use crate::error::{Error, Result};
use crate::model::{ServiceState, Tags, TAG_EXPIRES_AT};
use crate::naming::EnvName;
use crate::ops::inspect::bootstrapped_services;
use crate::ops::up::{self, EnvRequest};
use crate::ops::Session;
use crate::plan::{self, Action, Plan};
use crate::render::rfc3339;
use crate::schedule;

#[derive(Debug, Clone, Serialize)]
pub struct CountChange {
    pub service: String,
    pub before: i32,
    pub after: i32,
}

/// Scales every service of the env to 0, first recording its count in `envctl:stopped-count`
/// (so a crash between the two steps loses nothing): `plan::plan_stop`, then apply.
pub async fn stop(session: &Session, env: &EnvName) -> Result<Vec<CountChange>> {
    let (app, aws, cluster, services) = bootstrapped_services(session, env).await?;
    let services = existing(services, env)?;
    let plan = plan::plan_stop(&app, env.slug.as_str(), &cluster, &services);
    apply_counts(aws, &plan, &services).await
}

/// Restores the counts `stop` recorded; a service at 0 with no record (stopped by the evening
/// schedule, say) gets the `desiredCount` its template renders, as the morning schedule would:
/// `plan::plan_start`, then apply.
pub async fn start(session: &Session, env: &EnvName) -> Result<Vec<CountChange>> {
    let (app, aws, cluster, services) = bootstrapped_services(session, env).await?;
    let services = existing(services, env)?;
    // Rendering reads facts and parameters: only when some service has no record to go by.
    let rendered: BTreeMap<String, i32> = if services
        .iter()
        .any(|s| s.desired_count == 0 && plan::recorded_count(s).is_none())
    {
        let request = EnvRequest {
            env: Some(env.raw.clone()),
            ..EnvRequest::default()
        };
        let desired = up::render(session, &up::prepare(session, &request)?).await?;
        desired
            .services
            .iter()
            .map(|d| (d.name.clone(), d.service.desired_count))
            .collect()
    } else {
        BTreeMap::new()
    };
    let plan = plan::plan_start(&app, env.slug.as_str(), &cluster, &services, &rendered);
    apply_counts(aws, &plan, &services).await
}

/// `stop` and `start` print their table of counts, not apply's progress lines (as before they
/// went through apply).
struct Silent;

impl apply::Observer for Silent {
    fn started(&self, _: &Action) {}
    fn finished(&self, _: &Action, _: Option<&Error>) {}
}

/// Applies a stop/start plan and reports every service's count before and after.
async fn apply_counts(
    aws: &Aws,
    plan: &Plan,
    services: &[ServiceState],
) -> Result<Vec<CountChange>> {
    if !plan.actions.is_empty() {
        apply::apply(aws, plan, DEFAULT_CONCURRENCY, &Silent).await?;
    }
    Ok(services
        .iter()
        .map(|s| {
            let after = plan
                .actions
                .iter()
                .find_map(|a| match a {
                    Action::SetDesiredCount { name, to, .. } if *name == s.name => Some(*to),
                    _ => None,
                })
                .unwrap_or(s.desired_count);
            CountChange {
                service: s.name.clone(),
                before: s.desired_count,
                after,
            }
        })
        .collect())
}

#[derive(Debug, Clone, Serialize)]
pub struct Extended {
    pub env: String,
    pub expires_at: String,
}

/// Adds `by` to the env's expiry (or to now, when it already passed or was never set).
pub async fn extend(session: &Session, env: &EnvName, by: &str) -> Result<Extended> {
    let duration = schedule::parse_duration_spec(by)
        .map_err(|m| Error::invalid(format!("duration: {m}"), None))?
        .ok_or_else(|| {
            Error::invalid(
                "`extend` needs a duration such as 48h",
                Some("to turn expiry off, run `envctl up ENV --ttl never`".to_string()),
            )
        })?;
    let (_, aws, _, services) = bootstrapped_services(session, env).await?;
    let services = existing(services, env)?;
    let now = jiff::Timestamp::now();
    let base = services
        .iter()
        .filter_map(|s| s.tags.get(TAG_EXPIRES_AT))
        .filter_map(|t| t.parse::<jiff::Timestamp>().ok())
        .max()
        .filter(|t| *t > now)
        .unwrap_or(now);
    let at = base
        .checked_add(duration)
        .map_err(|e| Error::invalid(format!("cannot extend by {by}: {e}"), None))?;
    let expires_at = rfc3339(at);
    let mut t = Tags::new();
    t.insert(TAG_EXPIRES_AT.into(), expires_at.clone());
    try_join_all(services.iter().map(|s| aws.tag_resource(&s.arn, &t))).await?;
    Ok(Extended {
        env: env.slug.as_str().to_string(),
        expires_at,
    })
}

fn existing(services: Vec<ServiceState>, env: &EnvName) -> Result<Vec<ServiceState>> {
    if services.is_empty() {
        return Err(Error::Precondition {
            message: format!("env `{}` has no services", env.slug),
            hint: format!("create it with `envctl up {}`", env.raw),
        });
    }
    Ok(services)
}
