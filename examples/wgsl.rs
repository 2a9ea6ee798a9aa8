//! Prints the full WGSL module of any program variant, as the crate compiles it.
//!
//! `cargo run --release --example wgsl -- igemm_subgroup rows=64 cols=4`
//! `cargo run --release --example wgsl -- depthwise_tiled kh=3 kw=3 sh=1 sw=1 dh=1 dw=1`
//! `cargo run --release --example wgsl` lists the programs, their parameters and variants.

use anyhow::{bail, Context, Result};
use wgpu_conv2d::gpu::kernels;
use wgpu_conv2d::gpu::program::Variant;
use wgpu_conv2d::gpu::ElementType;

fn list() {
    println!("programs (name: parameters; the variants the planner can ask for):");
    for p in kernels::programs() {
        let names = p.variant_params();
        let variants: Vec<String> = p.variants().iter().map(|v| v.describe(names)).collect();
        println!(
            "  {}: {}; {}",
            p.name(),
            if names.is_empty() {
                "-".to_string()
            } else {
                names.join(" ")
            },
            if names.is_empty() {
                "one variant".to_string()
            } else {
                variants.join(" | ")
            }
        );
    }
    println!(
        "element types: {}",
        ElementType::ALL.iter().map(|e| e.name()).collect::<Vec<_>>().join(" ")
    );
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(name) = args.first() else {
        list();
        return Ok(());
    };
    if name == "--help" || name == "-h" {
        println!("usage: wgsl PROGRAM [name=value ...] [element=f32]\n");
        list();
        return Ok(());
    }
    let program = kernels::program(name).with_context(|| {
        format!(
            "no program `{name}`; programs: {}",
            kernels::programs()
                .iter()
                .map(|p| p.name())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })?;
    let mut element = ElementType::F32;
    let mut params = Vec::new();
    for a in &args[1..] {
        match a.strip_prefix("element=") {
            Some(e) => {
                element = *ElementType::ALL
                    .iter()
                    .find(|t| t.name() == e)
                    .with_context(|| format!("element `{e}`: not an element type"))?
            }
            None => params.push(a.as_str()),
        }
    }
    let variant = Variant::parse(program.variant_params(), &params).map_err(anyhow::Error::msg)?;
    if !program.elements().contains(&element) {
        bail!("{} has no {element} WGSL", program.name());
    }
    println!(
        "// {} {} ({element})",
        program.name(),
        variant.describe(program.variant_params())
    );
    for (name, value) in program.constants(&variant) {
        println!("// override {name} = {value}");
    }
    print!("{}", program.source(&variant, element));
    Ok(())
}
