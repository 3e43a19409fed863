//! `envctl rollback`: redeploy earlier task definition revisions of an env's services (the
//! previous one of each, or the ones asked for), after checking each is envctl's for this env,
//! then wait like `up`. Nothing else about the services changes, so the next `up` rolls forward
//! again: it finds the services on a revision that is not the rendered one.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::future::try_join_all;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::{ownership, Ownership};
use crate::naming::EnvName;
use crate::observe::EnvNames;
use crate::ops::inspect::bootstrapped_services;
use crate::ops::wait::{self, ServiceReport};
use crate::ops::Session;
use crate::plan::Conflict;

/// Which revisions to go back to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevisionTargets {
    /// A revision number for every service not named in `per_service`.
    pub all: Option<i32>,
    /// Service key → revision number.
    pub per_service: BTreeMap<String, i32>,
}

impl RevisionTargets {
    /// From `--to` values: `41` (every service) or `web:41` (one service), repeatable.
    pub fn parse(values: &[String]) -> Result<RevisionTargets> {
        let bad = |v: &str, why: &str| {
            Error::invalid(
                format!("--to `{v}`: {why}"),
                Some(
                    "give a revision number (`--to 41`) or SERVICE:REVISION (`--to web:41`)"
                        .to_string(),
                ),
            )
        };
        let number = |v: &str, n: &str| -> Result<i32> {
            n.parse::<i32>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| bad(v, "the revision is not a positive number"))
        };
        let mut out = RevisionTargets::default();
        for v in values {
            match v.rsplit_once(':') {
                Some((service, n)) if !service.is_empty() => {
                    if out
                        .per_service
                        .insert(service.to_string(), number(v, n)?)
                        .is_some()
                    {
                        return Err(bad(v, &format!("service `{service}` is given twice")));
                    }
                }
                Some(_) => return Err(bad(v, "the service name is empty")),
                None => {
                    if out.all.replace(number(v, v)?).is_some() {
                        return Err(bad(v, "a revision for every service is given twice"));
                    }
                }
            }
        }
        Ok(out)
    }
}

/// One service's move.
#[derive(Debug, Clone, Serialize)]
pub struct RollbackStep {
    /// The service key in envctl.toml.
    pub service: String,
    /// The ECS service (and task definition family) name.
    pub name: String,
    /// `family:revision` now deployed.
    pub from: String,
    /// `family:revision` to deploy.
    pub to: String,
    #[serde(skip)]
    to_arn: String,
}

