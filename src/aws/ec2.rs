//! EC2: where tasks run when envctl.toml names no network — the default VPC's subnets and its
//! `default` security group — and filling in a security group for configs that give only subnets.
//!
//! Every lookup uses Describe* filters, which answer with an empty list for unknown ids instead
//! of an error (EC2's errors are not modelled in the SDK, so they could only be matched by code).

use aws_sdk_ec2::types::Filter;

use super::{Aws, AwsError, AwsResult};

/// The network a Fargate task gets when the config does not choose one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultNetwork {
    pub vpc_id: String,
    /// Sorted, so that rendered service definitions are stable.
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
}

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

impl Aws {
    /// The region's default VPC, all of its subnets and its `default` security group.
    pub async fn default_network(&self) -> AwsResult<DefaultNetwork> {
        let no_default = || {
            AwsError::unexpected(
                "ec2:DescribeVpcs",
                format!("default VPC in {}", self.region),
                "this region has no default VPC; set `[network] subnets` and `security_groups` in envctl.toml",
            )
        };
        let mut pages = self
            .ec2
            .describe_vpcs()
            .filters(filter("isDefault", "true"))
            .into_paginator()
            .send();
        let mut vpc_id = None;
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| AwsError::from_sdk("ec2:DescribeVpcs", "default VPC", e))?;
            if let Some(id) = page.vpcs().iter().find_map(|v| v.vpc_id()) {
                vpc_id = Some(id.to_string());
                break;
            }
        }
        let vpc_id = vpc_id.ok_or_else(no_default)?;

        let mut pages = self
            .ec2
            .describe_subnets()
            .filters(filter("vpc-id", &vpc_id))
            .into_paginator()
            .send();
        let mut subnets = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("ec2:DescribeSubnets", &vpc_id, e))?;
            subnets.extend(
                page.subnets()
                    .iter()
                    .filter_map(|s| s.subnet_id().map(str::to_string)),
            );
        }
        subnets.sort();
        if subnets.is_empty() {
            return Err(AwsError::unexpected(
                "ec2:DescribeSubnets",
                &vpc_id,
                "the default VPC has no subnets; set `[network] subnets` and `security_groups` in envctl.toml",
            ));
        }

        let sg = self.default_security_group(&vpc_id).await?.ok_or_else(|| {
            AwsError::unexpected(
                "ec2:DescribeSecurityGroups",
                &vpc_id,
                "the default VPC has no `default` security group; set `[network] security_groups` in envctl.toml",
            )
        })?;
        Ok(DefaultNetwork {
            vpc_id,
            subnets,
            security_groups: vec![sg],
        })
    }

    /// The VPC a subnet belongs to, or `None` if there is no such subnet.
    pub async fn vpc_of_subnet(&self, subnet_id: &str) -> AwsResult<Option<String>> {
        let out = self
            .ec2
            .describe_subnets()
            .filters(filter("subnet-id", subnet_id))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ec2:DescribeSubnets", subnet_id, e))?;
        Ok(out
            .subnets()
            .iter()
            .find_map(|s| s.vpc_id())
            .map(str::to_string))
    }

    /// The id of the VPC's `default` security group, or `None` if there is none (or no VPC).
    pub async fn default_security_group(&self, vpc_id: &str) -> AwsResult<Option<String>> {
        let out = self
            .ec2
            .describe_security_groups()
            .filters(filter("vpc-id", vpc_id))
            .filters(filter("group-name", "default"))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ec2:DescribeSecurityGroups", vpc_id, e))?;
        Ok(out
            .security_groups()
            .iter()
            .find_map(|g| g.group_id())
            .map(str::to_string))
    }
}
