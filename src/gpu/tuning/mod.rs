//! Self-tuning: which registry algorithm runs a geometry class on this adapter, measured rather
//! than ruled, and remembered across processes. `Off` keeps the registry's rules; `Cached` uses
//! what an earlier measurement stored (rules where it has none); `Measure` also times the
//! candidates of a class it has not seen, on the first call, and stores the fastest correct one.

pub mod class;
mod measure;
pub mod pick;
pub mod store;
pub(crate) mod timer;

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::conv::Conv2dGeometry;
use crate::error::Result;
use crate::gpu::device::{GpuContext, KernelFamily};
use crate::gpu::kernels::{self, Algorithm, Epilogue};
use crate::gpu::plan::{self, Plan};
use crate::gpu::program::ElementType;

pub use class::GeometryClass;
pub use store::Choice;

/// How a context picks algorithms (see the module docs). `WGPU_CONV2D_TUNING` (`off`, `cached`,
/// `measure`) overrides the option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tuning {
    /// The registry's rules only.
    Off,
    /// Stored measurements where there are some, the rules elsewhere; never measures.
    #[default]
    Cached,
    /// Measures each class the cache lacks on its first call, then stores the choice.
    Measure,
}

impl Tuning {
    /// The mode named `s` (`off`, `cached`, `measure`).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "off" => Some(Self::Off),
            "cached" => Some(Self::Cached),
            "measure" => Some(Self::Measure),
            _ => None,
        }
    }

    /// `option`, unless `WGPU_CONV2D_TUNING` names a mode (an unknown name is logged and ignored).
    pub fn resolve(option: Self) -> Self {
        match std::env::var("WGPU_CONV2D_TUNING") {
            Ok(v) => Self::parse(&v).unwrap_or_else(|| {
                log::warn!("WGPU_CONV2D_TUNING={v:?} is not off, cached or measure: using {option:?}");
                option
            }),
            Err(_) => option,
        }
    }
}

/// The adapter a cache belongs to: name, backend, driver and its version, vendor and device ids.
pub fn adapter_key(info: &wgpu::AdapterInfo) -> String {
    format!(
        "{} | {:?} | {} | {} | {:04x}:{:04x}",
        info.name, info.backend, info.driver, info.driver_info, info.vendor, info.device
    )
}

/// A context's tuner: its mode, the choices known, and where they persist.
pub(crate) struct Tuner {
    pub(crate) mode: Tuning,
    budget: Duration,
    adapter: String,
    file: Option<PathBuf>,
    choices: Mutex<BTreeMap<String, Choice>>,
    /// Classes whose measurement failed in this process: not retried.
    failed: Mutex<HashSet<String>>,
    /// Held while a class is measured: one measurement at a time, so concurrent calls neither
    /// time each other's work nor measure the same class twice.
    measuring: Mutex<()>,
    pub(crate) tuning_micros: AtomicU64,
    pub(crate) classes_measured: AtomicU64,
}

impl Tuner {
    pub(crate) fn new(mode: Tuning, budget: Duration, dir: Option<PathBuf>, info: &wgpu::AdapterInfo) -> Self {
        let mode = Tuning::resolve(mode);
        let adapter = adapter_key(info);
        let file = dir.map(|d| d.join(format!("tuning-{}.json", store::digest(&adapter))));
        let choices = match (&file, mode) {
            (Some(path), Tuning::Cached | Tuning::Measure) => store::load_choices(path, &adapter),
            _ => BTreeMap::new(),
        };
        Self {
            mode,
            budget,
            adapter,
            file,
            choices: Mutex::new(choices),
            failed: Mutex::new(HashSet::new()),
            measuring: Mutex::new(()),
            tuning_micros: AtomicU64::new(0),
            classes_measured: AtomicU64::new(0),
        }
    }

    /// The choices known now (loaded and measured), by class.
    pub(crate) fn choices(&self) -> BTreeMap<String, Choice> {
        self.choices.lock().map(|c| c.clone()).unwrap_or_default()
    }

    fn known(&self, class: &GeometryClass) -> Option<Choice> {
        self.choices.lock().ok()?.get(&class.0).cloned()
    }

    fn record(&self, class: &GeometryClass, choice: Choice) {
        if let Ok(mut c) = self.choices.lock() {
            c.insert(class.0.clone(), choice.clone());
        }
        if let Some(path) = &self.file {
            let one = BTreeMap::from([(class.0.clone(), choice)]);
            if let Err(e) = store::save_choices(path, &self.adapter, &one) {
                log::warn!("could not write the tuning cache {}: {e}", path.display());
            }
        }
    }
}

