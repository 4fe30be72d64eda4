//! Rebuilds the binary whenever the embedded control library changes (include_dir does not
//! tell cargo about new files).
fn main() {
    println!("cargo:rerun-if-changed=controls");
    println!("cargo:rerun-if-changed=policies");
}
