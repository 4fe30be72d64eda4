//! Rebuilds the binary whenever the embedded control library changes (include_dir does not
//! tell cargo about new files).
#[allow(
    clippy::disallowed_macros,
    reason = "cargo reads build directives from stdout"
)]
fn main() {
    println!("cargo:rerun-if-changed=controls");
    println!("cargo:rerun-if-changed=policies");
}
