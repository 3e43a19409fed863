//! `stop` and `start` as plans: each service's desiredCount change, and the count `stop`
//! records in `envctl:stopped-count` so that `start` restores it.

use std::collections::BTreeMap;

use super::{Action, Plan};
use crate::model::{ServiceState, TAG_STOPPED_COUNT};

fn plan_of(app: &str, env: &str, actions: Vec<Action>) -> Plan {
    Plan {
        app: app.to_string(),
        env: env.to_string(),
        actions,
        hooks: vec![],
        database: None,
        conflicts: vec![],
        skipped: vec![],
        capacity: vec![],
    }
}

/// Every running service to 0, recording its count first. A service already at 0 keeps any
/// record it has, so a second `stop` plans nothing.
pub fn plan_stop(app: &str, env: &str, cluster: &str, services: &[ServiceState]) -> Plan {
    let actions = services
        .iter()
        .filter(|s| s.desired_count > 0)
        .map(|s| Action::SetDesiredCount {
            cluster: cluster.to_string(),
            name: s.name.clone(),
            arn: s.arn.clone(),
            from: s.desired_count,
            to: 0,
            record: Some(s.desired_count),
            clear_record: false,
        })
        .collect();
    plan_of(app, env, actions)
}

/// A stopped service's count from `stop`'s record. A record only counts while the service is
/// at 0: after `stop` and then an `up`, the service runs again and the record is stale.
pub fn recorded_count(s: &ServiceState) -> Option<i32> {
    s.tags
        .get(TAG_STOPPED_COUNT)
        .and_then(|v| v.parse::<i32>().ok())
        .filter(|_| s.desired_count == 0)
}

/// Each service back to its recorded count; at 0 without a record, to the `desiredCount` its
/// template renders (`rendered`, by service name), as the start schedule would. A running
/// service without a record is left as it is (it may run an `up --set` count). A stale record
/// is removed.
pub fn plan_start(
    app: &str,
    env: &str,
    cluster: &str,
    services: &[ServiceState],
    rendered: &BTreeMap<String, i32>,
) -> Plan {
    let actions = services
        .iter()
        .filter_map(|s| {
            let fallback = (s.desired_count == 0)
                .then(|| rendered.get(&s.name).copied())
                .flatten();
            let to = recorded_count(s).or(fallback).unwrap_or(s.desired_count);
            let clear_record = s.tags.contains_key(TAG_STOPPED_COUNT);
            (to != s.desired_count || clear_record).then(|| Action::SetDesiredCount {
                cluster: cluster.to_string(),
                name: s.name.clone(),
                arn: s.arn.clone(),
                from: s.desired_count,
                to,
                record: None,
                clear_record,
            })
        })
        .collect();
    plan_of(app, env, actions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Tags;

    fn service(name: &str, desired: i32, record: Option<&str>) -> ServiceState {
        let mut tags = Tags::new();
        if let Some(r) = record {
            tags.insert(TAG_STOPPED_COUNT.into(), r.into());
        }
        ServiceState {
            name: name.into(),
            arn: format!("arn:aws:ecs:us-east-1:123456789012:service/envctl-shop/{name}"),
            status: "ACTIVE".into(),
            desired_count: desired,
            tags,
            ..ServiceState::default()
        }
    }

    fn text(plan: &Plan) -> String {
        plan.actions
            .iter()
            .map(|a| format!("{} [phase {}]\n", a.describe(), a.phase()))
            .collect()
    }

    #[test]
    fn stop_records_each_running_count_and_skips_stopped_services() {
        let services = [
            service("shop-x-web", 2, None),
            service("shop-x-api", 0, Some("3")),
            service("shop-x-worker", 1, None),
        ];
        let plan = plan_stop("shop", "x", "envctl-shop", &services);
        insta::assert_snapshot!("lifecycle_stop", text(&plan));
        let stopped = [
            service("shop-x-web", 0, Some("2")),
            service("shop-x-api", 0, Some("3")),
        ];
        assert!(plan_stop("shop", "x", "envctl-shop", &stopped)
            .actions
            .is_empty());
    }

    /// Issue 13: a service stopped without a record (the evening schedule) starts with the
    /// rendered desiredCount (3 here, where config says 1), not config's `count`.
    #[test]
    fn start_restores_records_then_the_rendered_count_and_clears_stale_records() {
        let services = [
            service("shop-x-web", 0, Some("2")),
            service("shop-x-api", 0, None),
            service("shop-x-worker", 4, Some("1")),
            service("shop-x-jobs", 5, None),
        ];
        let rendered = BTreeMap::from([
            ("shop-x-web".to_string(), 1),
            ("shop-x-api".to_string(), 3),
            ("shop-x-worker".to_string(), 1),
            ("shop-x-jobs".to_string(), 1),
        ]);
        let plan = plan_start("shop", "x", "envctl-shop", &services, &rendered);
        insta::assert_snapshot!("lifecycle_start", text(&plan));
        let started = [
            service("shop-x-web", 2, None),
            service("shop-x-api", 3, None),
        ];
        assert!(plan_start("shop", "x", "envctl-shop", &started, &rendered)
            .actions
            .is_empty());
    }
}
