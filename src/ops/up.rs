//! `render`, `plan` and `up`: config → render → observe → plan → apply → wait.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::apply::{self, Applied};
use crate::config::{LoadedConfig, Override};
use crate::error::{Error, Result};
use crate::model::HookKind;
use crate::model::TAG_AFTER_CREATE_PENDING;
use crate::model::{ActualEnv, DesiredEnv};
use crate::naming::EnvName;
use crate::observe;
use crate::ops::hooks::{self, HookContext};
use crate::ops::{self, build, database, wait, Session};
use crate::plan::{self, Action, Plan, TaskDefRef, SERVICES_PHASE};
use crate::render::{self, EnvOptions, RenderRequest};
use crate::schedule;

/// Which env and what to change about it, as the command line gave it (`cli` fills it in).
#[derive(Debug, Clone, Default)]
pub struct EnvRequest {
    /// The env name; the current git branch when `None`.
    pub env: Option<String>,
    /// `--set key=value`, applied to the config before validation.
    pub overrides: Vec<Override>,
    /// `--image SERVICE=URI` flags, checked by `prepare`.
    pub images: Vec<String>,
    pub ttl: Option<String>,
    pub protect: bool,
    pub always_on: bool,
}

/// Everything validated before the first AWS call: config, overrides, env name, image flags.
pub struct Prepared {
    pub config: LoadedConfig,
    pub env: EnvName,
    pub images: std::collections::BTreeMap<String, String>,
    pub options: EnvOptions,
}

pub fn prepare(session: &Session, args: &EnvRequest) -> Result<Prepared> {
    let env = ops::resolve_env(args.env.as_deref())?;
    let config = session.load_config(&args.overrides)?;
    let images = ops::image_overrides(&args.images)?;
    for key in images.keys() {
        if !config.config.services.contains_key(key) {
            return Err(Error::invalid(
                format!(
                    "--image names service `{key}`, which {} does not define",
                    config.path.display()
                ),
                Some(format!("services are: {}", config.config.service_keys())),
            ));
        }
    }
    if let Some(ttl) = &args.ttl {
        schedule::parse_duration_spec(ttl)
            .map_err(|m| Error::invalid(format!("--ttl: {m}"), None))?;
    }
    let options = EnvOptions {
        now: jiff::Timestamp::now(),
        ttl: args.ttl.clone(),
        protect: args.protect,
        always_on: args.always_on,
    };
    Ok(Prepared {
        config,
        env,
        images,
        options,
    })
}

/// Reads facts and parameters, then renders the env (reads only).
pub async fn render(session: &Session, p: &Prepared) -> Result<DesiredEnv> {
    let aws = session.aws(Some(&p.config)).await?;
    let (facts, params) = session
        .reading(observe::facts_and_params(aws, &p.config, &p.env.slug))
        .await?;
    render_with(p, &facts, params)
}

/// The pure step between observing and planning (`validate` runs it on placeholder facts).
pub fn render_with(
    p: &Prepared,
    facts: &render::Facts,
    mut params: render::Params,
) -> Result<DesiredEnv> {
    render::without_database_params(&p.config.config, &mut params);
    let env_vars = ops::process_env();
    let desired = render::render_env(&RenderRequest {
        config: &p.config,
        env: &p.env,
        identity: ops::identity(&p.config.config.app, &p.env),
        facts,
        params: &params,
        images: &p.images,
        env_vars: &env_vars,
        options: &p.options,
    })?;
    // Everything that writes from a rendered model comes through here: what AWS would reject
    // half-way through an apply is an input error before the first write.
    crate::validate::desired_env(
        &desired,
        &crate::validate::Sources {
            config: &p.config,
            images: &p.images,
            region: &facts.region,
        },
    )?;
    Ok(desired)
}

/// Reads everything `plan` compares (facts, parameters and the env, together: see
/// `observe::for_up`), then renders. Fails when the app is not bootstrapped.
pub async fn observe_and_render(
    session: &Session,
    p: &Prepared,
) -> Result<(DesiredEnv, ActualEnv)> {
    let inputs = observe_env(session, p).await?;
    let desired = render_observed(p, &inputs)?;
    Ok((desired, inputs.actual))
}

