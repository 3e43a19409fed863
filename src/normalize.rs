//! Puts desired and observed definitions in one canonical form (sorted lists, AWS defaults
//! filled in) so that a converged env compares equal and plans to nothing.

use sha2::{Digest, Sha256};

use std::collections::BTreeMap;

use crate::model::{
    AwsVpcConfiguration, ProjectCacheSpec, ProjectSpec, ProjectState, ServiceDefinition,
    TaskDefinition,
};

pub mod policy;

/// ECS fills these in when a registered definition leaves them out.
const DEFAULT_HEALTH_INTERVAL: i32 = 30;
const DEFAULT_HEALTH_TIMEOUT: i32 = 5;
const DEFAULT_HEALTH_RETRIES: i32 = 3;

pub fn task_definition(def: &TaskDefinition) -> TaskDefinition {
    let mut d = def.clone();
    let awsvpc = d.network_mode.as_deref() == Some("awsvpc");
    d.requires_compatibilities.sort();
    d.requires_compatibilities.dedup();
    for c in &mut d.container_definitions {
        c.essential.get_or_insert(true);
        if c.cpu == Some(0) {
            c.cpu = None;
        }
        for p in &mut c.port_mappings {
            p.protocol.get_or_insert_with(|| "tcp".into());
            if awsvpc && p.host_port.is_none() {
                p.host_port = Some(p.container_port);
            }
        }
        c.port_mappings.sort();
        c.environment.sort();
        c.secrets.sort();
        c.depends_on.sort();
        if let Some(h) = &mut c.health_check {
            h.interval.get_or_insert(DEFAULT_HEALTH_INTERVAL);
            h.timeout.get_or_insert(DEFAULT_HEALTH_TIMEOUT);
            h.retries.get_or_insert(DEFAULT_HEALTH_RETRIES);
        }
    }
    d.container_definitions.sort_by(|a, b| a.name.cmp(&b.name));
    d
}

pub fn network(n: &AwsVpcConfiguration) -> AwsVpcConfiguration {
    let mut n = n.clone();
    n.subnets.sort();
    n.subnets.dedup();
    n.security_groups.sort();
    n.security_groups.dedup();
    n.assign_public_ip.get_or_insert_with(|| "DISABLED".into());
    n
}

pub fn service_definition(def: &ServiceDefinition) -> ServiceDefinition {
    let mut d = def.clone();
    d.capacity_provider_strategy.sort();
    if let Some(nc) = &mut d.network_configuration {
        nc.awsvpc_configuration = network(&nc.awsvpc_configuration);
    }
    d
}

/// A short, stable fingerprint of a service definition, stored in the `envctl:spec-hash` tag.
pub fn spec_hash(def: &ServiceDefinition) -> String {
    let canonical = serde_json::to_string(&service_definition(def)).unwrap_or_default();
    let digest = Sha256::digest(canonical.as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// A CodeBuild project's managed fields in one form, from either side: the buildspec without
/// surrounding whitespace (CodeBuild may hand it back with the trailing newline trimmed), an
/// empty source version as none, local cache modes sorted. Tags, description, timeout and
/// privileged mode are not compared: tags are set on create only, and CodeBuild's reply is not
/// read for the others.
#[derive(Debug, PartialEq, Eq)]
struct Project<'a> {
    buildspec: &'a str,
    image: &'a str,
    compute_type: &'a str,
    environment_type: &'a str,
    service_role: &'a str,
    source: (&'a str, &'a str),
    source_version: Option<&'a str>,
    cache: ProjectCacheSpec,
    environment: &'a BTreeMap<String, String>,
}

fn project_cache(cache: &ProjectCacheSpec) -> ProjectCacheSpec {
    match cache {
        ProjectCacheSpec::Local { modes } => {
            let mut modes = modes.clone();
            modes.sort();
            modes.dedup();
            ProjectCacheSpec::Local { modes }
        }
        other => other.clone(),
    }
}

fn source_version(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|v| !v.is_empty())
}

