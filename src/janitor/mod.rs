//! The cloud janitor, pure parts: what `janitor install` wants (`desired`), the steps from
//! what AWS has to that (`plan::plan_install`, `plan::plan_uninstall`), the buildspec and the IAM
//! policies. No AWS calls here: `ops::janitor` observes, applies the plan and reports.
//!
//! The janitor is an EventBridge rule that fires on `janitor.schedule` and starts a CodeBuild
//! build (rules cannot call ECS themselves); the build checks out the app's repository and runs
//! `envctl gc --yes`, so env cleanup never depends on a laptop or on a CI event that was missed.

pub mod buildspec;
pub mod desired;
pub mod plan;
pub mod policy;
pub mod report;

pub use buildspec::BUILDSPEC_TEMPLATE;
pub use desired::{desired, Desired, Place};
pub use plan::*;
pub use report::*;

/// The rule's only target.
pub const TARGET_ID: &str = "envctl-janitor";
/// The build role's inline policy.
pub const BUILD_POLICY: &str = "envctl-janitor";
/// The events role's inline policy.
pub const EVENTS_POLICY: &str = "envctl-janitor-start-build";
/// gc deletes without waiting and the prebuilt binary downloads in seconds; a stuck run is cut
/// off well before the next one.
const BUILD_TIMEOUT_MINUTES: i32 = 10;
/// A user's own install command may compile envctl.
const BUILD_TIMEOUT_MINUTES_CUSTOM_INSTALL: i32 = 30;
/// Where the build installs the prebuilt binary (CodeBuild runs as root; it is on PATH).
const BUILD_BIN_DIR: &str = "/usr/local/bin";
