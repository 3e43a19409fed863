//! Hooks as rendered: one-off tasks around deploys (`[[hooks.*]]` in envctl.toml), resolved to
//! the ECS service, container and log stream they run with.

use serde::Serialize;

pub use crate::config::HookKind;

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
