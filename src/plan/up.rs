//! `plan_up`: create what is missing, update what differs (task definitions, services, expiry
//! tags), delete services dropped from config.

use std::collections::BTreeSet;

use super::database::plan_database;
use super::hooks::plan_up_hooks;
use super::preview::{
    attachment_matches, plan_preview_removals, plan_preview_route, preview_capacity,
};
use super::schedules::plan_schedules;
use super::{
    canonical_json, capacity_summary, json_diff, latest_revision, owned_revisions, short_td,
    Action, Conflict, Plan, TaskDefRef,
};
use crate::model::{
    ownership, ActualEnv, DesiredEnv, DesiredService, ExpirySpec, Ownership, ServiceState, Tags,
    TaskDefinitionState, TAG_EXPIRES_AT, TAG_PROTECTED, TAG_SPEC_HASH, TAG_TTL,
};
use crate::normalize;

/// Plans `up`: create what is missing, update what differs, delete services dropped from config.
pub fn plan_up(desired: &DesiredEnv, actual: &ActualEnv) -> Plan {
    let app = desired.identity.app.as_str();
    let env = desired.identity.env.as_str();
    let tags = desired.identity.tags();
    let mut actions = Vec::new();
    let mut conflicts = Vec::new();
    let conflict = |kind: &str, name: &str, owner: Ownership| Conflict {
        kind: kind.into(),
        name: name.into(),
        owner,
    };
    let mut used_priorities: BTreeSet<i32> = actual
        .listener_rules
        .iter()
        .filter_map(|r| r.priority)
        .collect();

    match &actual.log_group {
        None => actions.push(Action::CreateLogGroup {
            name: desired.log_group.name.clone(),
            retention_days: desired.log_group.retention_days,
            tags: tags.clone(),
        }),
        Some(lg) => match ownership(&lg.tags, app, env) {
            Ownership::Ours => {
                if lg.retention_days != Some(desired.log_group.retention_days) {
                    actions.push(Action::SetLogRetention {
                        name: lg.name.clone(),
                        from: lg.retention_days,
                        to: desired.log_group.retention_days,
                    });
                }
            }
            other => conflicts.push(conflict("log group", &lg.name, other)),
        },
    }

    // Observed by exact name: one that exists (ours, say after a crashed `up`) is never created
    // again; one that is not ours is a conflict, and services never point at it.
    match &actual.namespace {
        None => actions.push(Action::CreateNamespace {
            name: desired.namespace.name.clone(),
            tags: tags.clone(),
        }),
        Some(ns) => match ownership(&ns.tags, app, env) {
            Ownership::Ours => {}
            other => conflicts.push(conflict("Cloud Map namespace", &ns.name, other)),
        },
    }

    for repo in &desired.repositories {
        match actual.repositories.iter().find(|r| r.name == repo.name) {
            None => {
                actions.push(Action::CreateRepository {
                    name: repo.name.clone(),
                    tags: tags.clone(),
                });
                actions.push(Action::PutLifecyclePolicy {
                    repository: repo.name.clone(),
                    policy: repo.lifecycle_policy.clone(),
                });
            }
            Some(r) => match ownership(&r.tags, app, env) {
                Ownership::Ours => {
                    if r.lifecycle_policy.as_deref().map(canonical_json)
                        != Some(canonical_json(&repo.lifecycle_policy))
                    {
                        actions.push(Action::PutLifecyclePolicy {
                            repository: repo.name.clone(),
                            policy: repo.lifecycle_policy.clone(),
                        });
                    }
                }
                other => conflicts.push(conflict("ECR repository", &r.name, other)),
            },
        }
    }

    let desired_names: BTreeSet<&str> = desired.services.iter().map(|s| s.name.as_str()).collect();
    for svc in &desired.services {
        let existing = actual.services.iter().find(|s| s.name == svc.name);
        if let Some(s) = existing {
            let owner = ownership(&s.tags, app, env);
            if owner != Ownership::Ours {
                conflicts.push(conflict("ECS service", &s.name, owner));
                continue;
            }
        }
        if let Some(td) = latest_revision(actual, &svc.name) {
            let owner = ownership(&td.tags, app, env);
            if owner != Ownership::Ours {
                conflicts.push(conflict("task definition family", &svc.name, owner));
                continue;
            }
        }
        let td_ref = plan_task_definition(svc, existing, actual, &tags, &mut actions);
        let lb = match &svc.preview {
            Some(route) => match plan_preview_route(
                desired,
                svc,
                route,
                actual,
                &mut used_priorities,
                &mut actions,
            ) {
                Ok(lb) => Some(lb),
                Err(c) => {
                    conflicts.push(c);
                    continue;
                }
            },
            None => None,
        };
        let hash = normalize::spec_hash(&svc.service);
        match existing {
            None => {
                let mut service_tags = tags.clone();
                service_tags.insert(TAG_SPEC_HASH.into(), hash);
                service_tags.extend(expiry_tags(&desired.expiry));
                actions.push(Action::CreateService {
                    service: svc.key.clone(),
                    name: svc.name.clone(),
                    cluster: desired.cluster.clone(),
                    task_definition: td_ref,
                    definition: svc.service.clone(),
                    tags: service_tags,
                    load_balancer: lb,
                });
            }
            Some(s) => {
                if let Some(action) = plan_expiry_tags(&desired.expiry, s) {
                    actions.push(action);
                }
                let (mut changes, force_new_deployment) = service_changes(svc, s, &td_ref, &hash);
                if !attachment_matches(lb.as_ref(), &s.load_balancers) {
                    changes.push(match &lb {
                        Some(_) => "register with the preview target group".to_string(),
                        None => "detach from the preview target group".to_string(),
                    });
                }
                if !changes.is_empty() {
                    actions.push(Action::UpdateService {
                        service: svc.key.clone(),
                        name: svc.name.clone(),
                        cluster: desired.cluster.clone(),
                        arn: s.arn.clone(),
                        task_definition: td_ref,
                        definition: svc.service.clone(),
                        load_balancer: lb,
                        spec_hash: (s.tags.get(TAG_SPEC_HASH) != Some(&hash)).then_some(hash),
                        changes,
                        force_new_deployment,
                    });
                }
            }
        }
    }

    plan_preview_removals(desired, actual, &mut actions);
    let capacity = preview_capacity(desired, actual, &actions);

    let blocked: BTreeSet<&str> = desired
        .services
        .iter()
        .filter(|s| conflicts.iter().any(|c| c.name == s.name))
        .map(|s| s.key.as_str())
        .collect();
    plan_schedules(
        desired,
        actual,
        &tags,
        &blocked,
        &mut actions,
        &mut conflicts,
    );

    // Services of this env that the config no longer has.
    for s in &actual.services {
        if desired_names.contains(s.name.as_str())
            || ownership(&s.tags, app, env) != Ownership::Ours
        {
            continue;
        }
        actions.push(Action::DeleteService {
            name: s.name.clone(),
            cluster: desired.cluster.clone(),
        });
        for td in owned_revisions(actual, app, env).filter(|t| t.family == s.name) {
            actions.push(Action::DeregisterTaskDefinition {
                arn: td.arn.clone(),
            });
        }
    }

    let database = desired
        .database
        .as_ref()
        .and_then(|db| plan_database(db, actual, &tags, app, env, &mut actions, &mut conflicts));
    let hooks = plan_up_hooks(desired, actual, &mut actions);
    Plan {
        app: app.into(),
        env: env.into(),
        actions,
        hooks,
        database,
        conflicts,
        skipped: vec![],
        capacity,
    }
}

