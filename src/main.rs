//! The `vouch` binary: parse the command line, call the library, map the outcome to an exit code.

mod cli;

use std::process::ExitCode;

use clap::Parser;
use cli::{AccessCmd, Cli, Command, ControlsCmd, EvidenceCmd, FrameworksCmd};
use vouch::app;

/// mimalloc: Cedar builds and drops many small values per entity and per request; glibc's
/// allocator spends a fifth of a large run on them.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Check(c) => app::check(&app::CheckArgs {
            path: c.path,
            format: c.format.into(),
            frameworks: c.frameworks,
            controls: c.controls,
            fail_on: c.fail_on.map(Into::into),
            as_of: c.as_of,
            helm_values: c.helm_values,
            terraform: c.terraform.into(),
        }),
        Command::Gate(g) => app::gate(&app::GateArgs {
            path: g.path,
            base: g.base,
            head: g.head,
            format: g.format.into(),
            frameworks: g.frameworks,
            controls: g.controls,
            fail_on: g.fail_on.map(Into::into),
            all: g.all,
            as_of: g.as_of,
            sarif: g.sarif,
            junit: g.junit,
            summary: g.summary,
            trust_head_config: g.trust_head_config,
            terraform: g.terraform.into(),
        }),
        Command::Controls(ControlsCmd::List { format, path }) => {
            app::controls_list(&path, format.into())
        }
        Command::Controls(ControlsCmd::Show { id, format, path }) => {
            app::controls_show(&path, &id, format.into())
        }
        Command::Frameworks(FrameworksCmd::List { format, path }) => {
            vouch::frameworks::list(&path, format.into())
        }
        Command::Frameworks(FrameworksCmd::Show { id, format, path }) => {
            vouch::frameworks::show(&path, &id, format.into())
        }
        Command::Roadmap {
            path,
            targets,
            format,
            out,
            as_of,
            terraform,
        } => vouch::roadmap::cmd(&vouch::roadmap::RoadmapArgs {
            path,
            targets,
            format: match format.as_str() {
                "json" => vouch::roadmap::Format::Json,
                "markdown" => vouch::roadmap::Format::Markdown,
                "html" => vouch::roadmap::Format::Html,
                _ => vouch::roadmap::Format::Human,
            },
            out,
            as_of,
            terraform: terraform.into(),
        }),
        Command::Evidence(EvidenceCmd::Bundle {
            path,
            out,
            archive,
            sign_key,
            locker,
            as_of,
            force,
            collected_at,
            decision_log,
            terraform,
            locker_timeout,
        }) => vouch::evidence::cmd_bundle(&vouch::evidence::BundleArgs {
            path,
            out,
            archive,
            sign_key,
            locker,
            as_of,
            force,
            collected_at,
            decision_log,
            terraform: terraform.into(),
            locker_wait: std::time::Duration::from_secs(locker_timeout),
        }),
        Command::Evidence(EvidenceCmd::Verify {
            bundle,
            key,
            format,
        }) => vouch::evidence::cmd_verify(&vouch::evidence::VerifyArgs {
            bundle,
            key,
            format: format.into(),
        }),
        Command::Evidence(EvidenceCmd::Keygen { out, force }) => {
            vouch::evidence::cmd_keygen(&vouch::evidence::KeygenArgs { out, force })
        }
        Command::Evidence(EvidenceCmd::Log {
            locker,
            controls,
            since,
            until,
            max_gap_days,
            format,
        }) => vouch::evidence::cmd_log(&vouch::evidence::LogArgs {
            locker,
            controls,
            since,
            until,
            max_gap_days,
            format: format.into(),
        }),
        Command::Access(AccessCmd::Check {
            path,
            principal,
            action,
            resource,
            context,
            duration,
            format,
            as_of,
        }) => vouch::access::check_cmd(&vouch::access::CheckArgs {
            path,
            principal,
            action,
            resource,
            context,
            duration,
            format: format.into(),
            as_of,
        }),
        Command::Access(AccessCmd::Review {
            path,
            format,
            as_of,
        }) => vouch::access::review_cmd(&vouch::access::ReviewArgs {
            path,
            format: format.into(),
            as_of,
        }),
        Command::Access(AccessCmd::Diff {
            path,
            base,
            format,
            as_of,
            prove,
        }) => vouch::access::diff_cmd(&vouch::access::DiffArgs {
            path,
            base,
            format: format.into(),
            as_of,
            prove,
        }),
        Command::Serve(s) => vouch::serve::cmd(&vouch::serve::ServeArgs {
            path: s.path,
            listen: s.listen,
            token_file: s.token_file,
            decision_log: s.decision_log,
            as_of: s.as_of,
            max_body_bytes: s.max_body_bytes,
            request_timeout_ms: s.request_timeout_ms,
            watch_interval_ms: s.watch_interval_ms,
        }),
        Command::Validate {
            path, prove: false, ..
        } => app::validate(&path),
        Command::Validate {
            path,
            prove: true,
            format,
            no_cache,
        } => vouch::prove::validate_cmd(
            &path,
            format.into(),
            &vouch::prove::Options {
                no_cache,
                require_solver: true,
            },
        ),
        Command::Test {
            path,
            controls,
            format,
        } => app::test(&path, &controls, format.into()),
    };
    ExitCode::from(code)
}
