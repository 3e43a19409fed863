//! iam calls (being written).
