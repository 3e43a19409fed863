//! Stop/start schedules (EventBridge Scheduler) as envctl models them: one schedule group per
//! env, and per service a stop and a start schedule whose universal target is ECS UpdateService.

use serde::Serialize;

use super::Tags;

/// The universal target that lets a schedule call ECS UpdateService (rules cannot).
pub const UPDATE_SERVICE_TARGET: &str = "arn:aws:scheduler:::aws-sdk:ecs:updateService";

/// One schedule, desired or observed. Equal values mean nothing to change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScheduleSpec {
    pub group: String,
    pub name: String,
    /// `cron(...)`, `rate(...)` or `at(...)`.
    pub expression: String,
    /// IANA name, e.g. `Europe/Berlin`.
    pub timezone: String,
    /// 0 = flexible window OFF.
    pub flexible_window_minutes: i32,
    pub target_arn: String,
    pub role_arn: String,
    /// The target's input JSON text.
    pub input: String,
    /// `ENABLED` or `DISABLED`.
    pub state: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScheduleGroupState {
    pub name: String,
    pub arn: String,
    /// `ACTIVE` or `DELETING`.
    pub state: String,
    pub tags: Tags,
}
