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
    /// Access requests and least privilege: check one request, review standing grants, diff a change
    #[command(subcommand)]
    Access(AccessCmd),
    /// Serve access decisions over HTTP (POST /v1/access/check …), reloading the inventory as it changes
    Serve(ServeCmd),
    /// List the frameworks with their coverage, or show which controls evidence each requirement
    #[command(subcommand)]
    Frameworks(FrameworksCmd),
    /// Evidence for auditors: signed bundles, their verification, and a git locker over an audit period
    #[command(subcommand)]
    Evidence(EvidenceCmd),
    /// Load and strictly validate the library (built-in plus custom directories from vouch.toml)
    Validate {
        /// Repository whose vouch.toml names custom library directories
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Also prove, for every request the schema allows, that no policy can error, that every forbid can fire and does not always fire, and that vouch.toml's invariants hold (needs cvc5)
        #[arg(long)]
        prove: bool,
        /// Output format of the proof
        #[arg(long, value_enum, default_value_t = FormatArg::Human, requires = "prove")]
        format: FormatArg,
        /// Do not read or write the proof cache
        #[arg(long, requires = "prove")]
        no_cache: bool,
    },
    /// How far from each certification (readiness per framework), and the next steps ranked by return on effort
    Roadmap {
        /// Directory to scan
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Target frameworks, comma-separated: soc2, soc3, iso27001, hipaa, ferpa (default: vouch.toml's [roadmap] targets, else soc2,iso27001,hipaa)
        #[arg(long = "target", value_delimiter = ',')]
        targets: Vec<String>,
        /// Output format (html is one self-contained page; use it with --out)
        #[arg(long, default_value = "human", value_parser = ["human", "json", "markdown", "html"])]
        format: String,
        /// Write the output to this file (atomically) instead of stdout
        #[arg(long)]
        out: Option<PathBuf>,
        /// Count attestation expiry and ages up to this date, YYYY-MM-DD (default: today, UTC)
        #[arg(long)]
        as_of: Option<String>,
        #[command(flatten)]
        terraform: TerraformArgs,
    },
    /// Run every control's fixtures: each must fire on its violating cases and stay silent on its compliant ones
    Test {
        /// Repository whose vouch.toml names custom library directories
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Only these controls
        #[arg(long = "control")]
        controls: Vec<String>,
        /// Output format
        #[arg(long, value_enum, default_value_t = FormatArg::Human)]
        format: FormatArg,
    },
}

/// Terraform variable values, as `terraform plan` takes them.
#[derive(Debug, Args, Default)]
pub struct TerraformArgs {
    /// A Terraform values file for the roots, as `terraform plan -var-file` (repeatable; a file in a root's directory applies to that root only)
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,
    /// A Terraform variable, as `terraform plan -var` (repeatable; wins over every file)
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
}

impl From<TerraformArgs> for vouch::check::TerraformInputs {
    fn from(t: TerraformArgs) -> Self {
        vouch::check::TerraformInputs {
            var_files: t.var_files,
            vars: t.vars,
        }
    }
}

/// `NAME=VALUE` for `--var`.
fn parse_var(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_owned(), value.to_owned()))
        }
        _ => Err(format!("`{s}` is not NAME=VALUE")),
    }
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
    /// Values file for every Helm chart, after the chart's defaults (as `helm template --values`); repeatable
    #[arg(long = "helm-values", value_name = "FILE")]
    pub helm_values: Vec<PathBuf>,
    #[command(flatten)]
    pub terraform: TerraformArgs,
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
    /// Apply the head's vouch.toml and custom controls instead of the base's (only for repositories that protect those files otherwise, e.g. with CODEOWNERS); every output says so
    #[arg(long)]
    pub trust_head_config: bool,
    #[command(flatten)]
    pub terraform: TerraformArgs,
}

