//! `envctl.toml`: the schema, `--set` overrides and validation. Pure: no AWS, no templates.
//! Every error names the file, the key and the fix, and is raised before any AWS call.
//!
//! `schema` holds the types, `load` reads a file, `overrides` applies `--set`, `validate` checks.

mod load;
mod overrides;
mod schema;
mod source;
mod validate;

#[cfg(test)]
mod tests;

use std::path::Path;

pub use load::{load, locate, parse, LoadedConfig};
pub use overrides::Override;
pub use schema::*;
pub use source::{parse_source, GitSource};
pub use validate::fargate_size_error;

pub const DEFAULT_CONFIG_FILE: &str = "envctl.toml";

/// A config problem: where it is, what is wrong, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {}{message}", key.as_ref().map(|k| format!("`{k}`: ")).unwrap_or_default())]
pub struct ConfigError {
    pub file: String,
    pub key: Option<String>,
    pub message: String,
    pub hint: Option<String>,
}

impl ConfigError {
    fn new(file: &Path, key: Option<&str>, message: impl Into<String>, hint: Option<&str>) -> Self {
        ConfigError {
            file: file.display().to_string(),
            key: key.map(str::to_string),
            message: message.into(),
            hint: hint.map(str::to_string),
        }
    }
}
