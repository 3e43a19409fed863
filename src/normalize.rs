//! Puts desired and observed definitions in one canonical form (sorted lists, AWS defaults
//! filled in) so that a converged env compares equal and plans to nothing.

use sha2::{Digest, Sha256};

use crate::model::{AwsVpcConfiguration, ServiceDefinition, TaskDefinition};

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
}
