//! IAM service roles as envctl observes them for a plan: who owns the role (tags), whom it trusts
//! and the one inline policy envctl keeps on it. `aws::iam` reads them; policies are JSON values,
//! decoded from IAM's URL-encoded form, so two spellings of one document compare equal.

use serde_json::{json, Value};

use super::Tags;

/// A role and the two documents envctl manages on it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceRoleState {
    pub name: String,
    pub arn: String,
    pub tags: Tags,
    /// The trust (assume-role) policy; `None` when IAM's answer was not readable JSON, which
    /// compares as different and so gets rewritten.
    pub trust_policy: Option<Value>,
    /// The inline policy asked for; `None` when the role has no policy of that name.
    pub policy: Option<Value>,
}

/// The trust policy envctl gives a role that `service` (e.g. `events.amazonaws.com`) assumes.
pub fn trust_policy(service: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
        }],
    })
}
