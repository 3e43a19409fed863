//! `janitor install|uninstall`: observe the janitor's resources, plan with `crate::janitor`
//! (pure: what is wanted, what differs, in which order), then apply the plan step by step and
//! report. `--plan` stops after the plan. Nothing is written while a name is someone else's.

use std::time::{Duration, Instant};

use crate::aws::sts::partition;
use crate::aws::{Aws, AwsError};
use crate::config::{
    self, parse_source, ConfigError, GitSource, JanitorConfig, LoadedConfig, Override,
};
use crate::error::{Error, Result};
use crate::janitor::buildspec::{context, render_buildspec, BUILDSPEC_TEMPLATE};
use crate::janitor::{
    self, JanitorAction, JanitorPlan, JanitorReport, Observed, Place, BUILD_POLICY, EVENTS_POLICY,
    TARGET_ID,
};
use crate::model::{app_ownership, app_tags, Ownership, ProjectSpec};
use crate::naming;
use crate::ops::{self, Session};
use crate::plan::{Conflict, Verb};
use crate::render::RenderError;

/// How long a new role may take to become assumable by CodeBuild (IAM is eventually consistent).
const ROLE_PROPAGATION: Duration = Duration::from_secs(90);

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

/// The janitor's resources as found under its names, read concurrently.
async fn observe(aws: &Aws, app: &str) -> Result<Observed> {
    let name = naming::janitor(app);
    let events_role = naming::janitor_events_role(app);
    let (rule, targets, project, build_role, events_role) = futures::try_join!(
        aws.describe_rule(&name),
        // Empty when the rule does not exist.
        aws.list_targets(&name),
        aws.describe_project(&name),
        aws.service_role(&name, BUILD_POLICY),
        aws.service_role(&events_role, EVENTS_POLICY),
    )?;
    Ok(Observed {
        build_role,
        project,
        events_role,
        target: targets.into_iter().find(|t| t.id == TARGET_ID),
        rule,
    })
}

/// What `install` would do; reads only.
pub async fn plan_install(session: &Session, overrides: &[Override]) -> Result<JanitorPlan> {
    Ok(observe_and_plan_install(session, overrides).await?.0)
}

async fn observe_and_plan_install<'s>(
    session: &'s Session,
    overrides: &[Override],
) -> Result<(JanitorPlan, &'s Aws)> {
    let Inputs {
        cfg,
        source,
        template_name,
        template,
    } = inputs(session, overrides)?;
    let app = cfg.config.app.as_str();
    // Connecting resolves configuration only; the first request is below the render.
    let aws = session.aws(Some(&cfg)).await?;
    let buildspec = render_buildspec(
        &template_name,
        &template,
        &context(app, &aws.region, &cfg.config.janitor, &source),
    )?;
    let (observed, account) = futures::try_join!(observe(aws, app), async {
        aws.account_id().await.map_err(Error::from)
    })?;
    let place = Place {
        partition: partition(&aws.region).to_string(),
        region: aws.region.clone(),
        account,
    };
    let tags = app_tags(app, &ops::owner(), &ops::now_rfc3339());
    let desired = janitor::desired(&cfg, &source, buildspec, &place, tags);
    Ok((janitor::plan_install(&desired, &observed), aws))
}

pub async fn install(session: &Session, overrides: &[Override]) -> Result<JanitorReport> {
    let (plan, aws) = observe_and_plan_install(session, overrides).await?;
    apply(session, aws, &plan).await?;
    let report = plan.report();
    let printer = &session.printer;
    if report.changed() {
        printer.status(format!(
            "The janitor runs `envctl gc --yes` on {}; after it fires, read its build logs: \
             aws logs tail /aws/codebuild/{} --region {}",
            plan.schedule.as_deref().unwrap_or_default(),
            naming::janitor(&plan.app),
            plan.region
        ));
    } else {
        printer.status(format!(
            "Nothing to do: the janitor of app `{}` is installed in {}.",
            plan.app, plan.region
        ));
    }
    Ok(report)
}

/// What `uninstall` would delete; reads only.
pub async fn plan_uninstall(session: &Session, overrides: &[Override]) -> Result<JanitorPlan> {
    Ok(observe_and_plan_uninstall(session, overrides).await?.0)
}

