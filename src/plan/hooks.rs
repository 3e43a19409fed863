//! Which hooks a plan runs: `before_deploy` and `after_create` for `up`, `before_destroy` for `down`.

use std::collections::BTreeSet;

use super::{Action, HookRun, TaskDefRef};
use crate::model::{
    ActualEnv, DesiredEnv, HookKind, LogSource, AFTER_CREATE_PENDING, TAG_AFTER_CREATE_PENDING,
};

/// Which hooks this `up` runs. `before_deploy`: when the hook's service is created or moves to
/// another revision (also when an earlier run registered the revision but was cut off before
/// the service moved). `after_create`: when the service is created, or still carries the
/// pending tag from a creation whose seeding did not finish; creating it sets that tag.
pub(super) fn plan_up_hooks(
    desired: &DesiredEnv,
    actual: &ActualEnv,
    actions: &mut [Action],
) -> Vec<HookRun> {
    let mut runs = Vec::new();
    let seeded: BTreeSet<&str> = desired
        .hooks
        .iter()
        .filter(|h| h.kind == HookKind::AfterCreate)
        .map(|h| h.service.as_str())
        .collect();
    for action in actions.iter_mut() {
        if let Action::CreateService { name, tags, .. } = action {
            if seeded.contains(name.as_str()) {
                tags.insert(TAG_AFTER_CREATE_PENDING.into(), AFTER_CREATE_PENDING.into());
            }
        }
    }
    for hook in &desired.hooks {
        let Some(svc) = desired.services.iter().find(|s| s.name == hook.service) else {
            continue;
        };
        let existing = actual.services.iter().find(|s| s.name == hook.service);
        // What the service action (if any) points the service at.
        let deploying = actions.iter().find_map(|a| match a {
            Action::CreateService {
                name,
                task_definition,
                ..
            } if *name == hook.service => Some((true, task_definition.clone())),
            Action::UpdateService {
                name,
                task_definition,
                ..
            } if *name == hook.service => Some((false, task_definition.clone())),
            _ => None,
        });
        let run = match hook.kind {
            HookKind::BeforeDeploy => match (&deploying, existing) {
                (Some((true, td)), _) => Some((td.clone(), "new service".to_string())),
                (Some((false, TaskDefRef::Registered(f))), _) => Some((
                    TaskDefRef::Registered(f.clone()),
                    "new revision".to_string(),
                )),
                (Some((false, TaskDefRef::Existing(arn))), Some(s))
                    if *arn != s.task_definition_arn =>
                {
                    Some((
                        TaskDefRef::Existing(arn.clone()),
                        format!("moving to revision {}", revision_of(arn)),
                    ))
                }
                _ => None,
            },
            HookKind::AfterCreate => match (&deploying, existing) {
                (Some((true, td)), _) => Some((td.clone(), "first up of the env".to_string())),
                (_, Some(s))
                    if s.tags.get(TAG_AFTER_CREATE_PENDING).map(String::as_str)
                        == Some(AFTER_CREATE_PENDING) =>
                {
                    let td = match &deploying {
                        Some((_, td)) => td.clone(),
                        None => TaskDefRef::Existing(s.task_definition_arn.clone()),
                    };
                    Some((td, "an earlier run did not finish it".to_string()))
                }
                _ => None,
            },
            HookKind::BeforeDestroy => None,
        };
        if let Some((task_definition, reason)) = run {
            let network = svc.service.awsvpc();
            runs.push(HookRun {
                kind: hook.kind,
                service_key: hook.service_key.clone(),
                service: hook.service.clone(),
                task_definition,
                container: hook.container.clone(),
                command: hook.command.clone(),
                network,
                log: LogSource::of(&svc.task_definition, &hook.container),
                timeout_secs: hook.timeout_secs,
                reason,
            });
        }
    }
    runs
}

/// `before_destroy` hooks for `down`: each runs with the revision its service runs now, in the
/// service's network; a service that is already gone runs none.
/// A hook's empty `container` means the running definition's first essential container.
pub fn plan_destroy_hooks(hooks: &[crate::model::HookSpec], actual: &ActualEnv) -> Vec<HookRun> {
    let mut runs = Vec::new();
    for hook in hooks {
        if hook.kind != HookKind::BeforeDestroy {
            continue;
        }
        let Some(s) = actual
            .services
            .iter()
            .find(|s| s.name == hook.service && s.status == "ACTIVE")
        else {
            continue;
        };
        let td = actual
            .task_definitions
            .iter()
            .find(|t| t.arn == s.task_definition_arn)
            .and_then(|t| t.definition.as_ref());
        let configured = Some(hook.container.clone()).filter(|c| !c.is_empty());
        let container =
            configured.or_else(|| td.and_then(|td| td.container(None)).map(|c| c.name.clone()));
        let Some(container) = container else {
            continue;
        };
        runs.push(HookRun {
            kind: hook.kind,
            service_key: hook.service_key.clone(),
            service: hook.service.clone(),
            task_definition: TaskDefRef::Existing(s.task_definition_arn.clone()),
            log: td.and_then(|td| LogSource::of(td, &container)),
            container,
            command: hook.command.clone(),
            network: s.network.clone().unwrap_or_default(),
            timeout_secs: hook.timeout_secs,
            reason: format!(
                "env is going; revision {}",
                revision_of(&s.task_definition_arn)
            ),
        });
    }
    runs
}

/// `shop-x-api:7` from a task definition ARN.
fn revision_of(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}
