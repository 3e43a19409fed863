//! Templates → desired model. Pure: everything it needs from AWS (account, network, roles,
//! parameters) arrives as `Facts` and `Params`, so rendering is testable and repeatable.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use minijinja::{Environment, Value};
use serde::Serialize;
use serde_json::json;

use crate::config::{LoadedConfig, PreviewMode, ServiceConfig};
use crate::model::{
    AwsVpcConfiguration, ContainerDefinition, DesiredDatabase, DesiredEnv, DesiredService,
    EnvIdentity, HookSpec, LogConfiguration, LogGroupSpec, NamespaceSpec, ParameterState,
    PreviewListenerSpec, PreviewRoute, RepositorySpec, RouteMatch, SecretRef,
    ServiceConnectClientAlias, ServiceConnectConfiguration, ServiceConnectService,
    ServiceDefinition, TargetGroupSpec, TaskDefinition, TAG_SERVICE,
};
use crate::naming::{self, EnvName};

mod expiry;
mod schedules;
pub mod templates;

use expiry::expiry;
pub use expiry::rfc3339;
use schedules::schedules;

/// What render needs to know about the AWS account; looked up by `observe`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Facts {
    pub account: String,
    pub region: String,
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    pub execution_role_arn: String,
    pub task_role_arn: Option<String>,
    /// The role EventBridge Scheduler assumes to call ECS UpdateService (from `bootstrap`).
    pub scheduler_role_arn: Option<String>,
    /// The shared preview listener, when `[preview]` is enabled.
    pub preview_listener_arn: Option<String>,
    /// The VPC of the services' subnets (target groups live in it), when previews are enabled.
    pub vpc_id: Option<String>,
}

/// Per-run choices that shape the env beyond its config (`up --ttl/--protect/--always-on`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvOptions {
    /// The time this run treats as now (expiry is counted from it).
    pub now: jiff::Timestamp,
    /// `--ttl` overriding `expiry.ttl`.
    pub ttl: Option<String>,
    pub protect: bool,
    pub always_on: bool,
}

/// An env's parameters after overlaying its own path on the app's shared path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Params {
    /// `String` parameters: name → value (become container `environment`).
    pub plain: BTreeMap<String, String>,
    /// `SecureString` parameters: name → parameter ARN (become container `secrets`).
    pub secure: BTreeMap<String, String>,
    /// Name → version of every parameter: a changed secret changes no ARN, so its version is
    /// what makes the task definition change (see `params_version`).
    pub versions: BTreeMap<String, i64>,
}

impl Params {
    /// A short fingerprint of the parameters' names and versions (never their values), put on the
    /// containers as the `envctl.params-version` label by the default template: a changed
    /// SecureString then yields a new task definition revision, so new tasks read the new value.
    pub fn version(&self) -> String {
        use sha2::{Digest, Sha256};
        let text: String = self
            .versions
            .iter()
            .map(|(k, v)| format!("{k}={v};"))
            .collect();
        Sha256::digest(text.as_bytes())
            .iter()
            .take(6)
            .map(|b| format!("{b:02x}"))
            .collect()
    }
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
                out.versions.insert(name.clone(), p.version);
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
    pub options: &'a EnvOptions,
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

    let mut jinja = templates::environment();
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

    let namespace = naming::namespace(app, slug);
    let peers = service_urls(req);
    let mut services = Vec::new();
    let mut repositories = Vec::new();
    for (key, svc) in &cfg.services {
        let name = naming::service_name(app, slug, key);
        let repository = naming::repository(app, slug, key);
        let mut ctx = base_context(req, key, svc, &name, &cluster, &log_group, &repository);
        ctx["namespace"] = json!(namespace);
        ctx["services"] = peers.clone();

        let image_source = req.images.get(key).unwrap_or(&svc.image);
        let image = jinja
            .render_str(image_source, Value::from_serialize(&ctx))
            .map_err(|e| {
                let undefined = jinja
                    .template_from_str(image_source)
                    .ok()
                    .and_then(|t| undefined_variable(&e, &t, Some(image_source), &ctx, &jinja));
                // A string template has no file of its own (minijinja calls it `<string>`, line
                // 1): point at the config file and the key or flag the image came from.
                let source = if req.images.contains_key(key) {
                    format!("--image {key}=...")
                } else {
                    format!("services.{key}.image")
                };
                let what = match (&undefined, e.detail()) {
                    (Some(u), _) => format!("undefined variable `{}`", u.variable),
                    (None, Some(d)) => format!("{}: {d}", e.kind()),
                    (None, None) => e.kind().to_string(),
                };
                RenderError {
                    file: req.config.path.display().to_string(),
                    line: None,
                    service: Some(key.clone()),
                    message: format!("`{source}`: {what}"),
                    hint: Some(match undefined {
                        Some(u) => u.hint,
                        None => format!("check `{source}`; it may use template values such as {{{{ repository_uri }}}} and {{{{ slug }}}}"),
                    }),
                }
            })?;
        ctx["image"] = json!(image.trim());

        let td_path = task_definition_template(cfg, svc);
        let svc_path = service_template(cfg, svc);
        let mut task_definition: TaskDefinition = render_json(
            &mut jinja,
            req.config,
            &td_path,
            key,
            &ctx,
            "task definition",
            Some(req),
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
        let mut service: ServiceDefinition = render_json(
            &mut jinja,
            req.config,
            &svc_path,
            key,
            &ctx,
            "service definition",
            Some(req),
        )?;
        // A template that sets its own Service Connect settings keeps them.
        if service.service_connect_configuration.is_none() {
            service.service_connect_configuration = Some(service_connect(key, svc, &namespace));
        }

        let policy: serde_json::Value = render_json(
            &mut jinja,
            req.config,
            &lifecycle_path,
            key,
            &ctx,
            "lifecycle policy",
            Some(req),
        )?;
        repositories.push(RepositorySpec {
            service_key: key.clone(),
            name: repository,
            lifecycle_policy: policy.to_string(),
        });
        let preview = preview_route(req, key, svc, &task_definition)?;
        services.push(DesiredService {
            key: key.clone(),
            image: image.trim().to_string(),
            name,
            task_definition,
            service,
            preview,
        });
    }

    let schedules = schedules(req, &cluster, &services)?;
    // Whenever previews are on, not only while a service is public: an env whose last public
    // service went private must still observe the listener to remove its rule and target group.
    let preview = req
        .facts
        .preview_listener_arn
        .as_ref()
        .filter(|_| cfg.preview.enabled)
        .map(|arn| PreviewListenerSpec {
            listener_arn: arn.clone(),
            max_rules: cfg.preview.max_rules,
            max_target_groups: cfg.preview.max_target_groups,
        });
    validate_service_connect(req, &services)?;
    let hooks = hooks(req, &services)?;
    let database = database(req, &log_group);
    Ok(DesiredEnv {
        identity: req.identity.clone(),
        cluster,
        log_group: LogGroupSpec {
            name: log_group,
            retention_days: cfg.logs.retention_days,
        },
        services,
        repositories,
        schedules,
        expiry: expiry(req)?,
        preview,
        hooks,
        database,
        namespace: NamespaceSpec { name: namespace },
    })
}

/// The task definition template of a service: its own, else the app's.
pub fn task_definition_template(cfg: &crate::config::Config, svc: &ServiceConfig) -> PathBuf {
    svc.task_definition_template
        .clone()
        .unwrap_or_else(|| cfg.templates.task_definition.clone())
}

/// The service template of a service: its own, else the app's.
pub fn service_template(cfg: &crate::config::Config, svc: &ServiceConfig) -> PathBuf {
    svc.service_template
        .clone()
        .unwrap_or_else(|| cfg.templates.service.clone())
}

/// The SSM ARN of a parameter in the env's account and region.
pub fn parameter_arn(facts: &Facts, name: &str) -> String {
    ssm_parameter_arn(&facts.region, &facts.account, name)
}

/// The SSM ARN of parameter `name` (which starts with `/`).
pub fn ssm_parameter_arn(region: &str, account: &str, name: &str) -> String {
    let partition = if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    };
    format!("arn:{partition}:ssm:{region}:{account}:parameter{name}")
}

