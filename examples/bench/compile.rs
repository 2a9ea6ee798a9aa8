//! `--compile-times`: the first call's time (compiling its pipelines) in a process with cold
//! caches, then in a second process that finds the first one's caches on disk. Twice: with
//! Mesa's own shader cache off (`MESA_SHADER_CACHE_DISABLE`), so only the crate's persistent
//! `PipelineCache` can make the second faster; then with Mesa's cache in a fresh directory too,
//! as a Mesa driver runs by default.

use std::process::Command;

use anyhow::{bail, Context, Result};
use serde_json::Value;

/// First-call ms per shape of one child process of this benchmark.
fn first_calls(
    shapes: &str,
    only: &[String],
    (dir, mesa): (&std::path::Path, bool),
    out: &std::path::Path,
) -> Result<Vec<(String, f64)>> {
    let exe = std::env::current_exe()?;
    let mut cmd = Command::new(exe);
    cmd.args(["--shapes", shapes, "--first-only", "--tuning", "off", "--out"])
        .arg(out)
        .env("WGPU_CONV2D_CACHE_DIR", dir);
    if mesa {
        cmd.env("MESA_SHADER_CACHE_DIR", dir.join("mesa"))
            .env_remove("MESA_SHADER_CACHE_DISABLE");
    } else {
        cmd.env("MESA_SHADER_CACHE_DISABLE", "true");
    }
    if !only.is_empty() {
        cmd.arg("--only").arg(only.join(","));
    }
    let status = cmd.status()?;
    if !status.success() {
        bail!("the child benchmark failed: {status}");
    }
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(out)?)?;
    doc["results"]
        .as_array()
        .context("no results")?
        .iter()
        .map(|r| {
            Ok((
                r["shape"].as_str().context("shape")?.to_string(),
                r["first_call_ms"].as_f64().context("first_call_ms")?,
            ))
        })
        .collect()
}

/// A shape's first call in the cold and in the warm process.
type Row = (String, f64, f64);

/// One cold and one warm process sharing a fresh cache directory; the rows and the bytes of the
/// pipeline cache the first left.
fn pair(shapes: &str, only: &[String], mesa: bool) -> Result<(Vec<Row>, u64)> {
    let dir = std::env::temp_dir().join(format!("wgpu-conv2d-compile-{}-{mesa}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let cold = first_calls(shapes, only, (&dir, mesa), &dir.join("cold.json"))?;
    let cache_bytes: u64 = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("pipelines-"))
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum();
    let warm = first_calls(shapes, only, (&dir, mesa), &dir.join("warm.json"))?;
    let _ = std::fs::remove_dir_all(&dir);
    let rows = cold
        .iter()
        .zip(&warm)
        .map(|((name, c), (_, w))| (name.clone(), *c, *w))
        .collect();
    Ok((rows, cache_bytes))
}

/// Runs the processes and prints the table.
pub fn run(shapes: &str, only: &[String]) -> Result<()> {
    let (ours, bytes) = pair(shapes, only, false)?;
    let (mesa, _) = pair(shapes, only, true)?;
    println!("first call ms; cold process, then a second process reading the first one's caches");
    println!("crate pipeline cache left {bytes} bytes on disk");
    println!(
        "{:<14} {:>10} {:>10} {:>7}   {:>10} {:>10} {:>7}",
        "shape", "cold", "warm", "ratio", "cold+mesa", "warm+mesa", "ratio"
    );
    for ((name, c, w), (_, mc, mw)) in ours.iter().zip(&mesa) {
        println!(
            "{name:<14} {c:>10.1} {w:>10.1} {:>7.2}   {mc:>10.1} {mw:>10.1} {:>7.2}",
            c / w,
            mc / mw
        );
    }
    Ok(())
}
