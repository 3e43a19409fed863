//! Every ECS call envctl makes (clusters, services, task definitions, stopped tasks), and the
//! conversions between the SDK's types and `crate::model`, so no other module sees `aws_sdk_ecs`.

mod exec;

use std::collections::{BTreeMap, HashMap};

use aws_sdk_ecs::types as ecs;
use aws_smithy_types::date_time::Format;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::error::operation::BuildError;
use aws_smithy_types::DateTime;
use futures::future::try_join_all;

use super::{Aws, AwsError, AwsResult};
use crate::model::{
    self, AwsVpcConfiguration, CapacityProviderStrategyItem, ClusterState, DeploymentState,
    ImportLookup, LiveService, LoadBalancerAttachment, ServiceDefinition, ServiceEvent,
    ServiceExtras, ServiceState, StoppedTask, Tags, TaskDefinitionState,
};

/// DescribeServices accepts at most 10 services per call.
const DESCRIBE_SERVICES_BATCH: usize = 10;
/// DescribeTasks accepts at most 100 tasks per call.
const DESCRIBE_TASKS_BATCH: usize = 100;
/// Items per page of every ECS List call: the most ECS allows (its default is 10 for
/// ListServices), so a cluster shared by many envs costs a tenth of the round trips.
const LIST_PAGE: i32 = 100;
/// Enough events to explain a stuck deployment without flooding `status`.
const SERVICE_EVENTS_KEPT: usize = 5;

const INACTIVE: &str = "INACTIVE";

impl Aws {
    /// The cluster, or `None` when it does not exist or was deleted (ECS keeps deleted clusters
    /// visible as INACTIVE for a while).
    pub async fn describe_cluster(&self, name: &str) -> AwsResult<Option<ClusterState>> {
        let out = self
            .ecs
            .describe_clusters()
            .clusters(name)
            .include(ecs::ClusterField::Tags)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:DescribeClusters", name, e))?;
        Ok(out
            .clusters()
            .iter()
            .find(|c| c.status() != Some(INACTIVE))
            .map(|c| cluster_from_sdk(c, name)))
    }

