//! The env's stop/start schedules: the group and one schedule per service and verb.

use std::collections::BTreeSet;

use super::{canonical_json, Action, Conflict};
use crate::model::{ownership, ActualEnv, DesiredEnv, Ownership, ScheduleSpec, Tags};

/// Creates, updates and deletes schedules so the env's group holds exactly the desired ones.
/// Schedules of services in `blocked` (whose names another owner holds) are left alone: they
/// would scale someone else's service.
pub(super) fn plan_schedules(
    desired: &DesiredEnv,
    actual: &ActualEnv,
    tags: &Tags,
    blocked: &BTreeSet<&str>,
    actions: &mut Vec<Action>,
    conflicts: &mut Vec<Conflict>,
) {
    let app = desired.identity.app.as_str();
    let env = desired.identity.env.as_str();
    let owner = actual
        .schedule_group
        .as_ref()
        .map(|g| ownership(&g.tags, app, env));
    if let (Some(g), Some(o)) = (&actual.schedule_group, &owner) {
        if *o != Ownership::Ours {
            if desired.schedules.is_some() {
                conflicts.push(Conflict {
                    kind: "schedule group".into(),
                    name: g.name.clone(),
                    owner: o.clone(),
                });
            }
            return;
        }
    }
    let Some(want) = &desired.schedules else {
        if let Some(g) = &actual.schedule_group {
            actions.push(Action::DeleteScheduleGroup {
                name: g.name.clone(),
            });
        }
        return;
    };
    if actual.schedule_group.is_none() {
        actions.push(Action::CreateScheduleGroup {
            name: want.name.clone(),
            tags: tags.clone(),
        });
    }
    let is_blocked = |name: &str| {
        name.split_once('-')
            .is_some_and(|(_, key)| blocked.contains(key))
    };
    for sched in want.schedules.iter().filter(|s| !is_blocked(&s.name)) {
        match actual.schedules.iter().find(|a| a.name == sched.name) {
            None => actions.push(Action::CreateSchedule {
                schedule: sched.clone(),
            }),
            Some(have) => {
                let changes = schedule_changes(have, sched);
                if !changes.is_empty() {
                    actions.push(Action::UpdateSchedule {
                        schedule: sched.clone(),
                        changes,
                    });
                }
            }
        }
    }
    for have in actual.schedules.iter().filter(|s| !is_blocked(&s.name)) {
        if !want.schedules.iter().any(|w| w.name == have.name) {
            actions.push(Action::DeleteSchedule {
                group: have.group.clone(),
                name: have.name.clone(),
            });
        }
    }
}

fn schedule_changes(have: &ScheduleSpec, want: &ScheduleSpec) -> Vec<String> {
    let mut changes = Vec::new();
    let mut field = |name: &str, a: &str, b: &str| {
        if a != b {
            changes.push(format!("{name} {a} → {b}"));
        }
    };
    field("expression", &have.expression, &want.expression);
    field("timezone", &have.timezone, &want.timezone);
    field(
        "flexible window",
        &format!("{}m", have.flexible_window_minutes),
        &format!("{}m", want.flexible_window_minutes),
    );
    field("state", &have.state, &want.state);
    field("role", &have.role_arn, &want.role_arn);
    field("target", &have.target_arn, &want.target_arn);
    // Compared and shown canonically: the Scheduler echoes the input re-spaced.
    let (have_input, want_input) = (canonical_json(&have.input), canonical_json(&want.input));
    if have_input != want_input {
        changes.push(format!("input {have_input} → {want_input}"));
    }
    changes
}