/// The env's `DATABASE_URL` parameter name.
pub fn database_url_param(app: &str, slug: &crate::naming::Slug) -> String {
    format!(
        "{}{}",
        naming::env_param_path(app, slug),
        crate::database::URL_PARAM
    )
}

/// Drops what `[database]` owns from the parameters the services get: the admin URL (a shared
/// SecureString no service should see) and `DATABASE_URL` (added per service by the render, so
/// its existence and version never change the services' task definitions).
pub fn without_database_params(cfg: &crate::config::Config, params: &mut Params) {
    let Some(d) = &cfg.database else {
        return;
    };
    let mut drop = vec![crate::database::URL_PARAM.to_string()];
    if let Some(name) = param_var_name(&naming::shared_param_path(&cfg.app), &d.admin_url_param) {
        drop.push(name);
    }
    for name in drop {
        params.plain.remove(&name);
        params.secure.remove(&name);
        params.versions.remove(&name);
    }
}

/// The database task: the pinned client image, the script as entry point, both URLs as secrets,
/// the env's log group, on-demand Fargate in the env's network.
fn database(req: &RenderRequest, log_group: &str) -> Option<DesiredDatabase> {
    let cfg = &req.config.config;
    let d = cfg.database.as_ref()?;
    let slug = &req.env.slug;
    let url_param = database_url_param(&cfg.app, slug);
    let container = ContainerDefinition {
        name: crate::database::CONTAINER.into(),
        image: d.client_image.clone(),
        essential: Some(true),
        memory: Some(512),
        entry_point: crate::database::entry_point(),
        secrets: vec![
            SecretRef {
                name: "ADMIN_URL".into(),
                value_from: parameter_arn(req.facts, &d.admin_url_param),
            },
            SecretRef {
                name: crate::database::URL_PARAM.into(),
                value_from: parameter_arn(req.facts, &url_param),
            },
        ],
        log_configuration: Some(LogConfiguration {
            log_driver: "awslogs".into(),
            options: [
                ("awslogs-group", log_group.to_string()),
                ("awslogs-region", req.facts.region.clone()),
                ("awslogs-stream-prefix", "envctl".to_string()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        }),
        ..Default::default()
    };
    let family = naming::database_family(&cfg.app, slug);
    Some(DesiredDatabase {
        name: naming::database(&cfg.app, slug),
        template: d.template.clone(),
        task_definition: TaskDefinition {
            family: family.clone(),
            cpu: Some("256".into()),
            memory: Some("512".into()),
            network_mode: Some("awsvpc".into()),
            requires_compatibilities: vec!["FARGATE".into()],
            execution_role_arn: Some(req.facts.execution_role_arn.clone()),
            container_definitions: vec![container],
            ..Default::default()
        },
        family,
        url_param,
        admin_param: d.admin_url_param.clone(),
        network: AwsVpcConfiguration {
            subnets: req.facts.subnets.clone(),
            security_groups: req.facts.security_groups.clone(),
            assign_public_ip: Some(
                if cfg.network.assign_public_ip {
                    "ENABLED"
                } else {
                    "DISABLED"
                }
                .into(),
            ),
        },
        timeout_secs: d.timeout_secs(),
        account: req.facts.account.clone(),
    })
}

/// `services.<key>` in templates: every service's ECS name, and for a service with a `port` its
/// Service Connect URL inside the env (`http://<key>:<port>`). Services without a port have no
/// `url`, so a template using one fails (see `check_service_urls`).
fn service_urls(req: &RenderRequest) -> serde_json::Value {
    let cfg = &req.config.config;
    let mut out = serde_json::Map::new();
    for (key, svc) in &cfg.services {
        let mut v = json!({ "name": naming::service_name(&cfg.app, &req.env.slug, key) });
        if let Some(port) = svc.port {
            v["port"] = json!(port);
            v["url"] = json!(format!("http://{key}:{port}"));
        }
        out.insert(key.clone(), v);
    }
    serde_json::Value::Object(out)
}

/// A service with a port offers it as `http://<key>:<port>` (its port mapping is named after
/// the key); one without is a client only. Both join the env's namespace.
fn service_connect(key: &str, svc: &ServiceConfig, namespace: &str) -> ServiceConnectConfiguration {
    ServiceConnectConfiguration {
        enabled: true,
        namespace: Some(namespace.to_string()),
        services: svc
            .port
            .map(|port| ServiceConnectService {
                port_name: key.to_string(),
                discovery_name: Some(key.to_string()),
                client_aliases: vec![ServiceConnectClientAlias {
                    port: i32::from(port),
                    dns_name: Some(key.to_string()),
                }],
            })
            .into_iter()
            .collect(),
    }
}

/// A DNS label: 1 to 63 lowercase letters, digits and '-', not starting or ending with '-'.
pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Before any AWS write: names other services resolve must be DNS labels, no two services may
/// claim one name, and each offered port must be a named port mapping of the task definition.
fn validate_service_connect(
    req: &RenderRequest,
    services: &[DesiredService],
) -> Result<(), RenderError> {
    let cfg = &req.config.config;
    let mut claimed: BTreeMap<String, String> = BTreeMap::new();
    for s in services {
        let Some(sc) = &s.service.service_connect_configuration else {
            continue;
        };
        let template = cfg
            .services
            .get(&s.key)
            .map(|c| service_template(cfg, c))
            .unwrap_or_else(|| cfg.templates.service.clone());
        let error = |message: String, hint: &str| RenderError {
            file: template.display().to_string(),
            line: None,
            service: Some(s.key.clone()),
            message,
            hint: Some(hint.to_string()),
        };
        for offered in &sc.services {
            let named = s
                .task_definition
                .container_definitions
                .iter()
                .flat_map(|c| c.port_mappings.iter())
                .any(|p| p.name.as_deref() == Some(offered.port_name.as_str()));
            if !named {
                return Err(error(
                    format!(
                        "serviceConnectConfiguration offers port `{}`, but no port mapping of the task definition has that `name`",
                        offered.port_name
                    ),
                    "name the port mapping in the task definition template (`\"name\": {{ service | tojson }}`), as the default template does",
                ));
            }
            let names = offered.discovery_name.iter().chain(
                offered
                    .client_aliases
                    .iter()
                    .filter_map(|a| a.dns_name.as_ref()),
            );
            for name in names {
                if !is_dns_label(name) {
                    return Err(error(
                        format!("`{name}` is used as a DNS name by Service Connect but is not a valid DNS label"),
                        "use 1 to 63 lowercase letters, digits and '-' (service keys are used by default)",
                    ));
                }
                if let Some(other) = claimed.insert(name.clone(), s.key.clone()) {
                    if other != s.key {
                        return Err(error(
                            format!("services `{other}` and `{}` both claim the Service Connect name `{name}`", s.key),
                            "give each service its own discoveryName and client alias dnsName",
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

/// `services.<key>.url` (or `services["<key>"].url`) in a template source, for a service that
/// has no port (no URL) or does not exist: a clear error with the file, line and variable, where
/// minijinja would only say "undefined value".
fn check_service_urls(
    source: &str,
    file: &str,
    service: &str,
    req: &RenderRequest,
) -> Result<(), RenderError> {
    let cfg = &req.config.config;
    for (at, _) in source.match_indices("services") {
        let before = source[..at].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
            continue;
        }
        let rest = &source[at + "services".len()..];
        let (key, after) = if let Some(r) = rest.strip_prefix('.') {
            let end = r
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(r.len());
            (&r[..end], &r[end..])
        } else if let Some(r) = rest.strip_prefix("[\"").or_else(|| rest.strip_prefix("['")) {
            let end = r.find(['"', '\'']).unwrap_or(r.len());
            (&r[..end], r.get(end + 2..).unwrap_or(""))
        } else {
            continue;
        };
        if key.is_empty() || !after.starts_with(".url") {
            continue;
        }
        let tail = after[".url".len()..].chars().next();
        if tail.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let line = source[..at].matches('\n').count() + 1;
        let variable = format!("services.{key}.url");
        let (message, hint) = match cfg.services.get(key) {
            Some(s) if s.port.is_some() => continue,
            Some(_) => (
                format!("`{variable}` is not defined: service `{key}` has no `port`, so other services cannot reach it"),
                format!("set services.{key}.port in {}, or remove the reference", req.config.path.display()),
            ),
            None => (
                format!("`{variable}` is not defined: there is no service `{key}`"),
                format!(
                    "services are: {}",
                    cfg.services.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            ),
        };
        return Err(RenderError {
            file: file.to_string(),
            line: Some(line),
            service: Some(service.to_string()),
            message,
            hint: Some(hint),
        });
    }
    Ok(())
}

/// The configured hooks, each resolved to its service's rendered task definition: the container
/// it runs in must exist there (the first essential one by default).
fn hooks(req: &RenderRequest, services: &[DesiredService]) -> Result<Vec<HookSpec>, RenderError> {
    let cfg = &req.config.config;
    let mut out = Vec::new();
    for (kind, h) in cfg.hooks.all() {
        let error = |message: String, hint: String| RenderError {
            file: req.config.path.display().to_string(),
            line: None,
            service: Some(h.service.clone()),
            message,
            hint: Some(hint),
        };
        let Some(svc) = services.iter().find(|s| s.key == h.service) else {
            return Err(error(
                format!(
                    "hook {kind} names service `{}`, which is not rendered",
                    h.service
                ),
                "check [[hooks]] in envctl.toml".into(),
            ));
        };
        let td = &svc.task_definition;
        let Some(container) = td.container(h.container.as_deref()) else {
            return Err(error(
                format!(
                    "hook {kind}: the task definition of `{}` has no container{}",
                    h.service,
                    h.container
                        .as_ref()
                        .map(|c| format!(" named `{c}`"))
                        .unwrap_or_default()
                ),
                format!("containers are: {}", td.container_names()),
            ));
        };
        let timeout_secs = crate::schedule::parse_duration_spec(&h.timeout)
            .ok()
            .flatten()
            .and_then(|d| u64::try_from(d.as_secs()).ok())
            .unwrap_or(1800);
        out.push(HookSpec {
            kind,
            service_key: svc.key.clone(),
            service: svc.name.clone(),
            container: container.name.clone(),
            command: h.command.clone(),
            timeout_secs,
        });
    }
    Ok(out)
}

/// A public service's target group, rule match and URL. The container is the one that maps the
/// service's port (else the first).
fn preview_route(
    req: &RenderRequest,
    key: &str,
    svc: &ServiceConfig,
    td: &TaskDefinition,
) -> Result<Option<PreviewRoute>, RenderError> {
    let cfg = &req.config.config;
    let (true, Some(port)) = (cfg.preview.enabled && svc.public, svc.port) else {
        return Ok(None);
    };
    let missing = |what: &str| RenderError {
        file: req.config.path.display().to_string(),
        line: None,
        service: Some(key.to_string()),
        message: format!("preview URLs need {what}"),
        hint: Some(
            "run `envctl bootstrap` (it creates the shared ALB), or set preview.listener_arn"
                .into(),
        ),
    };
    let vpc_id = req
        .facts
        .vpc_id
        .clone()
        .ok_or_else(|| missing("the VPC of the service's subnets"))?;
    if req.facts.preview_listener_arn.is_none() {
        return Err(missing("a listener"));
    }
    let port = i32::from(port);
    let container = td
        .container_definitions
        .iter()
        .find(|c| c.port_mappings.iter().any(|p| p.container_port == port))
        .or_else(|| td.container_definitions.first())
        .map(|c| c.name.clone())
        .unwrap_or_else(|| key.to_string());
    let slug = &req.env.slug;
    let domain = &cfg.preview.domain;
    let scheme = &cfg.preview.scheme;
    let single = cfg.services.values().filter(|s| s.public).count() == 1;
    let (route, url) = match cfg.preview.mode {
        PreviewMode::Host => {
            let host = naming::preview_host(slug, key, domain, single);
            (
                RouteMatch::Host(host.clone()),
                format!("{scheme}://{host}/"),
            )
        }
        PreviewMode::Path => {
            let prefix = if single {
                format!("/{slug}")
            } else {
                format!("/{slug}/{key}")
            };
            (
                RouteMatch::PathPrefix(format!("{prefix}/*")),
                format!("{scheme}://{domain}{prefix}/"),
            )
        }
    };
    let mut tags = req.identity.tags();
    tags.insert(TAG_SERVICE.into(), key.to_string());
    Ok(Some(PreviewRoute {
        target_group: TargetGroupSpec {
            name: naming::target_group(&cfg.app, slug, key),
            port,
            vpc_id,
            health_check_path: svc.health_check_path.clone(),
            health_check_matcher: svc.health_check_matcher.clone(),
            tags,
        },
        route,
        container_name: container,
        container_port: port,
        url,
    }))
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
    let mut secure = req.params.secure.clone();
    if cfg.database.as_ref().is_some_and(|d| d.serves(key)) {
        let url_param = database_url_param(&cfg.app, &req.env.slug);
        secure.insert(
            crate::database::URL_PARAM.into(),
            parameter_arn(facts, &url_param),
        );
    }
    let secrets: Vec<_> = secure
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
        // No `env` key: a context value would shadow the `env()` function (the slug is `slug`).
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
        "exec_enabled": cfg.exec.enabled,
        "params": req.params.plain,
        "environment": environment,
        "params_version": req.params.version(),
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
    urls_of: Option<&RenderRequest>,
) -> Result<T, RenderError> {
    load_template(jinja, config, path)?;
    let name = template_name(path);
    let tmpl = jinja
        .get_template(&name)
        .map_err(|e| jinja_error(&name, Some(service), &e, None))?;
    if let Some(req) = urls_of {
        check_service_urls(tmpl.source(), &name, service, req)?;
    }
    let text = tmpl.render(Value::from_serialize(ctx)).map_err(|e| {
        let mut err = jinja_error(
            &name,
            Some(service),
            &e,
            Some("see docs/templates.md for the variables"),
        );
        let line = e
            .line()
            .and_then(|l| tmpl.source().lines().nth(l.saturating_sub(1)));
        if let Some(u) = undefined_variable(&e, &tmpl, line, ctx, jinja) {
            err.message = format!("undefined variable `{}`", u.variable);
            err.hint = Some(u.hint);
        }
        err
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

/// An undefined variable, named, with what the user probably meant.
struct Undefined {
    variable: String,
    hint: String,
}

/// minijinja's strict mode says only "undefined value": find which variable of `tmpl` it was.
/// Candidates are the template's undeclared variables (dotted, as written) that do not resolve in
/// the context; only one written on the failing line is named, so a variable guarded elsewhere
/// (`{% if x is defined %}`) is never blamed. `None` when it cannot be told (a loop variable's
/// attribute, say): the error keeps minijinja's words.
fn undefined_variable(
    e: &minijinja::Error,
    tmpl: &minijinja::Template<'_, '_>,
    line: Option<&str>,
    ctx: &serde_json::Value,
    jinja: &Environment<'_>,
) -> Option<Undefined> {
    if e.kind() != minijinja::ErrorKind::UndefinedError {
        return None;
    }
    let line = line?;
    let globals: Vec<&str> = jinja.globals().map(|(name, _)| name).collect();
    let mut written: Vec<String> = tmpl.undeclared_variables(true).into_iter().collect();
    // Longest first: `services.web.imagee` is the culprit on a line that also reads `services`.
    written.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    written
        .iter()
        .filter(|v| !globals.contains(&v.split('.').next().unwrap_or_default()))
        .filter(|v| mentions(line, v))
        .find_map(|v| unresolved(v, ctx))
}

/// Whether `line` mentions the dotted `name` as a whole (not as part of a longer name).
fn mentions(line: &str, name: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    line.match_indices(name).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = line[at + name.len()..].chars().next();
        !before.is_some_and(|c| ident(c) || c == '.') && !after.is_some_and(ident)
    })
}

/// The first prefix of the dotted `path` that the context does not define, with a hint naming
/// the nearest defined name and what its parent holds.
fn unresolved(path: &str, ctx: &serde_json::Value) -> Option<Undefined> {
    let parts: Vec<&str> = path.split('.').collect();
    let mut at = ctx;
    for (i, part) in parts.iter().enumerate() {
        let parent = parts[..i].join(".");
        let variable = parts[..=i].join(".");
        let serde_json::Value::Object(map) = at else {
            return Some(Undefined {
                hint: format!("`{parent}` is {}, it has no `{part}`", json_kind(at)),
                variable,
            });
        };
        match map.get(*part) {
            Some(next) => at = next,
            None => {
                let keys: Vec<&str> = map.keys().map(String::as_str).collect();
                let mut hint = String::new();
                if let Some(near) = nearest(part, &keys) {
                    let near = if parent.is_empty() {
                        near.to_string()
                    } else {
                        format!("{parent}.{near}")
                    };
                    hint.push_str(&format!("did you mean `{near}`? "));
                }
                if parent.is_empty() {
                    hint.push_str("docs/templates.md lists every variable");
                } else if keys.is_empty() {
                    hint.push_str(&format!("`{parent}` is empty"));
                } else {
                    hint.push_str(&format!("`{parent}` has: {}", keys.join(", ")));
                }
                hint.push_str(
                    "; an optional value needs `{% if x is defined %}` or `x | default(...)`",
                );
                return Some(Undefined { variable, hint });
            }
        }
    }
    None
}

/// The candidate closest to `name` by edit distance, if it is close enough to be a typo.
fn nearest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(name, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "none",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "a map",
    }
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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::config::{self, Override};
    use crate::model::{CapacityProviderStrategyItem, SecretRef};

    const TD: &str = "templates/task-definition.json.j2";
    const SVC: &str = "templates/service.json.j2";
    const LIFECYCLE: &str = "templates/ecr-lifecycle.json.j2";

    const SMALL_TD: &str = r#"{
  "cpu": "{{ cpu }}",
  "memory": "{{ memory }}",
  "containerDefinitions": [
    {
      "name": {{ service | tojson }},
      "image": {{ image | tojson }},
      "environment": {{ environment | tojson }},
      "secrets": {{ secrets | tojson }}
    }
  ]
}
"#;
    const SMALL_SVC: &str = "{ \"desiredCount\": {{ count }} }\n";
    const SMALL_LIFECYCLE: &str = "{ \"rules\": [] }\n";

    fn facts() -> Facts {
        Facts {
            account: "123456789012".into(),
            region: "us-east-1".into(),
            subnets: vec!["subnet-0a".into()],
            security_groups: vec!["sg-0a".into()],
            execution_role_arn: "arn:aws:iam::123456789012:role/envctl-shop-execution".into(),
            task_role_arn: None,
            scheduler_role_arn: Some("arn:aws:iam::123456789012:role/envctl-shop-scheduler".into()),
            preview_listener_arn: None,
            vpc_id: None,
        }
    }

    fn identity() -> EnvIdentity {
        EnvIdentity {
            app: "shop".into(),
            env: "feat-x".into(),
            branch: "feat-x".into(),
            owner: "tester".into(),
            created_at: "2025-01-01T00:00:00Z".into(),
        }
    }

    /// A config and its templates in a temp dir; every input of `render_env` can be changed.
    struct Fixture {
        _dir: Option<tempfile::TempDir>,
        config: LoadedConfig,
        params: Params,
        images: BTreeMap<String, String>,
        env_vars: BTreeMap<String, String>,
    }

    impl Fixture {
        /// `config_text` in a temp dir with the small templates at their default paths.
        fn small(config_text: &str) -> Fixture {
            let dir = tempfile::tempdir().expect("temp dir");
            std::fs::create_dir_all(dir.path().join("templates")).expect("templates dir");
            let fixture = Fixture::at(dir.path().to_path_buf(), config_text, &[]);
            let f = Fixture {
                _dir: Some(dir),
                ..fixture
            };
            f.write(TD, SMALL_TD);
            f.write(SVC, SMALL_SVC);
            f.write(LIFECYCLE, SMALL_LIFECYCLE);
            f
        }

        /// `config_text` (with `--set` flags) read as if it were in `dir`.
        fn at(dir: PathBuf, config_text: &str, sets: &[&str]) -> Fixture {
            let path = dir.join("envctl.toml");
            let overrides: Vec<Override> = sets
                .iter()
                .map(|s| s.parse().expect("test override parses"))
                .collect();
            let config = config::parse(&path, config_text, &overrides).expect("test config");
            Fixture {
                _dir: None,
                config: LoadedConfig { config, path, dir },
                params: Params::default(),
                images: BTreeMap::new(),
                env_vars: BTreeMap::new(),
            }
        }

        /// The repository's own templates, with the example config.
        fn repo(sets: &[&str]) -> Fixture {
            let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(root.join("config/envctl.example.toml"))
                .expect("example config");
            Fixture::at(root, &text, sets)
        }

        fn write(&self, rel: &str, text: &str) {
            std::fs::write(self.config.dir.join(rel), text).expect("write template");
        }

        fn render(&self) -> Result<DesiredEnv, RenderError> {
            let env = naming::env_name("feat-x").expect("valid env name");
            render_env(&RenderRequest {
                config: &self.config,
                env: &env,
                identity: identity(),
                facts: &facts(),
                params: &self.params,
                images: &self.images,
                env_vars: &self.env_vars,
                options: &EnvOptions::default(),
            })
        }
    }

    const MINIMAL: &str = "app = \"shop\"\n[services.web]\nimage = \"nginx:1.27\"\n";

    fn web(d: &DesiredEnv) -> &DesiredService {
        d.services
            .iter()
            .find(|s| s.key == "web")
            .expect("web service rendered")
    }

    fn expect_err(f: &Fixture) -> RenderError {
        match f.render() {
            Ok(d) => panic!("expected a render error, got {d:?}"),
            Err(e) => e,
        }
    }

    /// Issue 13: the morning start restored `count` from config, not what the template renders.
    #[test]
    fn start_schedule_restores_the_rendered_desired_count_not_the_config_count() {
        let f = Fixture::small(MINIMAL);
        f.write(SVC, "{ \"desiredCount\": {{ count * 3 }} }\n");
        let d = f.render().expect("renders");
        assert_eq!(f.config.config.services["web"].count, 1);
        assert_eq!(web(&d).service.desired_count, 3);
        let group = d.schedules.as_ref().expect("schedules are on by default");
        let count_of = |verb: &str| {
            let name = naming::schedule_name(verb, "web");
            let s = group
                .schedules
                .iter()
                .find(|s| s.name == name)
                .unwrap_or_else(|| panic!("no {name} schedule"));
            let input: serde_json::Value = serde_json::from_str(&s.input).expect("JSON input");
            input["DesiredCount"].clone()
        };
        assert_eq!(count_of("start"), 3);
        assert_eq!(count_of("stop"), 0);
    }

    #[test]
    fn small_templates_render() {
        let d = Fixture::small(MINIMAL).render().expect("renders");
        let s = web(&d);
        assert_eq!(s.name, "shop-feat-x-web");
        assert_eq!(s.service.desired_count, 1);
        assert_eq!(s.task_definition.cpu.as_deref(), Some("256"));
        assert_eq!(
            s.task_definition.container_definitions[0].image,
            "nginx:1.27"
        );
        assert_eq!(d.log_group.name, "/envctl/shop/feat-x");
        assert_eq!(d.repositories[0].name, "envctl/shop/feat-x/web");
        assert_eq!(d.repositories[0].lifecycle_policy, r#"{"rules":[]}"#);
        assert_eq!(d.cluster, "envctl-shop");
    }

    #[test]
    fn quoted_substitution_is_not_json_escaped() {
        let f = Fixture::small(MINIMAL);
        f.write(
            TD,
            "{\n  \"cpu\": \"{{ cpu }}\",\n  \"containerDefinitions\": [{ \"name\": \"{{ service }}\", \"image\": \"{{ image }}\" }]\n}\n",
        );
        let d = f.render().expect("quoted values render as plain text");
        assert_eq!(web(&d).task_definition.container_definitions[0].name, "web");
    }

    #[test]
    fn undefined_variable_points_at_template_file_and_line() {
        let f = Fixture::small(MINIMAL);
        // Line 4 uses a variable that does not exist.
        f.write(
            TD,
            "{\n  \"cpu\": \"{{ cpu }}\",\n  \"memory\": \"{{ memory }}\",\n  \"networkMode\": \"{{ nwtwork_mode }}\",\n  \"containerDefinitions\": [{ \"name\": \"web\", \"image\": \"x\" }]\n}\n",
        );
        let e = expect_err(&f);
        assert!(Path::new(&e.file).ends_with(TD), "file: {}", e.file);
        assert_eq!(e.line, Some(4), "{e}");
        assert_eq!(e.service.as_deref(), Some("web"));
        assert!(e.message.contains("undefined"), "{e}");
        assert!(e.to_string().contains("task-definition.json.j2:4"), "{e}");
    }

    #[test]
    fn undefined_template_variable_is_named() {
        // minijinja says only "undefined value"; the error names the variable and a near name.
        let f = Fixture::small(MINIMAL);
        let td = |line3: &str| {
            format!("{{\n  \"cpu\": \"{{{{ cpu }}}}\",\n{line3}\n  \"containerDefinitions\": [{{ \"name\": \"web\", \"image\": \"x\" }}]\n}}\n")
        };
        f.write(TD, &td("  \"memory\": \"{{ memroy }}\","));
        let e = expect_err(&f);
        assert_eq!(e.line, Some(3), "{e}");
        assert_eq!(e.message, "undefined variable `memroy`");
        let hint = e.hint.clone().unwrap_or_default();
        assert!(hint.contains("did you mean `memory`?"), "{hint}");
        assert!(hint.contains("docs/templates.md"), "{hint}");

        // A nested one names the whole path and lists what its parent holds.
        f.write(TD, &td("  \"memory\": \"{{ services.web.imagee }}\","));
        let e = expect_err(&f);
        assert_eq!(e.message, "undefined variable `services.web.imagee`");
        assert!(
            e.to_string()
                .contains("task-definition.json.j2:3 (service `web`): undefined variable `services.web.imagee`"),
            "{e}"
        );
        let hint = e.hint.clone().unwrap_or_default();
        assert!(hint.contains("`services.web` has: name"), "{hint}");

        f.write(TD, &td("  \"memory\": \"{{ services.wbe.name }}\","));
        let e = expect_err(&f);
        assert_eq!(e.message, "undefined variable `services.wbe`");
        assert!(
            e.hint
                .unwrap_or_default()
                .contains("did you mean `services.web`?"),
            "names the nearest service"
        );

        // An attribute of a value that has none.
        f.write(TD, &td("  \"memory\": \"{{ app.size }}\","));
        let e = expect_err(&f);
        assert_eq!(e.message, "undefined variable `app.size`");
        assert!(e.hint.unwrap_or_default().contains("`app` is a string"));

        // A guarded optional value elsewhere is not blamed for the line that fails.
        f.write(
            TD,
            "{\n{% if vars.health is defined %}{% endif %}\n  \"memory\": \"{{ mem }}\",\n  \"containerDefinitions\": [{ \"name\": \"web\", \"image\": \"x\" }]\n}\n",
        );
        let e = expect_err(&f);
        assert_eq!(e.message, "undefined variable `mem`");

        // The image string of the config names its key.
        let f = Fixture::small("app = \"shop\"\n[services.web]\nimage = \"nginx:{{ slugg }}\"\n");
        let e = expect_err(&f);
        assert_eq!(
            e.message,
            "`services.web.image`: undefined variable `slugg`"
        );
        assert!(e.hint.unwrap_or_default().contains("did you mean `slug`?"));
    }

    #[test]
    fn undefined_variable_in_a_per_service_template_names_that_file() {
        let f = Fixture::small(&format!(
            "{MINIMAL}service_template = \"templates/web-service.json.j2\"\n"
        ));
        f.write(
            "templates/web-service.json.j2",
            "{\n  \"desiredCount\": {{ count }},\n\n  \"launchType\": \"{{ launch }}\"\n}\n",
        );
        let e = expect_err(&f);
        assert!(
            Path::new(&e.file).ends_with("templates/web-service.json.j2"),
            "{}",
            e.file
        );
        assert_eq!(e.line, Some(4), "{e}");
    }

    #[test]
    fn must_env_fails_naming_the_variable_and_returns_it_when_set() {
        let mut f = Fixture::small(MINIMAL);
        f.write(
            TD,
            "{\n  \"containerDefinitions\": [\n    { \"name\": \"web\", \"image\": {{ (\"nginx:\" ~ must_env('IMAGE_TAG')) | tojson }} }\n  ]\n}\n",
        );
        let e = expect_err(&f);
        assert!(e.message.contains("IMAGE_TAG"), "{e}");
        assert!(e.message.contains("not set"), "{e}");
        assert_eq!(e.line, Some(3), "{e}");

        f.env_vars.insert("IMAGE_TAG".into(), "v42".into());
        let d = f.render().expect("renders with IMAGE_TAG set");
        assert_eq!(
            web(&d).task_definition.container_definitions[0].image,
            "nginx:v42"
        );
    }

    #[test]
    fn env_function_is_not_shadowed_by_a_context_value() {
        let mut f = Fixture::small(MINIMAL);
        f.write(
            TD,
            "{ \"containerDefinitions\": [{ \"name\": \"web\", \"image\": {{ (\"nginx:\" ~ env('TAG', 'latest')) | tojson }} }] }\n",
        );
        let d = f.render().expect("renders");
        assert_eq!(
            web(&d).task_definition.container_definitions[0].image,
            "nginx:latest"
        );
        f.env_vars.insert("TAG".into(), "v1".into());
        let d = f.render().expect("renders");
        assert_eq!(
            web(&d).task_definition.container_definitions[0].image,
            "nginx:v1"
        );
    }

    #[test]
    fn unknown_key_in_rendered_json_is_named_with_its_rendered_line() {
        let f = Fixture::small(MINIMAL);
        f.write(
            TD,
            "{\n  \"cpu\": \"{{ cpu }}\",\n  \"memroy\": \"{{ memory }}\",\n  \"containerDefinitions\": [{ \"name\": \"web\", \"image\": \"x\" }]\n}\n",
        );
        let e = expect_err(&f);
        assert!(Path::new(&e.file).ends_with(TD), "{}", e.file);
        assert!(e.message.contains("memroy"), "{e}");
        assert!(e.message.contains("rendered line 3"), "{e}");
        // The quoted line is the rendered text, with the value filled in.
        assert!(e.message.contains(r#""memroy": "512""#), "{e}");
        assert!(e.message.contains("task definition"), "{e}");
    }

    #[test]
    fn unknown_key_in_service_template_is_rejected() {
        let f = Fixture::small(MINIMAL);
        f.write(
            SVC,
            "{\n  \"desiredCount\": {{ count }},\n  \"serviceName\": \"x\"\n}\n",
        );
        let e = expect_err(&f);
        assert!(e.message.contains("serviceName"), "{e}");
        assert!(e.message.contains("rendered line 3"), "{e}");
        assert!(e.message.contains("service definition"), "{e}");
    }

    #[test]
    fn invalid_json_is_reported_with_its_rendered_line() {
        let f = Fixture::small(MINIMAL);
        // A trailing comma, as a `{% if %}` block easily leaves behind.
        f.write(
            TD,
            "{\n  \"containerDefinitions\": [{ \"name\": \"web\", \"image\": \"x\" }],\n}\n",
        );
        let e = expect_err(&f);
        assert!(e.message.contains("not valid"), "{e}");
        assert!(e.message.contains("rendered line 3"), "{e}");
    }

    #[test]
    fn overlay_lets_env_win_and_moves_secure_params_to_secrets() {
        let p = |name: &str, secure: bool, value: Option<&str>| ParameterState {
            name: name.into(),
            arn: format!("arn:aws:ssm:us-east-1:123456789012:parameter{name}"),
            secure,
            version: 1,
            value: value.map(str::to_string),
            tags: Default::default(),
        };
        let shared = [
            p("/envctl/shop/shared/LOG_LEVEL", false, Some("info")),
            p(
                "/envctl/shop/shared/DB_URL",
                false,
                Some("postgres://shared"),
            ),
            p("/envctl/shop/shared/db/HOST", false, Some("db.internal")),
            p("/envctl/shop/shared/API_KEY", true, None),
            p("/envctl/shop/shared/9LIVES", false, Some("ignored")),
        ];
        let env = [
            p("/envctl/shop/env/feat-x/LOG_LEVEL", false, Some("debug")),
            p("/envctl/shop/env/feat-x/DB_URL", true, None),
            p("/envctl/shop/env/feat-x/API_KEY", false, Some("plain-now")),
        ];
        let out = Params::overlay(
            "/envctl/shop/shared/",
            &shared,
            "/envctl/shop/env/feat-x/",
            &env,
        );
        let plain: Vec<(&str, &str)> = out
            .plain
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            plain,
            [
                ("API_KEY", "plain-now"),
                ("LOG_LEVEL", "debug"),
                ("db_HOST", "db.internal"),
            ]
        );
        assert_eq!(
            out.secure.get("DB_URL").map(String::as_str),
            Some("arn:aws:ssm:us-east-1:123456789012:parameter/envctl/shop/env/feat-x/DB_URL")
        );
        assert_eq!(out.secure.len(), 1);
    }

    #[test]
    fn secure_params_render_as_secrets_with_their_arn() {
        let mut f = Fixture::small(MINIMAL);
        f.params.plain.insert("LOG_LEVEL".into(), "debug".into());
        let arn = "arn:aws:ssm:us-east-1:123456789012:parameter/envctl/shop/env/feat-x/DB_URL";
        f.params.secure.insert("DB_URL".into(), arn.into());
        let d = f.render().expect("renders");
        let c = &web(&d).task_definition.container_definitions[0];
        assert_eq!(
            c.secrets,
            [SecretRef {
                name: "DB_URL".into(),
                value_from: arn.into()
            }]
        );
        assert_eq!(c.environment.len(), 1);
        assert_eq!(c.environment[0].name, "LOG_LEVEL");
        assert_eq!(c.environment[0].value, "debug");
    }

    #[test]
    fn image_flag_wins_over_config_and_may_use_template_values() {
        let mut f = Fixture::small(MINIMAL);
        f.images
            .insert("web".into(), "{{ repository_uri }}:{{ slug }}".into());
        let d = f.render().expect("renders");
        assert_eq!(
            web(&d).task_definition.container_definitions[0].image,
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/envctl/shop/feat-x/web:feat-x"
        );
    }

    #[test]
    fn image_template_error_names_the_config_file_not_string() {
        let f = Fixture::small("app = \"shop\"\n[services.web]\nimage = \"nginx:{{ tag }}\"\n");
        let e = expect_err(&f);
        assert_eq!(e.file, f.config.path.display().to_string());
        assert_eq!(e.line, None);
        assert!(e.message.contains("services.web.image"), "{e}");
        assert!(!e.to_string().contains("<string>"), "{e}");

        let mut f = Fixture::small(MINIMAL);
        f.images.insert("web".into(), "nginx:{{ tag }}".into());
        let e = expect_err(&f);
        assert_eq!(e.file, f.config.path.display().to_string());
        assert!(e.message.contains("--image web="), "{e}");
    }

    #[test]
    fn image_flag_for_an_unknown_service_is_an_error() {
        let mut f = Fixture::small(MINIMAL);
        f.images.insert("api".into(), "nginx".into());
        let e = expect_err(&f);
        assert_eq!(e.service.as_deref(), Some("api"));
        assert!(
            e.hint.as_deref().is_some_and(|h| h.contains("web")),
            "{e:?}"
        );
    }

    #[test]
    fn envctl_sets_the_family_and_rejects_another() {
        let f = Fixture::small(MINIMAL);
        let d = f.render().expect("renders");
        assert_eq!(web(&d).task_definition.family, "shop-feat-x-web");

        f.write(
            TD,
            "{ \"family\": \"shop-feat-x-web\", \"containerDefinitions\": [{ \"name\": \"web\", \"image\": \"x\" }] }\n",
        );
        f.render().expect("the family envctl would set is accepted");

        f.write(
            TD,
            "{ \"family\": \"mine\", \"containerDefinitions\": [{ \"name\": \"web\", \"image\": \"x\" }] }\n",
        );
        let e = expect_err(&f);
        assert!(e.message.contains("`mine`"), "{e}");
        assert!(e.message.contains("shop-feat-x-web"), "{e}");
    }

    #[test]
    fn empty_container_list_is_rejected() {
        let f = Fixture::small(MINIMAL);
        f.write(TD, "{ \"containerDefinitions\": [] }\n");
        let e = expect_err(&f);
        assert!(e.message.contains("containerDefinitions"), "{e}");
    }

    #[test]
    fn missing_template_names_the_full_path() {
        let f = Fixture::small(MINIMAL);
        std::fs::remove_file(f.config.dir.join(SVC)).expect("remove");
        let e = expect_err(&f);
        assert_eq!(e.file, f.config.dir.join(SVC).display().to_string());
        assert!(e.message.contains("cannot read template"), "{e}");
    }

    fn strategy(d: &DesiredEnv) -> Vec<(String, i32, i32)> {
        web(d)
            .service
            .capacity_provider_strategy
            .iter()
            .map(
                |CapacityProviderStrategyItem {
                     capacity_provider,
                     weight,
                     base,
                 }| { (capacity_provider.clone(), *weight, *base) },
            )
            .collect()
    }

    #[test]
    fn repo_templates_run_on_fargate_spot_by_default() {
        let d = Fixture::repo(&[]).render().expect("repo templates render");
        assert_eq!(strategy(&d), [("FARGATE_SPOT".to_string(), 1, 0)]);
        assert_eq!(web(&d).service.launch_type, None);
    }

    #[test]
    fn repo_templates_run_on_fargate_without_spot() {
        let d = Fixture::repo(&["services.web.spot=false"])
            .render()
            .expect("renders");
        assert_eq!(strategy(&d), [("FARGATE".to_string(), 1, 0)]);
    }

    #[test]
    fn repo_templates_put_the_on_demand_base_on_fargate() {
        let d = Fixture::repo(&["services.web.count=3", "services.web.on_demand_base=2"])
            .render()
            .expect("renders");
        assert_eq!(
            strategy(&d),
            [
                ("FARGATE".to_string(), 0, 2),
                ("FARGATE_SPOT".to_string(), 1, 0)
            ]
        );
        assert_eq!(web(&d).service.desired_count, 3);
    }

    #[test]
    fn repo_templates_render_the_whole_env() {
        let d = Fixture::repo(&[]).render().expect("renders");
        let s = web(&d);
        let td = &s.task_definition;
        assert_eq!(td.network_mode.as_deref(), Some("awsvpc"));
        assert_eq!(td.requires_compatibilities, ["FARGATE"]);
        assert_eq!(td.task_role_arn, None);
        assert_eq!(
            td.execution_role_arn.as_deref(),
            Some("arn:aws:iam::123456789012:role/envctl-shop-execution")
        );
        let c = &td.container_definitions[0];
        assert_eq!(c.image, "public.ecr.aws/nginx/nginx:1.27-alpine");
        assert_eq!(c.port_mappings[0].container_port, 80);
        let log = c.log_configuration.as_ref().expect("awslogs");
        assert_eq!(log.options["awslogs-group"], "/envctl/shop/feat-x");
        let net = &s
            .service
            .network_configuration
            .as_ref()
            .expect("network")
            .awsvpc_configuration;
        assert_eq!(net.subnets, ["subnet-0a"]);
        assert_eq!(net.assign_public_ip.as_deref(), Some("ENABLED"));
        let policy: serde_json::Value =
            serde_json::from_str(&d.repositories[0].lifecycle_policy).expect("policy is JSON");
        assert_eq!(policy["rules"][1]["selection"]["countNumber"], 10);
    }

    #[test]
    fn repo_service_template_turns_ecs_exec_on_from_the_config() {
        let on = Fixture::repo(&[]).render().expect("renders");
        assert_eq!(web(&on).service.enable_execute_command, Some(true));
        let off = Fixture::repo(&["exec.enabled=false"])
            .render()
            .expect("renders");
        assert_eq!(web(&off).service.enable_execute_command, Some(false));
    }
}
