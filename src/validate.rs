//! Checks of the rendered model against what AWS accepts, run after render and before the first
//! write: a task size Fargate does not run, a `bridge` network, an image reference with a space,
//! a name over a service's limit. Without them such input passes every local check and AWS
//! rejects it half-way through an apply, after the log group, repositories and namespace exist.
//! Pure: the model in, the first problem out, located by file (or config key) and service.
//!
//! The rules are AWS's documented limits (ECS RegisterTaskDefinition / CreateService, ECR, SSM,
//! EventBridge Scheduler, ELBv2); moto enforces almost none of them.

use std::collections::BTreeMap;

use crate::config::{fargate_size_error, LoadedConfig};
use crate::model::{
    ContainerDefinition, DesiredDatabase, DesiredEnv, DesiredService, ServiceDefinition,
    TaskDefinition,
};
use crate::render::{self, RenderError};

/// What is wrong and how to fix it; the caller says where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub message: String,
    pub hint: String,
}

type Check = Result<(), Problem>;

fn problem(message: impl Into<String>, hint: impl Into<String>) -> Problem {
    Problem {
        message: message.into(),
        hint: hint.into(),
    }
}

/// Where the rendered model came from, so that a problem names the file or key to fix.
pub struct Sources<'a> {
    pub config: &'a LoadedConfig,
    /// `--image SERVICE=URI` flags by service key.
    pub images: &'a BTreeMap<String, String>,
    /// SSM counts a parameter name's length with its ARN, which holds the region.
    pub region: &'a str,
}

/// Every check of the rendered env; the first problem, as an input error.
pub fn desired_env(env: &DesiredEnv, src: &Sources) -> Result<(), RenderError> {
    let cfg = &src.config.config;
    let config_file = src.config.path.display().to_string();
    let at = |file: &str, service: Option<&str>, p: Problem| RenderError {
        file: file.to_string(),
        line: None,
        service: service.map(str::to_string),
        message: p.message,
        hint: Some(p.hint),
    };
    names(env).map_err(|p| at(&config_file, None, p))?;
    for s in &env.services {
        let Some(svc_cfg) = cfg.services.get(&s.key) else {
            continue;
        };
        let td_file = render::task_definition_template(cfg, svc_cfg)
            .display()
            .to_string();
        let svc_file = render::service_template(cfg, svc_cfg).display().to_string();
        let key = Some(s.key.as_str());
        let fargate = on_fargate(&s.service, &s.task_definition);
        let built_later = svc_cfg.build.is_some() && !src.images.contains_key(&s.key);
        images(s, built_later).map_err(|(from_input, p)| {
            if from_input {
                let source = match src.images.get(&s.key) {
                    Some(flag) => format!("`--image {}={flag}`", s.key),
                    None => format!("`services.{}.image`", s.key),
                };
                at(
                    &config_file,
                    key,
                    problem(format!("{source}: {}", p.message), p.hint),
                )
            } else {
                at(&td_file, key, p)
            }
        })?;
        task_definition(&s.task_definition, fargate).map_err(|p| at(&td_file, key, p))?;
        service(&s.service, &s.task_definition, fargate).map_err(|p| at(&svc_file, key, p))?;
        preview(s).map_err(|p| at(&config_file, key, p))?;
    }
    if let Some(db) = &env.database {
        database(db, src.region).map_err(|p| at(&config_file, None, p))?;
    }
    Ok(())
}

/// Whether the service's tasks run on Fargate: its launch type or capacity providers say so,
/// or it names neither (the cluster default, FARGATE_SPOT for envctl's cluster) and the task
/// definition does not ask for something else.
pub fn on_fargate(svc: &ServiceDefinition, td: &TaskDefinition) -> bool {
    if let Some(lt) = &svc.launch_type {
        return lt == "FARGATE";
    }
    if !svc.capacity_provider_strategy.is_empty() {
        return svc
            .capacity_provider_strategy
            .iter()
            .all(|c| c.capacity_provider == "FARGATE" || c.capacity_provider == "FARGATE_SPOT");
    }
    td.requires_compatibilities.is_empty()
        || td.requires_compatibilities.iter().any(|c| c == "FARGATE")
}

const TD: &str = "rendered task definition";
const SVC: &str = "rendered service definition";

/// The sizes Fargate runs, for hints.
pub const FARGATE_SIZES: &str = "Fargate sizes (cpu: memory MiB): 256: 512, 1024, 2048; 512: 1024-4096; 1024: 2048-8192; 2048: 4096-16384; 4096: 8192-30720 (steps of 1024); 8192: 16384-61440 (steps of 4096); 16384: 32768-122880 (steps of 8192); see docs/configuration.md#fargate-cpu-and-memory";

