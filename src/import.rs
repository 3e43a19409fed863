//! `init --from-service`: maps a live ECS service and its task definition onto envctl.toml and a
//! task definition template (pure), and lists every setting that does not carry over, with why.

use std::fmt;

use serde::Serialize;

use crate::model::{ContainerDefinition, LiveService};
use crate::naming;

/// What the import writes and reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    pub service_key: String,
    /// The whole envctl.toml.
    pub config: String,
    /// Relative to the config's directory.
    pub template_path: String,
    pub template: String,
    pub report: Vec<ReportLine>,
}

/// One setting of the live service that envctl does not reproduce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportLine {
    pub item: String,
    pub reason: String,
}

impl fmt::Display for ReportLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.item, self.reason)
    }
}

fn line(item: impl Into<String>, reason: impl Into<String>) -> ReportLine {
    ReportLine {
        item: item.into(),
        reason: reason.into(),
    }
}

/// Splits `CLUSTER/SERVICE`; both parts non-empty, no further `/`.
pub fn parse_source(source: &str) -> Result<(String, String), String> {
    match source.split_once('/') {
        Some((c, s)) if !c.is_empty() && !s.is_empty() && !s.contains('/') => {
            Ok((c.to_string(), s.to_string()))
        }
        _ => Err(format!(
            "--from-service `{source}`: expected CLUSTER/SERVICE, e.g. prod/api"
        )),
    }
}

