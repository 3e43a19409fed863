//! Reading `envctl.toml`: the file, then `--set` overrides, then validation, so every caller gets
//! a config that passed every check.

use std::path::{Path, PathBuf};

use super::overrides::apply_override;
use super::validate::validate;
use super::{Config, ConfigError, Override};
use crate::naming;

/// A parsed, validated config and where it came from (template paths are relative to it).
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedConfig {
    pub config: Config,
    pub path: PathBuf,
    pub dir: PathBuf,
}

impl LoadedConfig {
    pub fn resolve(&self, relative: &Path) -> PathBuf {
        self.dir.join(relative)
    }

    pub fn cluster_name(&self) -> String {
        self.config
            .cluster
            .name
            .clone()
            .unwrap_or_else(|| naming::cluster(&self.config.app))
    }
}

/// The config to read: `explicit` (`--config` or `ENVCTL_CONFIG`) exactly as given, else the
/// nearest `envctl.toml` in `start` or a directory above it, as cargo finds `Cargo.toml`, so
/// commands work from any subdirectory of the app.
pub fn locate(explicit: Option<&Path>, start: &Path) -> Result<PathBuf, ConfigError> {
    if let Some(path) = explicit {
        return Ok(path.to_path_buf());
    }
    for dir in start.ancestors() {
        let candidate = dir.join(super::DEFAULT_CONFIG_FILE);
        if candidate.is_file() {
            return Ok(relative_to(&candidate, start));
        }
    }
    Err(ConfigError::new(
        Path::new(super::DEFAULT_CONFIG_FILE),
        None,
        format!("not found in {} or any directory above it", start.display()),
        Some("run `envctl init --app NAME` to create one, or pass --config PATH"),
    ))
}

/// `found` as messages should show it: `envctl.toml` or `../envctl.toml` rather than a long
/// absolute path when it sits in `start` or above it.
fn relative_to(found: &Path, start: &Path) -> PathBuf {
    let Some(dir) = found.parent() else {
        return found.to_path_buf();
    };
    let Ok(below) = start.strip_prefix(dir) else {
        return found.to_path_buf();
    };
    let mut rel = PathBuf::new();
    for _ in below.components() {
        rel.push("..");
    }
    rel.join(super::DEFAULT_CONFIG_FILE)
}

/// Reads, overrides and validates `path`.
pub fn load(path: &Path, overrides: &[Override]) -> Result<LoadedConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::new(
            path,
            None,
            format!("cannot read: {e}"),
            Some("run `envctl init --app NAME` to create one, or pass --config PATH"),
        )
    })?;
    let config = parse(path, &text, overrides)?;
    let dir = path
        .parent()
        .map(Path::to_path_buf)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    Ok(LoadedConfig {
        config,
        path: path.to_path_buf(),
        dir,
    })
}

/// Parses and validates config text (`file` is only used in messages).
pub fn parse(file: &Path, text: &str, overrides: &[Override]) -> Result<Config, ConfigError> {
    let config: Config = if overrides.is_empty() {
        toml::from_str(text).map_err(|e| toml_error(file, e))?
    } else {
        let mut table: toml::Table = toml::from_str(text).map_err(|e| toml_error(file, e))?;
        for o in overrides {
            apply_override(&mut table, o).map_err(|m| {
                ConfigError::new(file, Some(&o.path.join(".")), m, Some("fix the --set flag"))
            })?;
        }
        toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| {
                ConfigError::new(
                    file,
                    None,
                    format!(
                        "after --set {}: {}",
                        overrides
                            .iter()
                            .map(|o| o.raw.as_str())
                            .collect::<Vec<_>>()
                            .join(" "),
                        e.message()
                    ),
                    Some("check the key path and value type of the --set flags"),
                )
            })?
    };
    validate(file, &config)?;
    Ok(config)
}

fn toml_error(file: &Path, e: toml::de::Error) -> ConfigError {
    // toml's message carries line, column and the offending key.
    ConfigError::new(
        file,
        None,
        e.to_string().trim_end().to_string(),
        Some("see config/envctl.example.toml for every key"),
    )
}