/// Everything a plan of the env compares, in one observe (reads only).
async fn observe_env(session: &Session, p: &Prepared) -> Result<observe::UpInputs> {
    let aws = session.aws(Some(&p.config)).await?;
    session
        .reading(observe::for_up(aws, &p.config, &p.env.slug))
        .await
}

/// Renders from what was observed (pure); fails when the app is not bootstrapped.
fn render_observed(p: &Prepared, inputs: &observe::UpInputs) -> Result<DesiredEnv> {
    let desired = render_with(p, &inputs.facts, inputs.params.clone())?;
    if inputs.actual.cluster.is_none() {
        return Err(observe::not_bootstrapped(&desired.cluster));
    }
    Ok(desired)
}

pub async fn plan(session: &Session, p: &Prepared) -> Result<(DesiredEnv, Plan)> {
    let (desired, plan, _) = plan_observed(session, p).await?;
    Ok((desired, plan))
}

/// `plan`, also returning what was observed (the services `up` then need not read again).
pub async fn plan_observed(
    session: &Session,
    p: &Prepared,
) -> Result<(DesiredEnv, Plan, ActualEnv)> {
    let (desired, actual) = observe_and_render(session, p).await?;
    let plan = plan::plan_up(&desired, &actual);
    Ok((desired, plan, actual))
}

/// `envctl build`: one observe and render of the env, whose plan's repository steps the builds
/// apply before pushing.
pub async fn build(
    session: &Session,
    p: &Prepared,
    opts: &build::BuildOptions,
) -> Result<Vec<build::BuiltImage>> {
    build::check_services(&p.config, &opts.services)?;
    let inputs = observe_env(session, p).await?;
    let desired = render_observed(p, &inputs)?;
    let plan = plan::plan_up(&desired, &inputs.actual);
    let target = build::BuildTarget {
        config: &p.config,
        env: &p.env,
        plan: &plan,
    };
    build::build_images(session, &target, opts).await
}

#[derive(Debug, Clone, Serialize)]
pub struct UpReport {
    /// Images built (or found in ECR) before deploying.
    pub builds: Vec<build::BuiltImage>,
    /// Preview URLs by service key.
    pub urls: BTreeMap<String, String>,
    pub app: String,
    pub env: String,
    pub branch: String,
    pub plan: Plan,
    pub applied: Applied,
    pub services: Vec<wait::ServiceReport>,
}

pub struct UpOptions {
    /// Build images first (services with a `build` table); `None` with `--no-build`.
    pub build: Option<build::BuildOptions>,
    pub wait: bool,
    pub wait_timeout: Duration,
    pub poll_interval: Duration,
}