#[derive(Debug, Subcommand)]
pub enum ControlsCmd {
    /// List every control
    List {
        /// Output format
        #[arg(long, value_enum, default_value_t = FormatArg::Human)]
        format: FormatArg,
        /// Repository (or directory) whose vouch.toml names custom library directories
        #[arg(long, default_value = ".")]
        path: PathBuf,
    },
    /// Show one control: description, rationale, mappings, remediation
    Show {
        /// The control id (`vouch controls list` shows them)
        id: String,
        /// Output format
        #[arg(long, value_enum, default_value_t = FormatArg::Human)]
        format: FormatArg,
        /// Repository (or directory) whose vouch.toml names custom library directories
        #[arg(long, default_value = ".")]
        path: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum FrameworksCmd {
    /// List every framework: requirements with an automated control, with only manual ones, with none
    List {
        /// Output format
        #[arg(long, value_enum, default_value_t = FormatArg::Human)]
        format: FormatArg,
        /// Repository (or directory) whose vouch.toml names custom library directories
        #[arg(long, default_value = ".")]
        path: PathBuf,
    },
    /// Show one framework (soc2, soc3, iso27001, hipaa, ferpa): every requirement and its controls
    Show {
        /// The framework id: soc2, soc3, iso27001, hipaa, ferpa
        id: String,
        /// Output format
        #[arg(long, value_enum, default_value_t = FormatArg::Human)]
        format: FormatArg,
        /// Repository (or directory) whose vouch.toml names custom library directories
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

#[derive(Debug, Subcommand)]
pub enum EvidenceCmd {
    /// Run the check and write an evidence bundle: assessment, summary, redacted inputs, library, provenance, waivers, OSCAL, manifest
    Bundle {
        /// Directory to scan
        #[arg(default_value = ".")]
        path: PathBuf,
        /// The bundle directory to create (written atomically)
        #[arg(long)]
        out: PathBuf,
        /// Also write a deterministic .tar.gz of the bundle
        #[arg(long)]
        archive: Option<PathBuf>,
        /// Sign the manifest digest with this ed25519 private key (from `vouch evidence keygen`)
        #[arg(long)]
        sign_key: Option<PathBuf>,
        /// Also commit the bundle into this evidence locker (a git repository, created if absent)
        #[arg(long)]
        locker: Option<PathBuf>,
        /// Count ages up to this date, YYYY-MM-DD (default: the collection date, UTC)
        #[arg(long)]
        as_of: Option<String>,
        /// Replace an existing bundle directory
        #[arg(long)]
        force: bool,
        /// For tests and backfills only: the collection time, YYYY-MM-DDTHH:MM:SSZ (default: now)
        #[arg(long, env = "VOUCH_COLLECTION_TIME", hide = true)]
        collected_at: Option<String>,
        /// Carry this `vouch serve` decision log in the bundle (its hash chain must hold)
        #[arg(long)]
        decision_log: Option<PathBuf>,
        #[command(flatten)]
        terraform: TerraformArgs,
        /// Seconds to wait for other collections to release the locker before giving up
        #[arg(long, default_value_t = 300, value_name = "SECONDS")]
        locker_timeout: u64,
    },
    /// Recompute every digest of a bundle (directory or .tar.gz) and check its signature; or check the hash chain of a decision log (.jsonl)
    Verify {
        /// The bundle directory or archive, or a `vouch serve` decision log (.jsonl)
        bundle: PathBuf,
        /// The signer's public key (PEM): require a valid signature by this key
        #[arg(long)]
        key: Option<PathBuf>,
        /// Output format
        #[arg(long, value_enum, default_value_t = FormatArg::Human)]
        format: FormatArg,
    },
    /// Make an ed25519 key pair: PREFIX.key (private, mode 0600) and PREFIX.pub
    Keygen {
        /// Key pair prefix: writes PREFIX.key and PREFIX.pub (missing directories are created, owner-only)
        #[arg(long)]
        out: PathBuf,
        /// Replace an existing key pair
        #[arg(long)]
        force: bool,
    },
    /// Each control's status at every collection of a locker, gaps between collections, periods of failure
    Log {
        /// The evidence locker (a git repository made by `vouch evidence bundle --locker`)
        #[arg(long)]
        locker: PathBuf,
        /// Only this control; repeatable
        #[arg(long = "control")]
        controls: Vec<String>,
        /// Start of the period, YYYY-MM-DD (inclusive)
        #[arg(long)]
        since: Option<String>,
        /// End of the period, YYYY-MM-DD (inclusive)
        #[arg(long)]
        until: Option<String>,
        /// Flag more days than this without a collection
        #[arg(long, default_value_t = 7)]
        max_gap_days: u32,
        /// Output format
        #[arg(long, value_enum, default_value_t = FormatArg::Human)]
        format: FormatArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum AccessCmd {
    /// May this person do this to that resource? Exit 0 allow, 1 deny, 2 error
    Check {
        /// Directory holding the inventory
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Who asks (an inventory `[[user]]` id)
        #[arg(long)]
        principal: String,
        /// read, write or admin
        #[arg(long)]
        action: String,
        /// What on (`datastore:pg-globex`, `aws_account:prod`, …)
        #[arg(long)]
        resource: String,
        /// Facts of the request: mfa=true, ticket=CHG-1, approver=bob; repeatable
        #[arg(long = "context")]
        context: Vec<String>,
        /// How long the access is for (4h, 2d); omitted means standing access
        #[arg(long)]
        duration: Option<String>,
        /// Output format
        #[arg(long, value_enum, default_value_t = FormatArg::Human)]
        format: FormatArg,
        /// Count ages up to this date, YYYY-MM-DD (default: today, UTC)
        #[arg(long)]
        as_of: Option<String>,
    },
    /// Review every standing grant and account for least privilege. Exit 0 clean, 1 findings, 2 error
    Review {
        /// Directory holding the inventory
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Output format
        #[arg(long, value_enum, default_value_t = FormatArg::Human)]
        format: FormatArg,
        /// Count ages up to this date, YYYY-MM-DD (default: today, UTC)
        #[arg(long)]
        as_of: Option<String>,
    },
    /// Which requests a change makes allowed or denied, against the merge base with REV
    Diff {
        /// Directory holding the inventory (inside a git work tree)
        #[arg(default_value = ".")]
        path: PathBuf,
        /// The branch the change merges into (compared at its merge base with HEAD)
        #[arg(long)]
        base: String,
        /// Output format
        #[arg(long, value_enum, default_value_t = FormatArg::Human)]
        format: FormatArg,
        /// Count ages up to this date, YYYY-MM-DD (default: today, UTC)
        #[arg(long)]
        as_of: Option<String>,
        /// Also prove that the head's access policies allow nothing the base's deny, for every request the schema allows, and that vouch.toml's invariants hold (needs cvc5)
        #[arg(long)]
        prove: bool,
    },
}

#[derive(Debug, Args)]
pub struct ServeCmd {
    /// Directory holding the inventory (and its vouch.toml)
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Address and port to listen on (beyond loopback, --token-file is required)
    #[arg(long, default_value = "127.0.0.1:8181")]
    pub listen: String,
    /// File holding the bearer token clients must send (`Authorization: Bearer <token>`)
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// Append every decision to this JSON Lines file, each line hash-chained to the previous
    #[arg(long)]
    pub decision_log: Option<PathBuf>,
    /// Decide as of this date, YYYY-MM-DD (default: today, UTC, following the calendar)
    #[arg(long)]
    pub as_of: Option<String>,
    /// Largest request body accepted, in bytes
    #[arg(long, default_value_t = 65_536)]
    pub max_body_bytes: usize,
    /// Longest time to receive a request's headers and body, in milliseconds
    #[arg(long, default_value_t = 5_000)]
    pub request_timeout_ms: u64,
    /// How often the tree is checked for changed files, in milliseconds
    #[arg(long, default_value_t = 2_000)]
    pub watch_interval_ms: u64,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// Every argument of every subcommand, as `vouch …` paths, that has no help text.
    fn undocumented(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
        for arg in cmd.get_arguments() {
            if arg.get_help().is_none() && arg.get_long_help().is_none() {
                out.push(format!("{path} {}", arg.get_id()));
            }
        }
        for sub in cmd.get_subcommands() {
            if sub.get_about().is_none() && sub.get_long_about().is_none() {
                out.push(format!("{path} {} (the subcommand)", sub.get_name()));
            }
            undocumented(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }

    #[test]
    fn every_argument_and_subcommand_has_help() {
        let mut cmd = Cli::command();
        cmd.build();
        let mut missing = Vec::new();
        undocumented(&cmd, "vouch", &mut missing);
        assert!(missing.is_empty(), "no help text: {missing:#?}");
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
