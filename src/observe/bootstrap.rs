//! What AWS has under bootstrap's names, read concurrently into `plan::bootstrap`'s observed
//! side: the cluster, each role with its trust, inline policy and managed attachments, the
//! preview ALB with its listener, the build bucket and cache repositories. The network is read
//! only when the ALB has to be created. Nothing here writes.

use futures::future::try_join_all;

use crate::aws::Aws;
use crate::config::LoadedConfig;
use crate::error::Result;
use crate::plan::bootstrap::{
    BootstrapDesired, BootstrapObserved, Network, ObservedLoadBalancer, ObservedRole,
};

pub async fn observe_bootstrap(
    aws: &Aws,
    cfg: &LoadedConfig,
    d: &BootstrapDesired,
) -> Result<BootstrapObserved> {
    let roles = try_join_all(d.roles.iter().map(|spec| async move {
        let (state, attached) =
            futures::try_join!(aws.service_role(&spec.name, spec.policy_name), async {
                // Only the execution role has managed policies: spare the others the call.
                if spec.managed_policies.is_empty() {
                    Ok(Vec::new())
                } else {
                    aws.attached_role_policies(&spec.name).await
                }
            })?;
        Ok::<_, crate::aws::AwsError>(state.map(|state| {
            (
                spec.name.clone(),
                ObservedRole {
                    state,
                    attached_policies: attached,
                },
            )
        }))
    }));
    let load_balancer = async {
        let Some(name) = &d.load_balancer else {
            return Ok((None, None));
        };
        match aws.describe_load_balancer_by_name(name).await? {
            Some((arn, dns_name, tags)) => {
                let listener = aws.listeners_of(&arn).await?.into_iter().next();
                let lb = ObservedLoadBalancer {
                    name: name.clone(),
                    arn,
                    dns_name,
                    tags,
                    listener: listener.map(|l| l.arn),
                };
                Ok((Some(lb), None))
            }
            None => {
                let (subnets, security_groups, _) = crate::observe::network(aws, cfg).await?;
                let network = Network {
                    subnets,
                    security_groups,
                };
                Ok::<_, crate::error::Error>((None, Some(network)))
            }
        }
    };
    let bucket = async {
        match &d.build {
            Some(b) => aws.bucket_tags(&b.bucket).await,
            None => Ok(None),
        }
    };
    let repositories = try_join_all(
        d.build
            .iter()
            .flat_map(|b| &b.cache_repositories)
            .map(|name| aws.describe_repository(name)),
    );
    let (cluster, roles, (load_balancer, network), bucket, repositories) = futures::try_join!(
        async { Ok(aws.describe_cluster(&d.cluster).await?) },
        async { Ok(roles.await?) },
        load_balancer,
        async { Ok(bucket.await?) },
        async { Ok::<_, crate::error::Error>(repositories.await?) },
    )?;
    Ok(BootstrapObserved {
        cluster,
        roles: roles.into_iter().flatten().collect(),
        load_balancer,
        network,
        bucket,
        repositories: repositories
            .into_iter()
            .flatten()
            .map(|r| (r.name, r.tags))
            .collect(),
    })
}
