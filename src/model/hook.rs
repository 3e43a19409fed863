//! Hooks as rendered: one-off tasks around deploys (`[[hooks.*]]` in envctl.toml), resolved to
//! the ECS service, container and log stream they run with.

use serde::{Deserialize, Serialize};

/// When a hook runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HookKind {
    BeforeDeploy,
    AfterCreate,
    BeforeDestroy,
}

impl HookKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HookKind::BeforeDeploy => "before_deploy",
            HookKind::AfterCreate => "after_create",
            HookKind::BeforeDestroy => "before_destroy",
        }
    }
}

impl std::fmt::Display for HookKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One hook of the env, ready to plan and run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HookSpec {
    pub kind: HookKind,
    /// The `[services.<key>]` whose task definition runs it.
    pub service_key: String,
    /// That service's ECS name (and task definition family).
    pub service: String,
    pub container: String,
    pub command: Vec<String>,
    pub timeout_secs: u64,
}

/// Tag on a service whose `after_create` hooks have not succeeded yet: set when the service is
/// created, removed when they succeed, so a seeding cut off by a crash runs again.
pub const TAG_AFTER_CREATE_PENDING: &str = "envctl:after-create";
pub const AFTER_CREATE_PENDING: &str = "pending";