/// Task-level settings and every container of a task definition.
pub fn task_definition(td: &TaskDefinition, fargate: bool) -> Check {
    for c in &td.requires_compatibilities {
        one_of(
            c,
            &["EC2", "FARGATE", "EXTERNAL", "MANAGED_INSTANCES"],
            &format!("{TD}: `requiresCompatibilities`"),
        )?;
    }
    if fargate && !td.requires_compatibilities.iter().any(|c| c == "FARGATE") {
        return Err(problem(
            format!(
                "{TD}: `requiresCompatibilities` is [{}], but the service runs on Fargate (FARGATE / FARGATE_SPOT capacity); ECS would not start it",
                td.requires_compatibilities.join(", ")
            ),
            "set `\"requiresCompatibilities\": [\"FARGATE\"]` (the default template does)",
        ));
    }
    if let Some(mode) = &td.network_mode {
        one_of(
            mode,
            &["awsvpc", "bridge", "host", "none"],
            &format!("{TD}: `networkMode`"),
        )?;
    }
    if fargate && td.network_mode.as_deref() != Some("awsvpc") {
        return Err(problem(
            format!(
                "{TD}: `networkMode` is {}, but Fargate runs only `awsvpc`",
                td.network_mode
                    .as_deref()
                    .map(|m| format!("`{m}`"))
                    .unwrap_or_else(|| "not set (ECS's default is `bridge`)".into())
            ),
            "set `\"networkMode\": \"awsvpc\"` (the default template does)",
        ));
    }
    let cpu = match &td.cpu {
        Some(text) => Some(cpu_units(text).ok_or_else(|| {
            problem(
                format!("{TD}: `cpu` is `{text}`, not CPU units (`256`) or vCPUs (`0.25 vCPU`)"),
                FARGATE_SIZES,
            )
        })?),
        None => None,
    };
    let memory = match &td.memory {
        Some(text) => Some(memory_mib(text).ok_or_else(|| {
            problem(
                format!("{TD}: `memory` is `{text}`, not MiB (`512`) or GB (`1 GB`)"),
                FARGATE_SIZES,
            )
        })?),
        None => None,
    };
    if fargate {
        let (Some(cpu), Some(memory)) = (cpu, memory) else {
            return Err(problem(
                format!("{TD}: Fargate needs task-level `cpu` and `memory`"),
                "set `\"cpu\": \"{{ cpu }}\"` and `\"memory\": \"{{ memory }}\"` (the default template does)",
            ));
        };
        if let Some(e) = fargate_size_error(cpu, memory) {
            return Err(problem(format!("{TD}: {e}"), FARGATE_SIZES));
        }
        let windows = td
            .runtime_platform
            .as_ref()
            .and_then(|p| p.operating_system_family.as_deref())
            .is_some_and(|f| f.starts_with("WINDOWS"));
        if windows && cpu < 1024 {
            return Err(problem(
                format!("{TD}: cpu = {cpu} is too small for Windows on Fargate"),
                "Windows tasks on Fargate need at least 1024 CPU units (1 vCPU)",
            ));
        }
    }
    if td
        .container_definitions
        .iter()
        .all(|c| c.essential == Some(false))
    {
        return Err(problem(
            format!("{TD}: no container is essential"),
            "ECS needs at least one container with `\"essential\": true` (the default)",
        ));
    }
    let mut seen: Vec<&str> = Vec::new();
    let mut port_names: Vec<&str> = Vec::new();
    for c in &td.container_definitions {
        if seen.contains(&c.name.as_str()) {
            return Err(problem(
                format!("{TD}: two containers are named `{}`", c.name),
                "give every container its own `name`",
            ));
        }
        seen.push(&c.name);
        container(c, td, fargate)?;
        for name in c.port_mappings.iter().filter_map(|p| p.name.as_deref()) {
            if port_names.contains(&name) {
                return Err(problem(
                    format!("{TD}: two port mappings are named `{name}`"),
                    "port mapping names must be unique within a task definition",
                ));
            }
            port_names.push(name);
        }
    }
    let sum = |f: fn(&ContainerDefinition) -> Option<i32>| -> i64 {
        td.container_definitions
            .iter()
            .filter_map(f)
            .map(i64::from)
            .sum()
    };
    if let Some(memory) = memory {
        let hard = sum(|c| c.memory);
        let reserved = sum(|c| c.memory_reservation.or(c.memory));
        if hard > i64::from(memory) || reserved > i64::from(memory) {
            return Err(problem(
                format!(
                    "{TD}: the containers ask for {} MiB, more than the task's {memory} MiB",
                    hard.max(reserved)
                ),
                "raise the task `memory`, or lower the containers' `memory` / `memoryReservation`",
            ));
        }
    }
    if let Some(cpu) = cpu {
        let asked = sum(|c| c.cpu);
        if asked > i64::from(cpu) {
            return Err(problem(
                format!(
                    "{TD}: the containers ask for {asked} CPU units, more than the task's {cpu}"
                ),
                "raise the task `cpu`, or lower the containers' `cpu`",
            ));
        }
    }
    Ok(())
}

fn container(c: &ContainerDefinition, td: &TaskDefinition, fargate: bool) -> Check {
    let what = format!("{TD}: container `{}`", c.name);
    if let Some(e) = name_error(&c.name, 255, NameChars::EcsName) {
        return Err(problem(
            format!("{TD}: container name `{}` {e}", c.name),
            "use up to 255 letters, digits, '-' and '_'",
        ));
    }
    for (field, value) in [
        ("memory", c.memory),
        ("memoryReservation", c.memory_reservation),
    ] {
        if value.is_some_and(|m| m < 6) {
            return Err(problem(
                format!("{what}: `{field}` must be at least 6 MiB"),
                "give the container at least 6 MiB, or leave the field out",
            ));
        }
    }
    if let (Some(hard), Some(soft)) = (c.memory, c.memory_reservation) {
        if soft > hard {
            return Err(problem(
                format!("{what}: `memoryReservation` {soft} is more than `memory` {hard}"),
                "the reservation (soft limit) must not exceed `memory` (hard limit)",
            ));
        }
    }
    if c.cpu.is_some_and(|v| v < 0) {
        return Err(problem(
            format!("{what}: `cpu` is negative"),
            "use 0 or more CPU units",
        ));
    }
    let awsvpc = td.network_mode.as_deref() == Some("awsvpc");
    for p in &c.port_mappings {
        port(p.container_port, &format!("{what}: `containerPort`"))?;
        if let Some(host) = p.host_port {
            if awsvpc && host != p.container_port {
                return Err(problem(
                    format!(
                        "{what}: `hostPort` {host} differs from `containerPort` {}; in `awsvpc` mode they are the same port",
                        p.container_port
                    ),
                    "leave `hostPort` out",
                ));
            }
            if !(0..=65535).contains(&host) {
                return Err(port_problem(host, &format!("{what}: `hostPort`")));
            }
        }
        if let Some(proto) = &p.protocol {
            one_of(proto, &["tcp", "udp"], &format!("{what}: `protocol`"))?;
        }
        if let Some(app) = &p.app_protocol {
            one_of(
                app,
                &["http", "http2", "grpc"],
                &format!("{what}: `appProtocol`"),
            )?;
        }
    }
    if let Some(h) = &c.health_check {
        if h.command.is_empty() {
            return Err(problem(
                format!("{what}: `healthCheck.command` is empty"),
                "e.g. [\"CMD-SHELL\", \"curl -f http://localhost/ || exit 1\"]",
            ));
        }
        for (field, value, range) in [
            ("interval", h.interval, 5..=300),
            ("timeout", h.timeout, 2..=60),
            ("retries", h.retries, 1..=10),
            ("startPeriod", h.start_period, 0..=300),
        ] {
            if let Some(v) = value.filter(|v| !range.contains(v)) {
                return Err(problem(
                    format!(
                        "{what}: `healthCheck.{field}` is {v}; ECS takes {} to {}",
                        range.start(),
                        range.end()
                    ),
                    format!("set `healthCheck.{field}` within that range, or leave it out"),
                ));
            }
        }
    }
    if let Some(t) = c.stop_timeout {
        let max = if fargate { 120 } else { i32::MAX };
        if !(0..=max).contains(&t) {
            return Err(problem(
                format!("{what}: `stopTimeout` is {t}; Fargate allows 0 to 120 seconds"),
                "Fargate Spot gives 120 s notice; the default template uses 120",
            ));
        }
    }
    if let (true, Some(log)) = (fargate, &c.log_configuration) {
        one_of(
            &log.log_driver,
            &["awslogs", "splunk", "awsfirelens"],
            &format!("{what}: `logConfiguration.logDriver` (on Fargate)"),
        )?;
    }
    for d in &c.depends_on {
        if d.container_name == c.name
            || !td
                .container_definitions
                .iter()
                .any(|o| o.name == d.container_name)
        {
            return Err(problem(
                format!(
                    "{what}: `dependsOn` names container `{}`, which is not another container of the task",
                    d.container_name
                ),
                format!("containers are: {}", td.container_names()),
            ));
        }
        one_of(
            &d.condition,
            &["START", "COMPLETE", "SUCCESS", "HEALTHY"],
            &format!("{what}: `dependsOn.condition`"),
        )?;
    }
    Ok(())
}

