//! sts calls (being written).
