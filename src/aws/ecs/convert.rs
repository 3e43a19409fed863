//! SDK ↔ model conversion for ECS, and the ARN helpers both directions share.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_ecs::types as ecs;
use aws_smithy_types::date_time::Format;
use aws_smithy_types::error::operation::BuildError;
use aws_smithy_types::DateTime;

use crate::aws::reply::required;
use crate::aws::{AwsError, AwsResult};
use crate::model::{
    self, AwsVpcConfiguration, CapacityProviderStrategyItem, ClusterState, DeploymentState,
    LoadBalancerAttachment, ServiceDefinition, ServiceEvent, ServiceExtras, ServiceState,
    StoppedTask, Tags,
};

/// Enough events to explain a stuck deployment without flooding `status`.
pub(super) const SERVICE_EVENTS_KEPT: usize = 5;

// ---- SDK -> model -------------------------------------------------------------------------

pub(super) fn cluster_from_sdk(
    c: &ecs::Cluster,
    asked_name: &str,
    action: &str,
) -> AwsResult<ClusterState> {
    Ok(ClusterState {
        name: c.cluster_name().unwrap_or(asked_name).to_string(),
        arn: required(c.cluster_arn(), action, asked_name, "cluster ARN")?,
        // Bootstrap and observe decide on ACTIVE: a cluster without a status is not one.
        status: required(c.status(), action, asked_name, "cluster status")?,
        capacity_providers: c.capacity_providers().to_vec(),
        tags: tags_from_sdk(c.tags()),
    })
}

pub(super) fn service_from_sdk(s: &ecs::Service, action: &str) -> AwsResult<ServiceState> {
    let asked = s.service_name().unwrap_or("a service");
    let arn = required(s.service_arn(), action, asked, "service ARN")?;
    let arn = arn.as_str();
    // ECS returns events newest first; keep that order and only the head.
    let events = s
        .events()
        .iter()
        .take(SERVICE_EVENTS_KEPT)
        // Events are shown, never decided on: an empty time or message only shows as such.
        .map(|e| ServiceEvent {
            at: e.created_at().and_then(rfc3339).unwrap_or_default(),
            message: e.message().unwrap_or_default().to_string(),
        })
        .collect();
    let name = s
        .service_name()
        .map(str::to_string)
        .unwrap_or_else(|| last_segment(arn).to_string());
    Ok(ServiceState {
        arn: arn.to_string(),
        status: required(s.status(), action, &name, "service status")?,
        desired_count: s.desired_count(),
        running_count: s.running_count(),
        pending_count: s.pending_count(),
        task_definition_arn: required(s.task_definition(), action, &name, "task definition")?,
        capacity_provider_strategy: s
            .capacity_provider_strategy()
            .iter()
            .map(capacity_item_from_sdk)
            .collect(),
        launch_type: s.launch_type().map(|l| l.as_str().to_string()),
        network: s
            .network_configuration()
            .and_then(|n| n.awsvpc_configuration())
            .map(awsvpc_from_sdk),
        load_balancers: s
            .load_balancers()
            .iter()
            .map(|lb| {
                Ok(LoadBalancerAttachment {
                    target_group_arn: required(
                        lb.target_group_arn(),
                        action,
                        &name,
                        "load balancer target group ARN",
                    )?,
                    // Compared with the desired attachment: a missing one plans an update that
                    // sets it, which is what absence means.
                    container_name: lb.container_name().unwrap_or_default().to_string(),
                    container_port: lb.container_port().unwrap_or_default(),
                })
            })
            .collect::<AwsResult<_>>()?,
        deployments: s
            .deployments()
            .iter()
            .map(|d| deployment_from_sdk(d, action, &name))
            .collect::<AwsResult<_>>()?,
        events,
        created_at: s.created_at().and_then(rfc3339),
        tags: tags_from_sdk(s.tags()),
        name,
    })
}