/// Each container's image is a reference ECS can pull. `Err((true, _))` when the bad image is the
/// service's own `image` (from `--image` or the config), `Err((false, _))` when the template
/// wrote it.
fn images(s: &DesiredService, built_later: bool) -> Result<(), (bool, Problem)> {
    for c in &s.task_definition.container_definitions {
        let from_input = !s.image.is_empty() && c.image == s.image;
        // A built service has no image until its build: `plan` renders it empty.
        if c.image.is_empty() && built_later {
            continue;
        }
        if let Some(e) = image_reference_error(&c.image) {
            let message = if from_input {
                format!("`{}` is not an image reference: {e}", c.image)
            } else {
                format!(
                    "{TD}: container `{}`: image `{}` is not an image reference: {e}",
                    c.name, c.image
                )
            };
            return Err((
                from_input,
                problem(
                    message,
                    "write [REGISTRY/]REPOSITORY[:TAG][@sha256:DIGEST], e.g. `nginx:1.27` or `{{ repository_uri }}:{{ slug }}`",
                ),
            ));
        }
    }
    Ok(())
}

/// Service settings CreateService / UpdateService would reject.
pub fn service(svc: &ServiceDefinition, td: &TaskDefinition, fargate: bool) -> Check {
    if svc.desired_count < 0 {
        return Err(problem(
            format!("{SVC}: `desiredCount` is {}", svc.desired_count),
            "use 0 or more",
        ));
    }
    if let Some(lt) = &svc.launch_type {
        one_of(
            lt,
            &["EC2", "FARGATE", "EXTERNAL", "MANAGED_INSTANCES"],
            &format!("{SVC}: `launchType`"),
        )?;
        if !svc.capacity_provider_strategy.is_empty() {
            return Err(problem(
                format!("{SVC}: both `launchType` and `capacityProviderStrategy` are set; ECS takes one"),
                "remove `launchType` (the default template uses the strategy for Fargate Spot)",
            ));
        }
    }
    let mut providers: Vec<&str> = Vec::new();
    for item in &svc.capacity_provider_strategy {
        let p = item.capacity_provider.as_str();
        if providers.contains(&p) {
            return Err(problem(
                format!(
                    "{SVC}: capacity provider `{p}` appears twice in `capacityProviderStrategy`"
                ),
                "list each capacity provider once",
            ));
        }
        providers.push(p);
        if !(0..=1000).contains(&item.weight) {
            return Err(problem(
                format!(
                    "{SVC}: `capacityProviderStrategy` weight {} of `{p}` is outside 0-1000",
                    item.weight
                ),
                "use a weight from 0 to 1000",
            ));
        }
        if !(0..=100_000).contains(&item.base) {
            return Err(problem(
                format!(
                    "{SVC}: `capacityProviderStrategy` base {} of `{p}` is outside 0-100000",
                    item.base
                ),
                "use a base from 0 to 100000",
            ));
        }
    }
    if svc
        .capacity_provider_strategy
        .iter()
        .filter(|c| c.base > 0)
        .count()
        > 1
    {
        return Err(problem(
            format!("{SVC}: more than one capacity provider has a `base`"),
            "ECS allows a base on one capacity provider only (envctl puts `on_demand_base` on FARGATE)",
        ));
    }
    let arm = td
        .runtime_platform
        .as_ref()
        .and_then(|p| p.cpu_architecture.as_deref())
        == Some("ARM64");
    if arm && providers.contains(&"FARGATE_SPOT") {
        return Err(problem(
            format!("{SVC}: FARGATE_SPOT runs only x86-64 tasks, and the task definition asks for ARM64"),
            "set `spot = false` for the service, or `\"cpuArchitecture\": \"X86_64\"` in the task definition template",
        ));
    }
    if let Some(p) = &svc.propagate_tags {
        one_of(
            p,
            &["TASK_DEFINITION", "SERVICE", "NONE"],
            &format!("{SVC}: `propagateTags`"),
        )?;
    }
    if svc.health_check_grace_period_seconds.is_some_and(|g| g < 0) {
        return Err(problem(
            format!("{SVC}: `healthCheckGracePeriodSeconds` is negative"),
            "use 0 or more seconds",
        ));
    }
    match &svc.network_configuration {
        None if td.network_mode.as_deref() == Some("awsvpc") => {
            return Err(problem(
                format!("{SVC}: no `networkConfiguration`, but the task definition uses `awsvpc`"),
                "add `networkConfiguration.awsvpcConfiguration` with `{{ network.subnets | tojson }}` (the default template does)",
            ));
        }
        None => {}
        Some(n) => {
            let a = &n.awsvpc_configuration;
            if a.subnets.is_empty() || a.subnets.len() > 16 {
                return Err(problem(
                    format!("{SVC}: `networkConfiguration` has {} subnets; ECS takes 1 to 16", a.subnets.len()),
                    "set `network.subnets` in envctl.toml (or leave it empty for the default VPC's)",
                ));
            }
            if a.security_groups.len() > 5 {
                return Err(problem(
                    format!(
                        "{SVC}: `networkConfiguration` has {} security groups; ECS takes at most 5",
                        a.security_groups.len()
                    ),
                    "list at most 5 in `network.security_groups`",
                ));
            }
            if let Some(ip) = &a.assign_public_ip {
                one_of(
                    ip,
                    &["ENABLED", "DISABLED"],
                    &format!("{SVC}: `assignPublicIp`"),
                )?;
            }
        }
    }
    if fargate && svc.network_configuration.is_none() {
        return Err(problem(
            format!("{SVC}: Fargate services need a `networkConfiguration`"),
            "add `networkConfiguration.awsvpcConfiguration` (the default template does)",
        ));
    }
    for lb in &svc.load_balancers {
        mapped_port(td, &lb.container_name, lb.container_port).map_err(|m| {
            problem(
                format!("{SVC}: `loadBalancers`: {m}"),
                "attach the container and port the task definition maps",
            )
        })?;
    }
    if let Some(sc) = &svc.service_connect_configuration {
        for alias in sc.services.iter().flat_map(|s| s.client_aliases.iter()) {
            port(
                alias.port,
                &format!("{SVC}: Service Connect client alias `port`"),
            )?;
        }
    }
    Ok(())
}

/// A public service's target group and the container port it forwards to.
fn preview(s: &DesiredService) -> Check {
    let Some(route) = &s.preview else {
        return Ok(());
    };
    port(route.container_port, &format!("services.{}.port", s.key))?;
    mapped_port(&s.task_definition, &route.container_name, route.container_port).map_err(|m| {
        problem(
            format!("preview URL of `{}`: {m}", s.key),
            format!(
                "map port {} in the task definition template (the default template maps `{{{{ port }}}}`), or set services.{}.port to a mapped port",
                route.container_port, s.key
            ),
        )
    })
}

