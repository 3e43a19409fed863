//! `init`: writes a starter envctl.toml and the default templates (embedded in the binary), so a
//! new app needs no AWS account and no copy-paste to get going.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::import::{self, ReportLine};
use crate::model::ImportLookup;
use crate::naming;
use crate::ops::Session;

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
            crate::janitor::BUILDSPEC_TEMPLATE.to_string(),
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
    check_app(app)?;
    write_files(dir, files(app), force)
}

fn check_app(app: &str) -> Result<()> {
    match naming::app_name_error(app) {
        Some(m) => Err(Error::invalid(
            format!("--app: {m}"),
            Some("use a short lowercase name such as `shop`".to_string()),
        )),
        None => Ok(()),
    }
}

/// What `init --from-service` wrote, and what it could not carry over.
#[derive(Debug, Serialize)]
pub struct ImportOutcome {
    pub app: String,
    pub written: Vec<PathBuf>,
    pub not_carried_over: Vec<ReportLine>,
}

/// `init --from-service CLUSTER/SERVICE`: reads the live service and its task definition and
/// writes envctl.toml, the default templates and one task definition template for the service.
/// Everything is checked (argument, app name, existing files, the service) before anything is
/// written.
pub async fn init_from_service(
    session: &Session,
    dir: &Path,
    app: Option<&str>,
    source: &str,
    force: bool,
) -> Result<ImportOutcome> {
    let (cluster, service) =
        import::parse_source(source).map_err(|m| Error::invalid(m, None::<String>))?;
    let app = match app {
        Some(a) => a.to_string(),
        None => import::sanitise(&cluster, naming::APP_MAX_LEN),
    };
    check_app(&app)?;
    let mut files: Vec<(String, String)> = files(&app)
        .into_iter()
        .map(|(rel, text)| (rel.to_string(), text))
        .collect();
    if !force {
        refuse_existing(dir, files.iter().map(|(rel, _)| rel.as_str()))?;
    }
    let aws = session.aws(None).await?;
    let live = match aws.import_service(&cluster, &service).await? {
        ImportLookup::Found(live) => live,
        ImportLookup::NoCluster => {
            return Err(Error::Precondition {
                message: format!("ECS cluster `{cluster}` does not exist (in this account and region)"),
                hint: "check --region / --profile; `aws ecs list-clusters` lists the clusters".to_string(),
            })
        }
        ImportLookup::NoService => {
            return Err(Error::Precondition {
                message: format!("ECS service `{service}` does not exist in cluster `{cluster}`"),
                hint: format!("`aws ecs list-services --cluster {cluster}` lists its services"),
            })
        }
        ImportLookup::NoTaskDefinition(arn) => {
            return Err(Error::Precondition {
                message: format!("service `{cluster}/{service}` runs task definition {arn}, which ECS does not describe"),
                hint: format!("`aws ecs describe-services --cluster {cluster} --services {service}` shows it"),
            })
        }
    };
    let base = files[0].1.clone();
    let imported =
        import::import(source, &base, &live).map_err(|m| Error::invalid(m, None::<String>))?;
    files[0].1 = imported.config;
    if !force {
        refuse_existing(dir, std::iter::once(imported.template_path.as_str()))?;
    }
    files.push((imported.template_path, imported.template));
    let written = write_files(dir, files, true)?;
    Ok(ImportOutcome {
        app,
        written,
        not_carried_over: imported.report,
    })
}

fn refuse_existing<'a>(dir: &Path, rels: impl Iterator<Item = &'a str>) -> Result<()> {
    let existing: Vec<String> = rels
        .map(|rel| dir.join(rel))
        .filter(|p| p.exists())
        .map(|p| p.display().to_string())
        .collect();
    if existing.is_empty() {
        return Ok(());
    }
    Err(Error::invalid(
        format!("refusing to overwrite {}", existing.join(", ")),
        Some("pass --force to overwrite, or --dir to write elsewhere".to_string()),
    ))
}

fn write_files<R: AsRef<str>>(
    dir: &Path,
    files: Vec<(R, String)>,
    force: bool,
) -> Result<Vec<PathBuf>> {
    if !force {
        refuse_existing(dir, files.iter().map(|(rel, _)| rel.as_ref()))?;
    }
    let mut written = Vec::new();
    for (rel, text) in files {
        let path = dir.join(rel.as_ref());
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