    /// A cluster that runs on Fargate Spot unless a service asks otherwise.
    pub async fn create_cluster(&self, name: &str, tags: &Tags) -> AwsResult<ClusterState> {
        const ACTION: &str = "ecs:CreateCluster";
        let spot = ecs::CapacityProviderStrategyItem::builder()
            .capacity_provider("FARGATE_SPOT")
            .weight(1)
            .build()
            .map_err(|e| build_error(ACTION, name, e))?;
        let out = self
            .ecs
            .create_cluster()
            .cluster_name(name)
            .capacity_providers("FARGATE")
            .capacity_providers("FARGATE_SPOT")
            .default_capacity_provider_strategy(spot)
            .set_tags(tags_to_sdk(tags))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(ACTION, name, e))?;
        out.cluster()
            .map(|c| cluster_from_sdk(c, name))
            .ok_or_else(|| AwsError::unexpected(ACTION, name, "the reply holds no cluster"))
    }

    /// Names of the services in `cluster`; none when the cluster does not exist. Deleted services
    /// can still be listed (moto keeps them for good), so observe through `describe_services`.
    pub async fn list_service_names(&self, cluster: &str) -> AwsResult<Vec<String>> {
        let listed = self
            .ecs
            .list_services()
            .cluster(cluster)
            .max_results(LIST_PAGE)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await;
        match listed {
            Ok(arns) => Ok(arns.iter().map(|a| last_segment(a).to_string()).collect()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_cluster_not_found_exception()) =>
            {
                Ok(Vec::new())
            }
            Err(e) => Err(AwsError::from_sdk("ecs:ListServices", cluster, e)),
        }
    }

    /// The named services that exist and are not deleted (INACTIVE). A missing cluster holds no
    /// services, so that is an empty list too.
    pub async fn describe_services(
        &self,
        cluster: &str,
        names: &[String],
    ) -> AwsResult<Vec<ServiceState>> {
        let batches = names
            .chunks(DESCRIBE_SERVICES_BATCH)
            .map(|batch| self.describe_services_batch(cluster, batch));
        Ok(try_join_all(batches).await?.into_iter().flatten().collect())
    }

    async fn describe_services_batch(
        &self,
        cluster: &str,
        names: &[String],
    ) -> AwsResult<Vec<ServiceState>> {
        let reply = self
            .ecs
            .describe_services()
            .cluster(cluster)
            .set_services(Some(names.to_vec()))
            .include(ecs::ServiceField::Tags)
            .send()
            .await;
        let out = match reply {
            Ok(out) => out,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_cluster_not_found_exception()) =>
            {
                return Ok(Vec::new())
            }
            Err(e) => {
                return Err(AwsError::from_sdk(
                    "ecs:DescribeServices",
                    names.join(","),
                    e,
                ))
            }
        };
        // Missing services come back in `failures`, which is exactly "not there".
        Ok(out
            .services()
            .iter()
            .filter(|s| s.status() != Some(INACTIVE))
            .map(service_from_sdk)
            .collect())
    }

    /// One revision (`family:rev` or ARN) or the latest ACTIVE one (`family`), in full, with tags.
    /// `None` when ECS does not know it.
    pub async fn describe_task_definition(
        &self,
        arn_or_family: &str,
    ) -> AwsResult<Option<TaskDefinitionState>> {
        let reply = self
            .ecs
            .describe_task_definition()
            .task_definition(arn_or_family)
            .include(ecs::TaskDefinitionField::Tags)
            .send()
            .await;
        let out = match reply {
            Ok(out) => out,
            // ECS (and moto) answer an unknown family or revision with ClientException: it has no
            // dedicated not-found type for task definitions.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_client_exception()) =>
            {
                return Ok(None)
            }
            Err(e) => {
                return Err(AwsError::from_sdk(
                    "ecs:DescribeTaskDefinition",
                    arn_or_family,
                    e,
                ))
            }
        };
        Ok(out.task_definition().map(|td| TaskDefinitionState {
            arn: td.task_definition_arn().unwrap_or_default().to_string(),
            family: td.family().unwrap_or_default().to_string(),
            revision: td.revision(),
            status: td
                .status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            definition: Some(task_definition_from_sdk(td)),
            tags: tags_from_sdk(out.tags()),
        }))
    }

    /// A service and its task definition in full, for `init --from-service`: what envctl's models
    /// hold plus the names of every setting they cannot hold, so nothing is dropped silently.
    pub async fn import_service(&self, cluster: &str, service: &str) -> AwsResult<ImportLookup> {
        let reply = self
            .ecs
            .describe_services()
            .cluster(cluster)
            .services(service)
            .send()
            .await;
        let out = match reply {
            Ok(out) => out,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_cluster_not_found_exception()) =>
            {
                return Ok(ImportLookup::NoCluster)
            }
            Err(e) => return Err(AwsError::from_sdk("ecs:DescribeServices", service, e)),
        };
        // An unknown cluster may also come back as a failure with reason MISSING.
        if out
            .failures()
            .iter()
            .any(|f| f.arn().is_some_and(|a| a.contains(":cluster/")))
        {
            return Ok(ImportLookup::NoCluster);
        }
        let Some(svc) = out.services().iter().find(|s| s.status() != Some(INACTIVE)) else {
            return Ok(ImportLookup::NoService);
        };
        let td_arn = svc.task_definition().unwrap_or_default().to_string();
        let reply = self
            .ecs
            .describe_task_definition()
            .task_definition(&td_arn)
            .send()
            .await;
        let td = match reply {
            Ok(out) => out.task_definition().cloned(),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_client_exception()) =>
            {
                None
            }
            Err(e) => {
                return Err(AwsError::from_sdk(
                    "ecs:DescribeTaskDefinition",
                    td_arn.as_str(),
                    e,
                ))
            }
        };
        let Some(td) = td else {
            return Ok(ImportLookup::NoTaskDefinition(td_arn));
        };
        Ok(ImportLookup::Found(Box::new(LiveService {
            cluster: cluster.to_string(),
            service: service_from_sdk(svc),
            task_definition_arn: td_arn,
            task_definition: task_definition_from_sdk(&td),
            service_extras: service_extras_from_sdk(svc),
            task_extras: task_extras_from_sdk(&td),
            container_extras: td
                .container_definitions()
                .iter()
                .flat_map(|c| {
                    let name = c.name().unwrap_or_default().to_string();
                    container_extras_from_sdk(c)
                        .into_iter()
                        .map(move |field| (name.clone(), field.to_string()))
                })
                .collect(),
        })))
    }

    /// ARNs of the ACTIVE revisions of exactly `family`.
    pub async fn list_task_definition_arns(&self, family: &str) -> AwsResult<Vec<String>> {
        let arns = self
            .ecs
            .list_task_definitions()
            .family_prefix(family)
            .status(ecs::TaskDefinitionStatus::Active)
            .max_results(LIST_PAGE)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:ListTaskDefinitions", family, e))?;
        // `familyPrefix` is a prefix match on AWS: `web` would also return `web-worker`.
        Ok(arns
            .into_iter()
            .filter(|arn| family_of_arn(arn) == Some(family))
            .collect())
    }

    /// Task definition families starting with `prefix` that have an ACTIVE revision.
    pub async fn list_task_definition_families(&self, prefix: &str) -> AwsResult<Vec<String>> {
        self.ecs
            .list_task_definition_families()
            .family_prefix(prefix)
            .status(ecs::TaskDefinitionFamilyStatus::Active)
            .max_results(LIST_PAGE)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:ListTaskDefinitionFamilies", prefix, e))
    }

    /// Registers a new revision of `def.family`; returns its ARN.
    pub async fn register_task_definition(
        &self,
        def: &model::TaskDefinition,
        tags: &Tags,
    ) -> AwsResult<String> {
        const ACTION: &str = "ecs:RegisterTaskDefinition";
        let containers = def
            .container_definitions
            .iter()
            .map(container_to_sdk)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| build_error(ACTION, &def.family, e))?;
        let out = self
            .ecs
            .register_task_definition()
            .family(&def.family)
            .set_cpu(def.cpu.clone())
            .set_memory(def.memory.clone())
            .set_network_mode(def.network_mode.as_deref().map(ecs::NetworkMode::from))
            .set_requires_compatibilities(non_empty(
                def.requires_compatibilities
                    .iter()
                    .map(|c| ecs::Compatibility::from(c.as_str()))
                    .collect(),
            ))
            .set_execution_role_arn(def.execution_role_arn.clone())
            .set_task_role_arn(def.task_role_arn.clone())
            .set_runtime_platform(def.runtime_platform.as_ref().map(runtime_platform_to_sdk))
            .set_container_definitions(Some(containers))
            .set_tags(tags_to_sdk(tags))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(ACTION, &def.family, e))?;
        out.task_definition()
            .and_then(|td| td.task_definition_arn())
            .map(str::to_string)
            .ok_or_else(|| {
                AwsError::unexpected(
                    ACTION,
                    &def.family,
                    "the reply holds no task definition ARN",
                )
            })
    }

    /// Creates the service; returns it as the reply describes it (the wait's first look). When one
    /// of that name is ACTIVE already, AWS fails with InvalidParameterException (moto silently
    /// replaces it instead): see `create_service_may_have_lost_race`.
    pub async fn create_service(
        &self,
        cluster: &str,
        name: &str,
        task_definition_arn: &str,
        def: &ServiceDefinition,
        tags: &Tags,
    ) -> AwsResult<Option<ServiceState>> {
        const ACTION: &str = "ecs:CreateService";
        let parts = ServiceParts::from_model(def).map_err(|e| build_error(ACTION, name, e))?;
        let out = self
            .ecs
            .create_service()
            .cluster(cluster)
            .service_name(name)
            .task_definition(task_definition_arn)
            .desired_count(def.desired_count)
            .set_capacity_provider_strategy(parts.capacity_provider_strategy)
            .set_launch_type(def.launch_type.as_deref().map(ecs::LaunchType::from))
            .set_platform_version(def.platform_version.clone())
            .set_network_configuration(parts.network_configuration)
            .set_deployment_configuration(parts.deployment_configuration)
            .set_enable_execute_command(def.enable_execute_command)
            .set_enable_ecs_managed_tags(def.enable_ecs_managed_tags)
            .set_propagate_tags(parts.propagate_tags)
            .set_health_check_grace_period_seconds(def.health_check_grace_period_seconds)
            .set_load_balancers(load_balancers_to_sdk(&def.load_balancers))
            .set_service_connect_configuration(parts.service_connect)
            .set_tags(tags_to_sdk(tags))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(ACTION, name, e))?;
        Ok(out.service().map(service_from_sdk))
    }

    /// Whether a failed CreateService may mean that the service exists already (another `up`
    /// created it after envctl looked). AWS answers an ACTIVE service of the same name with
    /// InvalidParameterException ("Creation of service was not idempotent"), a code it also uses
    /// for bad input: the caller must look the service up before deciding.
    pub fn create_service_may_have_lost_race(err: &AwsError) -> bool {
        err.code.as_deref() == Some("InvalidParameterException")
    }

    /// Converges an existing service on `def` and `task_definition_arn`; returns it as the reply
    /// describes it (the wait's first look). The launch type cannot be changed by UpdateService,
    /// so it is not sent. `force_new_deployment` is what ECS demands with a capacity provider
    /// change (the plan says when).
    pub async fn update_service(
        &self,
        cluster: &str,
        name: &str,
        task_definition_arn: &str,
        def: &ServiceDefinition,
        force_new_deployment: bool,
    ) -> AwsResult<Option<ServiceState>> {
        const ACTION: &str = "ecs:UpdateService";
        let parts = ServiceParts::from_model(def).map_err(|e| build_error(ACTION, name, e))?;
        let out = self
            .ecs
            .update_service()
            .cluster(cluster)
            .service(name)
            .task_definition(task_definition_arn)
            .desired_count(def.desired_count)
            .set_capacity_provider_strategy(parts.capacity_provider_strategy)
            .set_platform_version(def.platform_version.clone())
            .set_network_configuration(parts.network_configuration)
            .set_deployment_configuration(parts.deployment_configuration)
            .set_enable_execute_command(def.enable_execute_command)
            .set_enable_ecs_managed_tags(def.enable_ecs_managed_tags)
            .set_propagate_tags(parts.propagate_tags)
            .set_health_check_grace_period_seconds(def.health_check_grace_period_seconds)
            // Always sent: an empty list detaches a service that stopped being public.
            .set_load_balancers(Some(
                load_balancers_to_sdk(&def.load_balancers).unwrap_or_default(),
            ))
            .set_service_connect_configuration(parts.service_connect)
            .set_force_new_deployment(force_new_deployment.then_some(true))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(ACTION, name, e))?;
        Ok(out.service().map(service_from_sdk))
    }

    /// Deploys another revision to a service without touching anything else (`rollback`);
    /// returns the service as the reply describes it.
    pub async fn set_task_definition(
        &self,
        cluster: &str,
        name: &str,
        task_definition_arn: &str,
    ) -> AwsResult<Option<ServiceState>> {
        let out = self
            .ecs
            .update_service()
            .cluster(cluster)
            .service(name)
            .task_definition(task_definition_arn)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:UpdateService", name, e))?;
        Ok(out.service().map(service_from_sdk))
    }

    /// Scales a service without touching anything else (pause and resume).
    pub async fn set_desired_count(&self, cluster: &str, name: &str, count: i32) -> AwsResult<()> {
        self.ecs
            .update_service()
            .cluster(cluster)
            .service(name)
            .desired_count(count)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:UpdateService", name, e))?;
        Ok(())
    }

    /// Deletes a service even if it still runs tasks. Deleting what is already gone succeeds, so
    /// `down` can be run again after a partial failure.
    pub async fn delete_service(&self, cluster: &str, name: &str) -> AwsResult<()> {
        let reply = self
            .ecs
            .delete_service()
            .cluster(cluster)
            .service(name)
            .force(true)
            .send()
            .await;
        match reply {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error().is_some_and(|e| {
                    e.is_service_not_found_exception()
                    || e.is_cluster_not_found_exception()
                    // AWS answers this for a service already being deleted, but the SDK's
                    // DeleteService model does not list it, so only its code identifies it.
                    || e.code() == Some("ServiceNotActiveException")
                }) =>
            {
                Ok(())
            }
            Err(e) => Err(AwsError::from_sdk("ecs:DeleteService", name, e)),
        }
    }

    /// Marks one revision INACTIVE; an unknown or already inactive revision is success.
    pub async fn deregister_task_definition(&self, arn: &str) -> AwsResult<()> {
        const ACTION: &str = "ecs:DeregisterTaskDefinition";
        // A missing revision is also a ClientException, which the match below would swallow;
        // refuse it here so that a bad argument is not mistaken for "already gone".
        if !names_revision(arn) {
            return Err(AwsError::unexpected(
                ACTION,
                arn,
                "a task definition revision (family:revision or its ARN) is required",
            ));
        }
        let reply = self
            .ecs
            .deregister_task_definition()
            .task_definition(arn)
            .send()
            .await;
        match reply {
            Ok(_) => Ok(()),
            // ECS has no dedicated not-found type for task definitions: unknown revisions are a
            // ClientException (moto: "Unable to describe task definition.").
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_client_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(AwsError::from_sdk(ACTION, arn, e)),
        }
    }

    /// Adds or overwrites tags; other tags on the resource stay.
    pub async fn tag_resource(&self, arn: &str, tags: &Tags) -> AwsResult<()> {
        // Nothing to send is not worth a write call (a converged env makes none).
        let Some(sdk_tags) = tags_to_sdk(tags) else {
            return Ok(());
        };
        self.ecs
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(sdk_tags))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:TagResource", arn, e))?;
        Ok(())
    }

    /// Removes tags by key; keys the resource does not have are ignored.
    pub async fn untag_resource(&self, arn: &str, keys: &[String]) -> AwsResult<()> {
        // Nothing to remove is not worth a write call (a converged env makes none).
        if keys.is_empty() {
            return Ok(());
        }
        self.ecs
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(keys.to_vec()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:UntagResource", arn, e))?;
        Ok(())
    }

    /// Up to `max` recently stopped tasks of a service, newest first (ECS keeps them about an
    /// hour). A missing cluster or service has none.
    pub async fn list_stopped_tasks(
        &self,
        cluster: &str,
        service: &str,
        max: usize,
    ) -> AwsResult<Vec<StoppedTask>> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let mut tasks = self
            .service_tasks(cluster, service, ecs::DesiredStatus::Stopped)
            .await?;
        // ListTasks has no order; sort on the timestamps themselves, not their text.
        tasks.sort_by(|a, b| b.stopped_at().cmp(&a.stopped_at()));
        Ok(tasks.iter().take(max).map(stopped_task_from_sdk).collect())
    }

    /// The tasks of `service` with `status` as their desired status (ListTasks, every page, then
    /// DescribeTasks in batches). A missing cluster or service has none.
    async fn service_tasks(
        &self,
        cluster: &str,
        service: &str,
        status: ecs::DesiredStatus,
    ) -> AwsResult<Vec<ecs::Task>> {
        let listed = self
            .ecs
            .list_tasks()
            .cluster(cluster)
            .service_name(service)
            .desired_status(status)
            .max_results(LIST_PAGE)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await;
        let arns = match listed {
            Ok(arns) => arns,
            Err(e)
                if e.as_service_error().is_some_and(|e| {
                    e.is_cluster_not_found_exception() || e.is_service_not_found_exception()
                }) =>
            {
                return Ok(Vec::new())
            }
            Err(e) => return Err(AwsError::from_sdk("ecs:ListTasks", service, e)),
        };
        let batches = arns
            .chunks(DESCRIBE_TASKS_BATCH)
            .map(|batch| self.describe_tasks_batch(cluster, service, batch));
        Ok(try_join_all(batches).await?.into_iter().flatten().collect())
    }

    /// RunTask: one task of an existing revision with one container's command replaced, on
    /// on-demand FARGATE unless `spot`. Returns the task's ARN.
    pub async fn run_task(&self, launch: &model::TaskLaunch) -> AwsResult<String> {
        const ACTION: &str = "ecs:RunTask";
        let resource = &launch.task_definition_arn;
        let network = ServiceParts::from_model(&ServiceDefinition {
            network_configuration: Some(model::NetworkConfiguration {
                awsvpc_configuration: launch.network.clone(),
            }),
            ..Default::default()
        })
        .map_err(|e| build_error(ACTION, resource, e))?
        .network_configuration;
        let overrides = ecs::TaskOverride::builder()
            .container_overrides(
                ecs::ContainerOverride::builder()
                    .name(&launch.container)
                    .set_command(Some(launch.command.clone()))
                    .build(),
            )
            .build();
        let mut request = self
            .ecs
            .run_task()
            .cluster(&launch.cluster)
            .task_definition(&launch.task_definition_arn)
            .count(1)
            .set_network_configuration(network)
            .overrides(overrides)
            .started_by(&launch.started_by)
            .enable_ecs_managed_tags(true)
            .set_tags(tags_to_sdk(&launch.tags));
        request = if launch.spot {
            request.capacity_provider_strategy(
                ecs::CapacityProviderStrategyItem::builder()
                    .capacity_provider("FARGATE_SPOT")
                    .weight(1)
                    .build()
                    .map_err(|e| build_error(ACTION, resource, e))?,
            )
        } else {
            request.launch_type(ecs::LaunchType::Fargate)
        };
        let out = request
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(ACTION, resource, e))?;
        if let Some(f) = out.failures().first() {
            return Err(AwsError::unexpected(
                ACTION,
                resource,
                format!(
                    "ECS could not start the task: {}{}",
                    f.reason().unwrap_or("no reason given"),
                    f.detail().map(|d| format!(" ({d})")).unwrap_or_default()
                ),
            ));
        }
        out.tasks()
            .first()
            .and_then(|t| t.task_arn())
            .map(str::to_string)
            .ok_or_else(|| AwsError::unexpected(ACTION, resource, "RunTask returned no task"))
    }

    /// One task's status, or `None` when ECS no longer knows it.
    pub async fn describe_task(
        &self,
        cluster: &str,
        task_arn: &str,
    ) -> AwsResult<Option<model::TaskStatus>> {
        let out = self
            .ecs
            .describe_tasks()
            .cluster(cluster)
            .tasks(task_arn)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:DescribeTasks", task_arn, e))?;
        Ok(out.tasks().first().map(|t| model::TaskStatus {
            arn: t.task_arn().unwrap_or(task_arn).to_string(),
            last_status: t.last_status().unwrap_or_default().to_string(),
            stopped_reason: t.stopped_reason().map(str::to_string),
            stop_code: t.stop_code().map(|c| c.as_str().to_string()),
            containers: t
                .containers()
                .iter()
                .map(|c| model::ContainerStatus {
                    name: c.name().unwrap_or_default().to_string(),
                    exit_code: c.exit_code(),
                    reason: c.reason().map(str::to_string),
                })
                .collect(),
        }))
    }

    /// StopTask; a task that is already gone is success.
    pub async fn stop_task(&self, cluster: &str, task_arn: &str, reason: &str) -> AwsResult<()> {
        match self
            .ecs
            .stop_task()
            .cluster(cluster)
            .task(task_arn)
            .reason(reason)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_invalid_parameter_exception()) =>
            {
                // ECS answers InvalidParameterException for a task it no longer has.
                Ok(())
            }
            Err(e) => Err(AwsError::from_sdk("ecs:StopTask", task_arn, e)),
        }
    }

    async fn describe_tasks_batch(
        &self,
        cluster: &str,
        service: &str,
        arns: &[String],
    ) -> AwsResult<Vec<ecs::Task>> {
        let out = self
            .ecs
            .describe_tasks()
            .cluster(cluster)
            .set_tasks(Some(arns.to_vec()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:DescribeTasks", service, e))?;
        Ok(out.tasks().to_vec())
    }
}

// ---- SDK -> model -------------------------------------------------------------------------

fn cluster_from_sdk(c: &ecs::Cluster, asked_name: &str) -> ClusterState {
    ClusterState {
        name: c.cluster_name().unwrap_or(asked_name).to_string(),
        arn: c.cluster_arn().unwrap_or_default().to_string(),
        status: c.status().unwrap_or_default().to_string(),
        capacity_providers: c.capacity_providers().to_vec(),
        tags: tags_from_sdk(c.tags()),
    }
}

fn service_from_sdk(s: &ecs::Service) -> ServiceState {
    let arn = s.service_arn().unwrap_or_default();
    // ECS returns events newest first; keep that order and only the head.
    let events = s
        .events()
        .iter()
        .take(SERVICE_EVENTS_KEPT)
        .map(|e| ServiceEvent {
            at: e.created_at().and_then(rfc3339).unwrap_or_default(),
            message: e.message().unwrap_or_default().to_string(),
        })
        .collect();
    ServiceState {
        name: s
            .service_name()
            .map(str::to_string)
            .unwrap_or_else(|| last_segment(arn).to_string()),
        arn: arn.to_string(),
        status: s.status().unwrap_or_default().to_string(),
        desired_count: s.desired_count(),
        running_count: s.running_count(),
        pending_count: s.pending_count(),
        task_definition_arn: s.task_definition().unwrap_or_default().to_string(),
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
            .map(|lb| LoadBalancerAttachment {
                target_group_arn: lb.target_group_arn().unwrap_or_default().to_string(),
                container_name: lb.container_name().unwrap_or_default().to_string(),
                container_port: lb.container_port().unwrap_or_default(),
            })
            .collect(),
        deployments: s.deployments().iter().map(deployment_from_sdk).collect(),
        events,
        created_at: s.created_at().and_then(rfc3339),
        tags: tags_from_sdk(s.tags()),
    }
}

fn deployment_from_sdk(d: &ecs::Deployment) -> DeploymentState {
    DeploymentState {
        id: d.id().unwrap_or_default().to_string(),
        status: d.status().unwrap_or_default().to_string(),
        rollout_state: d.rollout_state().map(|r| r.as_str().to_string()),
        task_definition_arn: d.task_definition().unwrap_or_default().to_string(),
        desired_count: d.desired_count(),
        running_count: d.running_count(),
        pending_count: d.pending_count(),
        failed_tasks: d.failed_tasks(),
        updated_at: d.updated_at().and_then(rfc3339),
    }
}

fn capacity_item_from_sdk(c: &ecs::CapacityProviderStrategyItem) -> CapacityProviderStrategyItem {
    CapacityProviderStrategyItem {
        capacity_provider: c.capacity_provider().to_string(),
        weight: c.weight(),
        base: c.base(),
    }
}

fn awsvpc_from_sdk(c: &ecs::AwsVpcConfiguration) -> AwsVpcConfiguration {
    AwsVpcConfiguration {
        subnets: c.subnets().to_vec(),
        security_groups: c.security_groups().to_vec(),
        assign_public_ip: c.assign_public_ip().map(|a| a.as_str().to_string()),
    }
}

fn stopped_task_from_sdk(t: &ecs::Task) -> StoppedTask {
    StoppedTask {
        task_arn: t.task_arn().unwrap_or_default().to_string(),
        stopped_at: t.stopped_at().and_then(rfc3339),
        stop_code: t.stop_code().map(|c| c.as_str().to_string()),
        reason: t.stopped_reason().unwrap_or_default().to_string(),
        capacity_provider: t.capacity_provider_name().map(str::to_string),
    }
}

/// The inverse of `register_task_definition`'s conversion: fields outside envctl's model
/// (volumes, mount points, ...) are left out.
fn task_definition_from_sdk(td: &ecs::TaskDefinition) -> model::TaskDefinition {
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

fn container_from_sdk(c: &ecs::ContainerDefinition) -> model::ContainerDefinition {
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

fn service_extras_from_sdk(s: &ecs::Service) -> ServiceExtras {
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
fn task_extras_from_sdk(td: &ecs::TaskDefinition) -> Vec<(String, String)> {
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
fn container_extras_from_sdk(c: &ecs::ContainerDefinition) -> Vec<&'static str> {
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

fn tags_from_sdk(tags: &[ecs::Tag]) -> Tags {
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
fn rfc3339(t: &DateTime) -> Option<String> {
    t.fmt(Format::DateTime).ok()
}

// ---- model -> SDK -------------------------------------------------------------------------

/// The parts of a service definition that need converting, shared by create and update.
struct ServiceParts {
    capacity_provider_strategy: Option<Vec<ecs::CapacityProviderStrategyItem>>,
    network_configuration: Option<ecs::NetworkConfiguration>,
    deployment_configuration: Option<ecs::DeploymentConfiguration>,
    propagate_tags: Option<ecs::PropagateTags>,
    service_connect: Option<ecs::ServiceConnectConfiguration>,
}

impl ServiceParts {
    fn from_model(def: &ServiceDefinition) -> Result<Self, BuildError> {
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

fn service_connect_to_sdk(
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

fn runtime_platform_to_sdk(p: &model::RuntimePlatform) -> ecs::RuntimePlatform {
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

fn container_to_sdk(
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
fn tags_to_sdk(tags: &Tags) -> Option<Vec<ecs::Tag>> {
    non_empty(
        tags.iter()
            .map(|(k, v)| ecs::Tag::builder().key(k).value(v).build())
            .collect(),
    )
}

// ---- small helpers ------------------------------------------------------------------------

/// Leaves empty lists out of requests so they read like the user's template.
fn non_empty<T>(v: Vec<T>) -> Option<Vec<T>> {
    (!v.is_empty()).then_some(v)
}

fn non_empty_map(m: &BTreeMap<String, String>) -> Option<HashMap<String, String>> {
    (!m.is_empty()).then(|| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

fn build_error(action: &str, resource: &str, e: BuildError) -> AwsError {
    AwsError::unexpected(action, resource, format!("invalid request: {e}"))
}

/// `arn:aws:ecs:r:a:service/cluster/name` -> `name`.
fn last_segment(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// `arn:aws:ecs:r:a:task-definition/web:12` -> `web`.
fn family_of_arn(arn: &str) -> Option<&str> {
    let (_, rest) = arn.split_once("task-definition/")?;
    rest.rsplit_once(':').map(|(family, _)| family)
}

/// `web:3` or `arn:...:task-definition/web:3`, not a bare family.
fn names_revision(arn_or_family: &str) -> bool {
    last_segment(arn_or_family)
        .rsplit_once(':')
        .is_some_and(|(_, rev)| rev.parse::<u32>().is_ok())
}

fn load_balancers_to_sdk(list: &[LoadBalancerAttachment]) -> Option<Vec<ecs::LoadBalancer>> {
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
