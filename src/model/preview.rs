//! Preview URLs: per env and public service, a target group on the shared ALB and a listener
//! rule that routes the env's host name (or path prefix) to it.

use serde::Serialize;

use super::Tags;

/// A target group envctl wants (IP targets: Fargate tasks in awsvpc mode).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetGroupSpec {
    /// At most 32 characters (ELB limit), see `naming::target_group`.
    pub name: String,
    pub port: i32,
    pub vpc_id: String,
    pub health_check_path: String,
    /// HTTP codes that count as healthy, e.g. `200-399`.
    pub health_check_matcher: String,
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetGroupState {
    pub name: String,
    pub arn: String,
    pub port: i32,
    pub vpc_id: String,
    pub health_check_path: Option<String>,
    pub health_check_matcher: Option<String>,
    pub load_balancer_arns: Vec<String>,
    pub tags: Tags,
}

/// How a rule picks an env's requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "kebab-case")]
pub enum RouteMatch {
    /// `host-header` condition, e.g. `feature-x.preview.example.com`.
    Host(String),
    /// `path-pattern` condition, e.g. `/feature-x/*` (for users without wildcard DNS).
    PathPrefix(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListenerRuleState {
    pub arn: String,
    /// `None` for the listener's default rule.
    pub priority: Option<i32>,
    pub hosts: Vec<String>,
    pub paths: Vec<String>,
    /// Target groups the rule forwards to.
    pub target_group_arns: Vec<String>,
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListenerState {
    pub arn: String,
    pub load_balancer_arn: String,
    pub port: i32,
    pub protocol: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetHealthState {
    pub target: String,
    pub port: Option<i32>,
    /// `healthy`, `unhealthy`, `initial`, `draining`, `unused`, ...
    pub state: String,
    pub reason: Option<String>,
}
