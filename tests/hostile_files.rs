//! Hostile model files (TESTING.md B6): truncated at many points, flipped bytes, a dataset whose
//! shape lies, a zip entry whose header claims a huge size, a missing layer, a layer of another
//! class, a wrong dtype. Each read is an error naming the file or a layer read from intact bytes,
//! never a panic, and no single allocation is larger than the file justifies (a counting allocator
//! watches every one).

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use wgpu_conv2d::io::{self, KernelLayout, ModelFile, TensorFile};
use wgpu_conv2d::{Conv2dConfig, Error};

/// Records the largest single allocation since the last reset.
struct Counting;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The allocation test needs the tests of this file one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn model(name: &str) -> PathBuf {
    common::fixture(&format!("models/{name}"))
}

/// What one read of a (possibly mutated) file may allocate at most in one piece.
fn allowance(file_len: usize) -> usize {
    (16 * file_len).max(4 << 20)
}

/// Writes `bytes` to a scratch file named like `original` and runs `read` on it: an error must
/// name the file; no allocation may exceed the allowance; a panic fails the test.
fn hostile<T>(original: &str, bytes: &[u8], tag: &str, read: impl Fn(&Path) -> Result<T, Error>) -> Option<T> {
    let dir = std::env::temp_dir().join(format!("wgpu-conv2d-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{tag}-{original}"));
    std::fs::write(&path, bytes).unwrap();
    LARGEST.store(0, Ordering::Relaxed);
    let result = read(&path);
    let largest = LARGEST.load(Ordering::Relaxed);
    assert!(
        largest <= allowance(bytes.len()),
        "{tag} {original}: one allocation of {largest} bytes for a {} byte file",
        bytes.len()
    );
    let _ = std::fs::remove_file(&path);
    match result {
        Ok(v) => Some(v),
        Err(e) => {
            let text = e.to_string();
            assert!(
                matches!(e, Error::Io { .. }),
                "{tag} {original}: not an Io error: {e:?}"
            );
            assert!(text.contains(&format!("{tag}-{original}")), "{tag} {original}: {text}");
            None
        }
    }
}

/// Every way the readers are reached, on one file.
fn read_any(path: &Path) -> Result<usize, Error> {
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    if name.ends_with(".npz") || name.ends_with(".safetensors") {
        let config = Conv2dConfig::builder(8, 3)
            .padding("same")
            .name("stem")
            .build()
            .unwrap();
        let mut file = TensorFile::open(path)?;
        let names = file.names();
        for n in &names {
            file.tensor(n)?;
        }
        let layout = KernelLayout::default_for(path);
        io::layer_from_tensors(config, path, name.ends_with(".safetensors").then_some("stem"), layout)?;
        return Ok(names.len());
    }
    if name.ends_with(".weights.h5") {
        let text = std::fs::read_to_string(model("functional.stem.config.json")).unwrap();
        let config = Conv2dConfig::from_keras_json(&text).unwrap();
        io::layer_from_weights_h5(config, path, "layers/conv2d")?;
        return Ok(1);
    }
    let file = ModelFile::open(path)?;
    let layers = file.conv2d_layers()?;
    for l in &layers {
        file.layer(&l.name)?;
    }
    Ok(layers.len())
}

const FILES: [&str; 6] = [
    "functional.keras",
    "functional.h5",
    "functional.weights.h5",
    "sequential.keras",
    "stem.npz",
    "stem.safetensors",
];

#[test]
fn truncated_files_are_errors_naming_the_file() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for original in FILES {
        let bytes = std::fs::read(model(original)).unwrap();
        assert!(
            hostile(original, &bytes, "intact", read_any).is_some(),
            "{original} must read intact"
        );
        let mut cuts: Vec<usize> = (0..40).map(|i| i * bytes.len() / 40).collect();
        cuts.extend([0, 1, 7, 8, 100, bytes.len() - 1]);
        for cut in cuts {
            let got = hostile(original, &bytes[..cut], "truncated", read_any);
            assert!(
                got.is_none(),
                "{original} cut at {cut} of {} read as valid",
                bytes.len()
            );
        }
    }
}