/// Expiry and protection tags a new service starts with.
fn expiry_tags(expiry: &ExpirySpec) -> Tags {
    let mut t = Tags::new();
    if let (Some(at), Some(ttl)) = (&expiry.expires_at, &expiry.ttl) {
        t.insert(TAG_EXPIRES_AT.into(), at.clone());
        t.insert(TAG_TTL.into(), ttl.clone());
    }
    if expiry.protect {
        t.insert(TAG_PROTECTED.into(), "true".into());
    }
    t
}

/// Pushes expiry out only when less than half the TTL is left (or the TTL changed), so an `up`
/// right after another writes nothing; `--protect` is sticky.
fn plan_expiry_tags(expiry: &ExpirySpec, s: &ServiceState) -> Option<Action> {
    let mut set = Tags::new();
    let mut remove = Vec::new();
    match (&expiry.expires_at, &expiry.ttl) {
        (Some(at), Some(ttl)) => {
            let current = s.tags.get(TAG_EXPIRES_AT);
            let stale = match (current, &expiry.refresh_before) {
                (Some(c), Some(before)) => c < before,
                _ => true,
            };
            if stale || s.tags.get(TAG_TTL) != Some(ttl) {
                set.insert(TAG_EXPIRES_AT.into(), at.clone());
                set.insert(TAG_TTL.into(), ttl.clone());
            }
        }
        _ => {
            for key in [TAG_EXPIRES_AT, TAG_TTL] {
                if s.tags.contains_key(key) {
                    remove.push(key.to_string());
                }
            }
        }
    }
    if expiry.protect && s.tags.get(TAG_PROTECTED).map(String::as_str) != Some("true") {
        set.insert(TAG_PROTECTED.into(), "true".into());
    }
    (!set.is_empty() || !remove.is_empty()).then(|| Action::TagService {
        name: s.name.clone(),
        arn: s.arn.clone(),
        set,
        remove,
    })
}

