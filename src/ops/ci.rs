//! `ci github`: writes a GitHub Actions workflow that runs `envctl up` for each pull request,
//! `envctl down` when it closes, and `envctl gc` on a schedule as the safety net for missed
//! events. The workflow is rendered from an embedded template (templates/github-workflow.yml.j2).

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::dist::{self, Prebuilt, Target};
use crate::error::{Error, Result};

pub const WORKFLOW_TEMPLATE: &str = include_str!("../../templates/github-workflow.yml.j2");
pub const DEFAULT_WORKFLOW_PATH: &str = ".github/workflows/envctl.yml";

/// How each job puts envctl on the runner. No job compiles envctl unless asked to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Install {
    /// The release's static binary for the runner, pinned to a version and checked against a
    /// SHA-256 digest (pinned, or the release's `SHA256SUMS`): seconds.
    Release(Prebuilt),
    /// `cargo install --git "$ENVCTL_GIT_URL" --tag v<version>` (the repository secret may
    /// carry a token for a private fork), cached per version so only the first run compiles.
    Cargo { version: String },
    /// The user's own command, verbatim.
    Command(String),
}

/// The kind of install, as `--install` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InstallKind {
    /// Prebuilt, checksum-verified release binary (default)
    Release,
    /// Build from source with cargo, cached per version
    Cargo,
}

impl Install {
    /// Validates the version and digest (they land in a shell script) and picks the runner's
    /// target: GitHub's `ubuntu-latest` is x86_64 Linux.
    pub fn new(
        kind: InstallKind,
        version: Option<String>,
        sha256: Option<String>,
        command: Option<String>,
    ) -> Result<Install> {
        if let Some(command) = command {
            if command.trim().is_empty() || command.contains('\n') {
                return Err(Error::invalid(
                    "--install-command must be one non-empty line",
                    None,
                ));
            }
            return Ok(Install::Command(command));
        }
        let version = version.unwrap_or_else(|| dist::VERSION.to_string());
        if !dist::is_version(&version) {
            return Err(Error::invalid(
                format!("--envctl-version `{version}` is not a release version"),
                Some(format!("e.g. --envctl-version {}", dist::VERSION)),
            ));
        }
        match kind {
            InstallKind::Release => {
                if let Some(d) = &sha256 {
                    if !dist::is_sha256(d) {
                        return Err(Error::invalid(
                            format!("--sha256 `{d}` is not a SHA-256 digest (64 hex digits)"),
                            Some(format!(
                                "the digest of {} from the release's SHA256SUMS",
                                dist::archive_name(&version, Target::LinuxX86_64)
                            )),
                        ));
                    }
                }
                Ok(Install::Release(Prebuilt {
                    version,
                    target: Target::LinuxX86_64,
                    sha256,
                }))
            }
            InstallKind::Cargo if sha256.is_some() => Err(Error::invalid(
                "--sha256 pins a prebuilt archive; it does not apply to --install cargo",
                None,
            )),
            InstallKind::Cargo => Ok(Install::Cargo { version }),
        }
    }
}

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
    pub install: Install,
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
    let env = crate::render::templates::environment();
    let ctx = json!({
        "role_arn": o.role_arn,
        "region": o.region,
        "env_name": match o.env_naming { EnvNaming::Pr => "pr", EnvNaming::Branch => "branch" },
        "install": match &o.install {
            Install::Release(_) => "release",
            Install::Cargo { .. } => "cargo",
            Install::Command(_) => "command",
        },
        "envctl_version": match &o.install {
            Install::Release(p) => p.version.as_str(),
            Install::Cargo { version } => version.as_str(),
            Install::Command(_) => "",
        },
        "install_script": match &o.install {
            Install::Release(p) => p.install_script("\"$RUNNER_TEMP/envctl\""),
            _ => String::new(),
        },
        "install_command": match &o.install {
            Install::Command(c) => c.as_str(),
            _ => "",
        },
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
            install: Install::new(InstallKind::Release, None, None, None).unwrap(),
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
    fn default_install_is_a_pinned_prebuilt_binary_and_nothing_compiles() {
        let text = render(&opts(EnvNaming::Pr)).unwrap();
        assert!(!text.contains("cargo install"), "{text}");
        assert!(!text.contains("ENVCTL_GIT_URL"), "{text}");
        let archive = dist::archive_name(dist::VERSION, Target::LinuxX86_64);
        assert_eq!(
            text.matches(&format!("archive='{archive}'")).count(),
            3,
            "{text}"
        );
        assert_eq!(text.matches("sha256sum").count(), 3);
    }

    #[test]
    fn cargo_install_is_cached_per_version() {
        let mut o = opts(EnvNaming::Pr);
        o.install = Install::new(InstallKind::Cargo, Some("1.2.3".into()), None, None).unwrap();
        let text = render(&o).unwrap();
        assert_eq!(text.matches("uses: actions/cache@v4").count(), 3);
        assert!(text.contains("key: envctl-${{ runner.os }}-1.2.3"));
        assert!(text.contains("--tag v1.2.3 envctl"));
        assert!(text.contains("if: steps.envctl-cache.outputs.cache-hit != 'true'"));
    }

    #[test]
    fn install_values_are_validated() {
        assert!(Install::new(InstallKind::Release, Some("latest".into()), None, None).is_err());
        assert!(Install::new(InstallKind::Release, None, Some("abc".into()), None).is_err());
        assert!(Install::new(InstallKind::Cargo, None, Some("a".repeat(64)), None).is_err());
        assert!(Install::new(InstallKind::Release, None, None, Some("a\nb".into())).is_err());
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