async fn observe_and_plan_uninstall<'s>(
    session: &'s Session,
    overrides: &[Override],
) -> Result<(JanitorPlan, &'s Aws)> {
    let cfg = session.load_config(overrides)?;
    let app = cfg.config.app.as_str();
    let aws = session.aws(Some(&cfg)).await?;
    let observed = observe(aws, app).await?;
    Ok((janitor::plan_uninstall(app, &aws.region, &observed), aws))
}

pub async fn uninstall(session: &Session, overrides: &[Override]) -> Result<JanitorReport> {
    let (plan, aws) = observe_and_plan_uninstall(session, overrides).await?;
    apply(session, aws, &plan).await?;
    let report = plan.report();
    if !report.changed() {
        session.printer.status(format!(
            "Nothing to remove: app `{}` has no janitor in {}.",
            plan.app, plan.region
        ));
    }
    Ok(report)
}

/// Runs the plan's steps in order, each only after the one before it succeeded; refuses before
/// the first write when a name is someone else's.
async fn apply(session: &Session, aws: &Aws, plan: &JanitorPlan) -> Result<()> {
    if !plan.conflicts.is_empty() {
        return Err(Error::Conflicts(plan.conflicts.clone()));
    }
    for action in &plan.actions {
        let mark = match action.verb() {
            Verb::Create => '+',
            Verb::Update => '~',
            Verb::Delete => '-',
        };
        session
            .printer
            .status(format!("  {mark} {}", action.describe()));
        step(session, aws, &plan.app, action).await?;
    }
    Ok(())
}

async fn step(session: &Session, aws: &Aws, app: &str, action: &JanitorAction) -> Result<()> {
    match action {
        JanitorAction::CreateRole { role, tags, .. } => {
            let created = match aws
                .create_service_role(&role.name, role.trusted_service, tags)
                .await?
            {
                Some(created) => created,
                // Created by someone else since it was observed: go on only with a role that
                // is the app's (the next run checks its trust policy).
                None => {
                    let found = aws.get_role(&role.name).await?.ok_or_else(|| {
                        AwsError::unexpected(
                            "iam:CreateRole",
                            &role.name,
                            "role exists but GetRole cannot find it",
                        )
                    })?;
                    let owner = app_ownership(&found.tags, app);
                    if owner != Ownership::Ours {
                        return Err(Error::Conflicts(vec![Conflict {
                            kind: "IAM role".into(),
                            name: role.name.clone(),
                            owner,
                        }]));
                    }
                    found
                }
            };
            expect_arn("iam:CreateRole", &role.name, &created.arn, &role.arn)
        }
        JanitorAction::UpdateTrustPolicy { role, .. } => Ok(aws
            .put_trust_policy(&role.name, role.trusted_service)
            .await?),
        JanitorAction::PutRolePolicy {
            role,
            policy_name,
            document,
            ..
        } => Ok(aws.put_role_policy(role, policy_name, document).await?),
        JanitorAction::CreateProject {
            spec,
            arn,
            role_is_new,
        } => {
            let created = create_project(session, aws, spec, *role_is_new).await?;
            expect_arn("codebuild:CreateProject", &spec.name, &created, arn)
        }
        JanitorAction::UpdateProject { spec, .. } => {
            aws.update_project(spec).await?;
            Ok(())
        }
        JanitorAction::CreateRule { rule, tags } | JanitorAction::UpdateRule { rule, tags, .. } => {
            aws.put_rule(&rule.name, &rule.schedule, &rule.description, tags)
                .await?;
            Ok(())
        }
        JanitorAction::PutTarget { rule, target, .. } => Ok(aws.put_target(rule, target).await?),
        JanitorAction::DeleteRule { name } => Ok(aws.delete_rule(name).await?),
        JanitorAction::DeleteProject { name } => Ok(aws.delete_project(name).await?),
        JanitorAction::DeleteRole { name, .. } => Ok(aws.delete_role(name).await?),
    }
}

/// The plan named later resources by the ARN AWS gives a new one (policies, the rule's target);
/// a different answer would leave them pointing elsewhere, so it stops the run. The next run
/// plans with the ARN AWS reported.
fn expect_arn(action: &str, name: &str, got: &str, planned: &str) -> Result<()> {
    if got == planned {
        return Ok(());
    }
    Err(AwsError::unexpected(
        action,
        name,
        format!("reply has ARN {got}, expected {planned}; run the command again to use it"),
    )
    .into())
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