/// The container exists and maps `port`, as ECS requires of a load balancer attachment.
fn mapped_port(td: &TaskDefinition, container: &str, port: i32) -> Result<(), String> {
    let Some(c) = td.container(Some(container)) else {
        return Err(format!(
            "the task definition has no container `{container}` (containers are: {})",
            td.container_names()
        ));
    };
    if c.port_mappings.iter().any(|p| p.container_port == port) {
        Ok(())
    } else {
        Err(format!("container `{container}` maps no port {port}"))
    }
}

/// The database task: envctl writes its definition, but the image is `database.client_image`
/// and the parameter names come from the config.
fn database(db: &DesiredDatabase, region: &str) -> Check {
    for c in &db.task_definition.container_definitions {
        if let Some(e) = image_reference_error(&c.image) {
            return Err(problem(
                format!(
                    "`database.client_image`: `{}` is not an image reference: {e}",
                    c.image
                ),
                "remove the key to use the pinned official postgres image",
            ));
        }
    }
    for (key, name) in [
        ("database.admin_url_param", db.admin_param.as_str()),
        ("the env's DATABASE_URL parameter", db.url_param.as_str()),
    ] {
        if let Some(e) = parameter_name_error(name, region) {
            return Err(problem(
                format!("{key} `{name}`: {e}"),
                "use a shorter parameter name (SSM counts at most 1011 characters with the ARN)",
            ));
        }
    }
    task_definition(&db.task_definition, true)
}

fn one_of(value: &str, allowed: &[&str], what: &str) -> Check {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(problem(
            format!("{what} is `{value}`"),
            format!("use one of: {}", allowed.join(", ")),
        ))
    }
}

fn port(p: i32, what: &str) -> Check {
    if (1..=65535).contains(&p) {
        Ok(())
    } else {
        Err(port_problem(p, what))
    }
}

fn port_problem(p: i32, what: &str) -> Problem {
    problem(
        format!("{what} {p} is not a port"),
        "use a port from 1 to 65535",
    )
}

/// Task cpu as ECS takes it: CPU units (`"256"`) or vCPUs (`"0.25 vCPU"`, `"1 vcpu"`).
pub fn cpu_units(text: &str) -> Option<u32> {
    scaled(text, "vcpu")
}

/// Task memory as ECS takes it: MiB (`"512"`) or GB (`"1 GB"`, `"2GB"`).
pub fn memory_mib(text: &str) -> Option<u32> {
    scaled(text, "gb")
}

/// A whole number, or a decimal number followed by `unit` (1024 each); nothing else.
fn scaled(text: &str, unit: &str) -> Option<u32> {
    let t = text.trim().to_ascii_lowercase();
    if let Some(n) = t.strip_suffix(unit) {
        let n = n.trim_end();
        if n.is_empty()
            || n.starts_with('.')
            || !n.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            || n.matches('.').count() > 1
        {
            return None;
        }
        let value = n.parse::<f64>().ok()? * 1024.0;
        return (value.fract() == 0.0 && value > 0.0 && value <= f64::from(u32::MAX))
            .then_some(value as u32);
    }
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok().filter(|v| *v > 0)
}

/// Why `image` is not a reference ECS (and Docker) can pull, if it is not:
/// `[REGISTRY[:PORT]/]PATH[:TAG][@DIGEST]` per the OCI distribution reference grammar, the name
/// part at most 255 characters. Hand-written: the crates that parse references bring an HTTP
/// client along.
pub fn image_reference_error(image: &str) -> Option<String> {
    if image.is_empty() {
        return Some("it is empty".into());
    }
    if let Some(c) = image.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Some(match c {
            ' ' => "it contains a space".into(),
            c => format!("it contains the character {c:?}"),
        });
    }
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    if let Some(d) = digest {
        if let Some(e) = digest_error(d) {
            return Some(e);
        }
    }
    let last_slash = rest.rfind('/');
    let (name, tag) = match rest.rfind(':') {
        Some(i) if last_slash.is_none_or(|s| i > s) => (&rest[..i], Some(&rest[i + 1..])),
        _ => (rest, None),
    };
    if let Some(t) = tag {
        let ok = !t.is_empty()
            && t.len() <= 128
            && t.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !ok {
            return Some(format!(
                "the tag `{t}` is not 1 to 128 letters, digits, '_', '.' and '-' (not starting with '.' or '-')"
            ));
        }
    }
    if name.is_empty() {
        return Some("it has no repository name".into());
    }
    if name.len() > 255 {
        return Some(format!(
            "the repository name is {} characters; at most 255",
            name.len()
        ));
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    if parts.len() > 1 {
        let first = parts[0];
        let registry = first.contains(['.', ':'])
            || first == "localhost"
            || first.chars().any(|c| c.is_ascii_uppercase());
        if registry {
            if let Some(e) = registry_error(first) {
                return Some(e);
            }
            parts.remove(0);
        }
    }
    for p in parts {
        if p.chars().any(|c| c.is_ascii_uppercase()) {
            return Some(format!("repository names are lowercase, not `{p}`"));
        }
        if !path_component_ok(p) {
            return Some(format!(
                "`{p}` is not a repository path component (lowercase letters and digits, separated by one '.', one or two '_', or '-'s)"
            ));
        }
    }
    None
}

fn registry_error(registry: &str) -> Option<String> {
    let (host, port) = match registry.rsplit_once(':') {
        Some((h, p)) if !registry.ends_with(']') => (h, Some(p)),
        _ => (registry, None),
    };
    if let Some(p) = port {
        if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Some(format!("the registry port `{p}` is not a number"));
        }
    }
    let ipv6 = host.starts_with('[')
        && host.ends_with(']')
        && host.len() > 2
        && host[1..host.len() - 1]
            .chars()
            .all(|c| c.is_ascii_hexdigit() || c == ':');
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if ipv6 || host.split('.').all(label_ok) {
        None
    } else {
        Some(format!("the registry `{registry}` is not a host name"))
    }
}

fn digest_error(d: &str) -> Option<String> {
    let bad = || {
        Some(format!(
            "the digest `{d}` is not ALGORITHM:HEX (e.g. sha256: and 64 hex digits)"
        ))
    };
    let Some((algorithm, hex)) = d.split_once(':') else {
        return bad();
    };
    let algorithm_ok = algorithm.split(['+', '.', '_', '-']).all(|part| {
        part.starts_with(|c: char| c.is_ascii_alphabetic())
            && part.chars().all(|c| c.is_ascii_alphanumeric())
    });
    let hex_ok = hex.len() >= 32 && hex.chars().all(|c| c.is_ascii_hexdigit());
    let sha256_ok = algorithm != "sha256"
        || (hex.len() == 64
            && hex
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
    if algorithm_ok && hex_ok && sha256_ok {
        None
    } else {
        bad()
    }
}

/// `[a-z0-9]+` runs separated by `.`, `_`, `__` or any number of `-`.
fn path_component_ok(p: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let b = p.as_bytes();
    let (Some(&first), Some(&last)) = (b.first(), b.last()) else {
        return false;
    };
    if !alnum(first) || !alnum(last) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &p[start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|c| c == b'-')) {
            return false;
        }
    }
    true
}

