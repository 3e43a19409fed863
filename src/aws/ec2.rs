//! ec2 calls (being written).
