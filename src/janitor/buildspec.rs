//! The janitor's buildspec: the template's context and its rendering (strict, like every
//! template), and the prebuilt envctl the build installs.

use minijinja::Value;
use serde::Serialize;

use super::BUILD_BIN_DIR;
use crate::config::{GitSource, JanitorConfig};
use crate::dist::{self, Prebuilt};
use crate::render::{templates, RenderError};

/// The default buildspec template; `init` writes it, and `install` falls back to it when the
/// configured default path does not exist (apps initialised before the janitor existed).
pub const BUILDSPEC_TEMPLATE: &str = include_str!("../../templates/janitor-buildspec.yml.j2");

/// What the buildspec template sees.
#[derive(Debug, Clone, Serialize)]
pub struct BuildspecContext {
    pub app: String,
    pub region: String,
    pub branch: String,
    /// The user's own install command; empty when the build installs the prebuilt binary.
    pub install_command: String,
    /// Shell script that downloads, verifies and installs the pinned prebuilt envctl.
    pub install_script: String,
    pub envctl_version: String,
    pub target: String,
    pub live_branches: bool,
    pub source_type: String,
}

/// The prebuilt envctl the janitor's build installs: pinned version and target, and the
/// pinned digest if any.
pub fn prebuilt(j: &JanitorConfig) -> Prebuilt {
    Prebuilt {
        version: j
            .envctl_version
            .clone()
            .unwrap_or_else(|| dist::VERSION.to_string()),
        target: j.target(),
        sha256: j.envctl_sha256.clone(),
    }
}

/// Renders the buildspec (strict: an unknown variable is an error, like every template).
pub fn render_buildspec(
    name: &str,
    template: &str,
    ctx: &BuildspecContext,
) -> std::result::Result<String, RenderError> {
    // Values are quoted with `| tojson` where they need it.
    let mut jinja = templates::environment();
    let error = |e: minijinja::Error| RenderError {
        file: name.to_string(),
        line: e.line(),
        service: None,
        message: match e.detail() {
            Some(d) => format!("{e}: {d}"),
            None => e.to_string(),
        },
        hint: Some(format!(
            "variables: app, region, branch, install_command, install_script, envctl_version, \
             target, live_branches, source_type; \
             delete {name} to use the built-in buildspec"
        )),
    };
    jinja
        .add_template_owned(name.to_string(), template.to_string())
        .map_err(error)?;
    jinja
        .get_template(name)
        .and_then(|t| t.render(Value::from_serialize(ctx)))
        .map_err(error)
}

/// What the template sees for `app` in `region`.
pub fn context(app: &str, region: &str, j: &JanitorConfig, source: &GitSource) -> BuildspecContext {
    let p = prebuilt(j);
    BuildspecContext {
        app: app.to_string(),
        region: region.to_string(),
        branch: j.branch.clone(),
        install_command: j.install_command.clone(),
        install_script: p.install_script(BUILD_BIN_DIR),
        envctl_version: p.version,
        target: j.target().to_string(),
        live_branches: j.live_branches,
        source_type: source.source_type.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(live_branches: bool) -> BuildspecContext {
        BuildspecContext {
            app: "shop".into(),
            region: "eu-west-1".into(),
            branch: "main".into(),
            install_command: "cargo install --locked --git https://github.com/acme/envctl envctl"
                .into(),
            install_script: String::new(),
            envctl_version: String::new(),
            target: String::new(),
            live_branches,
            source_type: "GITHUB".into(),
        }
    }

    #[test]
    fn default_buildspec_installs_the_pinned_prebuilt_binary() {
        let j = JanitorConfig::default();
        let p = prebuilt(&j);
        let c = BuildspecContext {
            install_command: String::new(),
            install_script: p.install_script(BUILD_BIN_DIR),
            envctl_version: p.version.clone(),
            target: j.target().to_string(),
            ..ctx(false)
        };
        let b = render(&c);
        assert!(!b.contains("cargo"), "{b}");
        let archive = dist::archive_name(dist::VERSION, dist::Target::LinuxAarch64);
        // The script is one block item, every line indented under it.
        let block = b
            .split("      - |\n")
            .nth(1)
            .expect("a block command")
            .split("      - envctl --version")
            .next()
            .unwrap();
        assert!(block.lines().all(|l| l.starts_with("        ")), "{block}");
        assert!(block.contains(&format!("archive='{archive}'")), "{block}");
        assert!(block.contains("sha256sum"), "{block}");
        assert!(block.contains("-C /usr/local/bin envctl"), "{block}");
        assert_eq!(j.image(), "aws/codebuild/amazonlinux-aarch64-standard:3.0");
        assert_eq!(j.environment_type(), "ARM_CONTAINER");
    }

    fn render(ctx: &BuildspecContext) -> String {
        render_buildspec("janitor-buildspec.yml.j2", BUILDSPEC_TEMPLATE, ctx)
            .expect("default buildspec renders")
    }

    /// The command lines of a buildspec, in order (`- ` items, quotes removed).
    fn commands(buildspec: &str) -> Vec<String> {
        buildspec
            .lines()
            .map(str::trim)
            .filter_map(|l| l.strip_prefix("- "))
            .map(|c| c.trim_matches('"').to_string())
            .collect()
    }

    #[test]
    fn buildspec_with_live_branches_fetches_every_branch_before_gc() {
        let b = render(&ctx(true));
        assert!(b.contains("\nversion: 0.2\n"), "{b}");
        assert!(!b.contains("git-credential-helper"), "{b}");
        assert_eq!(
            commands(&b),
            [
                "cargo install --locked --git https://github.com/acme/envctl envctl",
                "envctl --version",
                "git fetch --prune origin '+refs/heads/*:refs/remotes/origin/*'",
                "git rev-parse --verify --quiet refs/remotes/origin/main",
                "envctl gc --yes --live-branches-from git",
            ]
        );
        assert!(b.contains("app `shop` in eu-west-1"), "{b}");
    }

    #[test]
    fn buildspec_without_live_branches_only_runs_gc() {
        let b = render(&ctx(false));
        assert!(!b.contains("git fetch"), "{b}");
        assert_eq!(
            commands(&b),
            [
                "cargo install --locked --git https://github.com/acme/envctl envctl",
                "envctl --version",
                "envctl gc --yes",
            ]
        );
        // The phases stay well-formed YAML: `commands:` followed by an indented item.
        assert!(
            b.contains("  build:\n    commands:\n      - \"envctl gc --yes\"\n"),
            "{b}"
        );
    }

    #[test]
    fn buildspec_quotes_the_install_command() {
        let mut c = ctx(true);
        c.install_command = "curl -fsSL \"$URL\" | tar xz -C /usr/local/bin # note: yes".into();
        let b = render(&c);
        assert!(
            b.contains(r#"      - "curl -fsSL \"$URL\" | tar xz -C /usr/local/bin # note: yes""#),
            "{b}"
        );
    }

    #[test]
    fn buildspec_for_codecommit_uses_the_credential_helper() {
        let mut c = ctx(true);
        c.source_type = "CODECOMMIT".into();
        let b = render(&c);
        assert!(
            b.contains("\nenv:\n") && b.contains("  git-credential-helper: yes\n"),
            "{b}"
        );
    }

    #[test]
    fn unknown_template_variable_is_a_render_error() {
        let e = render_buildspec("custom.yml.j2", "x: {{ nope }}", &ctx(true)).unwrap_err();
        assert_eq!(e.file, "custom.yml.j2");
        assert!(e.message.contains("undefined"), "{}", e.message);
    }
}