/// Keeps the revision in use when it already matches; reuses an identical newer revision (left by
/// an `up` that crashed before updating the service); otherwise registers a new one.
fn plan_task_definition(
    svc: &DesiredService,
    existing: Option<&ServiceState>,
    actual: &ActualEnv,
    tags: &Tags,
    actions: &mut Vec<Action>,
) -> TaskDefRef {
    let want = normalize::task_definition(&svc.task_definition);
    let current = existing.and_then(|s| {
        actual
            .task_definitions
            .iter()
            .find(|t| t.arn == s.task_definition_arn)
    });
    let matches = |t: &TaskDefinitionState| {
        t.definition
            .as_ref()
            .map(normalize::task_definition)
            .as_ref()
            == Some(&want)
    };
    if let Some(cur) = current.filter(|t| matches(t)) {
        return TaskDefRef::Existing(cur.arn.clone());
    }
    if let Some(latest) = latest_revision(actual, &svc.name).filter(|t| matches(t)) {
        return TaskDefRef::Existing(latest.arn.clone());
    }
    let diff = current
        .or_else(|| latest_revision(actual, &svc.name))
        .and_then(|t| t.definition.as_ref())
        .map(|old| json_diff(&normalize::task_definition(old), &want));
    actions.push(Action::RegisterTaskDefinition {
        service: svc.key.clone(),
        family: svc.name.clone(),
        definition: svc.task_definition.clone(),
        tags: tags.clone(),
        diff,
    });
    TaskDefRef::Registered(svc.name.clone())
}

/// Why ECS accepts a capacity provider change only with a new deployment.
pub const FORCE_FOR_CAPACITY: &str =
    "ECS changes a service's capacity providers only with a new deployment";

/// What differs between the service and its desired definition, and why the update must force
/// a new deployment, if it must.
fn service_changes(
    svc: &DesiredService,
    s: &ServiceState,
    td_ref: &TaskDefRef,
    hash: &str,
) -> (Vec<String>, Option<String>) {
    let want = normalize::service_definition(&svc.service);
    let mut changes = Vec::new();
    match td_ref {
        TaskDefRef::Registered(_) => changes.push(format!(
            "task definition {} → new revision",
            short_td(&s.task_definition_arn)
        )),
        TaskDefRef::Existing(arn) if *arn != s.task_definition_arn => changes.push(format!(
            "task definition {} → {}",
            short_td(&s.task_definition_arn),
            short_td(arn)
        )),
        TaskDefRef::Existing(_) => {}
    }
    if s.desired_count != want.desired_count {
        changes.push(format!(
            "desiredCount {} → {}",
            s.desired_count, want.desired_count
        ));
    }
    if let (Some(have), Some(nc)) = (&s.network, &want.network_configuration) {
        if normalize::network(have) != nc.awsvpc_configuration {
            changes.push("networkConfiguration".into());
        }
    }
    // Only compared when the endpoint reports it (moto does not after a create); the spec hash
    // covers the rest. AWS always reports a service's strategy, or its launch type.
    let mut have_strategy = s.capacity_provider_strategy.clone();
    have_strategy.sort();
    let want_strategy = &want.capacity_provider_strategy;
    let mut force = None;
    // A Fargate launch-type service (one imported, say) moving to capacity providers. Only
    // `FARGATE`: moto reports `EC2` for services it created with a strategy it then drops.
    let from_launch_type = s
        .launch_type
        .as_deref()
        .filter(|lt| *lt == "FARGATE" && have_strategy.is_empty() && !want_strategy.is_empty());
    if (!have_strategy.is_empty() && have_strategy != *want_strategy) || from_launch_type.is_some()
    {
        changes.push(format!(
            "capacityProviderStrategy {} → {}",
            capacity_summary(&have_strategy, from_launch_type),
            capacity_summary(want_strategy, want.launch_type.as_deref())
        ));
        force = Some(FORCE_FOR_CAPACITY.to_string());
    }
    if changes.is_empty() && s.tags.get(TAG_SPEC_HASH).map(String::as_str) != Some(hash) {
        changes.push("service settings changed since the last up".into());
    }
    (changes, force)
}
