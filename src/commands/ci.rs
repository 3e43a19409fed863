//! `envctl ci github`

use crate::cli::CiCommand;
use crate::error::{exit, Error, Result};
use crate::ops::ci::{self, Install, WorkflowOptions};
use crate::ops::Session;

pub fn run(session: &Session, cmd: CiCommand) -> Result<i32> {
    let CiCommand::Github(args) = cmd;
    let cfg = session.load_config(&[])?;
    let region = session
        .globals
        .region
        .clone()
        .or_else(|| cfg.config.region.clone())
        .or_else(|| std::env::var("AWS_REGION").ok())
        .ok_or_else(|| {
            Error::invalid(
                "the workflow needs a region",
                Some("pass --region, or set `region` in envctl.toml".to_string()),
            )
        })?;
    let install = Install::new(
        args.install,
        args.envctl_version,
        args.sha256,
        args.install_command,
    )?;
    let needs_git_url = matches!(install, Install::Cargo { .. });
    let text = ci::render(&WorkflowOptions {
        role_arn: args.role_arn,
        region,
        env_naming: args.env_name,
        install,
        config_path: cfg.path.display().to_string(),
        gc_cron: "23 * * * *".into(),
    })?;
    let path = ci::write(std::path::Path::new("."), &args.path, &text, args.force)?;
    let p = &session.printer;
    if p.is_json() {
        p.json(&serde_json::json!({ "written": path }));
    } else {
        p.text(format!("wrote {}", path.display()));
        if needs_git_url {
            p.status("Next: set the repository secret ENVCTL_GIT_URL to envctl's git URL, and let the role trust GitHub's OIDC provider (docs/github.md).");
        } else {
            p.status("Next: let the role trust GitHub's OIDC provider (docs/github.md).");
        }
    }
    Ok(exit::OK)
}
