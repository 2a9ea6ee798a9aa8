//! Helpers shared by the integration tests: fixture paths and an independent f64 oracle.
#![allow(dead_code)]

pub mod gpu;
pub mod oracle;

use std::path::PathBuf;

/// `tests/fixtures/<rel>`.
pub fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// Python prints sets in hash order, which varies between runs: sort each `{...}` group's items.
pub fn canonical_sets(message: &str) -> String {
    let mut out = String::new();
    let mut rest = message;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else { break };
        out.push_str(&rest[..open]);
        let mut items: Vec<&str> = rest[open + 1..open + close].split(", ").collect();
        items.sort_unstable();
        out.push('{');
        out.push_str(&items.join(", "));
        out.push('}');
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

/// Small deterministic generator for test data (independent of the crate's).
pub struct TestRng(pub u64);

impl TestRng {
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    /// Integer in [lo, hi].
    pub fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
    /// Uniform in [-1, 1).
    pub fn sym(&mut self) -> f32 {
        (self.next() as f64 / (1u64 << 31) as f64 * 2.0 - 1.0) as f32
    }
}

/// One case written by real Keras (tests/generate_goldens.py).
pub struct Golden {
    pub name: String,
    pub layer: wgpu_conv2d::Conv2d,
    pub input: wgpu_conv2d::Tensor,
    pub expected: wgpu_conv2d::Tensor,
    pub config_text: String,
}

/// Every golden case, with its layer holding Keras's weights (LoRA factors too).
pub fn goldens() -> Vec<Golden> {
    goldens_in("keras")
}

/// Every golden case under `tests/fixtures/<dir>/`.
#[allow(dead_code)] // not every test binary reads every fixture set
pub fn goldens_in(dir: &str) -> Vec<Golden> {
    use wgpu_conv2d::io::npy;
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(fixture(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    dirs.into_iter()
        .map(|dir| {
            let config_text = std::fs::read_to_string(dir.join("config.json")).unwrap();
            let mut layer = wgpu_conv2d::Conv2d::from_keras_json(&config_text).unwrap();
            let mut weights = vec![npy::read(dir.join("kernel.npy")).unwrap()];
            for extra in ["bias.npy", "lora_a.npy", "lora_b.npy"] {
                if dir.join(extra).exists() {
                    weights.push(npy::read(dir.join(extra)).unwrap());
                }
            }
            layer.set_weights(&weights).unwrap();
            Golden {
                name: dir.file_name().unwrap().to_string_lossy().to_string(),
                layer,
                input: npy::read(dir.join("input.npy")).unwrap(),
                expected: npy::read(dir.join("output.npy")).unwrap(),
                config_text,
            }
        })
        .collect()
}

/// Largest absolute difference divided by the reference's largest magnitude.
pub fn relative_error(got: &wgpu_conv2d::Tensor, want: &wgpu_conv2d::Tensor) -> f64 {
    assert_eq!(got.shape(), want.shape());
    let scale = want
        .data()
        .iter()
        .fold(0.0f64, |m, v| m.max((*v as f64).abs()))
        .max(1e-30);
    let worst = got
        .data()
        .iter()
        .zip(want.data())
        .map(|(a, b)| (*a as f64 - *b as f64).abs())
        .fold(0.0, f64::max);
    worst / scale
}

/// Live buffers, bind groups, compute pipelines and buffer bytes of a device (wgpu's counters).
pub fn live_resources(ctx: &wgpu_conv2d::GpuContext) -> [isize; 4] {
    let c = ctx.device().get_internal_counters().hal;
    [
        c.buffers.read(),
        c.bind_groups.read(),
        c.compute_pipelines.read(),
        c.buffer_memory.read(),
    ]
}