/// Which characters a kind of AWS name may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameChars {
    /// ECS clusters, services, task definition families, containers: letters, digits, '-', '_'.
    EcsName,
    /// CloudWatch Logs groups: letters, digits, '_', '-', '/', '.', '#'.
    LogGroup,
    /// EventBridge Scheduler groups and schedules: letters, digits, '-', '_', '.'.
    Scheduler,
    /// ELBv2 target groups: letters, digits, '-', not at either end.
    TargetGroup,
}

/// Why `name` is not a valid name of that kind and length, if it is not.
pub fn name_error(name: &str, max: usize, chars: NameChars) -> Option<String> {
    if name.is_empty() {
        return Some("is empty".into());
    }
    if name.len() > max {
        return Some(format!("is {} characters; at most {max}", name.len()));
    }
    let ok = |c: char| {
        c.is_ascii_alphanumeric()
            || match chars {
                NameChars::EcsName => matches!(c, '-' | '_'),
                NameChars::LogGroup => matches!(c, '_' | '-' | '/' | '.' | '#'),
                NameChars::Scheduler => matches!(c, '-' | '_' | '.'),
                NameChars::TargetGroup => c == '-',
            }
    };
    if let Some(c) = name.chars().find(|c| !ok(*c)) {
        return Some(format!("contains {c:?}"));
    }
    if chars == NameChars::TargetGroup && (name.starts_with('-') || name.ends_with('-')) {
        return Some("starts or ends with '-'".into());
    }
    None
}

/// An ECR repository name: 2 to 256 characters, lowercase path components.
pub fn repository_name_error(name: &str) -> Option<String> {
    if name.len() < 2 || name.len() > 256 {
        return Some(format!("is {} characters; ECR takes 2 to 256", name.len()));
    }
    name.split('/')
        .find(|p| !path_component_ok(p))
        .map(|p| format!("has the component `{p}`, not lowercase letters and digits separated by '.', '_' or '-'"))
}

/// SSM's longest parameter name: 1011 characters counted with the ARN before it.
pub const SSM_NAME_MAX: usize = 1011;

/// Why SSM would refuse the parameter `name` (a full path) in `region`, if it would: characters
/// outside `a-zA-Z0-9_.-/`, more than 15 levels, or more than 1011 characters counted with its
/// ARN (`arn:aws:ssm:REGION:ACCOUNT:parameter/...`; account ids are 12 digits).
pub fn parameter_name_error(name: &str, region: &str) -> Option<String> {
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/')))
    {
        return Some(format!(
            "contains {c:?}; SSM takes letters, digits, '_', '.', '-' and '/'"
        ));
    }
    let levels = name.split('/').filter(|s| !s.is_empty()).count();
    if levels > 15 {
        return Some(format!("has {levels} levels; SSM takes at most 15"));
    }
    let path = if name.starts_with('/') {
        name.to_string()
    } else {
        format!("/{name}")
    };
    let arn = render::ssm_parameter_arn(region, "123456789012", &path);
    if arn.len() > SSM_NAME_MAX {
        return Some(format!(
            "is {} characters with its ARN `{}...`; SSM takes at most {SSM_NAME_MAX}",
            arn.len(),
            &arn[..arn.len() - path.len() + 1]
        ));
    }
    None
}

