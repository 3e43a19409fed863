//! `envctl.toml`: the schema, `--set` overrides and validation. Pure: no AWS, no templates.
//! Every error names the file, the key and the fix, and is raised before any AWS call.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::naming;

pub const DEFAULT_CONFIG_FILE: &str = "envctl.toml";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Short app name; prefixes every AWS name envctl derives.
    pub app: String,
    /// Default region when neither `--region` nor the AWS environment sets one.
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub cluster: ClusterConfig,
    #[serde(default)]
    pub network: NetworkConfig,
    #[serde(default)]
    pub logs: LogsConfig,
    #[serde(default)]
    pub ecr: EcrConfig,
    #[serde(default)]
    pub templates: TemplatesConfig,
    #[serde(default)]
    pub roles: RolesConfig,
    /// Extra values for templates, as `vars.<name>`.
    #[serde(default)]
    pub vars: BTreeMap<String, toml::Value>,
    pub services: BTreeMap<String, ServiceConfig>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    /// Defaults to `envctl-<app>`.
    #[serde(default)]
    pub name: Option<String>,
    /// Use a cluster someone else manages: `bootstrap` will not create it.
    #[serde(default)]
    pub existing: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    /// Empty: the default VPC's subnets.
    #[serde(default)]
    pub subnets: Vec<String>,
    /// Empty: the VPC's `default` security group.
    #[serde(default)]
    pub security_groups: Vec<String>,
    #[serde(default = "yes")]
    pub assign_public_ip: bool,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        Self {
            subnets: vec![],
            security_groups: vec![],
            assign_public_ip: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogsConfig {
    #[serde(default = "default_retention")]
    pub retention_days: i32,
}

impl Default for LogsConfig {
    fn default() -> Self {
        Self {
            retention_days: default_retention(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EcrConfig {
    /// Lifecycle policy template, relative to the config file.
    #[serde(default = "default_lifecycle_template")]
    pub lifecycle_policy: PathBuf,
    /// Tagged images kept per env and service.
    #[serde(default = "default_max_images")]
    pub max_images: u32,
    /// Days before an untagged image expires.
    #[serde(default = "one")]
    pub untagged_expire_days: u32,
}

impl Default for EcrConfig {
    fn default() -> Self {
        Self {
            lifecycle_policy: default_lifecycle_template(),
            max_images: default_max_images(),
            untagged_expire_days: 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplatesConfig {
    #[serde(default = "default_task_definition_template")]
    pub task_definition: PathBuf,
    #[serde(default = "default_service_template")]
    pub service: PathBuf,
}

impl Default for TemplatesConfig {
    fn default() -> Self {
        Self {
            task_definition: default_task_definition_template(),
            service: default_service_template(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolesConfig {
    /// Defaults to the role `bootstrap` creates (`envctl-<app>-execution`).
    #[serde(default)]
    pub execution_role_arn: Option<String>,
    #[serde(default)]
    pub task_role_arn: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// Image URI; may use template variables (`{{ account }}`, `{{ slug }}`, ...).
    pub image: String,
    #[serde(default = "default_cpu")]
    pub cpu: u32,
    #[serde(default = "default_memory")]
    pub memory: u32,
    /// Desired task count.
    #[serde(default = "one")]
    pub count: u32,
    #[serde(default)]
    pub port: Option<u16>,
    /// Run on FARGATE_SPOT (default) or on-demand FARGATE.
    #[serde(default = "yes")]
    pub spot: bool,
    /// With spot: tasks kept on on-demand FARGATE before the rest go to spot.
    #[serde(default)]
    pub on_demand_base: u32,
    #[serde(default)]
    pub command: Vec<String>,
    /// Per-service template overrides, relative to the config file.
    #[serde(default)]
    pub task_definition_template: Option<PathBuf>,
    #[serde(default)]
    pub service_template: Option<PathBuf>,
    #[serde(default)]
    pub vars: BTreeMap<String, toml::Value>,
}

fn yes() -> bool {
    true
}
fn one() -> u32 {
    1
}
fn default_retention() -> i32 {
    7
}
fn default_max_images() -> u32 {
    10
}
fn default_cpu() -> u32 {
    256
}
fn default_memory() -> u32 {
    512
}
fn default_lifecycle_template() -> PathBuf {
    PathBuf::from("templates/ecr-lifecycle.json.j2")
}
fn default_task_definition_template() -> PathBuf {
    PathBuf::from("templates/task-definition.json.j2")
}
fn default_service_template() -> PathBuf {
    PathBuf::from("templates/service.json.j2")
}

/// A config problem: where it is, what is wrong, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {}{message}", key.as_ref().map(|k| format!("`{k}`: ")).unwrap_or_default())]
pub struct ConfigError {
    pub file: String,
    pub key: Option<String>,
    pub message: String,
    pub hint: Option<String>,
}

impl ConfigError {
    fn new(file: &Path, key: Option<&str>, message: impl Into<String>, hint: Option<&str>) -> Self {
        ConfigError {
            file: file.display().to_string(),
            key: key.map(str::to_string),
            message: message.into(),
            hint: hint.map(str::to_string),
        }
    }
}

/// A parsed, validated config and where it came from (template paths are relative to it).
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedConfig {
    pub config: Config,
    pub path: PathBuf,
    pub dir: PathBuf,
}

impl LoadedConfig {
    pub fn resolve(&self, relative: &Path) -> PathBuf {
        self.dir.join(relative)
    }

    pub fn cluster_name(&self) -> String {
        self.config
            .cluster
            .name
            .clone()
            .unwrap_or_else(|| naming::cluster(&self.config.app))
    }
}

/// One `--set key.path=value` override; the value is TOML (`3`, `true`, `"x"`) or else a string.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    pub path: Vec<String>,
    pub value: toml::Value,
    pub raw: String,
}

impl std::str::FromStr for Override {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (key, value) = s
            .split_once('=')
            .ok_or_else(|| format!("`{s}` is not KEY=VALUE (example: services.web.count=3)"))?;
        let path: Vec<String> = key
            .trim()
            .split('.')
            .map(|p| p.trim().to_string())
            .collect();
        if path.iter().any(|p| p.is_empty()) {
            return Err(format!(
                "`{key}` is not a dotted key path (example: services.web.count)"
            ));
        }
        let value = toml::from_str::<toml::Table>(&format!("v = {value}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(value.to_string()));
        Ok(Override {
            path,
            value,
            raw: s.to_string(),
        })
    }
}

/// Reads, overrides and validates `path`.
pub fn load(path: &Path, overrides: &[Override]) -> Result<LoadedConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::new(
            path,
            None,
            format!("cannot read: {e}"),
            Some("run `envctl init --app NAME` to create one, or pass --config PATH"),
        )
    })?;
    let config = parse(path, &text, overrides)?;
    let dir = path
        .parent()
        .map(Path::to_path_buf)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    Ok(LoadedConfig {
        config,
        path: path.to_path_buf(),
        dir,
    })
}

/// Parses and validates config text (`file` is only used in messages).
pub fn parse(file: &Path, text: &str, overrides: &[Override]) -> Result<Config, ConfigError> {
    let config: Config = if overrides.is_empty() {
        toml::from_str(text).map_err(|e| toml_error(file, e))?
    } else {
        let mut table: toml::Table = toml::from_str(text).map_err(|e| toml_error(file, e))?;
        for o in overrides {
            apply_override(&mut table, o).map_err(|m| {
                ConfigError::new(file, Some(&o.path.join(".")), m, Some("fix the --set flag"))
            })?;
        }
        toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| {
                ConfigError::new(
                    file,
                    None,
                    format!(
                        "after --set {}: {}",
                        overrides
                            .iter()
                            .map(|o| o.raw.as_str())
                            .collect::<Vec<_>>()
                            .join(" "),
                        e.message()
                    ),
                    Some("check the key path and value type of the --set flags"),
                )
            })?
    };
    validate(file, &config)?;
    Ok(config)
}

fn toml_error(file: &Path, e: toml::de::Error) -> ConfigError {
    // toml's message carries line, column and the offending key.
    ConfigError::new(
        file,
        None,
        e.to_string().trim_end().to_string(),
        Some("see config/envctl.example.toml for every key"),
    )
}

fn apply_override(table: &mut toml::Table, o: &Override) -> Result<(), String> {
    let (last, parents) = o.path.split_last().ok_or("empty key")?;
    let mut cur = table;
    for (i, part) in parents.iter().enumerate() {
        let entry = cur
            .entry(part.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        cur = entry
            .as_table_mut()
            .ok_or_else(|| format!("`{}` is not a table", o.path[..=i].join(".")))?;
    }
    cur.insert(last.clone(), o.value.clone());
    Ok(())
}

/// CloudWatch Logs accepts only these retention periods.
const LOG_RETENTION_DAYS: [i32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// ECS's service quota default is far above this; the cap catches typos like `count = 1000`.
const MAX_COUNT: u32 = 100;

fn validate(file: &Path, c: &Config) -> Result<(), ConfigError> {
    let err = |key: &str, msg: String, hint: &str| {
        Err(ConfigError::new(file, Some(key), msg, Some(hint)))
    };
    if let Some(m) = naming::app_name_error(&c.app) {
        return err("app", m, "use a short lowercase name such as `shop`");
    }
    if c.services.is_empty() {
        return err(
            "services",
            "no services are defined".into(),
            "add a [services.web] table with at least `image = \"...\"`",
        );
    }
    if let Some(name) = &c.cluster.name {
        let ok = !name.is_empty()
            && name.len() <= 255
            && name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_');
        if !ok {
            return err(
                "cluster.name",
                format!("`{name}` is not a valid ECS cluster name"),
                "use letters, digits, '-' and '_' (at most 255)",
            );
        }
    }
    if !LOG_RETENTION_DAYS.contains(&c.logs.retention_days) {
        return err(
            "logs.retention_days",
            format!(
                "{} is not a retention CloudWatch Logs accepts",
                c.logs.retention_days
            ),
            "use one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...",
        );
    }
    for (i, s) in c.network.subnets.iter().enumerate() {
        if !s.starts_with("subnet-") {
            return err(
                &format!("network.subnets[{i}]"),
                format!("`{s}` is not a subnet id"),
                "subnet ids look like `subnet-0123abcd`",
            );
        }
    }
    for (i, s) in c.network.security_groups.iter().enumerate() {
        if !s.starts_with("sg-") {
            return err(
                &format!("network.security_groups[{i}]"),
                format!("`{s}` is not a security group id"),
                "security group ids look like `sg-0123abcd`",
            );
        }
    }
    for (key, arn) in [
        ("roles.execution_role_arn", &c.roles.execution_role_arn),
        ("roles.task_role_arn", &c.roles.task_role_arn),
    ] {
        if let Some(arn) = arn {
            if !(arn.starts_with("arn:") && arn.contains(":iam::") && arn.contains(":role/")) {
                return err(
                    key,
                    format!("`{arn}` is not an IAM role ARN"),
                    "use arn:aws:iam::ACCOUNT:role/NAME",
                );
            }
        }
    }
    if c.ecr.max_images == 0 {
        return err(
            "ecr.max_images",
            "must be at least 1".into(),
            "set it to the number of images to keep per env and service",
        );
    }
    if c.ecr.untagged_expire_days == 0 {
        return err(
            "ecr.untagged_expire_days",
            "must be at least 1".into(),
            "ECR lifecycle rules count whole days",
        );
    }
    for (name, s) in &c.services {
        let key = |k: &str| format!("services.{name}.{k}");
        if let Some(m) = naming::service_key_error(name) {
            return err(
                &format!("services.{name}"),
                m,
                "use a short lowercase name such as `web`",
            );
        }
        if s.image.trim().is_empty() {
            return err(
                &key("image"),
                "is empty".into(),
                "set an image URI such as `public.ecr.aws/nginx/nginx:1.27`",
            );
        }
        if let Some(m) = fargate_size_error(s.cpu, s.memory) {
            return err(
                &key("memory"),
                m,
                "see the Fargate task size table in docs/configuration.md",
            );
        }
        if s.count > MAX_COUNT {
            return err(
                &key("count"),
                format!("{} is more than {MAX_COUNT}", s.count),
                "lower it, or split the load over several services",
            );
        }
        if s.on_demand_base > s.count {
            return err(
                &key("on_demand_base"),
                format!("{} is more than count ({})", s.on_demand_base, s.count),
                "on_demand_base is how many of the tasks run on on-demand FARGATE",
            );
        }
        if !s.spot && s.on_demand_base > 0 {
            return err(
                &key("on_demand_base"),
                "only applies with spot = true".into(),
                "remove it, or set spot = true",
            );
        }
        if s.port == Some(0) {
            return err(
                &key("port"),
                "0 is not a port".into(),
                "use the port the container listens on, e.g. 8080",
            );
        }
    }
    Ok(())
}

/// Fargate only runs these cpu/memory pairs (memory in MiB).
pub fn fargate_size_error(cpu: u32, memory: u32) -> Option<String> {
    let gb = |g: u32| g * 1024;
    let ok = match cpu {
        256 => [512, 1024, 2048].contains(&memory),
        512 => (1..=4).map(gb).any(|m| m == memory),
        1024 => (2..=8).map(gb).any(|m| m == memory),
        2048 => (4..=16).map(gb).any(|m| m == memory),
        4096 => (8..=30).map(gb).any(|m| m == memory),
        8192 => (16..=60).step_by(4).map(gb).any(|m| m == memory),
        16384 => (32..=120).step_by(8).map(gb).any(|m| m == memory),
        _ => {
            return Some(format!(
                "cpu = {cpu} is not a Fargate size (256, 512, 1024, 2048, 4096, 8192, 16384)"
            ))
        }
    };
    (!ok).then(|| format!("memory = {memory} does not fit cpu = {cpu} on Fargate"))
}