/// The wait decides on a deployment's status and revision, so both are required.
pub(super) fn deployment_from_sdk(
    d: &ecs::Deployment,
    action: &str,
    service: &str,
) -> AwsResult<DeploymentState> {
    Ok(DeploymentState {
        id: required(d.id(), action, service, "deployment id")?,
        status: required(d.status(), action, service, "deployment status")?,
        rollout_state: d.rollout_state().map(|r| r.as_str().to_string()),
        task_definition_arn: required(
            d.task_definition(),
            action,
            service,
            "deployment task definition",
        )?,
        desired_count: d.desired_count(),
        running_count: d.running_count(),
        pending_count: d.pending_count(),
        failed_tasks: d.failed_tasks(),
        updated_at: d.updated_at().and_then(rfc3339),
    })
}

pub(super) fn capacity_item_from_sdk(
    c: &ecs::CapacityProviderStrategyItem,
) -> CapacityProviderStrategyItem {
    CapacityProviderStrategyItem {
        capacity_provider: c.capacity_provider().to_string(),
        weight: c.weight(),
        base: c.base(),
    }
}

pub(super) fn awsvpc_from_sdk(c: &ecs::AwsVpcConfiguration) -> AwsVpcConfiguration {
    AwsVpcConfiguration {
        subnets: c.subnets().to_vec(),
        security_groups: c.security_groups().to_vec(),
        assign_public_ip: c.assign_public_ip().map(|a| a.as_str().to_string()),
    }
}

pub(super) fn stopped_task_from_sdk(
    t: &ecs::Task,
    action: &str,
    service: &str,
) -> AwsResult<StoppedTask> {
    Ok(StoppedTask {
        task_arn: required(t.task_arn(), action, service, "task ARN")?,
        stopped_at: t.stopped_at().and_then(rfc3339),
        stop_code: t.stop_code().map(|c| c.as_str().to_string()),
        // Shown to explain a stop; ECS leaves it out when it has none.
        reason: t.stopped_reason().unwrap_or_default().to_string(),
        capacity_provider: t.capacity_provider_name().map(str::to_string),
    })
}

/// The inverse of `register_task_definition`'s conversion: fields outside envctl's model
/// (volumes, mount points, ...) are left out.
pub(super) fn task_definition_from_sdk(td: &ecs::TaskDefinition) -> model::TaskDefinition {
    model::TaskDefinition {
        family: td.family().unwrap_or_default().to_string(),
        cpu: td.cpu().map(str::to_string),
        memory: td.memory().map(str::to_string),
        network_mode: td.network_mode().map(|m| m.as_str().to_string()),
        requires_compatibilities: td
            .requires_compatibilities()
            .iter()
            .map(|c| c.as_str().to_string())
            .collect(),
        execution_role_arn: td.execution_role_arn().map(str::to_string),
        task_role_arn: td.task_role_arn().map(str::to_string),
        runtime_platform: td.runtime_platform().map(|p| model::RuntimePlatform {
            cpu_architecture: p.cpu_architecture().map(|a| a.as_str().to_string()),
            operating_system_family: p.operating_system_family().map(|o| o.as_str().to_string()),
        }),
        container_definitions: td
            .container_definitions()
            .iter()
            .map(container_from_sdk)
            .collect(),
    }
}

