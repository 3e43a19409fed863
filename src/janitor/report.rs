//! What `janitor install` and `uninstall` report: one row per resource and what happened to it,
//! decided by the plan (`JanitorPlan::report`), not by counting requests.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Created,
    Updated,
    Exists,
    Deleted,
    Absent,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Created => "created",
            State::Updated => "updated",
            State::Exists => "exists",
            State::Deleted => "deleted",
            State::Absent => "absent",
        }
    }

    fn changed(self) -> bool {
        matches!(self, State::Created | State::Updated | State::Deleted)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ResourceReport {
    pub resource: String,
    pub name: String,
    pub state: State,
}

#[derive(Debug, Clone, Serialize)]
pub struct JanitorReport {
    pub app: String,
    pub region: String,
    /// The rule's schedule (install only).
    pub schedule: Option<String>,
    pub resources: Vec<ResourceReport>,
}

impl JanitorReport {
    pub fn changed(&self) -> bool {
        self.resources.iter().any(|r| r.state.changed())
    }
}