pub async fn up(session: &Session, p: &Prepared, opts: &UpOptions) -> Result<UpReport> {
    if opts.build.is_none() {
        if let Some(k) = p
            .config
            .config
            .services
            .iter()
            .find(|(k, s)| s.build.is_some() && !p.images.contains_key(*k))
            .map(|(k, _)| k)
        {
            return Err(Error::invalid(
                format!("--no-build: service `{k}` is built by envctl and has no image to deploy"),
                Some(format!("pass --image {k}=URI, or drop --no-build")),
            ));
        }
    }
    // One observe for the whole command: the build step plans from it too (its repository
    // steps), and rendering again with the built images needs no new reads.
    let inputs = observe_env(session, p).await?;
    // Build what changed first: a failed build returns here, before anything is deployed.
    let mut builds = Vec::new();
    let mut applied_for_builds = Vec::new();
    let built_prepared;
    let p = match &opts.build {
        Some(b) => {
            // An explicit --image wins: that service is not built.
            let mut b = b.clone();
            if b.services.is_empty() {
                b.services = p
                    .config
                    .config
                    .services
                    .iter()
                    .filter(|(k, s)| s.build.is_some() && !p.images.contains_key(*k))
                    .map(|(k, _)| k.clone())
                    .collect();
            }
            if !b.services.is_empty() {
                let desired = render_observed(p, &inputs)?;
                let plan = plan::plan_up(&desired, &inputs.actual);
                let services: Vec<&str> = b.services.iter().map(String::as_str).collect();
                applied_for_builds =
                    build::repository_steps(&plan, &p.config.config.app, &p.env, &services)?;
                let target = build::BuildTarget {
                    config: &p.config,
                    env: &p.env,
                    plan: &plan,
                };
                builds = build::build_images(session, &target, &b).await?;
            }
            let mut images = p.images.clone();
            for img in &builds {
                images.insert(img.service.clone(), img.image_uri.clone());
            }
            built_prepared = Prepared {
                config: p.config.clone(),
                env: p.env.clone(),
                images,
                options: p.options.clone(),
            };
            &built_prepared
        }
        None => p,
    };
    let desired = render_observed(p, &inputs)?;
    let mut plan = plan::plan_up(&desired, &inputs.actual);
    // The build step created these repositories (and set their policies) already.
    drop_repository_steps(&mut plan.actions, &applied_for_builds);
    let actual = inputs.actual;
    if !plan.conflicts.is_empty() {
        return Err(Error::Conflicts(plan.conflicts.clone()));
    }
    if !plan.capacity.is_empty() {
        return Err(capacity_error(&plan));
    }
    let aws = session.aws(Some(&p.config)).await?;
    let printer = &session.printer;
    if plan.is_empty() {
        printer.status(format!("No changes: env `{}` is up to date.", plan.env));
    } else {
        let s = plan.summary();
        printer.status(format!(
            "Applying {} change(s) to env `{}` ({} create, {} update, {} delete):",
            plan.actions.len(),
            plan.env,
            s.create,
            s.update,
            s.delete
        ));
    }
    let progress = printer.progress();
    // New revisions first, then `before_deploy` hooks with them, then the services.
    let registered = apply::apply_phases(
        aws,
        &plan,
        apply::DEFAULT_CONCURRENCY,
        &progress,
        &|phase| phase < SERVICES_PHASE,
        &Applied::default(),
    )
    .await?;
    let tags = desired.identity.tags();
    // The database before the migrations that need it.
    if let Some(db) = &plan.database {
        database::run(
            aws,
            printer,
            &database::DatabaseContext {
                cluster: &desired.cluster,
                registered: &registered.registered,
                tags: &tags,
                poll: opts.poll_interval,
            },
            db,
        )
        .await?;
    }
    let hook_ctx = |registered| HookContext {
        cluster: &desired.cluster,
        registered,
        tags: &tags,
        poll: opts.poll_interval,
    };
    hooks::run_hooks(
        aws,
        printer,
        &hook_ctx(&registered.registered),
        plan.hooks_of(HookKind::BeforeDeploy),
    )
    .await?;
    let applied = apply::apply_phases(
        aws,
        &plan,
        apply::DEFAULT_CONCURRENCY,
        &progress,
        &|phase| phase >= SERVICES_PHASE,
        &registered,
    )
    .await?;
    let names: Vec<String> = desired.services.iter().map(|s| s.name.clone()).collect();
    // What observe saw of a service this run did not touch is still current: it is reported as
    // seen, and only waited for if it was not stable then. Created and updated services start
    // from what their create/update reply said.
    let (seen, to_read) = wait::split_observed(&names, &actual.services, &applied);
    let mut services = if to_read.is_empty() {
        vec![]
    } else if opts.wait {
        wait::wait_stable(
            session,
            aws,
            &desired.cluster,
            &to_read,
            &deployed_revisions(&plan, &applied),
            &applied.replies,
            opts.wait_timeout,
            opts.poll_interval,
        )
        .await?
    } else {
        wait::snapshot(aws, &desired.cluster, &to_read, &applied.replies).await?
    };
    services.extend(seen);
    services.sort_by_key(|r| names.iter().position(|n| *n == r.name));
    // Seeding after the services exist; the pending tag goes once every seed of a service
    // succeeded, so one cut off by a crash runs again on the next `up`.
    // A service another `up` of this env created meanwhile is seeded by that run.
    let seeds: Vec<_> = plan
        .hooks_of(HookKind::AfterCreate)
        .filter(|h| !applied.created_elsewhere.contains(&h.service))
        .collect();
    if !seeds.is_empty() {
        hooks::run_hooks(
            aws,
            printer,
            &hook_ctx(&applied.registered),
            seeds.iter().copied(),
        )
        .await?;
        let seeded: std::collections::BTreeSet<String> =
            seeds.iter().map(|h| h.service.clone()).collect();
        let seeded: Vec<String> = seeded.into_iter().collect();
        for s in aws.describe_services(&desired.cluster, &seeded).await? {
            aws.untag_resource(&s.arn, &[TAG_AFTER_CREATE_PENDING.to_string()])
                .await?;
        }
    }
    let urls = desired
        .services
        .iter()
        .filter_map(|s| s.preview.as_ref().map(|p| (s.key.clone(), p.url.clone())))
        .collect();
    Ok(UpReport {
        builds,
        urls,
        app: p.config.config.app.clone(),
        env: p.env.slug.as_str().to_string(),
        branch: p.env.raw.clone(),
        plan,
        applied,
        services,
    })
}

