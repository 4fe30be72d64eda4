//! AWS IAM as AWS evaluates it: policy documents and account exports → statement semantics over
//! the catalog of real actions → per-principal facts (full administrator, privilege-escalation
//! paths, data exfiltration, credentials and resource exposure, infrastructure modification,
//! trust). Knows nothing of Cedar or of the file formats around a document.
//!
//! docs/iam.md describes the semantics, the condition table and the path catalog.

pub mod arn;
pub mod catalog;
pub mod condition;
pub mod document;
pub mod eval;
pub mod findings;
pub mod glob;
pub mod managed;
pub mod paths;
pub mod people;
pub mod principals;
pub mod trust;
