//! Waiting for services to become stable, with one definition of "stable" that holds on real AWS
//! and on the emulator (see docs/waiting.md).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::apply::Applied;
use crate::aws::Aws;
use crate::error::{Error, Result};
use crate::model::ServiceState;
pub use crate::model::{ServiceReport, Stability};
use crate::ops::Session;
use crate::plan::{capacity_summary, short_td};

/// A service is stable when one deployment is left (older ones drained) and that deployment's
/// rollout is COMPLETED; endpoints that report no rollout state must show running == desired
/// with nothing pending (the `aws ecs wait services-stable` rule). A FAILED rollout (circuit
/// breaker) is a failure, not something to wait out.
pub fn stability(s: &ServiceState) -> Stability {
    let live: Vec<_> = s
        .deployments
        .iter()
        .filter(|d| d.status != "INACTIVE")
        .collect();
    let primary = live.iter().find(|d| d.status == "PRIMARY");
    // With the circuit breaker's rollback, the failed deployment stops being PRIMARY while the
    // old revision rolls back in: any FAILED deployment means ours failed.
    if s.deployments
        .iter()
        .any(|d| d.rollout_state.as_deref() == Some("FAILED"))
    {
        let reason = s
            .events
            .first()
            .map(|e| e.message.clone())
            .unwrap_or_else(|| "rollout failed".into());
        return Stability::Failed(reason);
    }
    let progress = format!(
        "{}/{} running, {} pending",
        s.running_count, s.desired_count, s.pending_count
    );
    if live.len() > 1 {
        return Stability::InProgress(format!("{} deployments active; {progress}", live.len()));
    }
    match primary.and_then(|d| d.rollout_state.as_deref()) {
        Some("COMPLETED") => Stability::Stable,
        Some(state) => Stability::InProgress(format!("rollout {state}; {progress}")),
        None if s.running_count == s.desired_count && s.pending_count == 0 => Stability::Stable,
        None => Stability::InProgress(progress),
    }
}

pub fn report(s: &ServiceState) -> ServiceReport {
    ServiceReport {
        name: s.name.clone(),
        desired: s.desired_count,
        running: s.running_count,
        pending: s.pending_count,
        task_definition: short_td(&s.task_definition_arn).to_string(),
        capacity: capacity_summary(&s.capacity_provider_strategy, s.launch_type.as_deref()),
        stability: stability(s),
    }
}

/// One look at the services: the ones in `known` as they are there, the others read.
pub async fn snapshot(
    aws: &Aws,
    cluster: &str,
    names: &[String],
    known: &BTreeMap<String, ServiceState>,
) -> Result<Vec<ServiceReport>> {
    Ok(look(aws, cluster, names, known)
        .await?
        .iter()
        .map(report)
        .collect())
}

/// The named services: those in `known` (a create/update reply, just received) as they are, the
/// others described (at most 10 a call).
async fn look(
    aws: &Aws,
    cluster: &str,
    names: &[String],
    known: &BTreeMap<String, ServiceState>,
) -> Result<Vec<ServiceState>> {
    let missing: Vec<String> = names
        .iter()
        .filter(|n| !known.contains_key(*n))
        .cloned()
        .collect();
    let mut states: Vec<ServiceState> =
        names.iter().filter_map(|n| known.get(n).cloned()).collect();
    if !missing.is_empty() {
        states.extend(aws.describe_services(cluster, &missing).await?);
    }
    Ok(states)
}

/// Which services still need reading after `up` applied its plan: the ones it created or
/// updated, and any that observe did not see stable. The others are reported as observe saw
/// them (the run changed nothing about them), which saves a DescribeServices per no-op `up`.
pub fn split_observed(
    names: &[String],
    observed: &[ServiceState],
    applied: &Applied,
) -> (Vec<ServiceReport>, Vec<String>) {
    let mut seen = Vec::new();
    let mut to_read = Vec::new();
    for name in names {
        let stable = observed
            .iter()
            .find(|s| s.name == *name && s.status == "ACTIVE")
            .filter(|s| stability(s) == Stability::Stable);
        match stable {
            Some(s) if !applied.services.contains(name) => seen.push(report(s)),
            _ => to_read.push(name.clone()),
        }
    }
    (seen, to_read)
}

