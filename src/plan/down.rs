//! `plan_down`: delete everything of the env that carries its tags, in dependency order.

use std::collections::BTreeMap;

use super::preview::rule_text;
use super::{owned_revisions, Action, Conflict, Plan};
use crate::model::{ownership, ActualEnv, Ownership};

/// Plans `down`: delete everything tagged for this env, leave (and report) everything else.
pub fn plan_down(app: &str, env: &str, actual: &ActualEnv) -> Plan {
    let mut actions = Vec::new();
    let mut skipped = Vec::new();
    let mut skip = |kind: &str, name: &str, owner: Ownership| {
        skipped.push(Conflict {
            kind: kind.into(),
            name: name.into(),
            owner,
        })
    };
    let cluster = actual
        .cluster
        .as_ref()
        .map(|c| c.name.clone())
        .unwrap_or_default();
    for s in &actual.services {
        match ownership(&s.tags, app, env) {
            Ownership::Ours => actions.push(Action::DeleteService {
                name: s.name.clone(),
                cluster: cluster.clone(),
            }),
            Ownership::Foreign => skip("ECS service", &s.name, Ownership::Foreign),
            Ownership::OtherEnv { .. } => {}
        }
    }
    if let Some(g) = &actual.schedule_group {
        match ownership(&g.tags, app, env) {
            Ownership::Ours => actions.push(Action::DeleteScheduleGroup {
                name: g.name.clone(),
            }),
            other => skip("schedule group", &g.name, other),
        }
    }
    for rule in &actual.listener_rules {
        if ownership(&rule.tags, app, env) == Ownership::Ours {
            actions.push(Action::DeleteListenerRule {
                arn: rule.arn.clone(),
                route: rule_text(rule),
            });
        }
    }
    for tg in &actual.target_groups {
        match ownership(&tg.tags, app, env) {
            Ownership::Ours => actions.push(Action::DeleteTargetGroup {
                arn: tg.arn.clone(),
                name: tg.name.clone(),
            }),
            other => skip("target group", &tg.name, other),
        }
    }
    let mut families = BTreeMap::<&str, usize>::new();
    for td in owned_revisions(actual, app, env) {
        *families.entry(td.family.as_str()).or_default() += 1;
        actions.push(Action::DeregisterTaskDefinition {
            arn: td.arn.clone(),
        });
    }
    for r in &actual.repositories {
        match ownership(&r.tags, app, env) {
            Ownership::Ours => actions.push(Action::DeleteRepository {
                name: r.name.clone(),
                images: r.image_count,
            }),
            Ownership::Foreign => skip("ECR repository", &r.name, Ownership::Foreign),
            Ownership::OtherEnv { .. } => {}
        }
    }
    let mut params = Vec::new();
    for p in &actual.parameters {
        match ownership(&p.tags, app, env) {
            Ownership::Ours => params.push(p.name.clone()),
            other => skip("SSM parameter", &p.name, other),
        }
    }
    if !params.is_empty() {
        params.sort();
        actions.push(Action::DeleteParameters { names: params });
    }
    if let Some(ns) = &actual.namespace {
        match ownership(&ns.tags, app, env) {
            Ownership::Ours => actions.push(Action::DeleteNamespace {
                id: ns.id.clone(),
                name: ns.name.clone(),
            }),
            other => skip("Cloud Map namespace", &ns.name, other),
        }
    }
    if let Some(lg) = &actual.log_group {
        match ownership(&lg.tags, app, env) {
            Ownership::Ours => actions.push(Action::DeleteLogGroup {
                name: lg.name.clone(),
            }),
            other => skip("log group", &lg.name, other),
        }
    }
    Plan {
        app: app.into(),
        env: env.into(),
        actions,
        hooks: vec![],
        database: None,
        conflicts: vec![],
        skipped,
        capacity: vec![],
    }
}
