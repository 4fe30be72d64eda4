//! The `vouch` binary: parse the command line, call the library, map the outcome to an exit code.

mod cli;

use std::process::ExitCode;

use clap::Parser;
use cli::{Cli, Command, ControlsCmd, FrameworksCmd};
use vouch::app;

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
        Command::Validate { path } => app::validate(&path),
        Command::Test {
            path,
            controls,
            format,
        } => app::test(&path, &controls, format.into()),
    };
    ExitCode::from(code)
}