#[test]
fn flipped_bytes_never_panic_or_over_allocate() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut rng = common::TestRng(0xF11F);
    for original in FILES {
        let bytes = std::fs::read(model(original)).unwrap();
        let (mut errors, mut read) = (0, 0);
        for round in 0..150 {
            let mut b = bytes.clone();
            // Mostly single bytes; every 5th round a burst of 8, to hit headers and sizes.
            let flips = if round % 5 == 4 { 8 } else { 1 };
            let at = rng.int(0, bytes.len() as i64 - 1) as usize;
            for k in 0..flips {
                let i = (at + k * 7) % b.len();
                b[i] ^= 1 << rng.int(0, 7);
            }
            match hostile(original, &b, "flipped", read_any) {
                Some(_) => read += 1,
                None => errors += 1,
            }
        }
        assert_eq!(errors + read, 150, "{original}");
        println!("{original}: 150 mutations, {errors} refused with an error, {read} read (flips in data)");
    }
}

/// Sets an entry's uncompressed size to 4 GiB - 1 in both its local header and the central directory.
fn lie_about_entry_size(zip: &mut [u8], entry: &str) {
    let name = entry.as_bytes();
    let mut patched = 0;
    for i in 0..zip.len().saturating_sub(46) {
        let (local, central) = (&zip[i..i + 4] == b"PK\x03\x04", &zip[i..i + 4] == b"PK\x01\x02");
        let (size_at, name_at) = if local {
            (i + 22, i + 30)
        } else if central {
            (i + 24, i + 46)
        } else {
            continue;
        };
        if zip.get(name_at..name_at + name.len()) == Some(name) {
            zip[size_at..size_at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
            patched += 1;
        }
    }
    assert_eq!(patched, 2, "local and central headers of {entry}");
}

#[test]
fn a_zip_entry_claiming_a_huge_size_is_refused_without_allocating_it() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for (original, entry) in [("functional.keras", "model.weights.h5"), ("stem.npz", "kernel.npy")] {
        let mut bytes = std::fs::read(model(original)).unwrap();
        lie_about_entry_size(&mut bytes, entry);
        assert!(hostile(original, &bytes, "huge", read_any).is_none(), "{original}");
    }
}

#[test]
fn missing_layers_other_classes_wrong_dtypes_and_lying_shapes_are_named() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let file = ModelFile::open(model("functional.keras")).unwrap();
    let err = file.layer("nope").unwrap_err().to_string();
    assert!(
        err.contains("functional.keras") && err.contains("no layer named `nope`"),
        "{err}"
    );
    assert!(
        err.contains("stem, grouped_dilated, branch_1x1, depthwise_like, strided_softmax, inner_conv"),
        "{err}"
    );
    for (name, class) in [
        ("head", "Dense"),
        ("stem_bn", "BatchNormalization"),
        ("inner_block", "Sequential"),
    ] {
        let err = file.layer(name).unwrap_err().to_string();
        assert!(
            err.contains(&format!("layer `{name}` is a {class}, not a Conv2D")),
            "{err}"
        );
    }
    let text = std::fs::read_to_string(model("functional.stem.config.json")).unwrap();
    let config = Conv2dConfig::from_keras_json(&text).unwrap();
    let err = io::layer_from_weights_h5(config.clone(), model("hostile_wrong_dtype.weights.h5"), "layers/conv2d")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("hostile_wrong_dtype.weights.h5") && err.contains("int32"),
        "{err}"
    );
    let err = io::layer_from_weights_h5(config.clone(), model("hostile_shape_lies.weights.h5"), "layers/conv2d")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("hostile_shape_lies.weights.h5") && err.contains("(3, 3, 3, 8)") && err.contains("(3, 3, 3, 9)"),
        "{err}"
    );
    let err = io::layer_from_weights_h5(config.clone(), model("functional.weights.h5"), "layers/conv2d_9")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no weights at `layers/conv2d_9/vars/0`") && err.contains("conv2d_4"),
        "{err}"
    );
    let err = io::layer_from_tensors(config, model("stem.npz"), Some("other"), KernelLayout::Hwio)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("stem.npz") && err.contains("no tensor `other.weight`") && err.contains("bias, kernel"),
        "{err}"
    );
    let err = ModelFile::open(model("functional.weights.h5"))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("without a `model_config`"), "{err}");
    let err = ModelFile::open(model("stem.npz")).err().unwrap().to_string();
    assert!(err.contains("stem.npz"), "{err}");
}
