//! `ci github`: writes a GitHub Actions workflow that runs `envctl up` for each pull request,
//! `envctl down` when it closes, and `envctl gc` on a schedule as the safety net for missed
//! events. The workflow is rendered from an embedded template (templates/github-workflow.yml.j2).

use std::path::{Path, PathBuf};

use minijinja::{Environment, UndefinedBehavior};
use serde_json::json;

use crate::error::{Error, Result};

pub const WORKFLOW_TEMPLATE: &str = include_str!("../../templates/github-workflow.yml.j2");
pub const DEFAULT_WORKFLOW_PATH: &str = ".github/workflows/envctl.yml";
/// envctl is not on crates.io: by default the workflow installs it from the git URL in the
/// repository secret `ENVCTL_GIT_URL` (a private repository URL may carry a token).
pub const DEFAULT_INSTALL_COMMAND: &str = "cargo install --locked --git \"$ENVCTL_GIT_URL\" envctl";

/// How a PR's env is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EnvNaming {
    /// `pr-<number>`: short and stable.
    Pr,
    /// The PR's head branch (envctl maps it to a valid name); lets `gc` collect by branch.
    Branch,
}

#[derive(Debug, Clone)]
pub struct WorkflowOptions {
    pub role_arn: String,
    pub region: String,
    pub env_naming: EnvNaming,
    pub install_command: String,
    pub config_path: String,
    /// Minute-of-hour cron for the gc job.
    pub gc_cron: String,
}

/// Renders the workflow text, validating every value first (they land in YAML).
pub fn render(o: &WorkflowOptions) -> Result<String> {
    if !is_role_arn(&o.role_arn) {
        return Err(Error::invalid(
            format!("--role-arn `{}` is not an IAM role ARN", o.role_arn),
            Some("use the role GitHub's OIDC provider may assume, e.g. arn:aws:iam::123456789012:role/envctl-ci".to_string()),
        ));
    }
    if !is_region(&o.region) {
        return Err(Error::invalid(
            format!("`{}` is not an AWS region", o.region),
            Some("pass --region, e.g. --region eu-west-1".to_string()),
        ));
    }
    if o.config_path.is_empty()
        || !o
            .config_path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._/-".contains(c))
    {
        return Err(Error::invalid(
            format!(
                "config path `{}` must be a plain relative path",
                o.config_path
            ),
            Some("use letters, digits, '.', '_', '-' and '/'".to_string()),
        ));
    }
    if o.install_command.trim().is_empty() || o.install_command.contains('\n') {
        return Err(Error::invalid(
            "--install-command must be one non-empty line",
            None,
        ));
    }
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    let ctx = json!({
        "role_arn": o.role_arn,
        "region": o.region,
        "env_name": match o.env_naming { EnvNaming::Pr => "pr", EnvNaming::Branch => "branch" },
        "install_command": o.install_command,
        "config_path": o.config_path,
        "gc_cron": o.gc_cron,
    });
    env.render_str(WORKFLOW_TEMPLATE, ctx)
        .map_err(|e| Error::invalid(format!("templates/github-workflow.yml.j2: {e}"), None))
}

/// Writes the workflow under `dir`; refuses to overwrite unless `force`.
pub fn write(dir: &Path, output: &Path, text: &str, force: bool) -> Result<PathBuf> {
    let path = dir.join(output);
    if path.exists() && !force {
        return Err(Error::invalid(
            format!("refusing to overwrite {}", path.display()),
            Some("pass --force to replace it".to_string()),
        ));
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::io(format!("creating {}", parent.display()), e))?;
    }
    std::fs::write(&path, text).map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
    Ok(path)
}

fn is_role_arn(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("arn:") else {
        return false;
    };
    let parts: Vec<&str> = rest.splitn(5, ':').collect();
    matches!(parts.as_slice(), [partition, "iam", "", account, resource]
        if partition.starts_with("aws")
            && account.len() == 12
            && account.chars().all(|c| c.is_ascii_digit())
            && resource.strip_prefix("role/").is_some_and(|r| !r.is_empty() && r.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c))))
}

fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(naming: EnvNaming) -> WorkflowOptions {
        WorkflowOptions {
            role_arn: "arn:aws:iam::123456789012:role/envctl-ci".into(),
            region: "eu-west-1".into(),
            env_naming: naming,
            install_command: DEFAULT_INSTALL_COMMAND.into(),
            config_path: "envctl.toml".into(),
            gc_cron: "23 * * * *".into(),
        }
    }

    #[test]
    fn pr_naming_uses_the_pr_number_and_gc_by_ttl_only() {
        let text = render(&opts(EnvNaming::Pr)).unwrap();
        assert!(text.contains("ENVCTL_ENV: pr-${{ github.event.pull_request.number }}"));
        assert!(!text.contains("--live-branches-from"));
        assert!(text.contains("role-to-assume: \"arn:aws:iam::123456789012:role/envctl-ci\""));
        assert!(text.contains("group: envctl-pr-${{ github.event.pull_request.number }}"));
    }

    #[test]
    fn branch_naming_passes_the_branch_through_env_and_gc_checks_branches() {
        let text = render(&opts(EnvNaming::Branch)).unwrap();
        assert!(text.contains("ENVCTL_ENV: ${{ github.head_ref }}"));
        // Never interpolated into a script: the branch name is attacker-controlled text.
        assert!(!text.contains("run: envctl up \"${{"));
        assert!(text.contains("--live-branches-from git"));
    }

    #[test]
    fn values_that_would_break_the_yaml_are_rejected() {
        let mut o = opts(EnvNaming::Pr);
        o.role_arn = "arn:aws:iam::123:role/x\nrun: evil".into();
        assert!(render(&o).is_err());
        let mut o = opts(EnvNaming::Pr);
        o.region = "eu west".into();
        assert!(render(&o).is_err());
        let mut o = opts(EnvNaming::Pr);
        o.config_path = "a b.toml".into();
        assert!(render(&o).is_err());
    }
}