pub(super) fn container_from_sdk(c: &ecs::ContainerDefinition) -> model::ContainerDefinition {
    model::ContainerDefinition {
        name: c.name().unwrap_or_default().to_string(),
        image: c.image().unwrap_or_default().to_string(),
        essential: c.essential(),
        // The SDK cannot tell an absent container cpu from 0 (ECS reports 0 when it was not
        // set), and both mean "no reservation"; `None` keeps an unset value round-tripping.
        cpu: Some(c.cpu()).filter(|cpu| *cpu != 0),
        memory: c.memory(),
        memory_reservation: c.memory_reservation(),
        // Mappings by port range have no containerPort; envctl's model cannot express them.
        port_mappings: c
            .port_mappings()
            .iter()
            .filter_map(|p| {
                Some(model::PortMapping {
                    container_port: p.container_port()?,
                    host_port: p.host_port(),
                    protocol: p.protocol().map(|x| x.as_str().to_string()),
                    name: p.name().map(str::to_string),
                    app_protocol: p.app_protocol().map(|x| x.as_str().to_string()),
                })
            })
            .collect(),
        environment: c
            .environment()
            .iter()
            .map(|kv| model::KeyValue {
                name: kv.name().unwrap_or_default().to_string(),
                value: kv.value().unwrap_or_default().to_string(),
            })
            .collect(),
        secrets: c
            .secrets()
            .iter()
            .map(|s| model::SecretRef {
                name: s.name().to_string(),
                value_from: s.value_from().to_string(),
            })
            .collect(),
        log_configuration: c.log_configuration().map(|l| model::LogConfiguration {
            log_driver: l.log_driver().as_str().to_string(),
            options: l
                .options()
                .map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
        }),
        command: c.command().to_vec(),
        entry_point: c.entry_point().to_vec(),
        working_directory: c.working_directory().map(str::to_string),
        health_check: c.health_check().map(|h| model::HealthCheck {
            command: h.command().to_vec(),
            interval: h.interval(),
            timeout: h.timeout(),
            retries: h.retries(),
            start_period: h.start_period(),
        }),
        stop_timeout: c.stop_timeout(),
        user: c.user().map(str::to_string),
        readonly_root_filesystem: c.readonly_root_filesystem(),
        docker_labels: c
            .docker_labels()
            .map(|l| l.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        depends_on: c
            .depends_on()
            .iter()
            .map(|d| model::ContainerDependency {
                container_name: d.container_name().to_string(),
                condition: d.condition().as_str().to_string(),
            })
            .collect(),
    }
}

pub(super) fn service_extras_from_sdk(s: &ecs::Service) -> ServiceExtras {
    ServiceExtras {
        service_registries: s
            .service_registries()
            .iter()
            .map(|r| r.registry_arn().unwrap_or_default().to_string())
            .collect(),
        service_connect: s.deployments().iter().any(|d| {
            d.service_connect_configuration()
                .is_some_and(|c| c.enabled())
        }),
        placement_constraints: s
            .placement_constraints()
            .iter()
            .map(|c| {
                let kind = c.r#type().map(|t| t.as_str()).unwrap_or_default();
                match c.expression() {
                    Some(e) => format!("{kind} {e}"),
                    None => kind.to_string(),
                }
            })
            .collect(),
        placement_strategy: s
            .placement_strategy()
            .iter()
            .map(|p| {
                let kind = p.r#type().map(|t| t.as_str()).unwrap_or_default();
                match p.field() {
                    Some(f) => format!("{kind} {f}"),
                    None => kind.to_string(),
                }
            })
            .collect(),
        platform_version: s.platform_version().map(str::to_string),
        scheduling_strategy: s.scheduling_strategy().map(|x| x.as_str().to_string()),
        deployment_controller: s
            .deployment_controller()
            .map(|d| d.r#type().as_str().to_string()),
        health_check_grace_period_seconds: s.health_check_grace_period_seconds(),
        role_arn: s.role_arn().map(str::to_string),
    }
}

/// Task definition settings `model::TaskDefinition` has no field for, with a short detail.
pub(super) fn task_extras_from_sdk(td: &ecs::TaskDefinition) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for v in td.volumes() {
        let kind = if v.efs_volume_configuration().is_some() {
            "EFS"
        } else if v.docker_volume_configuration().is_some() {
            "Docker"
        } else if v.fsx_windows_file_server_volume_configuration().is_some() {
            "FSx"
        } else if v.configured_at_launch() == Some(true) {
            "configured at launch"
        } else {
            "bind"
        };
        out.push((
            "volumes".to_string(),
            format!("{} ({kind})", v.name().unwrap_or_default()),
        ));
    }
    for c in td.placement_constraints() {
        out.push((
            "placementConstraints".to_string(),
            c.expression().unwrap_or_default().to_string(),
        ));
    }
    if let Some(m) = td.pid_mode() {
        out.push(("pidMode".to_string(), m.as_str().to_string()));
    }
    if let Some(m) = td.ipc_mode() {
        out.push(("ipcMode".to_string(), m.as_str().to_string()));
    }
    if let Some(e) = td.ephemeral_storage() {
        out.push((
            "ephemeralStorage".to_string(),
            format!("{} GiB", e.size_in_gib()),
        ));
    }
    if let Some(p) = td.proxy_configuration() {
        out.push((
            "proxyConfiguration".to_string(),
            p.container_name().to_string(),
        ));
    }
    for a in td.inference_accelerators() {
        out.push((
            "inferenceAccelerators".to_string(),
            a.device_name().to_string(),
        ));
    }
    out
}

/// The JSON names of container settings `model::ContainerDefinition` has no field for.
pub(super) fn container_extras_from_sdk(c: &ecs::ContainerDefinition) -> Vec<&'static str> {
    let checks: [(&'static str, bool); 23] = [
        (
            "repositoryCredentials",
            c.repository_credentials().is_some(),
        ),
        ("links", !c.links().is_empty()),
        ("restartPolicy", c.restart_policy().is_some()),
        ("environmentFiles", !c.environment_files().is_empty()),
        ("mountPoints", !c.mount_points().is_empty()),
        ("volumesFrom", !c.volumes_from().is_empty()),
        ("linuxParameters", c.linux_parameters().is_some()),
        ("startTimeout", c.start_timeout().is_some()),
        ("hostname", c.hostname().is_some()),
        ("disableNetworking", c.disable_networking() == Some(true)),
        ("privileged", c.privileged() == Some(true)),
        ("dnsServers", !c.dns_servers().is_empty()),
        ("dnsSearchDomains", !c.dns_search_domains().is_empty()),
        ("extraHosts", !c.extra_hosts().is_empty()),
        (
            "dockerSecurityOptions",
            !c.docker_security_options().is_empty(),
        ),
        ("interactive", c.interactive() == Some(true)),
        ("pseudoTerminal", c.pseudo_terminal() == Some(true)),
        ("ulimits", !c.ulimits().is_empty()),
        ("systemControls", !c.system_controls().is_empty()),
        (
            "resourceRequirements",
            !c.resource_requirements().is_empty(),
        ),
        (
            "firelensConfiguration",
            c.firelens_configuration().is_some(),
        ),
        ("credentialSpecs", !c.credential_specs().is_empty()),
        (
            "versionConsistency",
            c.version_consistency()
                .is_some_and(|v| v.as_str() == "disabled"),
        ),
    ];
    checks
        .into_iter()
        .filter(|(_, present)| *present)
        .map(|(name, _)| name)
        .collect()
}

pub(super) fn tags_from_sdk(tags: &[ecs::Tag]) -> Tags {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

/// RFC 3339 in UTC, as the model's times are; `None` only for dates outside RFC 3339's range.
pub(super) fn rfc3339(t: &DateTime) -> Option<String> {
    t.fmt(Format::DateTime).ok()
}

// ---- model -> SDK -------------------------------------------------------------------------

/// The parts of a service definition that need converting, shared by create and update.
pub(super) struct ServiceParts {
    pub(super) capacity_provider_strategy: Option<Vec<ecs::CapacityProviderStrategyItem>>,
    pub(super) network_configuration: Option<ecs::NetworkConfiguration>,
    pub(super) deployment_configuration: Option<ecs::DeploymentConfiguration>,
    pub(super) propagate_tags: Option<ecs::PropagateTags>,
    pub(super) service_connect: Option<ecs::ServiceConnectConfiguration>,
}

impl ServiceParts {
    pub(super) fn from_model(def: &ServiceDefinition) -> Result<Self, BuildError> {
        let strategy = def
            .capacity_provider_strategy
            .iter()
            .map(|c| {
                ecs::CapacityProviderStrategyItem::builder()
                    .capacity_provider(&c.capacity_provider)
                    .weight(c.weight)
                    .base(c.base)
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let network = match &def.network_configuration {
            Some(n) => {
                let vpc = &n.awsvpc_configuration;
                let awsvpc = ecs::AwsVpcConfiguration::builder()
                    .set_subnets(Some(vpc.subnets.clone()))
                    .set_security_groups(non_empty(vpc.security_groups.clone()))
                    .set_assign_public_ip(
                        vpc.assign_public_ip
                            .as_deref()
                            .map(ecs::AssignPublicIp::from),
                    )
                    .build()?;
                Some(
                    ecs::NetworkConfiguration::builder()
                        .awsvpc_configuration(awsvpc)
                        .build(),
                )
            }
            None => None,
        };
        let deployment = def.deployment_configuration.as_ref().map(|d| {
            ecs::DeploymentConfiguration::builder()
                .set_minimum_healthy_percent(d.minimum_healthy_percent)
                .set_maximum_percent(d.maximum_percent)
                .set_deployment_circuit_breaker(d.deployment_circuit_breaker.as_ref().map(|cb| {
                    ecs::DeploymentCircuitBreaker::builder()
                        .enable(cb.enable)
                        .rollback(cb.rollback)
                        .build()
                }))
                .build()
        });
        Ok(ServiceParts {
            // Empty means "not set": on UpdateService an empty list would switch the service to
            // the cluster's default strategy.
            capacity_provider_strategy: non_empty(strategy),
            network_configuration: network,
            deployment_configuration: deployment,
            propagate_tags: def.propagate_tags.as_deref().map(ecs::PropagateTags::from),
            service_connect: def
                .service_connect_configuration
                .as_ref()
                .map(service_connect_to_sdk)
                .transpose()?,
        })
    }
}

pub(super) fn service_connect_to_sdk(
    sc: &model::ServiceConnectConfiguration,
) -> Result<ecs::ServiceConnectConfiguration, BuildError> {
    let services = sc
        .services
        .iter()
        .map(|svc| {
            let aliases = svc
                .client_aliases
                .iter()
                .map(|a| {
                    ecs::ServiceConnectClientAlias::builder()
                        .port(a.port)
                        .set_dns_name(a.dns_name.clone())
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()?;
            ecs::ServiceConnectService::builder()
                .port_name(&svc.port_name)
                .set_discovery_name(svc.discovery_name.clone())
                .set_client_aliases(non_empty(aliases))
                .build()
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ecs::ServiceConnectConfiguration::builder()
        .enabled(sc.enabled)
        .set_namespace(sc.namespace.clone())
        .set_services(non_empty(services))
        .build())
}

pub(super) fn runtime_platform_to_sdk(p: &model::RuntimePlatform) -> ecs::RuntimePlatform {
    ecs::RuntimePlatform::builder()
        .set_cpu_architecture(
            p.cpu_architecture
                .as_deref()
                .map(ecs::CpuArchitecture::from),
        )
        .set_operating_system_family(
            p.operating_system_family
                .as_deref()
                .map(ecs::OsFamily::from),
        )
        .build()
}

pub(super) fn container_to_sdk(
    c: &model::ContainerDefinition,
) -> Result<ecs::ContainerDefinition, BuildError> {
    let port_mappings = c
        .port_mappings
        .iter()
        .map(|p| {
            ecs::PortMapping::builder()
                .container_port(p.container_port)
                .set_host_port(p.host_port)
                .set_protocol(p.protocol.as_deref().map(ecs::TransportProtocol::from))
                .set_name(p.name.clone())
                .set_app_protocol(
                    p.app_protocol
                        .as_deref()
                        .map(ecs::ApplicationProtocol::from),
                )
                .build()
        })
        .collect();
    let environment = c
        .environment
        .iter()
        .map(|kv| {
            ecs::KeyValuePair::builder()
                .name(&kv.name)
                .value(&kv.value)
                .build()
        })
        .collect();
    let secrets = c
        .secrets
        .iter()
        .map(|s| {
            ecs::Secret::builder()
                .name(&s.name)
                .value_from(&s.value_from)
                .build()
        })
        .collect::<Result<Vec<_>, _>>()?;
    let log_configuration = match &c.log_configuration {
        Some(l) => Some(
            ecs::LogConfiguration::builder()
                .log_driver(ecs::LogDriver::from(l.log_driver.as_str()))
                .set_options(non_empty_map(&l.options))
                .build()?,
        ),
        None => None,
    };
    let health_check = match &c.health_check {
        Some(h) => Some(
            ecs::HealthCheck::builder()
                .set_command(Some(h.command.clone()))
                .set_interval(h.interval)
                .set_timeout(h.timeout)
                .set_retries(h.retries)
                .set_start_period(h.start_period)
                .build()?,
        ),
        None => None,
    };
    let depends_on = c
        .depends_on
        .iter()
        .map(|d| {
            ecs::ContainerDependency::builder()
                .container_name(&d.container_name)
                .condition(ecs::ContainerCondition::from(d.condition.as_str()))
                .build()
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ecs::ContainerDefinition::builder()
        .name(&c.name)
        .image(&c.image)
        .set_essential(c.essential)
        .set_cpu(c.cpu)
        .set_memory(c.memory)
        .set_memory_reservation(c.memory_reservation)
        .set_port_mappings(non_empty(port_mappings))
        .set_environment(non_empty(environment))
        .set_secrets(non_empty(secrets))
        .set_log_configuration(log_configuration)
        .set_command(non_empty(c.command.clone()))
        .set_entry_point(non_empty(c.entry_point.clone()))
        .set_working_directory(c.working_directory.clone())
        .set_health_check(health_check)
        .set_stop_timeout(c.stop_timeout)
        .set_user(c.user.clone())
        .set_readonly_root_filesystem(c.readonly_root_filesystem)
        .set_depends_on(non_empty(depends_on))
        .set_docker_labels(
            (!c.docker_labels.is_empty()).then(|| c.docker_labels.clone().into_iter().collect()),
        )
        .build())
}

/// `None` for no tags: some ECS calls reject an empty tag list.
pub(super) fn tags_to_sdk(tags: &Tags) -> Option<Vec<ecs::Tag>> {
    non_empty(
        tags.iter()
            .map(|(k, v)| ecs::Tag::builder().key(k).value(v).build())
            .collect(),
    )
}

// ---- small helpers ------------------------------------------------------------------------

/// Leaves empty lists out of requests so they read like the user's template.
pub(super) fn non_empty<T>(v: Vec<T>) -> Option<Vec<T>> {
    (!v.is_empty()).then_some(v)
}

pub(super) fn non_empty_map(m: &BTreeMap<String, String>) -> Option<HashMap<String, String>> {
    (!m.is_empty()).then(|| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

pub(super) fn build_error(action: &str, resource: &str, e: BuildError) -> AwsError {
    AwsError::unexpected(action, resource, format!("invalid request: {e}"))
}

/// `arn:aws:ecs:r:a:service/cluster/name` -> `name`.
pub(super) fn last_segment(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// `arn:aws:ecs:r:a:task-definition/web:12` -> `web`.
pub(super) fn family_of_arn(arn: &str) -> Option<&str> {
    let (_, rest) = arn.split_once("task-definition/")?;
    rest.rsplit_once(':').map(|(family, _)| family)
}

/// `web:3` or `arn:...:task-definition/web:3`, not a bare family.
pub(super) fn names_revision(arn_or_family: &str) -> bool {
    last_segment(arn_or_family)
        .rsplit_once(':')
        .is_some_and(|(_, rev)| rev.parse::<u32>().is_ok())
}

pub(super) fn load_balancers_to_sdk(
    list: &[LoadBalancerAttachment],
) -> Option<Vec<ecs::LoadBalancer>> {
    (!list.is_empty()).then(|| {
        list.iter()
            .map(|lb| {
                ecs::LoadBalancer::builder()
                    .target_group_arn(&lb.target_group_arn)
                    .container_name(&lb.container_name)
                    .container_port(lb.container_port)
                    .build()
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_is_the_part_between_the_prefix_and_the_revision() {
        assert_eq!(
            family_of_arn("arn:aws:ecs:us-east-1:1:task-definition/web:12"),
            Some("web")
        );
        assert_eq!(
            family_of_arn("arn:aws:ecs:us-east-1:1:task-definition/web-worker:3"),
            Some("web-worker")
        );
        assert_eq!(family_of_arn("web:3"), None);
    }

    #[test]
    fn deregister_needs_a_revision() {
        assert!(names_revision("web:3"));
        assert!(names_revision(
            "arn:aws:ecs:us-east-1:1:task-definition/web:3"
        ));
        assert!(!names_revision("web"));
        assert!(!names_revision(
            "arn:aws:ecs:us-east-1:1:task-definition/web"
        ));
    }

    #[test]
    fn service_name_is_the_last_arn_segment() {
        assert_eq!(
            last_segment("arn:aws:ecs:us-east-1:1:service/shop/web"),
            "web"
        );
        assert_eq!(last_segment("arn:aws:ecs:us-east-1:1:service/web"), "web");
    }
}