/// The fields of CodeBuild project `have` that differ from `want`, by name (`buildspec`,
/// `source version`, `cache`, ...); empty when the project is as wanted. The one comparator for
/// every project envctl manages (image builds and the janitor).
pub fn project_changes(want: &ProjectSpec, have: &ProjectState) -> Vec<&'static str> {
    let w = Project {
        buildspec: want.buildspec.trim(),
        image: &want.image,
        compute_type: &want.compute_type,
        environment_type: &want.environment_type,
        service_role: &want.service_role_arn,
        source: (&want.source_type, &want.source_location),
        source_version: source_version(&want.source_version),
        cache: project_cache(&want.cache),
        environment: &want.environment,
    };
    let h = Project {
        buildspec: have.buildspec.trim(),
        image: &have.image,
        compute_type: &have.compute_type,
        environment_type: &have.environment_type,
        service_role: &have.service_role_arn,
        source: (&have.source_type, &have.source_location),
        source_version: source_version(&have.source_version),
        cache: project_cache(&have.cache),
        environment: &have.environment,
    };
    [
        ("buildspec", w.buildspec == h.buildspec),
        ("image", w.image == h.image),
        ("compute type", w.compute_type == h.compute_type),
        ("environment type", w.environment_type == h.environment_type),
        ("service role", w.service_role == h.service_role),
        ("source", w.source == h.source),
        ("source version", w.source_version == h.source_version),
        ("cache", w.cache == h.cache),
        ("environment", w.environment == h.environment),
    ]
    .into_iter()
    .filter(|(_, same)| !same)
    .map(|(name, _)| name)
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ContainerDefinition, KeyValue, PortMapping};

    #[test]
    fn fills_ecs_defaults_and_sorts() {
        let mut given = TaskDefinition {
            network_mode: Some("awsvpc".into()),
            container_definitions: vec![ContainerDefinition {
                name: "web".into(),
                image: "nginx".into(),
                port_mappings: vec![PortMapping {
                    container_port: 80,
                    ..Default::default()
                }],
                environment: vec![
                    KeyValue {
                        name: "B".into(),
                        value: "2".into(),
                    },
                    KeyValue {
                        name: "A".into(),
                        value: "1".into(),
                    },
                ],
                ..Default::default()
            }],
            ..Default::default()
        };
        let n = task_definition(&given);
        let c = &n.container_definitions[0];
        assert_eq!(c.essential, Some(true));
        assert_eq!(c.port_mappings[0].host_port, Some(80));
        assert_eq!(c.port_mappings[0].protocol.as_deref(), Some("tcp"));
        assert_eq!(c.environment[0].name, "A");
        // What AWS echoes back (defaults filled, other order) normalizes to the same thing.
        given.container_definitions[0].essential = Some(true);
        given.container_definitions[0].cpu = Some(0);
        given.container_definitions[0].environment.reverse();
        assert_eq!(task_definition(&given), n);
    }

    #[test]
    fn spec_hash_ignores_order_only() {
        let mut a = ServiceDefinition {
            desired_count: 1,
            network_configuration: Some(crate::model::NetworkConfiguration {
                awsvpc_configuration: AwsVpcConfiguration {
                    subnets: vec!["subnet-b".into(), "subnet-a".into()],
                    security_groups: vec!["sg-1".into()],
                    assign_public_ip: Some("ENABLED".into()),
                },
            }),
            ..Default::default()
        };
        let h = spec_hash(&a);
        if let Some(nc) = &mut a.network_configuration {
            nc.awsvpc_configuration.subnets.reverse();
        }
        assert_eq!(spec_hash(&a), h);
        a.desired_count = 2;
        assert_ne!(spec_hash(&a), h);
    }

    fn project() -> ProjectSpec {
        ProjectSpec {
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
            cache: ProjectCacheSpec::Local {
                modes: vec![
                    "LOCAL_SOURCE_CACHE".into(),
                    "LOCAL_DOCKER_LAYER_CACHE".into(),
                ],
            },
            tags: crate::model::Tags::new(),
        }
    }

    /// What CodeBuild hands back for `project()`: the buildspec trimmed, modes in its order,
    /// someone else's tags.
    fn observed(s: &ProjectSpec) -> ProjectState {
        ProjectState {
            name: s.name.clone(),
            arn: "arn".into(),
            buildspec: s.buildspec.trim_end().into(),
            source_type: s.source_type.clone(),
            source_location: s.source_location.clone(),
            source_version: s.source_version.clone(),
            image: s.image.clone(),
            compute_type: s.compute_type.clone(),
            environment_type: s.environment_type.clone(),
            service_role_arn: s.service_role_arn.clone(),
            environment: s.environment.clone(),
            cache: ProjectCacheSpec::Local {
                modes: vec![
                    "LOCAL_DOCKER_LAYER_CACHE".into(),
                    "LOCAL_SOURCE_CACHE".into(),
                ],
            },
            tags: [("owner".to_string(), "someone".to_string())].into(),
        }
    }

    #[test]
    fn project_as_codebuild_echoes_it_has_no_changes() {
        let want = project();
        assert_eq!(project_changes(&want, &observed(&want)), Vec::<&str>::new());
        // No source version on either side, spelt two ways.
        let want = ProjectSpec {
            source_version: None,
            ..project()
        };
        let have = ProjectState {
            source_version: Some(String::new()),
            ..observed(&want)
        };
        assert_eq!(project_changes(&want, &have), Vec::<&str>::new());
    }

    /// Regression: the image builds' comparator ignored the source version and the janitor's
    /// ignored the cache; both callers now share this one, which compares both.
    #[test]
    fn project_source_version_and_cache_are_both_compared() {
        let want = project();
        let have = ProjectState {
            source_version: Some("develop".into()),
            cache: ProjectCacheSpec::None,
            ..observed(&want)
        };
        assert_eq!(project_changes(&want, &have), ["source version", "cache"]);
        let have = ProjectState {
            environment_type: "LINUX_CONTAINER".into(),
            buildspec: "version: 0.2\n# edited".into(),
            source_location: "https://github.com/acme/other.git".into(),
            ..observed(&want)
        };
        assert_eq!(
            project_changes(&want, &have),
            ["buildspec", "environment type", "source"]
        );
    }
}
