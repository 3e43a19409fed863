//! Preview URLs: a target group and listener rule per public service, and their removal.

use std::collections::BTreeSet;

use super::{route_text, Action, Conflict, LbAttach, TargetGroupRef};
use crate::model::{
    ownership, ActualEnv, DesiredEnv, DesiredService, ListenerRuleState, LoadBalancerAttachment,
    Ownership, PreviewRoute, RouteMatch, TAG_ENV, TAG_SERVICE,
};

/// The target group and listener rule of one public service: reuse what exists (a re-run keeps
/// its priority), create what is missing, fix a rule that routes elsewhere.
pub(super) fn plan_preview_route(
    desired: &DesiredEnv,
    svc: &DesiredService,
    route: &PreviewRoute,
    actual: &ActualEnv,
    used_priorities: &mut BTreeSet<i32>,
    actions: &mut Vec<Action>,
) -> Result<LbAttach, Conflict> {
    let app = desired.identity.app.as_str();
    let env = desired.identity.env.as_str();
    let listener_arn = desired
        .preview
        .as_ref()
        .map(|p| p.listener_arn.clone())
        .unwrap_or_default();
    let tg_name = &route.target_group.name;
    let target_group = match actual.target_groups.iter().find(|t| t.name == *tg_name) {
        Some(t) => match ownership(&t.tags, app, env) {
            Ownership::Ours => TargetGroupRef::Existing(t.arn.clone()),
            owner => {
                return Err(Conflict {
                    kind: "target group".into(),
                    name: tg_name.clone(),
                    owner,
                })
            }
        },
        None => {
            actions.push(Action::CreateTargetGroup {
                service: svc.key.clone(),
                spec: route.target_group.clone(),
            });
            TargetGroupRef::Created(tg_name.clone())
        }
    };
    // A rule of someone else already answering this host or path would shadow ours or be
    // shadowed. This env's own rules are not in the way: one answering the same host for another
    // service (`public` moved from one service to another) is deleted by this plan.
    let (hosts, paths) = match &route.route {
        RouteMatch::Host(h) => (vec![h.clone()], vec![]),
        RouteMatch::PathPrefix(p) => (vec![], vec![p.clone()]),
    };
    let this_env = |r: &&ListenerRuleState| ownership(&r.tags, app, env) == Ownership::Ours;
    let ours = |r: &&ListenerRuleState| this_env(r) && r.tags.get(TAG_SERVICE) == Some(&svc.key);
    if let Some(other) = actual
        .listener_rules
        .iter()
        .filter(|r| !this_env(r))
        .find(|r| {
            (!hosts.is_empty() && r.hosts == hosts) || (!paths.is_empty() && r.paths == paths)
        })
    {
        return Err(Conflict {
            kind: "listener rule".into(),
            name: format!(
                "{} (priority {})",
                route_text(&route.route),
                other.priority.unwrap_or_default()
            ),
            owner: ownership(&other.tags, app, env),
        });
    }
    match actual.listener_rules.iter().find(ours) {
        Some(rule) => {
            let forwards_right = match &target_group {
                TargetGroupRef::Existing(arn) => rule.target_group_arns == [arn.clone()],
                TargetGroupRef::Created(_) => false,
            };
            if rule.hosts != hosts || rule.paths != paths || !forwards_right {
                if let TargetGroupRef::Existing(arn) = &target_group {
                    actions.push(Action::ModifyListenerRule {
                        service: svc.key.clone(),
                        arn: rule.arn.clone(),
                        route: route.route.clone(),
                        target_group_arn: arn.clone(),
                    });
                }
            }
        }
        None => {
            let priority = next_free_priority(used_priorities);
            used_priorities.insert(priority);
            let mut tags = route.target_group.tags.clone();
            tags.insert(TAG_SERVICE.into(), svc.key.clone());
            actions.push(Action::CreateListenerRule {
                service: svc.key.clone(),
                listener_arn,
                priority,
                route: route.route.clone(),
                target_group: target_group.clone(),
                tags,
            });
        }
    }
    Ok(LbAttach {
        target_group,
        container_name: route.container_name.clone(),
        container_port: route.container_port,
    })
}