/// The plan of `a` for `g` on `ctx` in `element`, where it can run it: it has the element type,
/// supports the geometry it would run, and plans (the variant it would choose exists).
fn plan_of(
    ctx: &GpuContext,
    a: &'static dyn Algorithm,
    g: &Conv2dGeometry,
    element: ElementType,
    epilogue: &Epilogue,
) -> Option<Plan> {
    let (packing, run) = kernels::run_geometry(a, g);
    if !a.elements().contains(&element) || !a.supports(&run, ctx.caps(), element) {
        return None;
    }
    plan::plan_with(a, g, packing, ctx.caps(), element, *epilogue).ok()
}

/// True when the options restrict the algorithms (an explicit list or a family other than `Auto`).
fn restricted(ctx: &GpuContext) -> bool {
    ctx.filter().only.is_some() || ctx.filter().family != KernelFamily::Auto
}

/// The algorithms tuning may time for `g` on `ctx`: those the options admit that can run it.
/// Under `Auto` every family is a candidate (the rules' family split is what tuning checks), the
/// family the rules admit on this adapter first, so a spent budget cuts the unlikely ones.
fn candidates(
    ctx: &GpuContext,
    g: &Conv2dGeometry,
    element: ElementType,
    epilogue: &Epilogue,
) -> Vec<&'static dyn Algorithm> {
    let filter = ctx.filter();
    let mut found: Vec<_> = kernels::registry()
        .iter()
        .copied()
        .filter(|a| !restricted(ctx) || plan::select::admits(filter, *a, ctx.caps()))
        .filter(|a| plan_of(ctx, *a, g, element, epilogue).is_some())
        .collect();
    found.sort_by_key(|a| !plan::select::admits(filter, *a, ctx.caps()));
    found
}

/// The plan of the algorithm tuning picks for `g`, or `None` for the rules: the stored choice
/// where it still applies; under `Measure`, a new measurement of an unseen class.
///
/// # Errors
/// None of its own: a failed measurement is logged and leaves the rules in charge.
pub(crate) fn tuned_plan(
    ctx: &Arc<GpuContext>,
    g: &Conv2dGeometry,
    element: ElementType,
    epilogue: &Epilogue,
) -> Result<Option<Plan>> {
    let tuner = &ctx.tuner;
    if tuner.mode == Tuning::Off {
        return Ok(None);
    }
    let class = GeometryClass::of(g, element);
    // A stored choice applies where that algorithm can run this geometry and the options admit it.
    let usable = |name: &str| {
        kernels::registry()
            .iter()
            .copied()
            .find(|a| a.name() == name)
            .filter(|a| !restricted(ctx) || plan::select::admits(ctx.filter(), *a, ctx.caps()))
            .and_then(|a| plan_of(ctx, a, g, element, epilogue))
    };
    if let Some(choice) = tuner.known(&class) {
        return Ok(usable(&choice.algorithm));
    }
    if tuner.mode != Tuning::Measure || tuner.failed.lock().is_ok_and(|f| f.contains(&class.0)) {
        return Ok(None);
    }
    let _one_at_a_time = tuner
        .measuring
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // Another thread may have measured this class while this one waited.
    if let Some(choice) = tuner.known(&class) {
        return Ok(usable(&choice.algorithm));
    }
    let rules = plan::plan(g, ctx.caps(), ctx.filter(), element, *epilogue)?.algorithm;
    let Some(rules) = kernels::algorithm(rules) else {
        return Ok(None);
    };
    let started = std::time::Instant::now();
    let found = measure::tune(
        ctx,
        g,
        element,
        epilogue,
        rules,
        &candidates(ctx, g, element, epilogue),
        tuner.budget,
    );
    let spent = started.elapsed();
    tuner
        .tuning_micros
        .fetch_add(spent.as_micros() as u64, Ordering::Relaxed);
    tuner.classes_measured.fetch_add(1, Ordering::Relaxed);
    match found {
        Ok(choice) => {
            log::info!(
                "tuned {class} in {:.0} ms: {} {:.3} ms (rules: {} {:.3} ms)",
                spent.as_secs_f64() * 1e3,
                choice.algorithm,
                choice.ms,
                choice.rules,
                choice.rules_ms
            );
            let name = choice.algorithm.clone();
            tuner.record(&class, choice);
            Ok(usable(&name))
        }
        Err(e) => {
            log::warn!("tuning {class} failed, keeping the rules: {e}");
            if let Ok(mut f) = tuner.failed.lock() {
                f.insert(class.0);
            }
            Ok(None)
        }
    }
}
