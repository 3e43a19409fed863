//! Templates → desired model. Pure: everything it needs from AWS (account, network, roles,
//! parameters) arrives as `Facts` and `Params`, so rendering is testable and repeatable.

use std::collections::BTreeMap;
use std::path::Path;

use minijinja::{Environment, UndefinedBehavior, Value};
use serde::Serialize;
use serde_json::json;

use crate::config::{LoadedConfig, ServiceConfig};
use crate::model::{
    DesiredEnv, DesiredService, EnvIdentity, LogGroupSpec, ParameterState, RepositorySpec,
    ServiceDefinition, TaskDefinition,
};
use crate::naming::{self, EnvName};

/// What render needs to know about the AWS account; looked up by `observe`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Facts {
    pub account: String,
    pub region: String,
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    pub execution_role_arn: String,
    pub task_role_arn: Option<String>,
}

/// An env's parameters after overlaying its own path on the app's shared path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Params {
    /// `String` parameters: name → value (become container `environment`).
    pub plain: BTreeMap<String, String>,
    /// `SecureString` parameters: name → parameter ARN (become container `secrets`).
    pub secure: BTreeMap<String, String>,
}

impl Params {
    /// Overlays `env` on `shared` (the env wins). A parameter's variable name is its path below
    /// the prefix, with `/` turned into `_`.
    pub fn overlay(
        shared_prefix: &str,
        shared: &[ParameterState],
        env_prefix: &str,
        env: &[ParameterState],
    ) -> Params {
        let mut out = Params::default();
        for (prefix, list) in [(shared_prefix, shared), (env_prefix, env)] {
            for p in list {
                let Some(name) = param_var_name(prefix, &p.name) else {
                    continue;
                };
                out.plain.remove(&name);
                out.secure.remove(&name);
                if p.secure {
                    out.secure.insert(name, p.arn.clone());
                } else if let Some(v) = &p.value {
                    out.plain.insert(name, v.clone());
                }
            }
        }
        out
    }
}

/// `/envctl/shop/env/x/DB_URL` below `/envctl/shop/env/x/` is `DB_URL`.
pub fn param_var_name(prefix: &str, full: &str) -> Option<String> {
    let rel = full.strip_prefix(prefix)?.trim_start_matches('/');
    let name = rel.replace('/', "_");
    is_env_var_name(&name).then_some(name)
}

pub fn is_env_var_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A template problem, located by file (and service and line when known).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default(), service.as_ref().map(|s| format!(" (service `{s}`)")).unwrap_or_default())]
pub struct RenderError {
    pub file: String,
    pub line: Option<usize>,
    pub service: Option<String>,
    pub message: String,
    pub hint: Option<String>,
}

pub struct RenderRequest<'a> {
    pub config: &'a LoadedConfig,
    pub env: &'a EnvName,
    pub identity: EnvIdentity,
    pub facts: &'a Facts,
    pub params: &'a Params,
    /// `--image web=URI` overrides by service key.
    pub images: &'a BTreeMap<String, String>,
    /// The process environment, for `must_env` / `env` in templates.
    pub env_vars: &'a BTreeMap<String, String>,
}