/// The names envctl derives and the ones the config gives (cluster), against each service's
/// limits. The derived ones fit by construction (docs/naming.md); this keeps it so.
fn names(env: &DesiredEnv) -> Check {
    let check = |what: &str, name: &str, max: usize, chars: NameChars| -> Check {
        match name_error(name, max, chars) {
            None => Ok(()),
            Some(e) => Err(problem(
                format!("{what} `{name}` {e}"),
                "shorten the app name, service key or env name (docs/naming.md), or `cluster.name`",
            )),
        }
    };
    check("ECS cluster name", &env.cluster, 255, NameChars::EcsName)?;
    check(
        "log group name",
        &env.log_group.name,
        512,
        NameChars::LogGroup,
    )?;
    for s in &env.services {
        check("ECS service name", &s.name, 255, NameChars::EcsName)?;
        check(
            "task definition family",
            &s.task_definition.family,
            255,
            NameChars::EcsName,
        )?;
        if let Some(p) = &s.preview {
            check(
                "target group name",
                &p.target_group.name,
                32,
                NameChars::TargetGroup,
            )?;
        }
    }
    for r in &env.repositories {
        if let Some(e) = repository_name_error(&r.name) {
            return Err(problem(
                format!("ECR repository name `{}` {e}", r.name),
                "shorten the app name, service key or env name (docs/naming.md)",
            ));
        }
    }
    if let Some(g) = &env.schedules {
        check("schedule group name", &g.name, 64, NameChars::Scheduler)?;
        for s in &g.schedules {
            check("schedule name", &s.name, 64, NameChars::Scheduler)?;
        }
    }
    if env.namespace.name.len() > 1024 {
        return Err(problem(
            format!(
                "Cloud Map namespace name `{}` is over 1024 characters",
                env.namespace.name
            ),
            "shorten the app or env name",
        ));
    }
    if let Some(db) = &env.database {
        check("database task family", &db.family, 255, NameChars::EcsName)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        CapacityProviderStrategyItem, HealthCheck, NetworkConfiguration, PortMapping,
        RuntimePlatform,
    };

    #[test]
    fn fargate_sizes_in_units_and_vcpu_notation() {
        let table: &[(&str, &str, bool)] = &[
            ("256", "512", true),
            ("256", "2048", true),
            ("256", "4096", false),
            ("512", "1024", true),
            ("512", "512", false),
            ("1024", "8192", true),
            ("2048", "16384", true),
            ("4096", "30720", true),
            ("4096", "31744", false),
            ("8192", "16384", true),
            ("8192", "20480", true),
            ("8192", "17408", false),
            ("16384", "122880", true),
            ("16384", "36864", false),
            ("0.25 vCPU", "0.5 GB", true),
            ("1 vcpu", "2GB", true),
            ("2 vCPU", "4 GB", true),
            ("300", "512", false),
        ];
        for (cpu, memory, ok) in table {
            let td = TaskDefinition {
                cpu: Some(cpu.to_string()),
                memory: Some(memory.to_string()),
                network_mode: Some("awsvpc".into()),
                requires_compatibilities: vec!["FARGATE".into()],
                container_definitions: vec![container_named("web")],
                ..Default::default()
            };
            assert_eq!(
                task_definition(&td, true).is_ok(),
                *ok,
                "cpu {cpu}, memory {memory}: {:?}",
                task_definition(&td, true)
            );
        }
    }

    #[test]
    fn cpu_and_memory_notation() {
        for (text, want) in [
            ("256", Some(256)),
            (" 1024 ", Some(1024)),
            ("0.25 vCPU", Some(256)),
            (".25 vcpu", None),
            ("1vcpu", Some(1024)),
            ("abc", None),
            ("", None),
            ("-256", None),
            ("1e3", None),
            ("0", None),
            ("0.1 vCPU", None),
            ("1.2.3 vCPU", None),
        ] {
            assert_eq!(cpu_units(text), want, "{text:?}");
        }
        assert_eq!(memory_mib("0.5 GB"), Some(512));
        assert_eq!(memory_mib("2GB"), Some(2048));
        assert_eq!(memory_mib("512 MiB"), None);
    }

    fn container_named(name: &str) -> ContainerDefinition {
        ContainerDefinition {
            name: name.into(),
            image: "nginx:1.27".into(),
            ..Default::default()
        }
    }

    fn fargate_td() -> TaskDefinition {
        TaskDefinition {
            cpu: Some("256".into()),
            memory: Some("512".into()),
            network_mode: Some("awsvpc".into()),
            requires_compatibilities: vec!["FARGATE".into()],
            container_definitions: vec![container_named("web")],
            ..Default::default()
        }
    }

    /// One change to a valid definition, in the table tests.
    type Edit<T> = Box<dyn Fn(&mut T)>;

    fn message(r: Check) -> String {
        r.expect_err("a problem").message
    }

    #[test]
    fn task_definition_problems_are_named() {
        assert_eq!(task_definition(&fargate_td(), true), Ok(()));
        let cases: Vec<(Edit<TaskDefinition>, &str)> = vec![
            (Box::new(|t| t.cpu = Some("abc".into())), "`cpu` is `abc`"),
            (
                Box::new(|t| t.memory = Some("lots".into())),
                "`memory` is `lots`",
            ),
            (
                Box::new(|t| t.network_mode = Some("bridge".into())),
                "`networkMode` is `bridge`, but Fargate runs only `awsvpc`",
            ),
            (
                Box::new(|t| t.network_mode = None),
                "not set (ECS's default is `bridge`)",
            ),
            (
                Box::new(|t| t.network_mode = Some("vpc".into())),
                "`networkMode` is `vpc`",
            ),
            (
                Box::new(|t| t.requires_compatibilities = vec!["EC2".into()]),
                "`requiresCompatibilities` is [EC2]",
            ),
            (
                Box::new(|t| t.requires_compatibilities = vec!["fargate".into()]),
                "`requiresCompatibilities` is `fargate`",
            ),
            (
                Box::new(|t| t.cpu = None),
                "needs task-level `cpu` and `memory`",
            ),
            (
                Box::new(|t| t.memory = Some("4096".into())),
                "memory = 4096 does not fit cpu = 256",
            ),
            (
                Box::new(|t| t.container_definitions.push(container_named("web"))),
                "two containers are named `web`",
            ),
            (
                Box::new(|t| t.container_definitions[0].essential = Some(false)),
                "no container is essential",
            ),
            (
                Box::new(|t| t.container_definitions[0].name = "web app".into()),
                "container name `web app` contains ' '",
            ),
            (
                Box::new(|t| t.container_definitions[0].memory = Some(1024)),
                "the containers ask for 1024 MiB, more than the task's 512 MiB",
            ),
            (
                Box::new(|t| t.container_definitions[0].cpu = Some(512)),
                "512 CPU units, more than the task's 256",
            ),
            (
                Box::new(|t| t.container_definitions[0].memory_reservation = Some(4)),
                "at least 6 MiB",
            ),
            (
                Box::new(|t| t.container_definitions[0].stop_timeout = Some(300)),
                "`stopTimeout` is 300",
            ),
            (
                Box::new(|t| {
                    t.container_definitions[0].port_mappings = vec![PortMapping {
                        container_port: 70000,
                        ..Default::default()
                    }]
                }),
                "`containerPort` 70000 is not a port",
            ),
            (
                Box::new(|t| {
                    t.container_definitions[0].port_mappings = vec![PortMapping {
                        container_port: 0,
                        ..Default::default()
                    }]
                }),
                "`containerPort` 0 is not a port",
            ),
            (
                Box::new(|t| {
                    t.container_definitions[0].port_mappings = vec![PortMapping {
                        container_port: 80,
                        host_port: Some(8080),
                        ..Default::default()
                    }]
                }),
                "`hostPort` 8080 differs",
            ),
            (
                Box::new(|t| {
                    t.container_definitions[0].port_mappings = vec![PortMapping {
                        container_port: 80,
                        protocol: Some("TCP".into()),
                        ..Default::default()
                    }]
                }),
                "`protocol` is `TCP`",
            ),
            (
                Box::new(|t| {
                    t.container_definitions[0].health_check = Some(HealthCheck {
                        command: vec!["CMD".into()],
                        interval: Some(1),
                        ..Default::default()
                    })
                }),
                "`healthCheck.interval` is 1; ECS takes 5 to 300",
            ),
            (
                Box::new(|t| {
                    t.container_definitions[0].log_configuration =
                        Some(crate::model::LogConfiguration {
                            log_driver: "json-file".into(),
                            options: Default::default(),
                        })
                }),
                "`logConfiguration.logDriver` (on Fargate) is `json-file`",
            ),
            (
                Box::new(|t| {
                    t.runtime_platform = Some(RuntimePlatform {
                        cpu_architecture: None,
                        operating_system_family: Some("WINDOWS_SERVER_2022_CORE".into()),
                    })
                }),
                "too small for Windows",
            ),
        ];
        for (edit, want) in cases {
            let mut td = fargate_td();
            edit(&mut td);
            let got = message(task_definition(&td, true));
            assert!(got.contains(want), "want {want:?} in {got:?}");
        }
        // Off Fargate, a bridge network and no task size are fine.
        let mut ec2 = fargate_td();
        ec2.network_mode = Some("bridge".into());
        ec2.requires_compatibilities = vec!["EC2".into()];
        ec2.cpu = None;
        ec2.memory = None;
        assert_eq!(task_definition(&ec2, false), Ok(()));
    }

    #[test]
    fn image_references() {
        let valid = [
            "nginx",
            "nginx:1.27",
            "nginx:latest",
            "library/nginx:1.27-alpine",
            "public.ecr.aws/nginx/nginx:1.27-alpine",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/envctl/shop/feat-x/web:feat-x",
            "localhost:5000/web",
            "registry.example.com:443/team/app_v2__x:v1.0_RC",
            "ghcr.io/acme/web@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "ghcr.io/acme/web:v1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "a---b/c.d/e_f",
            "Registry.Example.com/web",
        ];
        for image in valid {
            assert_eq!(image_reference_error(image), None, "{image}");
        }
        let invalid = [
            ("", "empty"),
            ("nginx latest", "contains a space"),
            ("nginx:1.27\n", "character '\\n'"),
            ("Nginx:1.27", "lowercase"),
            ("acme/Web", "lowercase"),
            ("nginx:", "the tag ``"),
            ("nginx:-x", "the tag `-x`"),
            (&format!("nginx:{}", "a".repeat(129)), "the tag"),
            ("nginx::1", "`nginx:` is not a repository path component"),
            ("acme//web", "`` is not a repository path component"),
            ("acme/web.", "`web.`"),
            ("acme/we..b", "`we..b`"),
            ("acme/we___b", "`we___b`"),
            ("-nginx", "`-nginx`"),
            ("nginx@sha256:abc", "the digest"),
            ("nginx@md5", "the digest"),
            (":1.27", "no repository name"),
            ("registry.example.com:port/web", "registry port `port`"),
            ("bad_host.example.com/web", "not a host name"),
            (&"a".repeat(256), "256 characters"),
        ];
        for (image, want) in invalid {
            let got = image_reference_error(image).unwrap_or_else(|| panic!("{image:?} passed"));
            assert!(got.contains(want), "{image:?}: want {want:?} in {got:?}");
        }
    }

    #[test]
    fn name_limits() {
        use NameChars::*;
        let table: &[(&str, usize, NameChars, bool)] = &[
            ("shop-feat-x-web", 255, EcsName, true),
            ("shop_feat", 255, EcsName, true),
            ("shop.feat", 255, EcsName, false),
            (&"a".repeat(255), 255, EcsName, true),
            (&"a".repeat(256), 255, EcsName, false),
            ("", 255, EcsName, false),
            ("/envctl/shop/feat-x", 512, LogGroup, true),
            ("/envctl/shop/feat x", 512, LogGroup, false),
            (&format!("/{}", "a".repeat(511)), 512, LogGroup, true),
            (&format!("/{}", "a".repeat(512)), 512, LogGroup, false),
            ("envctl-shop-feat-x", 64, Scheduler, true),
            ("stop-web", 64, Scheduler, true),
            ("stop/web", 64, Scheduler, false),
            (&"s".repeat(65), 64, Scheduler, false),
            ("shop-feat-x-web", 32, TargetGroup, true),
            ("-shop", 32, TargetGroup, false),
            ("shop_web", 32, TargetGroup, false),
            (&"t".repeat(33), 32, TargetGroup, false),
        ];
        for (name, max, chars, ok) in table {
            assert_eq!(
                name_error(name, *max, *chars).is_none(),
                *ok,
                "{name:?} ({chars:?}, max {max}): {:?}",
                name_error(name, *max, *chars)
            );
        }
        assert_eq!(repository_name_error("envctl/shop/feat-x/web"), None);
        assert!(repository_name_error("envctl/Shop/web").is_some());
        assert!(repository_name_error(&format!("envctl/{}", "a".repeat(250))).is_some());
    }

    #[test]
    fn ssm_parameter_names_count_their_arn() {
        let region = "us-east-1";
        // `arn:aws:ssm:us-east-1:123456789012:parameter` is 44 characters.
        let prefix = "arn:aws:ssm:us-east-1:123456789012:parameter".len();
        let fits = format!(
            "/envctl/shop/env/x/{}",
            "A".repeat(SSM_NAME_MAX - prefix - 19)
        );
        assert_eq!(fits.len() + prefix, SSM_NAME_MAX);
        assert_eq!(parameter_name_error(&fits, region), None);
        let over = format!("{fits}A");
        let e = parameter_name_error(&over, region).expect("one over");
        assert!(e.contains("1012 characters"), "{e}");
        // A longer region leaves less room.
        assert!(parameter_name_error(&fits, "ap-southeast-5").is_some());
        assert!(parameter_name_error("/envctl/shop/env/x/A B", region)
            .is_some_and(|e| e.contains("' '")));
        let deep = format!("/{}", ["a"; 16].join("/"));
        assert!(parameter_name_error(&deep, region).is_some_and(|e| e.contains("16 levels")));
    }

    fn spot_service() -> ServiceDefinition {
        ServiceDefinition {
            desired_count: 1,
            capacity_provider_strategy: vec![CapacityProviderStrategyItem {
                capacity_provider: "FARGATE_SPOT".into(),
                weight: 1,
                base: 0,
            }],
            network_configuration: Some(NetworkConfiguration {
                awsvpc_configuration: crate::model::AwsVpcConfiguration {
                    subnets: vec!["subnet-1".into()],
                    security_groups: vec!["sg-1".into()],
                    assign_public_ip: Some("ENABLED".into()),
                },
            }),
            ..Default::default()
        }
    }

    #[test]
    fn service_problems_are_named() {
        let td = fargate_td();
        assert_eq!(service(&spot_service(), &td, true), Ok(()));
        let cases: Vec<(Edit<ServiceDefinition>, &str)> = vec![
            (Box::new(|s| s.desired_count = -1), "`desiredCount` is -1"),
            (
                Box::new(|s| s.launch_type = Some("FARGATE".into())),
                "both `launchType` and `capacityProviderStrategy`",
            ),
            (
                Box::new(|s| s.capacity_provider_strategy[0].weight = 1001),
                "weight 1001",
            ),
            (
                Box::new(|s| {
                    s.capacity_provider_strategy
                        .push(s.capacity_provider_strategy[0].clone())
                }),
                "appears twice",
            ),
            (
                Box::new(|s| {
                    s.capacity_provider_strategy[0].base = 1;
                    s.capacity_provider_strategy
                        .push(CapacityProviderStrategyItem {
                            capacity_provider: "FARGATE".into(),
                            weight: 0,
                            base: 1,
                        });
                }),
                "more than one capacity provider has a `base`",
            ),
            (
                Box::new(|s| s.network_configuration = None),
                "no `networkConfiguration`",
            ),
            (
                Box::new(|s| {
                    s.network_configuration
                        .as_mut()
                        .unwrap()
                        .awsvpc_configuration
                        .subnets
                        .clear()
                }),
                "has 0 subnets",
            ),
            (
                Box::new(|s| {
                    s.network_configuration
                        .as_mut()
                        .unwrap()
                        .awsvpc_configuration
                        .security_groups = vec!["sg".into(); 6]
                }),
                "6 security groups",
            ),
            (
                Box::new(|s| {
                    s.network_configuration
                        .as_mut()
                        .unwrap()
                        .awsvpc_configuration
                        .assign_public_ip = Some("YES".into())
                }),
                "`assignPublicIp` is `YES`",
            ),
            (
                Box::new(|s| s.propagate_tags = Some("ALL".into())),
                "`propagateTags` is `ALL`",
            ),
        ];
        for (edit, want) in cases {
            let mut s = spot_service();
            edit(&mut s);
            let got = message(service(&s, &td, true));
            assert!(got.contains(want), "want {want:?} in {got:?}");
        }
        let mut arm = fargate_td();
        arm.runtime_platform = Some(RuntimePlatform {
            cpu_architecture: Some("ARM64".into()),
            operating_system_family: Some("LINUX".into()),
        });
        assert!(
            message(service(&spot_service(), &arm, true)).contains("FARGATE_SPOT runs only x86-64")
        );
    }

    #[test]
    fn fargate_is_told_by_launch_type_then_providers_then_compatibilities() {
        let td = fargate_td();
        assert!(on_fargate(&spot_service(), &td));
        let mut s = spot_service();
        s.capacity_provider_strategy.clear();
        assert!(
            on_fargate(&s, &td),
            "cluster default (FARGATE_SPOT in envctl's cluster)"
        );
        s.launch_type = Some("EC2".into());
        assert!(!on_fargate(&s, &td));
        let mut s = spot_service();
        s.capacity_provider_strategy[0].capacity_provider = "my-asg".into();
        assert!(!on_fargate(&s, &td));
        let mut ec2 = td.clone();
        ec2.requires_compatibilities = vec!["EC2".into()];
        let mut s = spot_service();
        s.capacity_provider_strategy.clear();
        assert!(!on_fargate(&s, &ec2));
    }

    /// The repository's templates and example config (plus `extra`), rendered as `up` would.
    fn rendered(
        extra: &str,
        images: &BTreeMap<String, String>,
        template: Option<&str>,
    ) -> (DesiredEnv, LoadedConfig, tempfile::TempDir) {
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("templates")).expect("templates dir");
        for t in [
            "task-definition.json.j2",
            "service.json.j2",
            "ecr-lifecycle.json.j2",
        ] {
            std::fs::copy(
                root.join("templates").join(t),
                dir.path().join("templates").join(t),
            )
            .expect("copy template");
        }
        if let Some(td) = template {
            std::fs::write(dir.path().join("templates/task-definition.json.j2"), td)
                .expect("write template");
        }
        let mut text =
            std::fs::read_to_string(root.join("config/envctl.example.toml")).expect("example");
        text.push_str(extra);
        let path = dir.path().join("envctl.toml");
        let config = crate::config::parse(&path, &text, &[]).expect("valid config");
        let loaded = LoadedConfig {
            config,
            path,
            dir: dir.path().to_path_buf(),
        };
        let env = crate::naming::env_name("feat-x").expect("env name");
        let facts = render::Facts {
            account: "123456789012".into(),
            region: "us-east-1".into(),
            subnets: vec!["subnet-0a".into()],
            security_groups: vec!["sg-0a".into()],
            execution_role_arn: "arn:aws:iam::123456789012:role/x".into(),
            task_role_arn: Some("arn:aws:iam::123456789012:role/t".into()),
            scheduler_role_arn: Some("arn:aws:iam::123456789012:role/s".into()),
            preview_listener_arn: None,
            vpc_id: None,
        };
        let desired = render::render_env(&render::RenderRequest {
            config: &loaded,
            env: &env,
            identity: crate::model::EnvIdentity {
                app: "shop".into(),
                env: "feat-x".into(),
                branch: "feat-x".into(),
                owner: "t".into(),
                created_at: "2025-01-01T00:00:00Z".into(),
            },
            facts: &facts,
            params: &render::Params::default(),
            images,
            env_vars: &BTreeMap::new(),
            options: &render::EnvOptions::default(),
        })
        .expect("renders");
        (desired, loaded, dir)
    }

    fn check(
        d: &DesiredEnv,
        config: &LoadedConfig,
        images: &BTreeMap<String, String>,
    ) -> Result<(), RenderError> {
        desired_env(
            d,
            &Sources {
                config,
                images,
                region: "us-east-1",
            },
        )
    }

    #[test]
    fn repo_templates_and_example_config_pass() {
        let none = BTreeMap::new();
        let (d, config, _dir) = rendered("", &none, None);
        assert_eq!(check(&d, &config, &none), Ok(()));
    }

    #[test]
    fn image_problems_name_their_source() {
        let none = BTreeMap::new();
        // From the config: the config file and the key.
        let (d, config, _dir) = rendered(
            "[services.api]\nimage = \"acme/API:v1\"\ncpu = 256\nmemory = 512\n",
            &none,
            None,
        );
        let e = check(&d, &config, &none).expect_err("uppercase repository");
        assert_eq!(e.file, config.path.display().to_string());
        assert_eq!(e.service.as_deref(), Some("api"));
        assert!(e.message.starts_with("`services.api.image`: `acme/API:v1` is not an image reference: repository names are lowercase"), "{e}");

        // From the flag: the flag as given.
        let flags: BTreeMap<String, String> =
            [("web".to_string(), "nginx latest".to_string())].into();
        let (d, config, _dir) = rendered("", &flags, None);
        let e = check(&d, &config, &flags).expect_err("a space");
        assert!(
            e.message
                .starts_with("`--image web=nginx latest`: `nginx latest`"),
            "{e}"
        );

        // Written by the template (a sidecar): the template file and the container.
        let td = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/task-definition.json.j2"),
        )
        .expect("template")
        .replace(
            "  \"containerDefinitions\": [\n",
            "  \"containerDefinitions\": [\n    { \"name\": \"proxy\", \"image\": \"envoy proxy\", \"essential\": false },\n",
        );
        let (d, config, dir) = rendered("", &none, Some(&td));
        let e = check(&d, &config, &none).expect_err("a space in the sidecar image");
        assert!(
            e.file.ends_with("templates/task-definition.json.j2"),
            "{}",
            e.file
        );
        assert!(
            e.message.contains("container `proxy`: image `envoy proxy`"),
            "{e}"
        );
        drop(dir);

        // A built service has no image until its build: `plan` renders it empty.
        let built =
            "[services.api]\ncpu = 256\nmemory = 512\n[services.api.build]\nsource = \"local\"\n";
        let (d, config, _dir) = rendered(built, &none, None);
        assert_eq!(check(&d, &config, &none), Ok(()));
    }

    #[test]
    fn attached_ports_must_be_mapped_by_the_container() {
        let mut td = fargate_td();
        assert_eq!(
            mapped_port(&td, "web", 80),
            Err("container `web` maps no port 80".to_string())
        );
        td.container_definitions[0].port_mappings = vec![PortMapping {
            container_port: 80,
            ..Default::default()
        }];
        assert_eq!(mapped_port(&td, "web", 80), Ok(()));
        assert!(mapped_port(&td, "api", 80).is_err_and(|e| e.contains("no container `api`")));
    }
}
