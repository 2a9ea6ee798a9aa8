//! `--table A.json,B.json,...`: the bench's JSON results side by side as a Markdown table (min
//! ms, GFLOP/s at the min, the kernel and the tuning ms per file), for notes and the README.

use anyhow::{Context, Result};
use serde_json::Value;

/// Prints the table of `files` (each labelled by its file stem).
pub fn print(files: &[String]) -> Result<()> {
    let docs: Vec<(String, Value)> = files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).with_context(|| format!("cannot read {f}"))?;
            let stem = std::path::Path::new(f)
                .file_stem()
                .map_or(f.clone(), |s| s.to_string_lossy().into_owned());
            Ok((stem, serde_json::from_str(&text)?))
        })
        .collect::<Result<_>>()?;
    let Some((_, first)) = docs.first() else {
        return Ok(());
    };
    let mut header = String::from("| shape | GFLOP |");
    let mut rule = String::from("|---|---|");
    for (name, _) in &docs {
        header.push_str(&format!(
            " {name} min ms (GFLOP/s) | {name} kernel | {name} tuning ms |"
        ));
        rule.push_str("---|---|---|");
    }
    println!("{header}\n{rule}");
    for row in first["results"].as_array().context("no results")? {
        let shape = row["shape"].as_str().unwrap_or("?");
        let dtype = row["dtype"].as_str().unwrap_or("float32");
        let gflop = row["flops"].as_f64().unwrap_or(0.0) / 1e9;
        let mut line = format!("| {shape} | {gflop:.3} |");
        for (_, doc) in &docs {
            let found = doc["results"].as_array().and_then(|rs| {
                rs.iter()
                    .find(|r| r["shape"] == shape && r["dtype"].as_str().unwrap_or("float32") == dtype)
            });
            match found {
                Some(r) => {
                    let min = r["min_ms"].as_f64().unwrap_or(f64::NAN);
                    let kernel = r["algorithm"].as_str().or(r["kernel"].as_str()).unwrap_or("?");
                    let tuning = r["tuning_ms"].as_f64().unwrap_or(0.0);
                    line.push_str(&format!(
                        " {min:.3} ({:.1}) | {kernel} | {tuning:.0} |",
                        gflop / min * 1e3
                    ));
                }
                None => line.push_str(" – | – | – |"),
            }
        }
        println!("{line}");
    }
    Ok(())
}
