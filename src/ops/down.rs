//! `down`: find everything tagged for the env and delete it; what is already gone is success.

use serde::Serialize;

use crate::apply::{self, Applied};
use crate::error::{Error, Result};
use crate::model::HookKind;
use crate::model::{ownership, HookSpec, Ownership, TAG_PROTECTED};
use crate::naming::{self, EnvName};
use crate::observe;
use crate::ops::hooks::{self, HookContext};
use crate::ops::Session;
use crate::plan::{self, Plan};

#[derive(Debug, Clone, Serialize)]
pub struct DownReport {
    pub app: String,
    pub env: String,
    pub plan: Plan,
    pub applied: Applied,
}

/// Observes and plans the teardown (reads only). A protected env (config `expiry.protected` or
/// `up --protect`) is refused unless `force`.
pub async fn plan(session: &Session, env: &EnvName, force: bool) -> Result<Plan> {
    let cfg = session.load_config(&[])?;
    let aws = session.aws(Some(&cfg)).await?;
    let names = observe::EnvNames::new(&cfg, &env.slug);
    let actual = session
        .reading(async {
            let listener = observe::any_preview_listener(aws, &cfg).await?;
            observe::env_for_down(
                aws,
                &cfg.config.app,
                &env.slug,
                &cfg.cluster_name(),
                &names.service_names(),
                listener.as_deref(),
                &names.target_groups,
            )
            .await
        })
        .await?;
    let slug = env.slug.as_str();
    let by_config = cfg
        .config
        .expiry
        .protected
        .iter()
        .any(|p| *p == env.raw || p == slug);
    let by_tag = actual
        .services
        .iter()
        .filter(|s| ownership(&s.tags, &cfg.config.app, slug) == Ownership::Ours)
        .any(|s| s.tags.get(TAG_PROTECTED).map(String::as_str) == Some("true"));
    let mut plan = plan::plan_down(&cfg.config.app, slug, &actual);
    plan.hooks = plan::plan_destroy_hooks(&destroy_hooks(&cfg, env), &actual);
    // Only an env with a database pays for the network lookup.
    let has_database = actual
        .parameters
        .iter()
        .any(|p| p.tags.contains_key(crate::database::TAG_DATABASE));
    let network = if has_database {
        let (subnets, security_groups, _) = observe::network(aws, &cfg).await?;
        crate::model::AwsVpcConfiguration {
            subnets,
            security_groups,
            assign_public_ip: Some(
                if cfg.config.network.assign_public_ip {
                    "ENABLED"
                } else {
                    "DISABLED"
                }
                .into(),
            ),
        }
    } else {
        Default::default()
    };
    match plan::plan_drop_database(&cfg.config.app, &env.slug, &actual, network) {
        Ok(Some(db)) if force => session.printer.warn(format!(
            "--force: leaving database `{}` and its role on the shared server; drop them by hand (DROP DATABASE \"{0}\" WITH (FORCE); DROP ROLE \"{0}\")",
            db.database
        )),
        Ok(db) => plan.database = db,
        Err(_) if force => session.printer.warn(
            "--force: the env's database task definition is gone; leaving its database on the shared server",
        ),
        Err(m) => {
            return Err(Error::Precondition {
                message: m,
                hint: "run `envctl up` for this env again (it registers the task definition), then `envctl down`; or `envctl down --force` to leave the database behind".into(),
            })
        }
    }
    // An env that is already gone is not protected from anything: `down` stays a success.
    if (by_config || by_tag) && !force && !plan.is_empty() {
        return Err(Error::Precondition {
            message: format!(
                "env `{slug}` is protected ({})",
                if by_config {
                    "expiry.protected in the config"
                } else {
                    "envctl:protected tag from `up --protect`"
                }
            ),
            hint: "pass --force to delete it anyway".into(),
        });
    }
    Ok(plan)
}

/// The config's `before_destroy` hooks for this env (containers resolved against the running
/// revision when planning).
fn destroy_hooks(cfg: &crate::config::LoadedConfig, env: &EnvName) -> Vec<HookSpec> {
    let c = &cfg.config;
    c.hooks
        .before_destroy
        .iter()
        .map(|h| HookSpec {
            kind: HookKind::BeforeDestroy,
            service_key: h.service.clone(),
            service: naming::service_name(&c.app, &env.slug, &h.service),
            container: h.container.clone().unwrap_or_default(),
            command: h.command.clone(),
            timeout_secs: crate::schedule::parse_duration_spec(&h.timeout)
                .ok()
                .flatten()
                .and_then(|d| u64::try_from(d.as_secs()).ok())
                .unwrap_or(1800),
        })
        .collect()
}

pub async fn apply(session: &Session, plan: Plan) -> Result<DownReport> {
    let cfg = session.load_config(&[])?;
    let aws = session.aws(Some(&cfg)).await?;
    // A failing before_destroy hook stops the teardown before anything is deleted.
    let tags = crate::model::Tags::new();
    hooks::run_hooks(
        aws,
        &session.printer,
        &HookContext {
            cluster: &cfg.cluster_name(),
            registered: &Default::default(),
            tags: &tags,
            poll: crate::ops::poll_interval(),
        },
        plan.hooks_of(HookKind::BeforeDestroy),
    )
    .await?;
    // The database goes before its URL parameter and task definition: a failed drop deletes
    // nothing, and the next `down` finds the parameter and tries again.
    if let Some(db) = &plan.database {
        crate::ops::database::run(
            aws,
            &session.printer,
            &crate::ops::database::DatabaseContext {
                cluster: &cfg.cluster_name(),
                registered: &Default::default(),
                tags: &tags,
                poll: crate::ops::poll_interval(),
            },
            db,
        )
        .await?;
    }
    let applied = apply::apply(
        aws,
        &plan,
        apply::DEFAULT_CONCURRENCY,
        &session.printer.progress(),
    )
    .await?;
    Ok(DownReport {
        app: plan.app.clone(),
        env: plan.env.clone(),
        plan,
        applied,
    })
}
