//! envctl's own description of an environment's resources, shared by render (desired) and observe (actual).
//! No AWS SDK types live here: `aws/` converts between these and the SDK.

pub mod codebuild;
pub mod env;
pub mod hook;
pub mod import;
pub mod logs;
pub mod preview;
pub mod role;
pub mod rule;
pub mod schedule;
pub mod secret;
pub mod service;
pub mod tags;
pub mod task;
pub mod task_definition;

pub use codebuild::*;
pub use env::*;
pub use hook::*;
pub use import::*;
pub use logs::*;
pub use preview::*;
pub use role::*;
pub use rule::*;
pub use schedule::*;
pub use secret::SecretString;
pub use service::*;
pub use tags::*;
pub use task::*;
pub use task_definition::*;