/// A valid identifier made from an ECS name: lowercase, runs of other characters become one
/// '-', leading non-letters and trailing '-' dropped, cut to `max`.
pub fn sanitise(name: &str, max: usize) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_start_matches(|c: char| !c.is_ascii_lowercase());
    let mut out: String = out.chars().take(max).collect();
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// Maps `live` onto `base_config` (the config `init` would write, app name filled in).
pub fn import(source: &str, base_config: &str, live: &LiveService) -> Result<Imported, String> {
    let key = sanitise(&live.service.name, naming::SERVICE_KEY_MAX_LEN);
    if let Some(m) = naming::service_key_error(&key) {
        return Err(format!(
            "service `{}` gives no usable service key: {m}",
            live.service.name
        ));
    }
    let td = &live.task_definition;
    let Some(main) = td.container(None) else {
        return Err(format!(
            "task definition {} has no containers",
            live.task_definition_arn
        ));
    };
    let template_path = format!("templates/{key}.task-definition.json.j2");
    let mut report = Vec::new();
    let svc = &live.service;
    let ex = &live.service_extras;

    // ---- service -------------------------------------------------------------------------
    for lb in &svc.load_balancers {
        report.push(line(
            format!(
                "loadBalancers: target group {} ({}:{})",
                lb.target_group_arn, lb.container_name, lb.container_port
            ),
            "each env gets its own URL on envctl's shared ALB instead: set `public = true` on the service and configure [preview] (docs/preview.md)",
        ));
    }
    if let Some(g) = ex.health_check_grace_period_seconds.filter(|g| *g > 0) {
        report.push(line(
            format!("healthCheckGracePeriodSeconds: {g}"),
            "envctl's service template has no load balancer grace period; add it to templates/service.json.j2 if preview targets need it",
        ));
    }
    for r in &ex.service_registries {
        report.push(line(
            format!("serviceRegistries: {r}"),
            format!("envctl gives each env its own Cloud Map namespace through Service Connect; other services reach this one as http://{key}:<port> (docs/service-connect.md)"),
        ));
    }
    if ex.service_connect {
        report.push(line(
            "serviceConnectConfiguration",
            format!("replaced by envctl's per-env Service Connect namespace; the port is named `{key}` (docs/service-connect.md)"),
        ));
    }
    for c in &ex.placement_constraints {
        report.push(line(
            format!("placementConstraints: {c}"),
            "Fargate places tasks itself; envctl's templates have no placement",
        ));
    }
    for s in &ex.placement_strategy {
        report.push(line(
            format!("placementStrategy: {s}"),
            "Fargate places tasks itself; envctl's templates have no placement",
        ));
    }
    if let Some(l) = svc.launch_type.as_deref().filter(|l| *l != "FARGATE") {
        report.push(line(
            format!("launchType: {l}"),
            "envctl runs services on Fargate capacity providers (`spot`)",
        ));
    }
    if let Some(p) = ex.platform_version.as_deref().filter(|p| *p != "LATEST") {
        report.push(line(
            format!("platformVersion: {p}"),
            "envctl uses Fargate's LATEST platform version",
        ));
    }
    if let Some(s) = ex
        .scheduling_strategy
        .as_deref()
        .filter(|s| *s != "REPLICA")
    {
        report.push(line(
            format!("schedulingStrategy: {s}"),
            "envctl services are REPLICA services with `count` tasks",
        ));
    }
    if let Some(d) = ex.deployment_controller.as_deref().filter(|d| *d != "ECS") {
        report.push(line(
            format!("deploymentController: {d}"),
            "envctl deploys with ECS rolling updates",
        ));
    }
    if let Some(r) = &ex.role_arn {
        report.push(line(
            format!("roleArn: {r}"),
            "envctl relies on the ECS service-linked role",
        ));
    }
    if let Some(n) = &svc.network {
        report.push(line(
            format!(
                "networkConfiguration: subnets {}, security groups {}",
                list_or_none(&n.subnets),
                list_or_none(&n.security_groups)
            ),
            "envctl uses [network] (empty: the default VPC and its `default` security group); copy them there to reuse them",
        ));
    }
    if !svc.tags.is_empty() {
        report.push(line(
            format!(
                "tags: {}",
                svc.tags.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
            "envctl tags what it creates with its own ownership tags",
        ));
    }
    report.push(line(
        "deploymentConfiguration, propagateTags, enableExecuteCommand",
        "envctl's service template decides them (templates/service.json.j2, [exec])",
    ));

    // ---- task definition -----------------------------------------------------------------
    if let Some(m) = td.network_mode.as_deref().filter(|m| *m != "awsvpc") {
        report.push(line(
            format!("networkMode: {m}"),
            "Fargate needs awsvpc; the template uses awsvpc",
        ));
    }
    let non_fargate: Vec<&String> = td
        .requires_compatibilities
        .iter()
        .filter(|c| *c != "FARGATE")
        .collect();
    if !non_fargate.is_empty() {
        report.push(line(
            format!(
                "requiresCompatibilities: {}",
                non_fargate
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "the template requires FARGATE only",
        ));
    }
    if let Some(r) = &td.execution_role_arn {
        report.push(line(
            format!("executionRoleArn: {r}"),
            "replaced by envctl's execution role (bootstrap's, or roles.execution_role_arn)",
        ));
    }
    if let Some(r) = &td.task_role_arn {
        report.push(line(
            format!("taskRoleArn: {r}"),
            "not envctl's: offered commented out as roles.task_role_arn in envctl.toml (otherwise envctl's own task role with [exec])",
        ));
    }
    let (cpu, memory) = match (
        td.cpu.as_deref().and_then(|c| c.parse::<u32>().ok()),
        td.memory.as_deref().and_then(|m| m.parse::<u32>().ok()),
    ) {
        (Some(c), Some(m)) => (c, m),
        _ => {
            report.push(line(
                "cpu, memory",
                "the task definition has no task-level size; Fargate needs one, so envctl.toml uses 256/512: adjust cpu and memory",
            ));
            (256, 512)
        }
    };
    for (field, detail) in &live.task_extras {
        report.push(line(
            format!("{field}: {detail}"),
            match field.as_str() {
                "volumes" => "envctl's task definition model has no volumes (EFS or bind mounts); the container's mountPoints go with them",
                _ => "envctl's task definition model does not support it",
            },
        ));
    }

    // ---- containers ----------------------------------------------------------------------
    for c in &td.container_definitions {
        if c.name == main.name {
            continue;
        }
        report.push(line(
            format!("container `{}` ({})", c.name, c.image),
            format!(
                "only the first essential container (`{}`) is imported: add it as another entry of containerDefinitions in {template_path} (copy it from `aws ecs describe-task-definition --task-definition {}`)",
                main.name, live.task_definition_arn
            ),
        ));
    }
    if main.name != key {
        report.push(line(
            format!("container name `{}`", main.name),
            format!("the template names the container after the service key, `{key}`"),
        ));
    }
    for (container, field) in live
        .container_extras
        .iter()
        .filter(|(c, _)| *c == main.name)
    {
        report.push(line(
            format!("container `{container}`: {field}"),
            match field.as_str() {
                "firelensConfiguration" => "envctl's logs use awslogs; FireLens routing is not imported",
                "mountPoints" | "volumesFrom" => "volumes are not imported",
                "repositoryCredentials" => "private registry credentials are not imported; envctl pulls from ECR or public registries with its execution role",
                _ => "envctl's container model does not support it",
            },
        ));
    }
    if let Some(log) = &main.log_configuration {
        let group = log
            .options
            .get("awslogs-group")
            .map(|g| format!(" {g}"))
            .unwrap_or_default();
        report.push(line(
            format!("logConfiguration: {}{group}", log.log_driver),
            "replaced by envctl's per-env awslogs group (`envctl logs`)",
        ));
    }
    let port = main.port_mappings.first().map(|p| p.container_port);
    for p in main.port_mappings.iter().skip(1) {
        report.push(line(
            format!("portMappings: {}", p.container_port),
            "envctl maps one port per service (`port`); add more to the template's portMappings",
        ));
    }
    if !main.depends_on.is_empty() {
        report.push(line(
            format!(
                "container `{}`: dependsOn {}",
                main.name,
                main.depends_on
                    .iter()
                    .map(|d| format!("{} {}", d.container_name, d.condition))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "it names sidecars, which are not imported; add it back with them",
        ));
    }
    if !main.secrets.is_empty() {
        report.push(line(
            format!(
                "secrets: {}",
                main.secrets
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "kept as references (valueFrom unchanged, values never read), but envctl's execution role may not read them: allow it ssm:GetParameters / secretsmanager:GetSecretValue (and kms:Decrypt) on them, or set roles.execution_role_arn",
        ));
    }

    let spot = svc
        .capacity_provider_strategy
        .iter()
        .any(|c| c.capacity_provider == "FARGATE_SPOT");
    let config = config_text(
        source,
        base_config,
        live,
        &key,
        main,
        &template_path,
        (cpu, memory, port, spot),
    );
    let template = template_text(source, live, &key, main);
    Ok(Imported {
        service_key: key,
        config,
        template_path,
        template,
        report,
    })
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}

/// A TOML value in its inline form (quoted and escaped as TOML needs).
fn toml_value(v: impl Into<toml::Value>) -> String {
    v.into().to_string()
}

fn toml_strings(items: &[String]) -> String {
    toml_value(
        items
            .iter()
            .cloned()
            .map(toml::Value::from)
            .collect::<Vec<_>>(),
    )
}

fn config_text(
    source: &str,
    base: &str,
    live: &LiveService,
    key: &str,
    main: &ContainerDefinition,
    template_path: &str,
    (cpu, memory, port, spot): (u32, u32, Option<i32>, bool),
) -> String {
    // Everything of the starter config but its example service.
    let (head, tail) = match base.find("\n[services.web]") {
        Some(i) => {
            let tail = base.find("\n# Cloud janitor").map(|j| &base[j..]);
            (&base[..=i], tail.unwrap_or(""))
        }
        None => (base, ""),
    };
    let mut head = head.to_string();
    if let Some(role) = &live.task_definition.task_role_arn {
        let anchor = "# task_role_arn = \"arn:aws:iam::123456789012:role/my-task-role\"";
        let offer = format!(
            "# task_role_arn = {}  # {source}'s task role: uncomment [roles] and this to reuse it",
            toml_value(role.as_str())
        );
        match head
            .find(anchor)
            .and_then(|i| head[i..].find('\n').map(|n| i + n))
        {
            Some(end) => head.insert_str(end + 1, &format!("{offer}\n")),
            None => head.push_str(&format!("\n# [roles]\n{offer}\n")),
        }
    }
    let mut s = head;
    s.push_str(&format!(
        "# Imported by `envctl init --from-service {source}` from {}.\n\
         # What did not carry over was printed as a report (docs/import.md).\n",
        live.task_definition_arn
    ));
    s.push_str(&format!("[services.{key}]\n"));
    s.push_str(&format!("image = {}\n", toml_value(main.image.as_str())));
    s.push_str(&format!("cpu = {cpu}\nmemory = {memory}\n"));
    s.push_str(&format!("count = {}\n", live.service.desired_count.max(0)));
    if let Some(p) = port {
        s.push_str(&format!("port = {p}\n"));
    }
    s.push_str(&format!(
        "spot = {spot}              # {source} {} Fargate Spot\n",
        if spot { "uses" } else { "does not use" }
    ));
    if !main.command.is_empty() {
        s.push_str(&format!("command = {}\n", toml_strings(&main.command)));
    }
    s.push_str(&format!(
        "task_definition_template = {}\n",
        toml_value(template_path)
    ));

    // The container's static settings, read by the template as `vars.*`.
    let mut vars = String::new();
    if !main.entry_point.is_empty() {
        vars.push_str(&format!(
            "entry_point = {}\n",
            toml_strings(&main.entry_point)
        ));
    }
    if let Some(w) = &main.working_directory {
        vars.push_str(&format!("working_directory = {}\n", toml_value(w.as_str())));
    }
    if let Some(u) = &main.user {
        vars.push_str(&format!("user = {}\n", toml_value(u.as_str())));
    }
    if let Some(h) = &main.health_check {
        let mut t = toml::value::Table::new();
        t.insert(
            "command".into(),
            toml::Value::from(
                h.command
                    .iter()
                    .cloned()
                    .map(toml::Value::from)
                    .collect::<Vec<_>>(),
            ),
        );
        for (k, v) in [
            ("interval", h.interval),
            ("timeout", h.timeout),
            ("retries", h.retries),
            ("startPeriod", h.start_period),
        ] {
            if let Some(v) = v {
                t.insert(k.into(), toml::Value::from(i64::from(v)));
            }
        }
        vars.push_str(&format!("health_check = {}\n", toml_value(t)));
    }
    if !main.docker_labels.is_empty() {
        let t: toml::value::Table = main
            .docker_labels
            .iter()
            .map(|(k, v)| (k.clone(), toml::Value::from(v.as_str())))
            .collect();
        vars.push_str(&format!("docker_labels = {}\n", toml_value(t)));
    }
    if !main.environment.is_empty() {
        vars.push_str("environment = [\n");
        for kv in &main.environment {
            vars.push_str(&format!(
                "  {{ name = {}, value = {} }},\n",
                toml_value(kv.name.as_str()),
                toml_value(kv.value.as_str())
            ));
        }
        vars.push_str("]\n");
    }
    if !main.secrets.is_empty() {
        vars.push_str(
            "# References only: valueFrom as in the live task definition.\nsecrets = [\n",
        );
        for sr in &main.secrets {
            vars.push_str(&format!(
                "  {{ name = {}, valueFrom = {} }},\n",
                toml_value(sr.name.as_str()),
                toml_value(sr.value_from.as_str())
            ));
        }
        vars.push_str("]\n");
    }
    if !vars.is_empty() {
        s.push_str(&format!(
            "\n# The container's static settings from {source}, used by {template_path}.\n[services.{key}.vars]\n{vars}"
        ));
    }
    s.push_str(tail);
    s
}

fn template_text(
    source: &str,
    live: &LiveService,
    key: &str,
    main: &ContainerDefinition,
) -> String {
    let td = &live.task_definition;
    let mut t = String::new();
    t.push_str(&format!(
        "{{# Task definition of service `{key}`, imported by `envctl init --from-service {source}`.\n   \
         Static settings are [services.{key}.vars] in envctl.toml; envctl's parameters (`environment`,\n   \
         `secrets`) are added and win over a static entry of the same name. To add a sidecar, append its\n   \
         container definition to containerDefinitions (docs/import.md). #}}\n"
    ));
    let has_env = !main.environment.is_empty();
    let has_secrets = !main.secrets.is_empty();
    if has_env {
        t.push_str("{%- set param_names = environment | map(attribute=\"name\") | list %}\n");
    }
    if has_secrets {
        t.push_str("{%- set secret_names = secrets | map(attribute=\"name\") | list %}\n");
    }
    let arch = td
        .runtime_platform
        .as_ref()
        .and_then(|p| p.cpu_architecture.clone())
        .unwrap_or_else(|| "X86_64".to_string());
    let os = td
        .runtime_platform
        .as_ref()
        .and_then(|p| p.operating_system_family.clone())
        .unwrap_or_else(|| "LINUX".to_string());
    t.push_str(&format!(
        r#"{{
  "cpu": "{{{{ cpu }}}}",
  "memory": "{{{{ memory }}}}",
  "networkMode": "awsvpc",
  "requiresCompatibilities": ["FARGATE"],
  "executionRoleArn": {{{{ execution_role_arn | tojson }}}},
{{%- if task_role_arn %}}
  "taskRoleArn": {{{{ task_role_arn | tojson }}}},
{{%- endif %}}
  "runtimePlatform": {{ "cpuArchitecture": {}, "operatingSystemFamily": {} }},
  "containerDefinitions": [
    {{
      "name": {{{{ service | tojson }}}},
      "image": {{{{ image | tojson }}}},
      "essential": true,
{{%- if port %}}
      {{#- Named after the service: ECS Service Connect offers it as http://{{{{ service }}}}:{{{{ port }}}}. #}}
      "portMappings": [{{ "containerPort": {{{{ port }}}}, "protocol": "tcp", "name": {{{{ service | tojson }}}}, "appProtocol": "http" }}],
{{%- endif %}}
{{%- if command %}}
      "command": {{{{ command | tojson }}}},
{{%- endif %}}
"#,
        json_str(&arch),
        json_str(&os)
    ));
    if !main.entry_point.is_empty() {
        t.push_str("      \"entryPoint\": {{ vars.entry_point | tojson }},\n");
    }
    if main.working_directory.is_some() {
        t.push_str("      \"workingDirectory\": {{ vars.working_directory | tojson }},\n");
    }
    if main.user.is_some() {
        t.push_str("      \"user\": {{ vars.user | tojson }},\n");
    }
    if main.health_check.is_some() {
        t.push_str("      \"healthCheck\": {{ vars.health_check | tojson }},\n");
    }
    if let Some(cpu) = main.cpu {
        t.push_str(&format!("      \"cpu\": {cpu},\n"));
    }
    if let Some(m) = main.memory {
        t.push_str(&format!("      \"memory\": {m},\n"));
    }
    if let Some(m) = main.memory_reservation {
        t.push_str(&format!("      \"memoryReservation\": {m},\n"));
    }
    if let Some(r) = main.readonly_root_filesystem {
        t.push_str(&format!("      \"readonlyRootFilesystem\": {r},\n"));
    }
    t.push_str(if has_env {
        "      \"environment\": {{ ((vars.environment | rejectattr(\"name\", \"in\", param_names) | list) + environment) | tojson }},\n"
    } else {
        "      \"environment\": {{ environment | tojson }},\n"
    });
    t.push_str(if has_secrets {
        "      \"secrets\": {{ ((vars.secrets | rejectattr(\"name\", \"in\", secret_names) | list) + secrets) | tojson }},\n"
    } else {
        "      \"secrets\": {{ secrets | tojson }},\n"
    });
    if let Some(s) = main.stop_timeout {
        t.push_str(&format!("      \"stopTimeout\": {s},\n"));
    }
    t.push_str("      \"dockerLabels\": {");
    if !main.docker_labels.is_empty() {
        t.push_str(
            "{% for k, v in vars.docker_labels | items %}{{ k | tojson }}: {{ v | tojson }}, {% endfor %}",
        );
    }
    t.push_str(
        r#" "envctl.params-version": {{ params_version | tojson }} },
      "logConfiguration": {
        "logDriver": "awslogs",
        "options": {
          "awslogs-group": {{ log_group | tojson }},
          "awslogs-region": {{ region | tojson }},
          "awslogs-stream-prefix": {{ service | tojson }}
        }
      }
    }
  ]
}
"#,
    );
    t
}

fn json_str(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use super::*;
    use crate::model::{
        CapacityProviderStrategyItem, ContainerDependency, HealthCheck, KeyValue,
        LoadBalancerAttachment, LogConfiguration, PortMapping, SecretRef, ServiceExtras,
        ServiceState, TaskDefinition,
    };

    const SSM_ARN: &str = "arn:aws:ssm:us-east-1:123456789012:parameter/prod/api/DB_PASSWORD";

    /// The example config `init` starts from (read from the file, not from `ops::init`, which
    /// sits above this module).
    fn base() -> String {
        include_str!("../config/envctl.example.toml").to_string()
    }

    fn api_container() -> ContainerDefinition {
        ContainerDefinition {
            name: "api".into(),
            image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/api:v42".into(),
            essential: Some(true),
            port_mappings: vec![PortMapping {
                container_port: 8080,
                ..Default::default()
            }],
            environment: vec![KeyValue {
                name: "LOG_FORMAT".into(),
                value: "json \"quoted\" {{ not a template }}".into(),
            }],
            secrets: vec![SecretRef {
                name: "DB_PASSWORD".into(),
                value_from: SSM_ARN.into(),
            }],
            command: vec!["serve".into(), "--port=8080".into()],
            entry_point: vec!["/entry.sh".into()],
            working_directory: Some("/app".into()),
            health_check: Some(HealthCheck {
                command: vec![
                    "CMD-SHELL".into(),
                    "curl -f localhost:8080/ || exit 1".into(),
                ],
                interval: Some(10),
                start_period: Some(5),
                ..Default::default()
            }),
            stop_timeout: Some(45),
            log_configuration: Some(LogConfiguration {
                log_driver: "awslogs".into(),
                options: BTreeMap::from([("awslogs-group".into(), "/ecs/prod-api".into())]),
            }),
            ..Default::default()
        }
    }

    fn live() -> LiveService {
        LiveService {
            cluster: "prod".into(),
            service: ServiceState {
                name: "API_Service".into(),
                arn: "arn:aws:ecs:us-east-1:123456789012:service/prod/API_Service".into(),
                status: "ACTIVE".into(),
                desired_count: 3,
                running_count: 3,
                pending_count: 0,
                task_definition_arn: "arn:td/api:7".into(),
                capacity_provider_strategy: vec![],
                launch_type: Some("FARGATE".into()),
                network: None,
                load_balancers: vec![],
                deployments: vec![],
                events: vec![],
                created_at: None,
                tags: Default::default(),
            },
            task_definition_arn: "arn:td/api:7".into(),
            task_definition: TaskDefinition {
                family: "api".into(),
                cpu: Some("512".into()),
                memory: Some("1024".into()),
                network_mode: Some("awsvpc".into()),
                requires_compatibilities: vec!["FARGATE".into()],
                execution_role_arn: Some("arn:aws:iam::123456789012:role/prod-exec".into()),
                container_definitions: vec![api_container()],
                ..Default::default()
            },
            service_extras: ServiceExtras::default(),
            task_extras: vec![],
            container_extras: vec![],
        }
    }

    fn report_has(imp: &Imported, needle: &str) -> bool {
        imp.report.iter().any(|l| l.to_string().contains(needle))
    }

    /// Renders the imported template the way `render` does, with an env's context.
    fn render(imp: &Imported, params: &[(&str, &str)], secrets: &[(&str, &str)]) -> TaskDefinition {
        let cfg = crate::config::parse(Path::new("envctl.toml"), &imp.config, &[])
            .expect("imported config parses");
        let svc = &cfg.services[&imp.service_key];
        let mut env = crate::render::templates::environment();
        env.add_template("td", &imp.template)
            .expect("template parses");
        let environment: Vec<_> = params
            .iter()
            .map(|(n, v)| serde_json::json!({"name": n, "value": v}))
            .collect();
        let secrets: Vec<_> = secrets
            .iter()
            .map(|(n, v)| serde_json::json!({"name": n, "valueFrom": v}))
            .collect();
        let ctx = serde_json::json!({
            "cpu": svc.cpu, "memory": svc.memory, "port": svc.port, "command": svc.command,
            "service": imp.service_key, "image": svc.image, "execution_role_arn": "arn:exec",
            "task_role_arn": null, "environment": environment, "secrets": secrets,
            "params_version": "abc", "namespace": "envctl-shop-x", "log_group": "/envctl/shop/x", "region": "us-east-1",
            "vars": svc.vars,
        });
        let text = env
            .get_template("td")
            .and_then(|t| t.render(ctx))
            .expect("template renders");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}:\n{text}"))
    }

    #[test]
    fn parse_source_needs_cluster_and_service() {
        assert_eq!(
            parse_source("prod/api"),
            Ok(("prod".to_string(), "api".to_string()))
        );
        for bad in ["prod", "/api", "prod/", "a/b/c", ""] {
            assert!(parse_source(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sanitise_makes_valid_keys() {
        for (name, want) in [
            ("api", "api"),
            ("API_Service", "api-service"),
            ("1-web--svc-", "web-svc"),
            ("a-very-long-service-name-indeed", "a-very-long-service"),
        ] {
            let got = sanitise(name, naming::SERVICE_KEY_MAX_LEN);
            assert_eq!(got, want, "{name}");
            assert_eq!(naming::service_key_error(&got), None, "{name}");
        }
    }

    #[test]
    fn maps_the_service_and_keeps_env_vars_and_secrets() {
        let imp = import("prod/API_Service", &base(), &live()).expect("imports");
        assert_eq!(imp.service_key, "api-service");
        assert_eq!(
            imp.template_path,
            "templates/api-service.task-definition.json.j2"
        );
        let cfg = crate::config::parse(Path::new("envctl.toml"), &imp.config, &[])
            .expect("imported config parses");
        assert_eq!(cfg.app, "shop");
        assert!(!cfg.services.contains_key("web"));
        let svc = &cfg.services["api-service"];
        assert_eq!((svc.cpu, svc.memory, svc.count), (512, 1024, 3));
        assert_eq!(svc.port, Some(8080));
        assert_eq!(svc.command, vec!["serve", "--port=8080"]);

        let td = render(&imp, &[("LOG_LEVEL", "debug")], &[]);
        let c = &td.container_definitions[0];
        assert_eq!(c.name, "api-service");
        assert_eq!(c.image, api_container().image);
        assert_eq!(c.environment.len(), 2);
        assert!(c.environment.contains(&api_container().environment[0]));
        assert_eq!(c.secrets, api_container().secrets, "valueFrom kept exactly");
        assert_eq!(c.entry_point, vec!["/entry.sh"]);
        assert_eq!(c.working_directory.as_deref(), Some("/app"));
        assert_eq!(c.health_check, api_container().health_check);
        assert_eq!(c.stop_timeout, Some(45));
        assert_eq!(c.port_mappings[0].container_port, 8080);
        let log = c.log_configuration.as_ref().expect("log configuration");
        assert_eq!(log.options["awslogs-group"], "/envctl/shop/x");
        assert!(!imp.template.contains("prod-api"));
        assert!(report_has(&imp, "logConfiguration: awslogs /ecs/prod-api"));
        assert!(report_has(
            &imp,
            "executionRoleArn: arn:aws:iam::123456789012:role/prod-exec"
        ));
        assert!(report_has(&imp, "secrets: DB_PASSWORD"));
    }

    #[test]
    fn params_win_over_static_entries_of_the_same_name() {
        let imp = import("prod/api", &base(), &live()).expect("imports");
        let td = render(
            &imp,
            &[("LOG_FORMAT", "text")],
            &[("DB_PASSWORD", "arn:envctl")],
        );
        let c = &td.container_definitions[0];
        assert_eq!(c.environment.len(), 1);
        assert_eq!(c.environment[0].value, "text");
        assert_eq!(c.secrets.len(), 1);
        assert_eq!(c.secrets[0].value_from, "arn:envctl");
    }

    #[test]
    fn a_minimal_container_renders() {
        let mut l = live();
        l.task_definition.container_definitions = vec![ContainerDefinition {
            name: "api".into(),
            image: "nginx".into(),
            ..Default::default()
        }];
        l.task_definition.execution_role_arn = None;
        let imp = import("prod/api", &base(), &l).expect("imports");
        let td = render(&imp, &[], &[]);
        assert!(td.container_definitions[0].environment.is_empty());
        assert!(!imp.config.contains("[services.api.vars]"));
    }

    #[test]
    fn reports_what_does_not_carry_over() {
        type Case = (&'static str, fn(&mut LiveService), &'static str);
        let cases: &[Case] = &[
            (
                "load balancer",
                |l| {
                    l.service.load_balancers.push(LoadBalancerAttachment {
                        target_group_arn: "arn:tg/api".into(),
                        container_name: "api".into(),
                        container_port: 8080,
                    })
                },
                "loadBalancers: target group arn:tg/api (api:8080): each env gets its own URL on envctl's shared ALB instead: set `public = true`",
            ),
            (
                "sidecar",
                |l| {
                    l.task_definition.container_definitions.push(ContainerDefinition {
                        name: "datadog".into(),
                        image: "datadog/agent".into(),
                        essential: Some(false),
                        ..Default::default()
                    })
                },
                "container `datadog` (datadog/agent): only the first essential container (`api`) is imported: add it as another entry of containerDefinitions",
            ),
            (
                "service registry",
                |l| l.service_extras.service_registries.push("arn:sd/api".into()),
                "serviceRegistries: arn:sd/api",
            ),
            (
                "service connect",
                |l| l.service_extras.service_connect = true,
                "serviceConnectConfiguration: replaced by envctl's per-env Service Connect",
            ),
            (
                "task role",
                |l| l.task_definition.task_role_arn = Some("arn:aws:iam::1:role/prod-task".into()),
                "taskRoleArn: arn:aws:iam::1:role/prod-task: not envctl's",
            ),
            (
                "placement",
                |l| l.service_extras.placement_constraints.push("memberOf attribute:x".into()),
                "placementConstraints: memberOf attribute:x",
            ),
            (
                "efs volume",
                |l| l.task_extras.push(("volumes".into(), "data (EFS)".into())),
                "volumes: data (EFS): envctl's task definition model has no volumes",
            ),
            (
                "linux parameters",
                |l| l.container_extras.push(("api".into(), "linuxParameters".into())),
                "container `api`: linuxParameters: envctl's container model does not support it",
            ),
            (
                "firelens",
                |l| l.container_extras.push(("api".into(), "firelensConfiguration".into())),
                "container `api`: firelensConfiguration",
            ),
            (
                "ec2 launch type",
                |l| l.service.launch_type = Some("EC2".into()),
                "launchType: EC2",
            ),
            (
                "bridge network mode",
                |l| l.task_definition.network_mode = Some("bridge".into()),
                "networkMode: bridge",
            ),
            (
                "depends on a sidecar",
                |l| {
                    l.task_definition.container_definitions[0]
                        .depends_on
                        .push(ContainerDependency {
                            container_name: "envoy".into(),
                            condition: "HEALTHY".into(),
                        })
                },
                "dependsOn envoy HEALTHY",
            ),
            (
                "second port",
                |l| {
                    l.task_definition.container_definitions[0]
                        .port_mappings
                        .push(PortMapping {
                            container_port: 9090,
                            ..Default::default()
                        })
                },
                "portMappings: 9090",
            ),
        ];
        for (name, change, want) in cases {
            let mut l = live();
            let clean = import("prod/api", &base(), &l).expect("imports");
            change(&mut l);
            let imp = import("prod/api", &base(), &l).expect("imports");
            assert!(report_has(&imp, want), "{name}: {:#?}", imp.report);
            assert!(!report_has(&clean, want), "{name} reported without cause");
            crate::config::parse(Path::new("envctl.toml"), &imp.config, &[])
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn task_role_is_offered_commented_and_spot_follows_the_service() {
        let mut l = live();
        l.task_definition.task_role_arn = Some("arn:aws:iam::1:role/prod-task".into());
        l.service.capacity_provider_strategy = vec![CapacityProviderStrategyItem {
            capacity_provider: "FARGATE_SPOT".into(),
            weight: 1,
            base: 0,
        }];
        let imp = import("prod/api", &base(), &l).expect("imports");
        assert!(imp
            .config
            .contains("# task_role_arn = \"arn:aws:iam::1:role/prod-task\""));
        let cfg = crate::config::parse(Path::new("envctl.toml"), &imp.config, &[]).expect("parses");
        assert!(cfg.roles.task_role_arn.is_none());
        assert!(cfg.services["api-service"].spot);
    }

    #[test]
    fn no_containers_is_an_error() {
        let mut l = live();
        l.task_definition.container_definitions.clear();
        assert!(import("prod/api", &base(), &l).is_err());
    }
}
