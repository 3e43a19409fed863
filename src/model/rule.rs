//! EventBridge rules on the default bus (the janitor's schedule) and their targets, as envctl
//! wants and observes them. `aws::events` converts to and from the SDK.

use serde::Serialize;

use super::Tags;

/// A rule as observed, with its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleState {
    pub name: String,
    pub arn: String,
    pub schedule_expression: Option<String>,
    /// `ENABLED`, `DISABLED`, ...
    pub state: String,
    pub tags: Tags,
}

/// What a rule invokes. `id` is unique within the rule; putting the same id again replaces it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleTarget {
    pub id: String,
    pub arn: String,
    pub role_arn: Option<String>,
}
