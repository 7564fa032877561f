//! Embeds `commands/*.toml` into the crate.
//!
//! Writes `$OUT_DIR/command_specs.rs` with one `(file name, contents)` pair per
//! command file, sorted by file name so the embedded order (and everything
//! generated from it) is stable across machines. Parsing and validation are
//! left to `src/commands/` at run time, where errors can name the file and the
//! problem and unit tests can exercise them; this script only lists and embeds.

use std::error::Error;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::{env, fs};

fn main() -> Result<(), Box<dyn Error>> {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    let dir = manifest_dir.join("commands");
    // A directory path makes cargo rescan the whole directory, so adding,
    // removing or editing a command file rebuilds the crate.
    println!("cargo:rerun-if-changed=commands");

    let mut files = Vec::new();
    for entry in fs::read_dir(&dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "toml") && path.is_file() {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| format!("command file name is not UTF-8: {}", path.display()))?
                .to_owned();
            let abs = path
                .to_str()
                .ok_or_else(|| format!("command file path is not UTF-8: {}", path.display()))?
                .to_owned();
            files.push((name, abs));
        }
    }
    files.sort();

    let mut out = String::from(
        "/// Every `commands/*.toml` file as `(file name, contents)`, sorted by file name.\n\
         pub(crate) const SPEC_FILES: &[(&str, &str)] = &[\n",
    );
    for (name, abs) in &files {
        // `{:?}` yields valid Rust string literals, including Windows backslashes.
        writeln!(out, "    ({name:?}, include_str!({abs:?})),")?;
    }
    out.push_str("];\n");

    let out_path = PathBuf::from(env::var("OUT_DIR")?).join("command_specs.rs");
    fs::write(&out_path, out)?;
    Ok(())
}