/// Renders every template of the env into the desired model.
pub fn render_env(req: &RenderRequest) -> Result<DesiredEnv, RenderError> {
    let cfg = &req.config.config;
    let app = cfg.app.as_str();
    let slug = &req.env.slug;
    for key in req.images.keys() {
        if !cfg.services.contains_key(key) {
            return Err(RenderError {
                file: req.config.path.display().to_string(),
                line: None,
                service: Some(key.clone()),
                message: format!("--image names service `{key}`, which the config does not define"),
                hint: Some(format!(
                    "services are: {}",
                    cfg.services.keys().cloned().collect::<Vec<_>>().join(", ")
                )),
            });
        }
    }

    let mut jinja = Environment::new();
    jinja.set_undefined_behavior(UndefinedBehavior::Strict);
    jinja.set_keep_trailing_newline(true);
    let vars = req.env_vars.clone();
    jinja.add_function(
        "must_env",
        move |name: String| -> Result<String, minijinja::Error> {
            vars.get(&name).cloned().ok_or_else(|| {
                minijinja::Error::new(
                    minijinja::ErrorKind::InvalidOperation,
                    format!("environment variable `{name}` is not set (must_env)"),
                )
            })
        },
    );
    let vars = req.env_vars.clone();
    jinja.add_function(
        "env",
        move |name: String, default: Option<String>| -> String {
            vars.get(&name).cloned().or(default).unwrap_or_default()
        },
    );

    let log_group = naming::log_group(app, slug);
    let cluster = req.config.cluster_name();
    let lifecycle_path = cfg.ecr.lifecycle_policy.clone();
    load_template(&mut jinja, req.config, &lifecycle_path)?;

    let mut services = Vec::new();
    let mut repositories = Vec::new();
    for (key, svc) in &cfg.services {
        let name = naming::service_name(app, slug, key);
        let repository = naming::repository(app, slug, key);
        let mut ctx = base_context(req, key, svc, &name, &cluster, &log_group, &repository);

        let image_source = req.images.get(key).unwrap_or(&svc.image);
        let image = jinja
            .render_str(image_source, Value::from_serialize(&ctx))
            .map_err(|e| {
                jinja_error(
                    &req.config.path.display().to_string(),
                    Some(key),
                    &e,
                    Some("check `image` in the config"),
                )
            })?;
        ctx["image"] = json!(image.trim());

        let td_path = svc
            .task_definition_template
            .clone()
            .unwrap_or_else(|| cfg.templates.task_definition.clone());
        let svc_path = svc
            .service_template
            .clone()
            .unwrap_or_else(|| cfg.templates.service.clone());
        let mut task_definition: TaskDefinition = render_json(
            &mut jinja,
            req.config,
            &td_path,
            key,
            &ctx,
            "task definition",
        )?;
        if !task_definition.family.is_empty() && task_definition.family != name {
            return Err(RenderError {
                file: td_path.display().to_string(),
                line: None,
                service: Some(key.clone()),
                message: format!(
                    "`family` is `{}`, but envctl names it `{name}`",
                    task_definition.family
                ),
                hint: Some("remove `family` from the template; envctl sets it".into()),
            });
        }
        task_definition.family = name.clone();
        if task_definition.container_definitions.is_empty() {
            return Err(RenderError {
                file: td_path.display().to_string(),
                line: None,
                service: Some(key.clone()),
                message: "`containerDefinitions` is empty".into(),
                hint: Some("define at least one container".into()),
            });
        }
        let service: ServiceDefinition = render_json(
            &mut jinja,
            req.config,
            &svc_path,
            key,
            &ctx,
            "service definition",
        )?;

        let policy: serde_json::Value = render_json(
            &mut jinja,
            req.config,
            &lifecycle_path,
            key,
            &ctx,
            "lifecycle policy",
        )?;
        repositories.push(RepositorySpec {
            service_key: key.clone(),
            name: repository,
            lifecycle_policy: policy.to_string(),
        });
        services.push(DesiredService {
            key: key.clone(),
            name,
            task_definition,
            service,
        });
    }

    Ok(DesiredEnv {
        identity: req.identity.clone(),
        cluster,
        log_group: LogGroupSpec {
            name: log_group,
            retention_days: cfg.logs.retention_days,
        },
        services,
        repositories,
    })
}

