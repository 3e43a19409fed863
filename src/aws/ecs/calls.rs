//! The ECS calls: each sends one request (or one page loop) and hands back `crate::model` types.

use aws_sdk_ecs::types as ecs;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use futures::future::try_join_all;

use super::convert::{
    build_error, cluster_from_sdk, container_extras_from_sdk, container_to_sdk, family_of_arn,
    last_segment, load_balancers_to_sdk, names_revision, non_empty, runtime_platform_to_sdk,
    service_extras_from_sdk, service_from_sdk, stopped_task_from_sdk, tags_from_sdk, tags_to_sdk,
    task_definition_from_sdk, task_extras_from_sdk, ServiceParts,
};
use crate::aws::reply::{not_found_as_none, required};
use crate::aws::{Aws, AwsError, AwsResult};
use crate::model::{
    self, ClusterState, ImportLookup, LiveService, ServiceDefinition, ServiceState, StoppedTask,
    Tags, TaskDefinitionState,
};

/// DescribeServices accepts at most 10 services per call.
const DESCRIBE_SERVICES_BATCH: usize = 10;
/// DescribeTasks accepts at most 100 tasks per call.
const DESCRIBE_TASKS_BATCH: usize = 100;
/// Items per page of every ECS List call: the most ECS allows (its default is 10 for
/// ListServices), so a cluster shared by many envs costs a tenth of the round trips.
const LIST_PAGE: i32 = 100;

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
        out.clusters()
            .iter()
            .find(|c| c.status() != Some(INACTIVE))
            .map(|c| cluster_from_sdk(c, name, "ecs:DescribeClusters"))
            .transpose()
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
            .map(|c| cluster_from_sdk(c, name, ACTION))
            .ok_or_else(|| AwsError::unexpected(ACTION, name, "the reply holds no cluster"))?
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
        let found = not_found_as_none(
            reply,
            |e| e.is_cluster_not_found_exception(),
            "ecs:DescribeServices",
            &names.join(","),
        )?;
        let Some(out) = found else {
            return Ok(Vec::new());
        };
        // Missing services come back in `failures`, which is exactly "not there".
        out.services()
            .iter()
            .filter(|s| s.status() != Some(INACTIVE))
            .map(|s| service_from_sdk(s, "ecs:DescribeServices"))
            .collect()
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
        // ECS (and moto) answer an unknown family or revision with ClientException: it has no
        // dedicated not-found type for task definitions.
        const ACTION: &str = "ecs:DescribeTaskDefinition";
        let Some(out) =
            not_found_as_none(reply, |e| e.is_client_exception(), ACTION, arn_or_family)?
        else {
            return Ok(None);
        };
        let Some(td) = out.task_definition() else {
            return Ok(None);
        };
        Ok(Some(TaskDefinitionState {
            arn: required(
                td.task_definition_arn(),
                ACTION,
                arn_or_family,
                "task definition ARN",
            )?,
            family: required(td.family(), ACTION, arn_or_family, "family")?,
            revision: td.revision(),
            // Plans keep only ACTIVE revisions: one without a status is not one.
            status: required(
                td.status().map(|s| s.as_str()),
                ACTION,
                arn_or_family,
                "task definition status",
            )?,
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
        let td_arn = required(
            svc.task_definition(),
            "ecs:DescribeServices",
            service,
            "task definition",
        )?;
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
            service: service_from_sdk(svc, "ecs:DescribeServices")?,
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
        out.service()
            .map(|s| service_from_sdk(s, ACTION))
            .transpose()
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
        out.service()
            .map(|s| service_from_sdk(s, ACTION))
            .transpose()
    }

    /// Deploys another revision to a service without touching anything else (`rollback`);
    /// returns the service as the reply describes it.
    pub async fn set_task_definition(
        &self,
        cluster: &str,
        name: &str,
        task_definition_arn: &str,
    ) -> AwsResult<Option<ServiceState>> {
        const ACTION: &str = "ecs:UpdateService";
        let out = self
            .ecs
            .update_service()
            .cluster(cluster)
            .service(name)
            .task_definition(task_definition_arn)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(ACTION, name, e))?;
        out.service()
            .map(|s| service_from_sdk(s, ACTION))
            .transpose()
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
        tasks
            .iter()
            .take(max)
            .map(|t| stopped_task_from_sdk(t, "ecs:DescribeTasks", service))
            .collect()
    }

    /// The tasks of `service` with `status` as their desired status (ListTasks, every page, then
    /// DescribeTasks in batches). A missing cluster or service has none.
    pub(super) async fn service_tasks(
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
