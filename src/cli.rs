//! Command-line interface (clap). Only the binary sees these types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use vouch::library::Severity;
use vouch::report::Format;

#[derive(Debug, Parser)]
#[command(
    name = "vouch",
    version,
    about = "Compliance as code: SOC 2, ISO 27001 and HIPAA controls as Cedar policies over Terraform, Kubernetes, IAM and your SaaS inventory"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate every control against the configs under PATH
    Check(CheckCmd),
    /// Fail a pull request only on what it breaks: compare the merge base with the head, from git objects
    Gate(GateCmd),
    /// List or show the controls of the library
    #[command(subcommand)]
    Controls(ControlsCmd),
    /// List the frameworks with their coverage, or show which controls evidence each requirement
    #[command(subcommand)]
    Frameworks(FrameworksCmd),
    /// Load and strictly validate the library (built-in plus custom directories from vouch.toml)
    Validate {
        /// Repository whose vouch.toml names custom library directories
        #[arg(default_value = ".")]
        path: PathBuf,
    },
    /// Run every control's fixtures: each must fire on its violating cases and stay silent on its compliant ones
    Test {
        /// Repository whose vouch.toml names custom library directories
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Only these controls
        #[arg(long = "control")]
        controls: Vec<String>,
        #[arg(long, value_enum, default_value_t = FormatArg::Human)]
        format: FormatArg,
    },
}

#[derive(Debug, Args)]
pub struct CheckCmd {
    /// Directory to scan
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Output format
    #[arg(long, value_enum, default_value_t = FormatArg::Human)]
    pub format: FormatArg,
    /// Only controls mapped to this framework (soc2, soc3, iso27001, hipaa, ferpa); repeatable
    #[arg(long = "framework")]
    pub frameworks: Vec<String>,
    /// Only this control; repeatable
    #[arg(long = "control")]
    pub controls: Vec<String>,
    /// Exit 1 only for findings at or above this severity (default: low, or vouch.toml's fail_on)
    #[arg(long, value_enum)]
    pub fail_on: Option<SeverityArg>,
    /// Count ages (restore tests, logins, grants) up to this date, YYYY-MM-DD (default: today, UTC)
    #[arg(long)]
    pub as_of: Option<String>,
}

#[derive(Debug, Args)]
pub struct GateCmd {
    /// Directory to scan (inside a git work tree)
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// The branch the change merges into (the gate evaluates its merge base with the head)
    #[arg(long)]
    pub base: String,
    /// The head revision (default: the working tree if it has uncommitted changes, else HEAD)
    #[arg(long)]
    pub head: Option<String>,
    /// Output format on stdout
    #[arg(long, value_enum, default_value_t = FormatArg::Human)]
    pub format: FormatArg,
    /// Only controls mapped to this framework; repeatable
    #[arg(long = "framework")]
    pub frameworks: Vec<String>,
    /// Only this control; repeatable
    #[arg(long = "control")]
    pub controls: Vec<String>,
    /// Fail only for new findings at or above this severity (default: low, or vouch.toml's fail_on)
    #[arg(long, value_enum)]
    pub fail_on: Option<SeverityArg>,
    /// Also fail on findings that were already on the base
    #[arg(long)]
    pub all: bool,
    /// Count ages up to this date, YYYY-MM-DD (default: today, UTC)
    #[arg(long)]
    pub as_of: Option<String>,
    /// Write SARIF 2.1.0 (for code scanning) to this file
    #[arg(long)]
    pub sarif: Option<PathBuf>,
    /// Write JUnit XML to this file
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Write a Markdown summary (for a pull-request comment) to this file
    #[arg(long)]
    pub summary: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ControlsCmd {
    /// List every control
    List {
        #[arg(long, value_enum, default_value_t = FormatArg::Human)]
        format: FormatArg,
        #[arg(long, default_value = ".")]
        path: PathBuf,
    },
    /// Show one control: description, rationale, mappings, remediation
    Show {
        id: String,
        #[arg(long, value_enum, default_value_t = FormatArg::Human)]
        format: FormatArg,
        #[arg(long, default_value = ".")]
        path: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum FrameworksCmd {
    /// List every framework: requirements with an automated control, with only manual ones, with none
    List {
        #[arg(long, value_enum, default_value_t = FormatArg::Human)]
        format: FormatArg,
        #[arg(long, default_value = ".")]
        path: PathBuf,
    },
    /// Show one framework (soc2, soc3, iso27001, hipaa, ferpa): every requirement and its controls
    Show {
        id: String,
        #[arg(long, value_enum, default_value_t = FormatArg::Human)]
        format: FormatArg,
        #[arg(long, default_value = ".")]
        path: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Human,
    Json,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Human => Format::Human,
            FormatArg::Json => Format::Json,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SeverityArg {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl From<SeverityArg> for Severity {
    fn from(s: SeverityArg) -> Self {
        match s {
            SeverityArg::Info => Severity::Info,
            SeverityArg::Low => Severity::Low,
            SeverityArg::Medium => Severity::Medium,
            SeverityArg::High => Severity::High,
            SeverityArg::Critical => Severity::Critical,
        }
    }
}
