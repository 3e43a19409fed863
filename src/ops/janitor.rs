//! `janitor install|uninstall`: the cloud janitor, so that env cleanup never depends on a laptop
//! or on a CI event that was missed. An EventBridge rule fires on `janitor.schedule` and starts a
//! CodeBuild build (rules cannot call ECS themselves) that checks out the app's repository and
//! runs `envctl gc --yes`. Like `bootstrap`: observe, refuse what is not ours, write only what is
//! missing or different, report.

use std::time::{Duration, Instant};

use minijinja::{Environment, UndefinedBehavior, Value};
use serde::Serialize;

use crate::aws::codebuild::{ProjectSpec, ProjectState};
use crate::aws::events::{RuleState, RuleTarget};
use crate::aws::iam::RoleState;
use crate::aws::sts::partition;
use crate::aws::Aws;
use crate::config::{
    self, parse_source, ConfigError, GitSource, JanitorConfig, LoadedConfig, Override,
};
use crate::dist::{self, Prebuilt};
use crate::error::{Error, Result};
use crate::model::{app_ownership, app_tags, Ownership, Tags};
use crate::naming;
use crate::ops::janitor_policy::{build_role_policy, events_role_policy, PolicyScope};
use crate::ops::{self, Session};
use crate::plan::Conflict;
use crate::render::RenderError;

/// The default buildspec template; `init` writes it, and `install` falls back to it when the
/// configured default path does not exist (apps initialised before the janitor existed).
pub const BUILDSPEC_TEMPLATE: &str = include_str!("../../templates/janitor-buildspec.yml.j2");