/// The lowest priority (1..=50000) no rule holds.
pub fn next_free_priority(used: &BTreeSet<i32>) -> i32 {
    (1..=50_000).find(|p| !used.contains(p)).unwrap_or(50_000)
}

pub(super) fn attachment_matches(want: Option<&LbAttach>, have: &[LoadBalancerAttachment]) -> bool {
    match want {
        None => have.is_empty(),
        Some(lb) => match &lb.target_group {
            TargetGroupRef::Created(_) => false,
            TargetGroupRef::Existing(arn) => {
                have.len() == 1
                    && have[0].target_group_arn == *arn
                    && have[0].container_name == lb.container_name
                    && have[0].container_port == lb.container_port
            }
        },
    }
}

/// Rules and target groups of services that are no longer public (or gone from the config).
pub(super) fn plan_preview_removals(
    desired: &DesiredEnv,
    actual: &ActualEnv,
    actions: &mut Vec<Action>,
) {
    let app = desired.identity.app.as_str();
    let env = desired.identity.env.as_str();
    let public: BTreeSet<&str> = desired
        .services
        .iter()
        .filter(|s| s.preview.is_some())
        .map(|s| s.key.as_str())
        .collect();
    for rule in &actual.listener_rules {
        let Some(key) = rule.tags.get(TAG_SERVICE) else {
            continue;
        };
        if ownership(&rule.tags, app, env) != Ownership::Ours || public.contains(key.as_str()) {
            continue;
        }
        actions.push(Action::DeleteListenerRule {
            arn: rule.arn.clone(),
            route: rule_text(rule),
        });
    }
    for tg in &actual.target_groups {
        let Some(key) = tg.tags.get(TAG_SERVICE) else {
            continue;
        };
        if ownership(&tg.tags, app, env) == Ownership::Ours && !public.contains(key.as_str()) {
            actions.push(Action::DeleteTargetGroup {
                arn: tg.arn.clone(),
                name: tg.name.clone(),
            });
        }
    }
}

pub(super) fn rule_text(rule: &ListenerRuleState) -> String {
    match (rule.hosts.first(), rule.paths.first()) {
        (Some(h), _) => format!("host {h}"),
        (None, Some(p)) => format!("path {p}"),
        _ => rule.arn.clone(),
    }
}

/// The ALB allows 100 target groups (hard) and a listener 100 rules (default quota): checked
/// before anything is created, so an env that does not fit changes nothing.
pub(super) fn preview_capacity(
    desired: &DesiredEnv,
    actual: &ActualEnv,
    actions: &[Action],
) -> Vec<String> {
    let Some(p) = &desired.preview else {
        return vec![];
    };
    let new_rules = actions
        .iter()
        .filter(|a| matches!(a, Action::CreateListenerRule { .. }))
        .count();
    let new_tgs = actions
        .iter()
        .filter(|a| matches!(a, Action::CreateTargetGroup { .. }))
        .count();
    let rules = actual
        .listener_rules
        .iter()
        .filter(|r| r.priority.is_some())
        .count();
    let envs: BTreeSet<&String> = actual
        .listener_rules
        .iter()
        .filter_map(|r| r.tags.get(TAG_ENV))
        .collect();
    let mut out = Vec::new();
    if new_rules > 0 && rules + new_rules > p.max_rules as usize {
        out.push(format!(
            "the preview listener holds {rules} of {} rules ({} envs hold slots); this env needs {new_rules} more",
            p.max_rules,
            envs.len()
        ));
    }
    if new_tgs > 0 && actual.load_balancer_target_groups + new_tgs > p.max_target_groups as usize {
        out.push(format!(
            "the preview load balancer holds {} of {} target groups; this env needs {new_tgs} more",
            actual.load_balancer_target_groups, p.max_target_groups
        ));
    }
    out
}