#[allow(clippy::too_many_arguments)]
fn base_context(
    req: &RenderRequest,
    key: &str,
    svc: &ServiceConfig,
    name: &str,
    cluster: &str,
    log_group: &str,
    repository: &str,
) -> serde_json::Value {
    let cfg = &req.config.config;
    let facts = req.facts;
    let environment: Vec<_> = req
        .params
        .plain
        .iter()
        .map(|(k, v)| json!({"name": k, "value": v}))
        .collect();
    let secrets: Vec<_> = req
        .params
        .secure
        .iter()
        .map(|(k, arn)| json!({"name": k, "valueFrom": arn}))
        .collect();
    let mut vars = serde_json::to_value(&cfg.vars).unwrap_or_default();
    if let (Some(all), Ok(serde_json::Value::Object(own))) =
        (vars.as_object_mut(), serde_json::to_value(&svc.vars))
    {
        all.extend(own);
    }
    json!({
        "app": cfg.app,
        "env": req.env.slug.as_str(),
        "slug": req.env.slug.as_str(),
        "branch": req.env.raw,
        "service": key,
        "account": facts.account,
        "region": facts.region,
        "cluster": cluster,
        "log_group": log_group,
        "repository": repository,
        "repository_uri": format!("{}.dkr.ecr.{}.amazonaws.com/{}", facts.account, facts.region, repository),
        "names": { "service": name, "family": name, "cluster": cluster, "log_group": log_group, "repository": repository },
        "cpu": svc.cpu,
        "memory": svc.memory,
        "count": svc.count,
        "port": svc.port,
        "command": svc.command,
        "spot": svc.spot,
        "capacity_provider_strategy": capacity_provider_strategy(svc),
        "network": {
            "subnets": facts.subnets,
            "security_groups": facts.security_groups,
            "assign_public_ip": if cfg.network.assign_public_ip { "ENABLED" } else { "DISABLED" },
        },
        "execution_role_arn": facts.execution_role_arn,
        "task_role_arn": facts.task_role_arn,
        "params": req.params.plain,
        "environment": environment,
        "secrets": secrets,
        "vars": vars,
        "max_images": cfg.ecr.max_images,
        "untagged_expire_days": cfg.ecr.untagged_expire_days,
        "image": serde_json::Value::Null,
    })
}

/// FARGATE_SPOT by default; `on_demand_base` tasks first go to on-demand FARGATE.
pub fn capacity_provider_strategy(svc: &ServiceConfig) -> serde_json::Value {
    if !svc.spot {
        return json!([{"capacityProvider": "FARGATE", "weight": 1, "base": 0}]);
    }
    if svc.on_demand_base > 0 {
        json!([
            {"capacityProvider": "FARGATE", "weight": 0, "base": svc.on_demand_base},
            {"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}
        ])
    } else {
        json!([{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}])
    }
}

fn template_name(path: &Path) -> String {
    path.display().to_string()
}

fn load_template(
    jinja: &mut Environment<'static>,
    config: &LoadedConfig,
    path: &Path,
) -> Result<(), RenderError> {
    let name = template_name(path);
    if jinja.get_template(&name).is_ok() {
        return Ok(());
    }
    let full = config.resolve(path);
    let source = std::fs::read_to_string(&full).map_err(|e| RenderError {
        file: full.display().to_string(),
        line: None,
        service: None,
        message: format!("cannot read template: {e}"),
        hint: Some(
            "run `envctl init` to write the default templates, or fix the path in envctl.toml"
                .into(),
        ),
    })?;
    jinja
        .add_template_owned(name.clone(), source)
        .map_err(|e| jinja_error(&name, None, &e, None))
}

fn render_json<T: serde::de::DeserializeOwned>(
    jinja: &mut Environment<'static>,
    config: &LoadedConfig,
    path: &Path,
    service: &str,
    ctx: &serde_json::Value,
    what: &str,
) -> Result<T, RenderError> {
    load_template(jinja, config, path)?;
    let name = template_name(path);
    let tmpl = jinja
        .get_template(&name)
        .map_err(|e| jinja_error(&name, Some(service), &e, None))?;
    let text = tmpl.render(Value::from_serialize(ctx)).map_err(|e| {
        jinja_error(
            &name,
            Some(service),
            &e,
            Some("see docs/templates.md for the variables"),
        )
    })?;
    serde_json::from_str(&text).map_err(|e| {
        let line_text = text.lines().nth(e.line().saturating_sub(1)).unwrap_or("").trim();
        RenderError {
            file: name.clone(),
            line: None,
            service: Some(service.to_string()),
            message: format!(
                "the rendered {what} is not valid: {e} (rendered line {}: `{line_text}`)",
                e.line()
            ),
            hint: Some(format!("run `envctl render` to see the rendered {what}; see docs/templates.md for accepted keys")),
        }
    })
}

fn jinja_error(
    file: &str,
    service: Option<&str>,
    e: &minijinja::Error,
    hint: Option<&str>,
) -> RenderError {
    let mut message = e.to_string();
    if let Some(detail) = e.detail() {
        if !message.contains(detail) {
            message = format!("{message}: {detail}");
        }
    }
    RenderError {
        file: e
            .name()
            .map(str::to_string)
            .unwrap_or_else(|| file.to_string()),
        line: e.line(),
        service: service.map(str::to_string),
        message,
        hint: hint.map(str::to_string),
    }
}