impl RollbackStep {
    pub fn changes(&self) -> bool {
        self.from != self.to
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RollbackPlan {
    pub env: String,
    pub cluster: String,
    pub steps: Vec<RollbackStep>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RollbackReport {
    pub plan: RollbackPlan,
    pub services: Vec<ServiceReport>,
}

pub struct RollbackOptions {
    pub wait: bool,
    pub wait_timeout: Duration,
    pub poll_interval: Duration,
}

/// `arn:...:task-definition/web:12` → (`web`, 12).
fn family_revision(arn: &str) -> Option<(&str, i32)> {
    let (_, rest) = arn.split_once("task-definition/")?;
    let (family, rev) = rest.rsplit_once(':')?;
    Some((family, rev.parse().ok()?))
}

/// Which revision each service goes to, checked: the revision exists, is ACTIVE, and carries this
/// env's ownership tags. Reads only.
pub async fn plan(
    session: &Session,
    env: &EnvName,
    targets: &RevisionTargets,
) -> Result<RollbackPlan> {
    let (app, aws, cluster, services) = bootstrapped_services(session, env).await?;
    let services: Vec<_> = services
        .into_iter()
        .filter(|s| {
            s.status == "ACTIVE" && ownership(&s.tags, &app, env.slug.as_str()) == Ownership::Ours
        })
        .collect();
    if services.is_empty() {
        return Err(Error::Precondition {
            message: format!(
                "env `{}` does not exist: no ECS service of app `{app}` is tagged for it in cluster `{cluster}`",
                env.slug
            ),
            hint: "`envctl ls` lists the envs that exist".into(),
        });
    }
    // Service keys as envctl.toml names them; a service the config no longer has keeps the
    // part of its name after the env's prefix.
    let names = EnvNames::new(&session.load_config(&[])?, &env.slug);
    let prefix = format!("{app}-{}-", env.slug.as_str());
    let key_of = |s: &crate::model::ServiceState| {
        names
            .services
            .iter()
            .find(|(_, name)| *name == s.name)
            .map(|(key, _)| key.clone())
            .or_else(|| s.name.strip_prefix(&prefix).map(str::to_string))
            .unwrap_or_else(|| s.name.clone())
    };
    let keys: Vec<String> = services.iter().map(key_of).collect();
    if let Some(unknown) = targets.per_service.keys().find(|k| !keys.contains(k)) {
        return Err(Error::invalid(
            format!(
                "--to names service `{unknown}`, which env `{}` does not have",
                env.slug
            ),
            Some(format!("its services are: {}", keys.join(", "))),
        ));
    }
    // Per service: the revision asked for, or the newest ACTIVE one below the current.
    let wanted = try_join_all(services.iter().zip(&keys).map(|(s, key)| async move {
        let (family, current) = family_revision(&s.task_definition_arn).ok_or_else(|| {
            Error::invalid(
                format!("service `{}` runs `{}`, not a task definition revision", s.name, s.task_definition_arn),
                None,
            )
        })?;
        let target = match targets.per_service.get(key).copied().or(targets.all) {
            Some(n) => n,
            None => {
                let mut revisions: Vec<i32> = aws
                    .list_task_definition_arns(family)
                    .await?
                    .iter()
                    .filter_map(|a| family_revision(a).map(|(_, r)| r))
                    .filter(|r| *r < current)
                    .collect();
                revisions.sort_unstable();
                revisions.pop().ok_or_else(|| Error::Precondition {
                    message: format!(
                        "service `{key}` runs {family}:{current} and has no earlier ACTIVE revision to roll back to"
                    ),
                    hint: "`envctl status` shows what runs; give a revision with --to SERVICE:REVISION".into(),
                })?
            }
        };
        Ok::<_, Error>((family.to_string(), current, target))
    }))
    .await?;
    let described = try_join_all(wanted.iter().map(|(family, current, target)| async move {
        if current == target {
            return Ok(None);
        }
        aws.describe_task_definition(&format!("{family}:{target}"))
            .await
            .map_err(Error::from)
    }))
    .await?;
    let mut steps = Vec::new();
    let mut conflicts = Vec::new();
    for (((s, key), (family, current, target)), td) in
        services.iter().zip(&keys).zip(&wanted).zip(described)
    {
        let name = format!("{family}:{target}");
        let to_arn = if current == target {
            s.task_definition_arn.clone()
        } else {
            let Some(td) = td else {
                return Err(Error::invalid(
                    format!("task definition `{name}` does not exist"),
                    Some(format!("the revisions of `{family}` are listed by `aws ecs list-task-definitions --family-prefix {family}`")),
                ));
            };
            if td.status != "ACTIVE" {
                return Err(Error::invalid(
                    format!(
                        "task definition `{name}` is {}, and ECS deploys only ACTIVE revisions",
                        td.status
                    ),
                    Some("pick an ACTIVE revision with --to SERVICE:REVISION".to_string()),
                ));
            }
            let owner = ownership(&td.tags, &app, env.slug.as_str());
            if owner != Ownership::Ours {
                conflicts.push(Conflict {
                    kind: "task definition".into(),
                    name: name.clone(),
                    owner,
                });
                continue;
            }
            td.arn
        };
        steps.push(RollbackStep {
            service: key.clone(),
            name: s.name.clone(),
            from: format!("{family}:{current}"),
            to: name,
            to_arn,
        });
    }
    if !conflicts.is_empty() {
        return Err(Error::Conflicts(conflicts));
    }
    Ok(RollbackPlan {
        env: env.slug.as_str().to_string(),
        cluster,
        steps,
    })
}

/// Deploys each step's revision, then waits (or reads once, without `wait`).
pub async fn apply(
    session: &Session,
    plan: RollbackPlan,
    opts: &RollbackOptions,
) -> Result<RollbackReport> {
    let cfg = session.load_config(&[])?;
    let aws = session.aws(Some(&cfg)).await?;
    let moves: Vec<&RollbackStep> = plan.steps.iter().filter(|s| s.changes()).collect();
    let cluster = plan.cluster.as_str();
    let replies = try_join_all(moves.iter().map(|step| async move {
        if crate::interrupt::requested() {
            return Err(crate::interrupt::not_started(&format!(
                "update service {}",
                step.name
            )));
        }
        let running =
            crate::interrupt::step(format!("update service {} to {}", step.name, step.to));
        let reply = aws
            .set_task_definition(cluster, &step.name, &step.to_arn)
            .await;
        running.finish(reply.is_ok());
        Ok::<_, Error>((step.name.clone(), reply?))
    }))
    .await?;
    let initial: BTreeMap<_, _> = replies
        .into_iter()
        .filter_map(|(name, s)| s.map(|s| (name, s)))
        .collect();
    let expected: BTreeMap<String, String> = moves
        .iter()
        .map(|s| (s.name.clone(), s.to_arn.clone()))
        .collect();
    let names: Vec<String> = plan.steps.iter().map(|s| s.name.clone()).collect();
    let services = if opts.wait && !moves.is_empty() {
        wait::wait_stable(
            session,
            aws,
            &plan.cluster,
            &names,
            &expected,
            &initial,
            opts.wait_timeout,
            opts.poll_interval,
        )
        .await?
    } else {
        wait::snapshot(aws, &plan.cluster, &names, &initial).await?
    };
    Ok(RollbackReport { plan, services })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(values: &[&str]) -> Result<RevisionTargets> {
        RevisionTargets::parse(&values.iter().map(|v| v.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn revision_targets_for_all_and_per_service() {
        assert_eq!(parse(&[]).expect("none"), RevisionTargets::default());
        let t = parse(&["41", "web:7", "api:3"]).expect("valid");
        assert_eq!(t.all, Some(41));
        assert_eq!(t.per_service.get("web"), Some(&7));
        assert_eq!(t.per_service.get("api"), Some(&3));
    }

    #[test]
    fn bad_revision_targets_are_input_errors() {
        for bad in [
            &["x"][..],
            &["web:"],
            &[":4"],
            &["web:0"],
            &["web:-1"],
            &["4", "5"],
            &["web:1", "web:2"],
        ] {
            let e = parse(bad).expect_err(&format!("{bad:?}"));
            assert_eq!(e.exit_code(), crate::error::exit::INVALID_INPUT, "{bad:?}");
            assert!(e.to_string().starts_with("--to `"), "{e}");
        }
    }

    #[test]
    fn family_and_revision_of_an_arn() {
        assert_eq!(
            family_revision("arn:aws:ecs:eu-west-1:1:task-definition/shop-x-web:12"),
            Some(("shop-x-web", 12))
        );
        assert_eq!(family_revision("shop-x-web:12"), None);
    }
}
