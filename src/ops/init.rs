//! `init`: writes a starter envctl.toml and the default templates (embedded in the binary), so a
//! new app needs no AWS account and no copy-paste to get going.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::naming;

pub const EXAMPLE_CONFIG: &str = include_str!("../../config/envctl.example.toml");
pub const TASK_DEFINITION_TEMPLATE: &str = include_str!("../../templates/task-definition.json.j2");
pub const SERVICE_TEMPLATE: &str = include_str!("../../templates/service.json.j2");
pub const LIFECYCLE_TEMPLATE: &str = include_str!("../../templates/ecr-lifecycle.json.j2");

/// The files `init` writes, relative to the target directory.
pub fn files(app: &str) -> Vec<(&'static str, String)> {
    vec![
        (
            "envctl.toml",
            EXAMPLE_CONFIG
                .replacen("app = \"shop\"", &format!("app = \"{app}\""), 1)
                .replacen(
                    "timezone = \"UTC\"",
                    &format!("timezone = \"{}\"", local_timezone()),
                    1,
                ),
        ),
        (
            "templates/task-definition.json.j2",
            TASK_DEFINITION_TEMPLATE.to_string(),
        ),
        ("templates/service.json.j2", SERVICE_TEMPLATE.to_string()),
        (
            "templates/ecr-lifecycle.json.j2",
            LIFECYCLE_TEMPLATE.to_string(),
        ),
        (
            "templates/janitor-buildspec.yml.j2",
            crate::ops::janitor::BUILDSPEC_TEMPLATE.to_string(),
        ),
        (
            "templates/buildspec.yml.j2",
            crate::build::BUILDSPEC_TEMPLATE.to_string(),
        ),
    ]
}

/// The machine's IANA time zone for the schedules, or UTC when it has no name.
fn local_timezone() -> String {
    jiff::tz::TimeZone::try_system()
        .ok()
        .and_then(|tz| tz.iana_name().map(str::to_string))
        .filter(|name| crate::schedule::timezone(name).is_ok())
        .unwrap_or_else(|| "UTC".to_string())
}

/// Writes the files; refuses to overwrite any existing one unless `force` (checked before writing
/// anything, so a refusal changes nothing).
pub fn init(dir: &Path, app: &str, force: bool) -> Result<Vec<PathBuf>> {
    if let Some(m) = naming::app_name_error(app) {
        return Err(Error::invalid(
            format!("--app: {m}"),
            Some("use a short lowercase name such as `shop`".to_string()),
        ));
    }
    let files = files(app);
    if !force {
        let existing: Vec<String> = files
            .iter()
            .map(|(rel, _)| dir.join(rel))
            .filter(|p| p.exists())
            .map(|p| p.display().to_string())
            .collect();
        if !existing.is_empty() {
            return Err(Error::invalid(
                format!("refusing to overwrite {}", existing.join(", ")),
                Some("pass --force to overwrite, or --dir to write elsewhere".to_string()),
            ));
        }
    }
    let mut written = Vec::new();
    for (rel, text) in files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::io(format!("creating {}", parent.display()), e))?;
        }
        std::fs::write(&path, text)
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_config_parses_and_names_the_app() {
        let (_, text) = &files("demo")[0];
        let cfg = crate::config::parse(Path::new("envctl.toml"), text, &[])
            .expect("example config is valid");
        assert_eq!(cfg.app, "demo");
        assert_eq!(cfg.services["web"].count, 1);
    }
}
