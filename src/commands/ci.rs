//! `envctl ci github`

use crate::cli::CiCommand;
use crate::error::{exit, Error, Result};
use crate::ops::ci::{self, WorkflowOptions};
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
    let text = ci::render(&WorkflowOptions {
        role_arn: args.role_arn,
        region,
        env_naming: args.env_name,
        install_command: args.install_command,
        config_path: session.globals.config.display().to_string(),
        gc_cron: "23 * * * *".into(),
    })?;
    let path = ci::write(std::path::Path::new("."), &args.path, &text, args.force)?;
    let p = &session.printer;
    if p.is_json() {
        p.json(&serde_json::json!({ "written": path }));
    } else {
        p.text(format!("wrote {}", path.display()));
        p.status("Next: set the repository secret ENVCTL_GIT_URL (or pass --install-command), and let the role trust GitHub's OIDC provider (docs/github.md).");
    }
    Ok(exit::OK)
}