/// The revision each created or updated service was pointed at.
fn deployed_revisions(plan: &Plan, applied: &Applied) -> BTreeMap<String, String> {
    plan.actions
        .iter()
        .filter_map(|a| match a {
            Action::CreateService {
                name,
                task_definition,
                ..
            }
            | Action::UpdateService {
                name,
                task_definition,
                ..
            } => {
                let arn = match task_definition {
                    TaskDefRef::Existing(arn) => Some(arn.clone()),
                    TaskDefRef::Registered(family) => applied.registered.get(family).cloned(),
                };
                arn.map(|a| (name.clone(), a))
            }
            _ => None,
        })
        .collect()
}

/// The env would not fit on the shared ALB: nothing was created.
/// Leaves out of `actions` the repository steps in `done`, matched by step and repository rather
/// than by equality: the tags carry the time of the render, which may have moved on since.
fn drop_repository_steps(actions: &mut Vec<Action>, done: &[Action]) {
    let done: Vec<(&str, &str)> = done.iter().filter_map(repository_step).collect();
    actions.retain(|a| repository_step(a).is_none_or(|step| !done.contains(&step)));
}

/// A repository step as (what, repository), for telling the build step's from `up`'s.
fn repository_step(a: &Action) -> Option<(&'static str, &str)> {
    match a {
        Action::CreateRepository { name, .. } => Some(("create", name)),
        Action::PutLifecyclePolicy { repository, .. } => Some(("policy", repository)),
        _ => None,
    }
}

pub fn capacity_error(plan: &Plan) -> Error {
    Error::Precondition {
        message: format!("env `{}` does not fit on the preview ALB: {}", plan.env, plan.capacity.join("; ")),
        hint: "run `envctl gc` (or `envctl down` an env you no longer need) to free slots; after a rule quota increase, raise preview.max_rules".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Tags;

    fn create(name: &str, created_at: &str) -> Action {
        Action::CreateRepository {
            name: name.into(),
            tags: Tags::from([("envctl:created-at".to_string(), created_at.to_string())]),
        }
    }

    /// Regression: the build step's CreateRepository was rendered a second earlier than `up`'s,
    /// so an equality match kept it and `up` created the repository a second time.
    #[test]
    fn repository_steps_the_build_applied_are_dropped_even_with_other_tags() {
        let policy = |r: &str| Action::PutLifecyclePolicy {
            repository: r.into(),
            policy: "{}".into(),
        };
        let done = [
            create("envctl/shop/x/web", "2026-01-01T00:00:00Z"),
            policy("envctl/shop/x/web"),
        ];
        let mut actions = vec![
            create("envctl/shop/x/web", "2026-01-01T00:00:07Z"),
            policy("envctl/shop/x/web"),
            create("envctl/shop/x/api", "2026-01-01T00:00:07Z"),
        ];
        drop_repository_steps(&mut actions, &done);
        assert_eq!(
            actions,
            [create("envctl/shop/x/api", "2026-01-01T00:00:07Z")]
        );
    }
}