/// Whether two task definition revisions define the same thing (compared normalized, as the
/// planner compares them). A revision ECS no longer knows counts as different.
async fn same_revision_content(aws: &Aws, a: &str, b: &str) -> Result<bool> {
    let (a, b) = tokio::try_join!(
        aws.describe_task_definition(a),
        aws.describe_task_definition(b)
    )?;
    let def = |t: Option<crate::model::TaskDefinitionState>| {
        t.and_then(|t| t.definition)
            .map(|d| crate::normalize::task_definition(&d))
    };
    Ok(match (def(a), def(b)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    })
}

/// Polls until every service is stable, one fails, or the timeout passes.
/// `expected` maps services envctl just deployed to the revision it deployed: a service that
/// ends up stable on another revision was rolled back, which is a failure, not a success.
/// `initial` holds services as a create/update reply just described them: the first look uses
/// them instead of reading them again.
#[allow(clippy::too_many_arguments)]
pub async fn wait_stable(
    session: &Session,
    aws: &Aws,
    cluster: &str,
    names: &[String],
    expected: &BTreeMap<String, String>,
    initial: &BTreeMap<String, ServiceState>,
    timeout: Duration,
    poll: Duration,
) -> Result<Vec<ServiceReport>> {
    let printer = &session.printer;
    let started = Instant::now();
    let spinner = printer.spinner("waiting for services to become stable");
    if spinner.is_none() {
        printer.status(format!(
            "Waiting up to {}s for {} service(s) to become stable...",
            timeout.as_secs(),
            names.len()
        ));
    }
    let mut last_line = String::new();
    let none = BTreeMap::new();
    let mut known = initial;
    // (deployed, running) revision pairs already compared: true when their contents are equal.
    let mut same_content: BTreeMap<(String, String), bool> = BTreeMap::new();
    loop {
        let states = look(aws, cluster, names, known).await?;
        known = &none;
        let mut reports = Vec::new();
        for s in &states {
            let mut r = report(s);
            if let Some(want) = expected.get(&s.name) {
                if r.stability == Stability::Stable && *want != s.task_definition_arn {
                    let pair = (want.clone(), s.task_definition_arn.clone());
                    let same = match same_content.get(&pair) {
                        Some(same) => *same,
                        None => {
                            let same =
                                same_revision_content(aws, want, &s.task_definition_arn).await?;
                            same_content.insert(pair, same);
                            same
                        }
                    };
                    // Another `up` of this env, run at the same time, registered and deployed
                    // an identical revision: that is this run's definition, not a rollback.
                    if !same {
                        r.stability = Stability::Failed(format!(
                            "rolled back: runs {} instead of {}",
                            short_td(&s.task_definition_arn),
                            short_td(want)
                        ));
                    }
                }
            }
            reports.push(r);
        }
        let failed: Vec<_> = reports
            .iter()
            .filter(|r| matches!(r.stability, Stability::Failed(_)))
            .collect();
        if !failed.is_empty() {
            if let Some(pb) = &spinner {
                pb.finish_and_clear();
            }
            let list = failed
                .iter()
                .map(|r| match &r.stability {
                    Stability::Failed(why) => format!("{}: {why}", r.name),
                    _ => r.name.clone(),
                })
                .collect::<Vec<_>>()
                .join("; ");
            return Err(Error::NotStable {
                message: format!("deployment failed: {list}"),
            });
        }
        let pending: Vec<_> = reports
            .iter()
            .filter(|r| r.stability != Stability::Stable)
            .collect();
        let missing = names.len().saturating_sub(reports.len());
        if pending.is_empty() && missing == 0 {
            if let Some(pb) = &spinner {
                pb.finish_and_clear();
            }
            printer.status(format!(
                "All {} service(s) stable after {:.0}s.",
                reports.len(),
                started.elapsed().as_secs_f64()
            ));
            return Ok(reports);
        }
        let line = pending
            .iter()
            .map(|r| match &r.stability {
                Stability::InProgress(d) => format!("{}: {d}", r.name),
                _ => r.name.clone(),
            })
            .collect::<Vec<_>>()
            .join("; ");
        match &spinner {
            Some(pb) => pb.set_message(format!("waiting: {line}")),
            None if line != last_line => printer.status(format!("  waiting: {line}")),
            None => {}
        }
        last_line = line;
        if started.elapsed() >= timeout {
            if let Some(pb) = &spinner {
                pb.finish_and_clear();
            }
            return Err(Error::NotStable {
                message: format!(
                    "services not stable after {}s: {last_line}",
                    timeout.as_secs()
                ),
            });
        }
        tokio::time::sleep(
            poll.min(timeout.saturating_sub(started.elapsed()))
                .max(Duration::from_millis(200)),
        )
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DeploymentState;

    fn service(
        deployments: Vec<(&str, Option<&str>)>,
        running: i32,
        desired: i32,
        pending: i32,
    ) -> ServiceState {
        ServiceState {
            name: "shop-x-web".into(),
            arn: "arn".into(),
            status: "ACTIVE".into(),
            desired_count: desired,
            running_count: running,
            pending_count: pending,
            task_definition_arn: "arn:aws:ecs:r:1:task-definition/shop-x-web:1".into(),
            capacity_provider_strategy: vec![],
            launch_type: None,
            network: None,
            load_balancers: vec![],
            deployments: deployments
                .into_iter()
                .enumerate()
                .map(|(i, (status, rollout))| DeploymentState {
                    id: format!("d{i}"),
                    status: status.into(),
                    rollout_state: rollout.map(str::to_string),
                    task_definition_arn: String::new(),
                    desired_count: desired,
                    running_count: running,
                    pending_count: pending,
                    failed_tasks: 0,
                    updated_at: None,
                })
                .collect(),
            events: vec![],
            created_at: None,
            tags: Default::default(),
        }
    }

    #[test]
    fn completed_single_deployment_is_stable() {
        assert_eq!(
            stability(&service(vec![("PRIMARY", Some("COMPLETED"))], 1, 1, 0)),
            Stability::Stable
        );
    }

    #[test]
    fn two_deployments_are_in_progress_even_if_counts_match() {
        let s = service(
            vec![("PRIMARY", Some("COMPLETED")), ("ACTIVE", None)],
            1,
            1,
            0,
        );
        assert!(matches!(stability(&s), Stability::InProgress(_)));
    }

    #[test]
    fn in_progress_rollout_waits() {
        let s = service(vec![("PRIMARY", Some("IN_PROGRESS"))], 0, 1, 1);
        assert!(matches!(stability(&s), Stability::InProgress(d) if d.contains("0/1 running")));
    }

    #[test]
    fn failed_rollout_fails() {
        assert!(matches!(
            stability(&service(vec![("PRIMARY", Some("FAILED"))], 0, 1, 0)),
            Stability::Failed(_)
        ));
    }

    #[test]
    fn failed_deployment_that_is_no_longer_primary_still_fails() {
        let s = service(
            vec![("PRIMARY", Some("IN_PROGRESS")), ("ACTIVE", Some("FAILED"))],
            1,
            1,
            0,
        );
        assert!(matches!(stability(&s), Stability::Failed(_)));
    }

    #[test]
    fn without_rollout_state_counts_decide() {
        assert_eq!(
            stability(&service(vec![("PRIMARY", None)], 2, 2, 0)),
            Stability::Stable
        );
        assert!(matches!(
            stability(&service(vec![("PRIMARY", None)], 1, 2, 1)),
            Stability::InProgress(_)
        ));
    }
}
