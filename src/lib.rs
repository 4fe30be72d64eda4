//! vouch: compliance-as-code. Controls mapped to SOC 2, ISO 27001 and HIPAA, written as Cedar
//! policies, evaluated against Terraform, Kubernetes, AWS IAM and a SaaS inventory.
//!
//! The layers, each in one module (see ARCHITECTURE.md): [`source`] (files on disk or in git)
//! → [`formats`] (parse and normalise into [`model`] resources) → [`engine`] (the only module
//! that talks to Cedar) with the [`library`] of controls → an [`assessment::Assessment`] that
//! [`report`] renders.

pub mod access;
pub mod app;
pub mod assessment;
pub mod basis;
pub mod check;
pub mod config;
pub mod dates;
pub mod engine;
pub mod error;
pub mod evidence;
pub mod fixtures;
pub mod formats;
pub mod frameworks;
pub mod gate;
pub mod git;
pub mod iam;
pub mod library;
pub mod lines;
pub mod model;
pub mod prove;
pub mod report;
pub mod roadmap;
pub mod serve;
pub mod source;
