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
            terraform,
        }) => vouch::evidence::cmd_bundle(&vouch::evidence::BundleArgs {
            path,
            out,
            archive,
            sign_key,
            locker,
            as_of,
            force,
            collected_at,
            terraform: terraform.into(),
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
        }) => vouch::access::diff_cmd(&vouch::access::DiffArgs {
            path,
            base,
            format: format.into(),
            as_of,
        }),
        Command::Validate { path } => app::validate(&path),
        Command::Test {
            path,
            controls,
            format,
        } => app::test(&path, &controls, format.into()),
    };
    ExitCode::from(code)
}