/// The rule's only target.
pub const TARGET_ID: &str = "envctl-janitor";
const BUILD_POLICY: &str = "envctl-janitor";
const EVENTS_POLICY: &str = "envctl-janitor-start-build";
/// gc deletes without waiting and the prebuilt binary downloads in seconds; a stuck run is cut
/// off well before the next one.
const BUILD_TIMEOUT_MINUTES: i32 = 10;
/// A user's own install command may compile envctl.
const BUILD_TIMEOUT_MINUTES_CUSTOM_INSTALL: i32 = 30;
/// Where the build installs the prebuilt binary (CodeBuild runs as root; it is on PATH).
const BUILD_BIN_DIR: &str = "/usr/local/bin";
/// How long a new role may take to become assumable by CodeBuild (IAM is eventually consistent).
const ROLE_PROPAGATION: Duration = Duration::from_secs(90);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Created,
    Updated,
    Exists,
    Deleted,
    Absent,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Created => "created",
            State::Updated => "updated",
            State::Exists => "exists",
            State::Deleted => "deleted",
            State::Absent => "absent",
        }
    }

    fn changed(self) -> bool {
        matches!(self, State::Created | State::Updated | State::Deleted)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ResourceReport {
    pub resource: String,
    pub name: String,
    pub state: State,
}

#[derive(Debug, Clone, Serialize)]
pub struct JanitorReport {
    pub app: String,
    pub region: String,
    /// The rule's schedule (install only).
    pub schedule: Option<String>,
    pub resources: Vec<ResourceReport>,
}

impl JanitorReport {
    pub fn changed(&self) -> bool {
        self.resources.iter().any(|r| r.state.changed())
    }
}

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
    let mut jinja = Environment::new();
    jinja.set_undefined_behavior(UndefinedBehavior::Strict);
    // YAML, not HTML: values are quoted with `| tojson` where they need it.
    jinja.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    jinja.set_keep_trailing_newline(true);
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

/// Whether the observed project differs from `spec` in anything envctl manages (tags, timeout
/// and description aside). UpdateProject only happens when this is true.
pub fn project_differs(state: &ProjectState, spec: &ProjectSpec) -> bool {
    state.buildspec != spec.buildspec
        || state.image != spec.image
        || state.compute_type != spec.compute_type
        || state.environment_type != spec.environment_type
        || state.service_role_arn != spec.service_role_arn
        || state.source_type != spec.source_type
        || state.source_location != spec.source_location
        || state.source_version != spec.source_version
        || state.environment != spec.environment
}

/// Everything `install` needs from the config, checked before any AWS call.
struct Inputs {
    cfg: LoadedConfig,
    source: GitSource,
    template_name: String,
    template: String,
}

fn inputs(session: &Session, overrides: &[Override]) -> Result<Inputs> {
    let cfg = session.load_config(overrides)?;
    let j = &cfg.config.janitor;
    let file = cfg.path.display().to_string();
    let config_error = |key: &str, message: String, hint: &str| {
        Error::Config(ConfigError {
            file: file.clone(),
            key: Some(key.to_string()),
            message,
            hint: Some(hint.to_string()),
        })
    };
    if j.source.trim().is_empty() {
        return Err(config_error(
            "janitor.source",
            "is empty: the janitor's build checks out the app's repository".into(),
            "set janitor.source to its HTTPS URL, e.g. https://github.com/acme/shop.git or \
             https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/shop",
        ));
    }
    let source = parse_source(&j.source).map_err(|m| {
        config_error(
            "janitor.source",
            m,
            "use https://github.com/OWNER/REPO.git or https://git-codecommit.REGION.amazonaws.com/v1/repos/REPO",
        )
    })?;
    let (template_name, template) = buildspec_template(session, &cfg, j)?;
    // A buildspec written before prebuilt installs only knows install_command.
    if j.install_command.trim().is_empty() && !template.contains("install_script") {
        return Err(Error::Render(RenderError {
            file: cfg.resolve(&j.buildspec).display().to_string(),
            line: None,
            service: None,
            message: "does not use `install_script`, so the build would have no envctl".into(),
            hint: Some(format!(
                "delete {} to use the built-in buildspec (prebuilt envctl), or set \
                 janitor.install_command",
                j.buildspec.display()
            )),
        }));
    }
    Ok(Inputs {
        cfg,
        source,
        template_name,
        template,
    })
}

fn buildspec_template(
    session: &Session,
    cfg: &LoadedConfig,
    j: &JanitorConfig,
) -> Result<(String, String)> {
    let name = j.buildspec.display().to_string();
    let full = cfg.resolve(&j.buildspec);
    match std::fs::read_to_string(&full) {
        Ok(text) => Ok((name, text)),
        Err(e)
            if e.kind() == std::io::ErrorKind::NotFound
                && j.buildspec == config::default_janitor_buildspec() =>
        {
            session.printer.status(format!(
                "{} not found: using the built-in janitor buildspec",
                full.display()
            ));
            Ok((name, BUILDSPEC_TEMPLATE.to_string()))
        }
        Err(e) => Err(Error::Render(RenderError {
            file: full.display().to_string(),
            line: None,
            service: None,
            message: format!("cannot read template: {e}"),
            hint: Some(
                "fix janitor.buildspec in envctl.toml, or remove it to use the default".into(),
            ),
        })),
    }
}

/// The janitor's resources as found; `observe` refuses when any of them is not the app's.
struct Observed {
    rule: Option<RuleState>,
    project: Option<ProjectState>,
    build_role: Option<RoleState>,
    events_role: Option<RoleState>,
}

async fn observe(aws: &Aws, app: &str) -> Result<Observed> {
    let name = naming::janitor(app);
    let events_role = naming::janitor_events_role(app);
    let (rule, project, build_role, events_role) = futures::try_join!(
        aws.describe_rule(&name),
        aws.describe_project(&name),
        aws.get_role(&name),
        aws.get_role(&events_role),
    )?;
    let observed = Observed {
        rule,
        project,
        build_role,
        events_role,
    };
    let mut conflicts = Vec::new();
    let mut check = |kind: &str, name: Option<&str>, tags: Option<&Tags>| {
        if let (Some(name), Some(tags)) = (name, tags) {
            let owner = app_ownership(tags, app);
            if owner != Ownership::Ours {
                conflicts.push(Conflict {
                    kind: kind.into(),
                    name: name.into(),
                    owner,
                });
            }
        }
    };
    check(
        "EventBridge rule",
        observed.rule.as_ref().map(|r| r.name.as_str()),
        observed.rule.as_ref().map(|r| &r.tags),
    );
    check(
        "CodeBuild project",
        observed.project.as_ref().map(|p| p.name.as_str()),
        observed.project.as_ref().map(|p| &p.tags),
    );
    for role in [&observed.build_role, &observed.events_role] {
        check(
            "IAM role",
            role.as_ref().map(|r| r.name.as_str()),
            role.as_ref().map(|r| &r.tags),
        );
    }
    if conflicts.is_empty() {
        Ok(observed)
    } else {
        Err(Error::Conflicts(conflicts))
    }
}

/// Writes recorded so far. The IAM wrapper converges a role without saying whether it wrote;
/// the call counter does (install runs its steps one after another).
fn writes(aws: &Aws) -> u64 {
    aws.stats
        .snapshot()
        .iter()
        .filter(|c| c.write)
        .map(|c| c.calls)
        .sum()
}

pub async fn install(session: &Session, overrides: &[Override]) -> Result<JanitorReport> {
    let Inputs {
        cfg,
        source,
        template_name,
        template,
    } = inputs(session, overrides)?;
    let j = &cfg.config.janitor;
    let app = cfg.config.app.as_str();
    // Connecting resolves configuration only; the first request is below the render.
    let aws = session.aws(Some(&cfg)).await?;
    let buildspec = render_buildspec(
        &template_name,
        &template,
        &BuildspecContext {
            app: app.to_string(),
            region: aws.region.clone(),
            branch: j.branch.clone(),
            install_command: j.install_command.clone(),
            install_script: prebuilt(j).install_script(BUILD_BIN_DIR),
            envctl_version: prebuilt(j).version,
            target: j.target().to_string(),
            live_branches: j.live_branches,
            source_type: source.source_type.to_string(),
        },
    )?;

    let name = naming::janitor(app);
    let events_role_name = naming::janitor_events_role(app);
    let (observed, account) = futures::try_join!(observe(aws, app), async {
        aws.account_id().await.map_err(Error::from)
    })?;
    let tags = app_tags(app, &ops::owner(), &ops::now_rfc3339());
    let printer = &session.printer;
    let mut resources = Vec::new();

    // The build's role: what `gc --yes` needs, scoped to the app.
    let cluster = cfg.cluster_name();
    let task_roles: Vec<String> = [
        Some(
            cfg.config
                .roles
                .execution_role_arn
                .clone()
                .unwrap_or_else(|| {
                    format!(
                        "arn:{}:iam::{account}:role/{}",
                        partition(&aws.region),
                        naming::execution_role(app)
                    )
                }),
        ),
        // Hook tasks run with the env's task role: the user's, or bootstrap's for ECS Exec.
        cfg.config.roles.task_role_arn.clone().or_else(|| {
            cfg.config.exec.enabled.then(|| {
                format!(
                    "arn:{}:iam::{account}:role/{}",
                    partition(&aws.region),
                    naming::task_role(app)
                )
            })
        }),
    ]
    .into_iter()
    .flatten()
    .collect();
    let scope = PolicyScope {
        partition: partition(&aws.region),
        region: &aws.region,
        account: &account,
        app,
        cluster: &cluster,
        previews: cfg.config.preview.enabled,
        one_off_tasks: !cfg.config.hooks.before_destroy.is_empty() || cfg.config.database.is_some(),
        database: cfg.config.database.is_some(),
        task_roles: task_roles.clone(),
        codecommit_repo: source
            .codecommit_repo
            .as_ref()
            .map(|(r, n)| (r.as_str(), n.as_str())),
    };
    let build_role_new = observed.build_role.is_none();
    if build_role_new {
        printer.status(format!(
            "  + create IAM role {name} (CodeBuild: what `envctl gc --yes` needs for app {app})"
        ));
    }
    let before = writes(aws);
    let build_role = aws
        .ensure_service_role(
            &name,
            "codebuild.amazonaws.com",
            BUILD_POLICY,
            &build_role_policy(&scope),
            &tags,
        )
        .await?;
    resources.push(role_report(
        "CodeBuild role",
        &name,
        build_role_new,
        writes(aws) > before,
    ));

    // The project.
    let spec = ProjectSpec {
        name: name.clone(),
        description: format!(
            "envctl janitor for app {app}: runs `envctl gc --yes` when EventBridge rule {name} fires"
        ),
        service_role_arn: build_role.arn.clone(),
        image: j.image(),
        compute_type: j.compute_type.clone(),
        environment_type: j.environment_type().to_string(),
        source_type: source.source_type.to_string(),
        source_location: source.location.clone(),
        source_version: Some(j.branch.clone()),
        buildspec,
        environment: Default::default(),
        privileged: false,
        timeout_minutes: if j.install_command.trim().is_empty() {
            BUILD_TIMEOUT_MINUTES
        } else {
            BUILD_TIMEOUT_MINUTES_CUSTOM_INSTALL
        },
        cache: Default::default(),
        tags: tags.clone(),
    };
    let (project_arn, project_state) = match &observed.project {
        None => {
            printer.status(format!(
                "  + create CodeBuild project {name} ({} {}, branch {})",
                spec.source_type, spec.source_location, j.branch
            ));
            (
                create_project(session, aws, &spec, build_role_new).await?,
                State::Created,
            )
        }
        Some(p) if project_differs(p, &spec) => {
            printer.status(format!("  ~ update CodeBuild project {name}"));
            // Keep the project's own tags (owner, created-at): UpdateProject replaces them.
            let spec = ProjectSpec {
                tags: p.tags.clone(),
                ..spec
            };
            (aws.update_project(&spec).await?, State::Updated)
        }
        Some(p) => (p.arn.clone(), State::Exists),
    };
    resources.push(ResourceReport {
        resource: "CodeBuild project".into(),
        name: name.clone(),
        state: project_state,
    });

    // The role EventBridge starts the build with.
    let events_role_new = observed.events_role.is_none();
    if events_role_new {
        printer.status(format!(
            "  + create IAM role {events_role_name} (EventBridge: codebuild:StartBuild on {name})"
        ));
    }
    let before = writes(aws);
    let events_role = aws
        .ensure_service_role(
            &events_role_name,
            "events.amazonaws.com",
            EVENTS_POLICY,
            &events_role_policy(&project_arn),
            &tags,
        )
        .await?;
    resources.push(role_report(
        "events role",
        &events_role_name,
        events_role_new,
        writes(aws) > before,
    ));

    // The rule. PutRule is an upsert: only sent when the rule is missing or differs.
    let description = format!("envctl janitor for app {app}: starts CodeBuild project {name}");
    let rule_state = match &observed.rule {
        None => {
            printer.status(format!(
                "  + create EventBridge rule {name} ({})",
                j.schedule
            ));
            aws.put_rule(&name, &j.schedule, &description, &tags)
                .await?;
            State::Created
        }
        Some(r)
            if r.schedule_expression.as_deref() != Some(j.schedule.as_str())
                || r.state != "ENABLED" =>
        {
            printer.status(format!(
                "  ~ update EventBridge rule {name} ({}, enabled)",
                j.schedule
            ));
            // Its own tags: put_rule tags whatever differs, and created-at would.
            aws.put_rule(&name, &j.schedule, &description, &r.tags)
                .await?;
            State::Updated
        }
        Some(_) => State::Exists,
    };
    resources.push(ResourceReport {
        resource: "EventBridge rule".into(),
        name: name.clone(),
        state: rule_state,
    });

    // The target: the project, started as the events role.
    let target = RuleTarget {
        id: TARGET_ID.into(),
        arn: project_arn,
        role_arn: Some(events_role.arn),
    };
    let current = match &observed.rule {
        None => None,
        Some(_) => aws
            .list_targets(&name)
            .await?
            .into_iter()
            .find(|t| t.id == TARGET_ID),
    };
    let target_state = match current {
        Some(t) if t == target => State::Exists,
        other => {
            printer.status(format!(
                "  {} rule target {TARGET_ID} -> {name}",
                if other.is_some() { "~ update" } else { "+ add" }
            ));
            aws.put_target(&name, &target).await?;
            if other.is_some() {
                State::Updated
            } else {
                State::Created
            }
        }
    };
    resources.push(ResourceReport {
        resource: "rule target".into(),
        name: TARGET_ID.into(),
        state: target_state,
    });

    let report = JanitorReport {
        app: app.to_string(),
        region: aws.region.clone(),
        schedule: Some(j.schedule.clone()),
        resources,
    };
    if report.changed() {
        printer.status(format!(
            "The janitor runs `envctl gc --yes` on {}; after it fires, read its build logs: \
             aws logs tail /aws/codebuild/{name} --region {}",
            j.schedule, aws.region
        ));
    } else {
        printer.status(format!(
            "Nothing to do: the janitor of app `{app}` is installed in {}.",
            aws.region
        ));
    }
    Ok(report)
}

fn role_report(kind: &str, name: &str, created: bool, wrote: bool) -> ResourceReport {
    ResourceReport {
        resource: kind.into(),
        name: name.into(),
        state: match (created, wrote) {
            (true, _) => State::Created,
            (false, true) => State::Updated,
            (false, false) => State::Exists,
        },
    }
}

/// CreateProject, retried while a role created in this run is not yet assumable: CodeBuild
/// checks that it can assume the role and answers InvalidInputException until IAM has
/// propagated it. Any other failure, or one with an older role, is returned at once.
async fn create_project(
    session: &Session,
    aws: &Aws,
    spec: &ProjectSpec,
    role_is_new: bool,
) -> Result<String> {
    let deadline = Instant::now() + ROLE_PROPAGATION;
    let mut delay = Duration::from_secs(2);
    loop {
        match aws.create_project(spec).await {
            Ok(arn) => return Ok(arn),
            Err(e)
                if role_is_new
                    && e.code.as_deref() == Some("InvalidInputException")
                    && Instant::now() + delay < deadline =>
            {
                session.printer.status(format!(
                    "    CodeBuild cannot use the new role yet ({}); retrying in {}s",
                    e.message,
                    delay.as_secs()
                ));
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(15));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

pub async fn uninstall(session: &Session, overrides: &[Override]) -> Result<JanitorReport> {
    let cfg = session.load_config(overrides)?;
    let app = cfg.config.app.as_str();
    let aws = session.aws(Some(&cfg)).await?;
    let name = naming::janitor(app);
    let events_role_name = naming::janitor_events_role(app);
    // Refuses before deleting anything when one of the names is someone else's.
    let observed = observe(aws, app).await?;
    let printer = &session.printer;
    let mut resources = Vec::new();
    let mut report = |kind: &str, name: &str, present: bool| {
        resources.push(ResourceReport {
            resource: kind.into(),
            name: name.into(),
            state: if present {
                State::Deleted
            } else {
                State::Absent
            },
        })
    };

    // The rule first (targets, then the rule), so nothing starts a build that is going away.
    if observed.rule.is_some() {
        printer.status(format!(
            "  - delete EventBridge rule {name} and its targets"
        ));
        aws.delete_rule(&name).await?;
    }
    report("EventBridge rule", &name, observed.rule.is_some());
    if observed.project.is_some() {
        printer.status(format!("  - delete CodeBuild project {name}"));
        aws.delete_project(&name).await?;
    }
    report("CodeBuild project", &name, observed.project.is_some());
    if observed.events_role.is_some() {
        printer.status(format!("  - delete IAM role {events_role_name}"));
        aws.delete_role(&events_role_name).await?;
    }
    report(
        "events role",
        &events_role_name,
        observed.events_role.is_some(),
    );
    if observed.build_role.is_some() {
        printer.status(format!("  - delete IAM role {name}"));
        aws.delete_role(&name).await?;
    }
    report("CodeBuild role", &name, observed.build_role.is_some());

    let report = JanitorReport {
        app: app.to_string(),
        region: aws.region.clone(),
        schedule: None,
        resources,
    };
    if !report.changed() {
        printer.status(format!(
            "Nothing to remove: app `{app}` has no janitor in {}.",
            aws.region
        ));
    }
    Ok(report)
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

    #[test]
    fn project_differs_only_in_managed_fields() {
        let spec = ProjectSpec {
            name: "envctl-shop-janitor".into(),
            description: "d".into(),
            service_role_arn: "arn:aws:iam::1:role/envctl-shop-janitor".into(),
            image: "aws/codebuild/standard:7.0".into(),
            compute_type: "BUILD_GENERAL1_SMALL".into(),
            environment_type: "ARM_CONTAINER".into(),
            source_type: "GITHUB".into(),
            source_location: "https://github.com/acme/shop.git".into(),
            source_version: Some("main".into()),
            buildspec: "version: 0.2\n".into(),
            environment: Default::default(),
            privileged: false,
            timeout_minutes: 30,
            cache: Default::default(),
            tags: Tags::new(),
        };
        let state = ProjectState {
            name: spec.name.clone(),
            arn: "arn".into(),
            buildspec: spec.buildspec.clone(),
            source_type: spec.source_type.clone(),
            source_location: spec.source_location.clone(),
            source_version: spec.source_version.clone(),
            image: spec.image.clone(),
            compute_type: spec.compute_type.clone(),
            environment_type: spec.environment_type.clone(),
            service_role_arn: spec.service_role_arn.clone(),
            environment: Default::default(),
            cache: Default::default(),
            tags: Tags::from([("owner".to_string(), "someone".to_string())]),
        };
        assert!(!project_differs(&state, &spec));
        let changed = ProjectState {
            source_version: Some("develop".into()),
            ..state.clone()
        };
        assert!(project_differs(&changed, &spec));
        let changed = ProjectState {
            environment_type: "LINUX_CONTAINER".into(),
            ..state.clone()
        };
        assert!(project_differs(&changed, &spec));
        let changed = ProjectState {
            buildspec: "version: 0.2\n# edited\n".into(),
            ..state
        };
        assert!(project_differs(&changed, &spec));
    }
}
